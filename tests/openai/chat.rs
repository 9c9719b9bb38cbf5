//! The Chat Completions wire format, both ways.

use agents_core::model::{ModelStreamEvent, ResponseAssembler};
use agents_core::openai::{OpenAiChat, OpenAiConfig};
use agents_core::prelude::*;
use agents_core::{Item, ModelRequest};
use futures::StreamExt;
use serde_json::json;

use crate::server::{Reply, TestServer, config, fixture};

pub(crate) fn model(server: &TestServer) -> OpenAiChat {
    OpenAiChat::new(config(server).api_key("sk-test")).unwrap()
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
    let server = TestServer::start([Reply::json(200, &fixture("openai/chat_text.json"))]).await;
    let agent = Agent::<()>::builder("Greeter")
        .instructions("Be kind.")
        .build()
        .unwrap();
    let result = Runner::new(model(&server))
        .run(&agent, (), "hi")
        .await
        .unwrap();

    assert_eq!(
        result.final_output,
        "Hello there, how may I assist you today?"
    );
    assert_eq!(result.usage.input_tokens, 9);
    assert_eq!(result.usage.cached_input_tokens, 4);
    assert_eq!(
        result.raw_responses[0].response_id.as_deref(),
        Some("chatcmpl-123")
    );

    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(
        request.body,
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "Be kind."},
                {"role": "user", "content": "hi"}
            ]
        })
    );
}

#[tokio::test]
async fn parallel_tool_calls_decode_and_their_outputs_go_back() {
    let server = TestServer::start([
        Reply::json(200, &fixture("openai/chat_tool_calls.json")),
        Reply::json(200, &fixture("openai/chat_text.json")),
    ])
    .await;
    let agent = Agent::<()>::builder("Desk")
        .tool(lookup_order {})
        .tool(get_weather {})
        .model_settings(
            ModelSettings::new()
                .temperature(0.0)
                .tool_choice(ToolChoice::Required)
                .parallel_tool_calls(true),
        )
        .build()
        .unwrap();
    Runner::new(model(&server))
        .run(&agent, (), "order and weather")
        .await
        .unwrap();

    let requests = server.requests();
    let first = &requests[0].body;
    assert_eq!(first["tools"][0]["type"], "function");
    assert_eq!(first["tools"][0]["function"]["name"], "lookup_order");
    assert_eq!(first["tools"][0]["function"]["strict"], true);
    assert_eq!(
        first["tools"][0]["function"]["parameters"]["additionalProperties"],
        false
    );
    assert_eq!(first["tool_choice"], "required");
    assert_eq!(first["parallel_tool_calls"], true);
    assert_eq!(first["temperature"], 0.0);

    // The second request replays the calls and carries both outputs.
    let messages = &requests[1].body["messages"];
    assert_eq!(
        messages[1],
        json!({
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "call_abc123", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order_id\":\"A-1001\"}"}},
                {"id": "call_def456", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
            ]
        })
    );
    assert_eq!(
        messages[2],
        json!({"role": "tool", "tool_call_id": "call_abc123", "content": "A-1001: paid"})
    );
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_def456", "content": "sunny in Paris"})
    );
}

#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    order_id: String,
    refunded_cents: u32,
}

#[tokio::test]
async fn structured_output_sends_a_json_schema_and_parses_the_answer() {
    let server =
        TestServer::start([Reply::json(200, &fixture("openai/chat_structured.json"))]).await;
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
    let format = &server.requests()[0].body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "Receipt");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(
        format["json_schema"]["schema"]["required"],
        json!(["order_id", "refunded_cents"])
    );
}

async fn assemble(
    model: &OpenAiChat,
    request: ModelRequest,
) -> (Vec<ModelStreamEvent>, agents_core::ModelResponse) {
    let events: Vec<ModelStreamEvent> = model.stream(request).map(|e| e.unwrap()).collect().await;
    let mut assembler = ResponseAssembler::new();
    for event in events.clone() {
        assembler.push(event).unwrap();
    }
    (events, assembler.finish().unwrap())
}

#[tokio::test]
async fn a_stream_with_tool_call_deltas_split_across_chunks_assembles() {
    let server = TestServer::start([
        Reply::sse(&fixture("openai/chat_stream_tool_calls.sse")),
        Reply::json(200, &fixture("openai/chat_tool_calls.json")),
    ])
    .await;
    let model = model(&server);
    let (events, streamed) = assemble(&model, ModelRequest::new("Desk", vec![])).await;
    let deltas = events
        .iter()
        .filter(|e| matches!(e, ModelStreamEvent::ToolCallArgumentsDelta { .. }))
        .count();
    assert_eq!(deltas, 5);
    assert_eq!(
        streamed
            .output
            .iter()
            .map(|i| (**i).clone())
            .collect::<Vec<_>>(),
        [
            Item::tool_call("call_1", "lookup_order", "{\"order_id\":\"A-1001\"}"),
            Item::tool_call("call_2", "get_weather", "{\"city\":\"Paris\"}"),
        ]
    );
    assert_eq!(streamed.usage.input_tokens, 82);
    assert_eq!(streamed.response_id.as_deref(), Some("chatcmpl-s1"));
    assert_eq!(server.requests()[0].body["stream"], true);
    assert_eq!(
        server.requests()[0].body["stream_options"]["include_usage"],
        true
    );

    // The same answer, not streamed, gives the same items.
    let whole = model.call(ModelRequest::new("Desk", vec![])).await.unwrap();
    assert_eq!(whole.output.len(), streamed.output.len());
    for (a, b) in whole.output.iter().zip(&streamed.output) {
        let (Item::ToolCall(a), Item::ToolCall(b)) = (&**a, &**b) else {
            panic!("expected calls")
        };
        assert_eq!((&a.name, &a.arguments), (&b.name, &b.arguments));
    }
}

