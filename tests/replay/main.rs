//! Record/replay: the committed recordings of live support-desk runs replay
//! offline, and a changed request fails with a readable diff.

#[path = "../../examples/support_desk/desk.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the example's module, shared as is"
)]
mod desk;

use agents_core::prelude::*;
use agents_core::run::RunEvent;
use agents_core::{Item, RunError};
use agents_testing::record::{Recording, RecordingModel, ReplayModel};
use agents_testing::{MockModel, Step, assert_run_snapshot, call_named, transcript};
use desk::{Reply, Shop, Triage};
use futures::StreamExt;
use serde_json::json;

fn recording(name: &str) -> String {
    format!(
        "{}/../examples/recordings/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The run as the example makes it, guided.
fn guided_run(runner: &Runner<Shop>, question: &str, route: &str) -> agents_core::Run<Shop, Reply> {
    let force = |tool: &str| ModelSettings::new().tool_choice(ToolChoice::Tool(tool.to_owned()));
    runner
        .run(&Triage, Shop::demo(question), question)
        .max_turns(8)
        .agent_model_settings("Triage", force(route))
        .agent_model_settings("Billing", force("refund_duplicate_charge"))
        .agent_model_settings("Shipping", force("track_parcel"))
}

#[tokio::test]
async fn the_recorded_billing_run_replays_to_the_same_receipt() {
    let replay = ReplayModel::from_file(recording("support_desk.json")).unwrap();
    let runner = Runner::new(replay.clone());
    let mut stream = guided_run(
        &runner,
        "I was charged twice for A-1001",
        "transfer_to_billing",
    )
    .stream();
    let mut switched = Vec::new();
    while let Some(event) = stream.next().await {
        if let RunEvent::AgentSwitched { from, to } = event {
            switched.push(format!("{from} -> {to}"));
        }
    }
    let result = stream.result().await.unwrap();
    assert_eq!(switched, ["Triage -> Billing"]);
    let Reply::Receipt(receipt) = &result.final_output else {
        panic!("expected a receipt, got {:?}", result.final_output);
    };
    assert_eq!(
        (receipt.order_id.as_str(), receipt.refunded_cents),
        ("A-1001", 24_900)
    );
    assert_run_snapshot!(result);
    replay.assert_complete();
}

#[tokio::test]
async fn the_recorded_shipping_run_replays() {
    let replay = ReplayModel::from_file(recording("support_desk_shipping.json")).unwrap();
    let runner = Runner::new(replay.clone());
    let result = guided_run(
        &runner,
        "Where is my parcel for A-1002?",
        "transfer_to_shipping",
    )
    .await
    .unwrap();
    assert!(matches!(&result.final_output, Reply::Text(t) if t.contains("PX-78")));
    assert_eq!(&*result.last_agent, "Shipping");
    replay.assert_complete();
}

#[tokio::test]
async fn a_changed_request_fails_with_a_readable_diff() {
    let replay = ReplayModel::from_file(recording("support_desk.json")).unwrap();
    let runner = Runner::new(replay);
    let error = guided_run(
        &runner,
        "I was charged three times for A-1001",
        "transfer_to_billing",
    )
    .await
    .unwrap_err();
    let RunError::Model { source, .. } = &error else {
        panic!("expected the replay to refuse, got {error:?}");
    };
    let message = source.to_string();
    assert!(
        message.starts_with("replay: call #1 (agent `Triage`) differs from the recording:"),
        "{message}"
    );
    assert!(message.contains("--- recorded\n+++ actual"), "{message}");
    assert!(
        message.contains("-      \"content\": \"I was charged twice for A-1001\""),
        "{message}"
    );
    assert!(
        message.contains("+      \"content\": \"I was charged three times for A-1001\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_recorded_run_replays_to_the_same_transcript_streamed_or_not() {
    let path = std::env::temp_dir().join(format!("agents-recording-{}.json", std::process::id()));
    let agent = Agent::<()>::builder("Echo")
        .tool(FunctionTool::new(
            "echo",
            "Echoes.",
            |a: EchoArgs| async move { Ok::<_, String>(a.text) },
        ))
        .build()
        .unwrap();
    let live = MockModel::script([
        Step::tool_calls([call_named("echo", json!({"text": "hi"}))]),
        Step::text("done"),
    ]);
    let recorded = Runner::new(RecordingModel::new(live, &path))
        .run_streamed(&agent, (), "say hi")
        .result()
        .await
        .unwrap();
    let file = Recording::load(&path).unwrap();
    assert_eq!(file.exchanges.len(), 2);
    assert!(file.exchanges.iter().all(|e| e.streamed));

    let replay = ReplayModel::from_file(&path).unwrap();
    let replayed = Runner::new(replay.clone())
        .run(&agent, (), "say hi")
        .await
        .unwrap();
    assert_eq!(transcript(&replayed), transcript(&recorded));
    replay.assert_complete();
    assert!(matches!(&*replayed.new_items[1].item, Item::ToolOutput(o) if o.output == "hi"));
    let _ = std::fs::remove_file(&path);
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    text: String,
}
