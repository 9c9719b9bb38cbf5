//! The Responses API wire format, both ways, and its faults.

use agents_core::model::{Model, ModelStreamEvent, ResponseAssembler};
use agents_core::openai::OpenAiResponses;
use agents_core::prelude::*;
use agents_core::{Item, ModelError, ModelRequest};
use futures::StreamExt;
use serde_json::json;

use crate::server::{Reply, TestServer, config};

fn model(server: &TestServer) -> OpenAiResponses {
    OpenAiResponses::new(config(server)).unwrap()
}

fn fixture(name: &str) -> String {
    crate::server::fixture(&format!("openai/{name}"))
}

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: paid")
}

/// Current weather in a city.
#[tool]
fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

#[tokio::test]
async fn a_plain_answer_round_trips() {
    let server = TestServer::start([Reply::json(200, &fixture("responses_text.json"))]).await;
    let agent = Agent::<()>::builder("Teller")
        .instructions("Tell a story.")
        .build()
        .unwrap();
    let result = Runner::new(model(&server))
        .run(&agent, (), "a unicorn story")
        .await
        .unwrap();
    assert!(result.final_output.starts_with("In a peaceful grove"));
    assert_eq!(result.usage.input_tokens, 36);
    assert_eq!(result.usage.output_tokens, 87);
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/responses");
    assert_eq!(
        request.body,
        json!({
            "model": "test-model",
            "instructions": "Tell a story.",
            "input": [{"role": "user", "content": "a unicorn story"}],
            "store": false
        })
    );
}

#[tokio::test]
async fn parallel_function_calls_decode_and_outputs_go_back() {
    let server = TestServer::start([
        Reply::json(200, &fixture("responses_tool_calls.json")),
        Reply::json(200, &fixture("responses_text.json")),
    ])
    .await;
    let agent = Agent::<()>::builder("Desk")
        .tool(lookup_order {})
        .tool(get_weather {})
        .model_settings(
            ModelSettings::new()
                .tool_choice(ToolChoice::Tool("lookup_order".into()))
                .max_tokens(100),
        )
        .build()
        .unwrap();
    Runner::new(model(&server))
        .run(&agent, (), "order and weather")
        .await
        .unwrap();
    let requests = server.requests();
    let first = &requests[0].body;
    assert_eq!(
        first["tools"][0],
        json!({
            "type": "function",
            "name": "lookup_order",
            "description": "Look up an order by its id.",
            "parameters": first["tools"][0]["parameters"].clone(),
            "strict": true
        })
    );
    assert_eq!(
        first["tool_choice"],
        json!({"type": "function", "name": "lookup_order"})
    );
    assert_eq!(first["max_output_tokens"], 100);
    let input = &requests[1].body["input"];
    assert_eq!(
        input[1],
        json!({"type": "function_call", "call_id": "call_abc123", "name": "lookup_order", "arguments": "{\"order_id\":\"A-1001\"}"})
    );
    assert_eq!(
        input[3],
        json!({"type": "function_call_output", "call_id": "call_abc123", "output": "A-1001: paid"})
    );
    assert_eq!(
        input[4],
        json!({"type": "function_call_output", "call_id": "call_def456", "output": "sunny in Paris"})
    );
}

#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    order_id: String,
    refunded_cents: u32,
}

