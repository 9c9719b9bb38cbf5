//! Streamed runs: events as they happen, the same result, prompt stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agents_core::model::ModelStreamEvent;
use agents_core::prelude::*;
use agents_core::run::{CancellationToken, RunEvent};
use agents_core::{Item, RunError};
use agents_testing::{MockModel, Step, call_named, transcript};
use futures::StreamExt;
use serde_json::json;

use crate::support::echo;

fn script() -> Vec<Step> {
    vec![
        Step::stream([
            ModelStreamEvent::TextDelta("Let me ".into()),
            ModelStreamEvent::TextDelta("check.".into()),
            ModelStreamEvent::ToolCallStarted {
                index: 0,
                call_id: "c1".into(),
                name: "echo".into(),
            },
            ModelStreamEvent::ToolCallArgumentsDelta {
                index: 0,
                delta: "{\"text\":".into(),
            },
            ModelStreamEvent::ToolCallArgumentsDelta {
                index: 0,
                delta: "\"A-1\"}".into(),
            },
            ModelStreamEvent::Usage(Usage::new(10, 5)),
            ModelStreamEvent::Completed {
                response_id: Some("r1".into()),
            },
        ]),
        Step::handoff_to("Billing").with_usage(Usage::new(12, 2)),
        Step::text("Refunded A-1.").with_usage(Usage::new(14, 3)),
    ]
}

fn triage() -> Agent<()> {
    let billing = Agent::<()>::builder("Billing").build().unwrap();
    Agent::<()>::builder("Triage")
        .tool(echo())
        .handoff(&billing)
        .build()
        .unwrap()
}

fn describe(event: &RunEvent) -> String {
    match event {
        RunEvent::TurnStarted { agent, turn } => format!("turn {turn} ({agent})"),
        RunEvent::TextDelta { delta, .. } => format!("text {delta:?}"),
        RunEvent::ToolCallStarted { name, call_id, .. } => format!("call {name} [{call_id}]"),
        RunEvent::ToolCallArgumentsDelta { delta, .. } => format!("args {delta:?}"),
        RunEvent::ToolOutput { output, .. } => format!("output {:?}", output.output),
        RunEvent::HandoffOccurred { from, to } => format!("handoff {from} -> {to}"),
        RunEvent::ItemCreated { item, .. } => match &**item {
            Item::AssistantMessage { content } => format!("item message {content:?}"),
            Item::ToolCall(call) => format!("item tool call {} {}", call.name, call.arguments),
            Item::HandoffCall(call) => format!("item handoff call {}", call.name),
            Item::Reasoning { text } => format!("item reasoning {text:?}"),
            other => format!("item {other:?}"),
        },
        RunEvent::AgentSwitched { from, to } => format!("switched {from} -> {to}"),
        RunEvent::Usage { agent, usage } => format!(
            "usage {agent} {}+{}",
            usage.input_tokens, usage.output_tokens
        ),
        RunEvent::RunFinished {
            last_agent,
            turns,
            usage,
        } => {
            format!(
                "finished {last_agent} after {turns} turns, {} input tokens",
                usage.input_tokens
            )
        }
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn a_streamed_run_reports_every_step_in_order() {
    let runner = Runner::new(MockModel::script(script()));
    let mut stream = runner.run_streamed(&triage(), (), "refund A-1");
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(describe(&event));
    }
    let result = stream.result().await.unwrap();
    assert_eq!(result.final_output, "Refunded A-1.");
    assert_eq!(
        events,
        [
            "turn 1 (Triage)",
            "text \"Let me \"",
            "text \"check.\"",
            "call echo [c1]",
            "args \"{\\\"text\\\":\"",
            "args \"\\\"A-1\\\"}\"",
            "usage Triage 10+5",
            "item message \"Let me check.\"",
            "item tool call echo {\"text\":\"A-1\"}",
            "output \"A-1\"",
            "turn 2 (Triage)",
            "usage Triage 12+2",
            "item handoff call transfer_to_billing",
            "handoff Triage -> Billing",
            "switched Triage -> Billing",
            "turn 3 (Billing)",
            "text \"Refunded A-1.\"",
            "usage Billing 14+3",
            "item message \"Refunded A-1.\"",
            "finished Billing after 3 turns, 36 input tokens",
        ]
    );
}

#[tokio::test]
async fn a_streamed_and_an_awaited_run_of_one_script_have_the_same_transcript() {
    let streamed = Runner::new(MockModel::script(script()))
        .run_streamed(&triage(), (), "refund A-1")
        .result()
        .await
        .unwrap();
    let awaited = Runner::new(MockModel::script(script()))
        .run(&triage(), (), "refund A-1")
        .await
        .unwrap();
    assert_eq!(transcript(&streamed), transcript(&awaited));
}

#[tokio::test]
async fn a_tool_output_event_is_the_item_the_run_keeps_not_a_copy() {
    let mut stream =
        Runner::new(MockModel::script(script())).run_streamed(&triage(), (), "refund A-1");
    let mut outputs = Vec::new();
    while let Some(event) = stream.next().await {
        if let RunEvent::ToolOutput { output, .. } = event {
            outputs.push(output);
        }
    }
    let result = stream.result().await.unwrap();
    assert_eq!(outputs.len(), 1);
    let output = &outputs[0];
    assert_eq!(
        (output.call_id.as_str(), output.output.as_str()),
        ("c1", "A-1")
    );
    let kept = result
        .new_items
        .iter()
        .filter(|i| Arc::ptr_eq(&i.item, output.item()))
        .count();
    assert_eq!(kept, 1, "the event shares the run's item");
}

/// Waits forever; records that it was dropped.
struct Hang(Arc<AtomicBool>);

impl Tool<()> for Hang {
    fn name(&self) -> &str {
        "hang"
    }
    fn description(&self) -> &str {
        "Never returns."
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"type": "object", "properties": {}})
    }
    async fn call(&self, _ctx: &RunContext<()>, _arguments: &str) -> Result<String, ToolError> {
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _flag = Flag(Arc::clone(&self.0));
        std::future::pending::<()>().await;
        Ok(String::new())
    }
}