#[tokio::test]
async fn a_text_stream_yields_deltas_in_order() {
    let server = TestServer::start([Reply::sse(&fixture("openai/chat_stream_text.sse"))]).await;
    let (events, response) = assemble(&model(&server), ModelRequest::new("A", vec![])).await;
    let deltas: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ModelStreamEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, ["Hello", " there", "!"]);
    assert_eq!(*response.output[0], Item::assistant("Hello there!"));
}

#[tokio::test]
async fn missing_ids_usage_and_finish_reason_are_tolerated() {
    let bare = r#"{"choices":[{"message":{"content":"ok","tool_calls":[{"function":{"name":"lookup_order","arguments":"{}"}}]}}]}"#;
    let server = TestServer::start([Reply::json(200, bare)]).await;
    let response = model(&server)
        .call(ModelRequest::new("A", vec![]))
        .await
        .unwrap();
    assert_eq!(response.response_id, None);
    assert_eq!(response.usage.input_tokens, 0);
    assert_eq!(
        *response.output[1],
        Item::tool_call("call_0", "lookup_order", "{}")
    );
}

#[tokio::test]
async fn captured_llama_cpp_answers_decode() {
    let server = TestServer::start([
        Reply::json(200, &fixture("llama_cpp/chat_text.json")),
        Reply::json(200, &fixture("llama_cpp/chat_tool_call.json")),
    ])
    .await;
    let model = model(&server);
    let text = model.call(ModelRequest::new("A", vec![])).await.unwrap();
    assert_eq!(*text.output[0], Item::assistant("What colour is the sky?"));
    assert_eq!(text.usage.input_tokens, 49);

    // llama.cpp sends `content: null` with the calls, a `function_call`
    // copy, and ids of its own making.
    let call = model.call(ModelRequest::new("A", vec![])).await.unwrap();
    assert_eq!(call.output.len(), 1);
    let Item::ToolCall(call) = &*call.output[0] else {
        panic!("expected a tool call")
    };
    assert_eq!(call.name, "lookup_order");
    assert!(call.call_id.starts_with("call__0_lookup_order_"));
}

#[tokio::test]
async fn a_captured_llama_cpp_stream_repeating_ids_in_every_chunk_is_one_call() {
    let server = TestServer::start([
        Reply::sse(&fixture("llama_cpp/chat_stream_tool_call.sse")),
        Reply::sse(&fixture("llama_cpp/chat_stream_text.sse")),
    ])
    .await;
    let model = model(&server);
    let (events, response) = assemble(&model, ModelRequest::new("A", vec![])).await;
    let started = events
        .iter()
        .filter(|e| matches!(e, ModelStreamEvent::ToolCallStarted { .. }))
        .count();
    assert_eq!(
        started, 1,
        "llama.cpp repeats id and name in every chunk of one call"
    );
    let Item::ToolCall(call) = &*response.output[0] else {
        panic!("expected a tool call")
    };
    assert_eq!(call.name, "lookup_order");
    assert!(call.arguments.starts_with('{'), "{}", call.arguments);
    // No usage chunk: llama.cpp's server ignores `stream_options`.
    assert_eq!(response.usage.input_tokens, 0);

    let (_, text) = assemble(&model, ModelRequest::new("A", vec![])).await;
    assert_eq!(*text.output[0], Item::assistant("Say hello."));
}

#[tokio::test]
async fn the_json_object_schema_format_suits_llama_cpp() {
    let server =
        TestServer::start([Reply::json(200, &fixture("openai/chat_structured.json"))]).await;
    let model = OpenAiChat::new(
        OpenAiConfig::new()
            .base_url(&server.base_url)
            .schema_format(agents_core::openai::SchemaFormat::JsonObject),
    )
    .unwrap();
    let agent = Agent::<()>::builder("Billing")
        .output_type::<Receipt>()
        .build()
        .unwrap();
    let result = Runner::new(model).run(&agent, (), "refund").await.unwrap();
    assert_eq!(result.final_output.refunded_cents, 2500);
    let format = &server.requests()[0].body["response_format"];
    assert_eq!(format["type"], "json_object");
    assert_eq!(
        format["schema"]["required"],
        json!(["order_id", "refunded_cents"])
    );
}
