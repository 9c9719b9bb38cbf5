//! The live suite: the runner against a real OpenAI-compatible server.
//!
//! Every test is `#[ignore]`d, so `cargo test --workspace` lists them as
//! ignored rather than passed. Run them with `--ignored` and
//! `AGENTS_LIVE_BASE_URL` set (`.ci/run` starts a local llama.cpp server
//! with Gemma 3 270M through `scripts/live-server.sh` and sets it); run
//! with `--ignored` and no server configured, each test fails. The model is tiny:
//! tests force tool choices where they need a step and assert protocol
//! behaviour (requests accepted, calls decoded, streams assembled, limits
//! enforced), not the quality of answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agents_core::openai::{OpenAiChat, OpenAiConfig, RetryPolicy};
use agents_core::prelude::*;
use agents_core::run::RunEvent;
use agents_core::{Item, RunError, ToolOutput};
use futures::StreamExt;

/// Why every test here is ignored by default.
const NEEDS_SERVER: &str = "needs a model server: AGENTS_LIVE_BASE_URL=... cargo test -p agents-tests --test live -- --ignored --test-threads=1";

/// The live server's base URL; a test run with `--ignored` but without one
/// fails instead of passing silently.
fn base_url() -> String {
    std::env::var("AGENTS_LIVE_BASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| panic!("AGENTS_LIVE_BASE_URL is not set; {NEEDS_SERVER}"))
}

fn model() -> OpenAiChat {
    let config = OpenAiConfig::new()
        .base_url(base_url())
        .model("gemma-3-270m")
        .timeout(Duration::from_secs(120))
        .retry(RetryPolicy::default().max_retries(1));
    OpenAiChat::new(config).expect("client")
}

/// Counts lookups.
#[derive(Default)]
struct Shop {
    lookups: AtomicU32,
}

/// Look up an order by its id.
#[tool]
fn lookup_order(
    shop: &Arc<Shop>,
    /// Order id, e.g. "A-1001".
    order_id: String,
) -> String {
    shop.lookups.fetch_add(1, Ordering::SeqCst);
    format!("Order {order_id}: espresso machine, paid 498.00, shipped")
}

fn settings(choice: ToolChoice) -> ModelSettings {
    ModelSettings::new()
        .temperature(0.0)
        .max_tokens(64)
        .tool_choice(choice)
}

#[tokio::test]
#[ignore = "needs a model server (AGENTS_LIVE_BASE_URL); run with --ignored"]
async fn a_plain_answer() {
    let model = model();
    let agent = Agent::<Arc<Shop>>::builder("Greeter")
        .instructions("Answer in one short sentence.")
        .model_settings(ModelSettings::new().temperature(0.0).max_tokens(40))
        .build()
        .unwrap();
    let result = Runner::new(model)
        .run(&agent, Arc::default(), "Say hello to Ada.")
        .await
        .unwrap();
    assert_eq!(result.turns, 1);
    assert!(result.usage.input_tokens > 0, "the server reports usage");
    assert!(matches!(
        &*result.new_items[0].item,
        Item::AssistantMessage { .. }
    ));
}

#[tokio::test]
#[ignore = "needs a model server (AGENTS_LIVE_BASE_URL); run with --ignored"]
async fn a_tool_call_round_trip_sends_the_output_back() {
    let model = model();
    let shop = Arc::new(Shop::default());
    let forced = Agent::<Arc<Shop>>::builder("Desk")
        .instructions("Look up orders with the tool.")
        .tool(lookup_order {})
        .model_settings(settings(ToolChoice::Tool("lookup_order".into())))
        .tool_use_behavior(ToolUseBehavior::StopOnFirstTool)
        .build()
        .unwrap();
    let runner = Runner::new(model);
    let first = runner
        .run(&forced, Arc::clone(&shop), "Where is order A-1001?")
        .await
        .unwrap();
    assert_eq!(
        shop.lookups.load(Ordering::SeqCst),
        1,
        "the model's call decoded and ran"
    );
    assert!(
        first.final_output.starts_with("Order "),
        "{}",
        first.final_output
    );

    // The conversation goes back with the call and its output; the server
    // accepts them (assistant content "" and the tool message) and answers.
    let answering = Agent::<Arc<Shop>>::builder("Desk")
        .instructions("Answer from the tool output.")
        .tool(lookup_order {})
        .model_settings(settings(ToolChoice::None))
        .build()
        .unwrap();
    let mut input = first.to_input_list();
    input.push(Arc::new(Item::user("So where is it?")));
    let second = runner
        .run(&answering, Arc::clone(&shop), input)
        .await
        .unwrap();
    assert_eq!(second.turns, 1);
    assert_eq!(shop.lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
#[ignore = "needs a model server (AGENTS_LIVE_BASE_URL); run with --ignored"]
async fn a_handoff() {
    let model = model();
    let billing = Agent::<Arc<Shop>>::builder("Billing")
        .instructions("You handle refunds. Answer in one sentence.")
        .model_settings(ModelSettings::new().temperature(0.0).max_tokens(40))
        .build()
        .unwrap();
    let triage = Agent::<Arc<Shop>>::builder("Triage")
        .instructions("Send refund requests to Billing.")
        .handoff(&billing)
        .model_settings(settings(ToolChoice::Tool("transfer_to_billing".into())))
        .build()
        .unwrap();
    let result = Runner::new(model)
        .run(&triage, Arc::default(), "I want a refund.")
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Billing");
    assert!(result.new_items.iter().any(
        |i| matches!(&*i.item, Item::HandoffOutput(o) if o.to_agent.as_deref() == Some("Billing"))
    ));
}

#[tokio::test]
#[ignore = "needs a model server (AGENTS_LIVE_BASE_URL); run with --ignored"]
async fn a_streamed_runs_transcript_matches_its_events() {
    let model = model();
    let shop = Arc::new(Shop::default());
    let agent = Agent::<Arc<Shop>>::builder("Desk")
        .tool(lookup_order {})
        .model_settings(settings(ToolChoice::Tool("lookup_order".into())))
        .tool_use_behavior(ToolUseBehavior::StopOnFirstTool)
        .build()
        .unwrap();
    let mut stream = Runner::new(model)
        .run(&agent, Arc::clone(&shop), "Where is my order A-1001?")
        .max_turns(3)
        .stream();
    let mut arguments: Vec<(String, String)> = Vec::new();
    let mut outputs = Vec::new();
    while let Some(event) = stream.next().await {
        match event {
            RunEvent::ToolCallStarted { call_id, .. } => {
                arguments.push((call_id.to_string(), String::new()));
            }
            RunEvent::ToolCallArgumentsDelta { call_id, delta, .. } => {
                let entry = arguments
                    .iter_mut()
                    .find(|(id, _)| **id == *call_id)
                    .expect("delta for a started call");
                entry.1.push_str(&delta);
            }
            RunEvent::ToolOutput { output, .. } => outputs.push(ToolOutput::clone(&output)),
            _ => {}
        }
    }
    // The small model may write arguments that do not decode; whatever it
    // did, the recorded items are exactly what the events streamed.
    let items = match stream.result().await {
        Ok(result) => result.new_items,
        Err(error) => error.into_partial().new_items,
    };
    let calls: Vec<(String, String)> = items
        .iter()
        .filter_map(|i| match &*i.item {
            Item::ToolCall(call) => Some((call.call_id.clone(), call.arguments.clone())),
            _ => None,
        })
        .collect();
    assert!(!calls.is_empty(), "the forced tool was called");
    assert_eq!(
        arguments, calls,
        "the streamed deltas add up to each call's arguments"
    );
    let recorded: Vec<_> = items
        .iter()
        .filter_map(|i| match &*i.item {
            Item::ToolOutput(output) => Some(output.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(outputs, recorded);
}

#[tokio::test]
#[ignore = "needs a model server (AGENTS_LIVE_BASE_URL); run with --ignored"]
async fn max_turns_stops_a_model_that_keeps_calling_tools() {
    let model = model();
    let shop = Arc::new(Shop::default());
    // Forced on every call: this agent opts out of the reset after tools ran.
    let agent = Agent::<Arc<Shop>>::builder("Looper")
        .tool(lookup_order {})
        .model_settings(settings(ToolChoice::Tool("lookup_order".into())))
        .reset_tool_choice(false)
        .build()
        .unwrap();
    let error = Runner::new(model)
        .run(
            &agent,
            Arc::clone(&shop),
            "Check order A-1001 again and again.",
        )
        .max_turns(3)
        .await
        .unwrap_err();
    let RunError::MaxTurnsExceeded { max_turns, partial } = &error else {
        panic!("expected max turns, got {error}");
    };
    assert_eq!(*max_turns, 3);
    assert_eq!(partial.turns, 3);
    assert_eq!(shop.lookups.load(Ordering::SeqCst), 3);
    assert_eq!(
        partial.new_items.len(),
        6,
        "three calls and three outputs kept"
    );
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Verdict {
    /// Whether the customer asks for a refund.
    refund: bool,
}

#[tokio::test]
#[ignore = "needs a model server (AGENTS_LIVE_BASE_URL); run with --ignored"]
async fn structured_output_in_llama_cpps_json_object_format() {
    let base_url = base_url();
    let model = OpenAiChat::new(
        OpenAiConfig::new()
            .base_url(base_url)
            .schema_format(agents_core::openai::SchemaFormat::JsonObject)
            .timeout(Duration::from_secs(120)),
    )
    .unwrap();
    let agent = Agent::<Arc<Shop>>::builder("Classifier")
        .instructions("Does the customer ask for a refund? Answer in JSON.")
        .output_type::<Verdict>()
        .model_settings(ModelSettings::new().temperature(0.0).max_tokens(40))
        .build()
        .unwrap();
    // The schema constrains the server's output: it parses into the type.
    let result = Runner::new(model)
        .run(&agent, Arc::default(), "Please refund my order.")
        .await
        .unwrap();
    let _: bool = result.final_output.refund;
    assert_eq!(result.turns, 1);
}

#[tokio::test]
#[ignore = "needs a model server (AGENTS_LIVE_BASE_URL); run with --ignored"]
async fn the_model_calls_a_tool_of_an_mcp_server() {
    use agents_core::mcp::McpServer;

    let model = model();
    // The tests' MCP server over stdio, its `add` tool only.
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-test-server"));
    let server = McpServer::stdio("calc", command).allow(["add"]);
    let forced = Agent::<Arc<Shop>>::builder("Calculator")
        .instructions("Add the numbers with the add tool.")
        .tools(server.tools().await.expect("the server lists its tools"))
        .model_settings(settings(ToolChoice::Tool("add".into())))
        .tool_use_behavior(ToolUseBehavior::StopOnFirstTool)
        .build()
        .unwrap();
    let result = Runner::new(model)
        .run(
            &forced,
            Arc::default(),
            "What is 2 plus 3? Use a=2 and b=3.",
        )
        .await
        .unwrap();
    // Whatever integers the small model chose, the call decoded, went to
    // the server and its structured result came back as the output.
    let record = &result.tool_executions[0];
    assert!(record.succeeded(), "{}", record.output().output);
    let call: serde_json::Value = serde_json::from_str(&record.call().arguments).unwrap();
    let sum = call["a"].as_i64().unwrap() + call["b"].as_i64().unwrap();
    assert_eq!(result.final_output, format!(r#"{{"sum":{sum}}}"#));
    server.close().await;
}