#[tokio::test]
async fn structured_output_uses_text_format_and_reasoning_is_kept() {
    let server = TestServer::start([Reply::json(200, &fixture("responses_structured.json"))]).await;
    let agent = Agent::<()>::builder("Billing")
        .output_type::<Receipt>()
        .build()
        .unwrap();
    let result = Runner::new(model(&server))
        .run(&agent, (), "refund")
        .await
        .unwrap();
    assert_eq!(
        result.final_output,
        Receipt {
            order_id: "A-1001".into(),
            refunded_cents: 2500
        }
    );
    assert_eq!(
        *result.new_items[0].item,
        Item::Reasoning {
            text: "The refund is for A-1001.".into()
        }
    );
    let format = &server.requests()[0].body["text"]["format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["name"], "Receipt");
    assert_eq!(format["strict"], true);
}

#[tokio::test]
async fn a_stream_with_argument_deltas_assembles_like_the_whole_response() {
    let server = TestServer::start([
        Reply::sse(&fixture("responses_stream_tool_calls.sse")),
        Reply::sse(&fixture("responses_stream_text.sse")),
    ])
    .await;
    let model = model(&server);
    let events: Vec<ModelStreamEvent> = model
        .stream(ModelRequest::new("A", vec![]))
        .map(|e| e.unwrap())
        .collect()
        .await;
    let mut assembler = ResponseAssembler::new();
    for event in events {
        assembler.push(event).unwrap();
    }
    let response = assembler.finish().unwrap();
    assert_eq!(
        response
            .output
            .iter()
            .map(|i| (**i).clone())
            .collect::<Vec<_>>(),
        [
            Item::tool_call("call_1", "lookup_order", "{\"order_id\":\"A-1001\"}"),
            Item::tool_call("call_2", "get_weather", "{\"city\":\"Paris\"}"),
        ]
    );
    assert_eq!(response.usage.output_tokens, 87);
    assert_eq!(response.response_id.as_deref(), Some("resp_s1"));
    assert_eq!(server.requests()[0].body["stream"], true);

    let text: Vec<ModelStreamEvent> = model
        .stream(ModelRequest::new("A", vec![]))
        .map(|e| e.unwrap())
        .collect()
        .await;
    assert!(text.contains(&ModelStreamEvent::TextDelta(" there!".into())));
}

#[tokio::test]
async fn faults_are_typed_and_retried_like_chat() {
    let server = TestServer::start([
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#).with_header("retry-after", "0"),
        Reply::json(500, r#"{"error":{"message":"boom"}}"#),
        Reply::json(200, &fixture("responses_text.json")),
        Reply::json(401, r#"{"error":{"message":"bad key"}}"#),
        Reply::json(200, r#"{"output": [{"type": "message", "content": "#),
    ])
    .await;
    let model = model(&server);
    model.call(ModelRequest::new("A", vec![])).await.unwrap();
    assert_eq!(server.requests().len(), 3, "a 429 and a 500 were retried");
    let auth = model
        .call(ModelRequest::new("A", vec![]))
        .await
        .unwrap_err();
    assert!(matches!(auth, ModelError::Auth { ref message } if message == "bad key"));
    let malformed = model
        .call(ModelRequest::new("A", vec![]))
        .await
        .unwrap_err();
    assert!(
        matches!(malformed, ModelError::Decode { .. }),
        "{malformed:?}"
    );
}

#[tokio::test]
async fn a_stream_without_its_completion_event_is_an_error() {
    let full = fixture("responses_stream_tool_calls.sse");
    let Reply::Events { mut messages, .. } = Reply::sse(&full) else {
        unreachable!()
    };
    messages.truncate(4);
    let server = TestServer::start([Reply::Events {
        messages,
        end: "event: response.function_call_arg".into(),
    }])
    .await;
    let results: Vec<_> = model(&server)
        .stream(ModelRequest::new("A", vec![]))
        .collect()
        .await;
    assert!(
        matches!(results.last(), Some(Err(ModelError::Decode { .. }))),
        "{results:?}"
    );
}

#[tokio::test]
async fn a_failed_response_event_is_a_server_error() {
    let failed = "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"r\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"The model crashed\"}}}\n\n";
    let server = TestServer::start([Reply::sse(failed)]).await;
    let results: Vec<_> = model(&server)
        .stream(ModelRequest::new("A", vec![]))
        .collect()
        .await;
    assert!(
        matches!(results.last(), Some(Err(ModelError::Server { message, .. })) if message == "The model crashed"),
        "{results:?}"
    );
}

fn desk() -> Agent<()> {
    Agent::<()>::builder("Desk")
        .tool(lookup_order {})
        .tool(get_weather {})
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_server_managed_conversation_sends_only_new_items_and_chains_responses() {
    let server = TestServer::start([
        Reply::json(200, &fixture("responses_tool_calls.json")),
        Reply::json(200, &fixture("responses_text.json")),
    ])
    .await;
    Runner::new(model(&server))
        .run(&desk(), (), "order and weather")
        .previous_response_id("resp_earlier")
        .await
        .unwrap();
    let requests = server.requests();
    let (first, second) = (&requests[0].body, &requests[1].body);
    // The first turn continues the given response with this run's input.
    assert_eq!(first["previous_response_id"], "resp_earlier");
    assert_eq!(first["store"], true);
    assert_eq!(
        first["input"],
        json!([{"role": "user", "content": "order and weather"}])
    );
    // The second names the first turn's response and sends only the outputs.
    assert_eq!(second["previous_response_id"], "resp_tools");
    let kinds: Vec<&str> = second["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["function_call_output", "function_call_output"]);
}

#[tokio::test]
async fn auto_chaining_and_a_conversation_id() {
    let server = TestServer::start([
        Reply::json(200, &fixture("responses_tool_calls.json")),
        Reply::json(200, &fixture("responses_text.json")),
        Reply::json(200, &fixture("responses_text.json")),
    ])
    .await;
    let runner = Runner::new(model(&server));
    runner
        .run(&desk(), (), "order and weather")
        .auto_previous_response_id(true)
        .await
        .unwrap();
    runner
        .run(&desk(), (), "thanks")
        .conversation_id("conv_7")
        .await
        .unwrap();
    let requests = server.requests();
    assert!(requests[0].body.get("previous_response_id").is_none());
    assert_eq!(requests[0].body["input"].as_array().unwrap().len(), 1);
    assert_eq!(requests[1].body["previous_response_id"], "resp_tools");
    // The server follows a conversation by itself: no response id.
    assert_eq!(requests[2].body["conversation"], "conv_7");
    assert!(requests[2].body.get("previous_response_id").is_none());
    assert_eq!(
        requests[2].body["input"],
        json!([{"role": "user", "content": "thanks"}])
    );
}

#[tokio::test]
async fn a_server_managed_conversation_with_a_session_is_refused() {
    let server = TestServer::start([]).await;
    let error = Runner::new(model(&server))
        .run(&desk(), (), "hi")
        .session(agents_core::session::MemorySession::new("s"))
        .previous_response_id("resp_1")
        .await
        .unwrap_err();
    assert!(
        matches!(error, agents_core::RunError::InvalidConfig { .. }),
        "{error:?}"
    );
    assert!(server.requests().is_empty());
    // Chat Completions keeps no conversation: a typed refusal, no request.
    let chat = agents_core::openai::OpenAiChat::new(crate::server::config(&server)).unwrap();
    let error = Runner::new(chat)
        .run(&desk(), (), "hi")
        .previous_response_id("resp_1")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, agents_core::RunError::Model { source: agents_core::ModelError::BadRequest { message, .. }, .. } if message.contains("Responses API")),
        "{error:?}"
    );
    assert!(server.requests().is_empty());
}