#[tokio::test]
async fn dropping_the_stream_stops_the_run_and_its_tools() {
    let dropped = Arc::new(AtomicBool::new(false));
    let agent = Agent::<()>::builder("A")
        .tool(Hang(Arc::clone(&dropped)))
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call_named("hang", json!({}))]),
        Step::text("never"),
    ]);
    model.allow_unused_steps();
    let mut stream = Runner::new(model.clone())
        .run(&agent, (), "go")
        .tool_timeout(Duration::from_secs(600))
        .stream();
    // Read until the tool is running.
    while let Some(event) = stream.next().await {
        if matches!(event, RunEvent::Usage { .. }) {
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
    assert!(!dropped.load(Ordering::SeqCst));
    drop(stream);
    assert!(
        dropped.load(Ordering::SeqCst),
        "the tool's future was dropped with the stream"
    );
    assert_eq!(model.calls(), 1, "nothing runs on after the drop");
}

#[tokio::test]
async fn cancelling_a_streamed_run_returns_the_partial_run() {
    let agent = Agent::<()>::builder("A")
        .tool(Hang(Arc::default()))
        .build()
        .unwrap();
    let model = MockModel::script([Step::tool_calls([call_named("hang", json!({}))])]);
    let token = CancellationToken::new();
    let mut stream = Runner::new(model)
        .run(&agent, (), "go")
        .tool_timeout(Duration::from_secs(600))
        .cancellation_token(token.clone())
        .stream();
    while let Some(event) = stream.next().await {
        if matches!(event, RunEvent::Usage { .. }) {
            token.cancel();
        }
    }
    let error = stream.result().await.unwrap_err();
    let RunError::Cancelled { partial } = error else {
        panic!("expected a cancellation");
    };
    assert_eq!(
        partial.new_items.len(),
        2,
        "the call made before the cancel is kept, answered as interrupted"
    );
    assert!(matches!(&*partial.new_items[1].item, Item::ToolOutput(o) if o.interrupted));
}

#[tokio::test]
async fn the_event_sequence_of_a_tool_turn_a_reasoning_item_and_a_handoff() {
    let script = vec![
        Step::items([Item::Reasoning {
            text: "The customer wants a refund; look the order up.".to_owned(),
        }])
        .and(Step::tool_calls([call_named(
            "echo",
            json!({"text": "A-1"}),
        )])),
        Step::handoff_to("Billing"),
        Step::text("Refunded A-1."),
    ];
    let mut stream = Runner::new(MockModel::script(script))
        .run(&triage(), (), "refund A-1")
        .raw_model_events(true)
        .stream();
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(match &event {
            RunEvent::RawModelEvent { event, .. } => format!("  raw {event:?}"),
            other => describe(other),
        });
    }
    stream.result().await.unwrap();
    insta::assert_snapshot!(events.join("\n"));
}
