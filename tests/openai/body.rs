//! The Chat Completions and Responses request bodies, as JSON, for a request that uses
//! every kind of item and setting: snapshotted, so a change to how the body
//! is built shows as a changed snapshot.

use std::sync::Arc;

use agents_core::model::{ModelSettings, OutputSchema, ToolChoice, ToolDefinition};
use agents_core::openai::{OpenAiChat, OpenAiConfig, OpenAiResponses, SchemaFormat};
use agents_core::{HandoffOutput, Item, ModelRequest, ToolCall, ToolOutput};
use serde_json::json;

fn request() -> ModelRequest {
    let call = |id: &str, name: &str, arguments: &str| ToolCall {
        call_id: id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
    };
    let items = vec![
        Item::user("Refund order A-1, \"twice\" charged"),
        Item::Summary {
            text: "The customer was charged twice.".to_owned(),
            replaced_items: 4,
        },
        Item::assistant("Let me look."),
        Item::ToolCall(call("call_1", "lookup_order", r#"{"order_id":"A-1"}"#)),
        Item::ToolCall(call("call_2", "lookup_order", r#"{"order_id":"A-2"}"#)),
        Item::ToolOutput(ToolOutput {
            call_id: "call_1".to_owned(),
            output: "A-1: shipped".to_owned(),
            is_error: false,
            interrupted: false,
        }),
        Item::ToolOutput(ToolOutput {
            call_id: "call_2".to_owned(),
            output: "no such order".to_owned(),
            is_error: true,
            interrupted: false,
        }),
        Item::HandoffCall(call("call_3", "transfer_to_billing", "{}")),
        Item::HandoffOutput(HandoffOutput {
            call_id: "call_3".to_owned(),
            from_agent: "Triage".to_owned(),
            to_agent: Some("Billing".to_owned()),
            output: "{\"assistant\": \"Billing\"}".to_owned(),
        }),
        Item::Reasoning {
            text: "not sent to Chat Completions".to_owned(),
        },
        Item::Refusal {
            content: "I cannot do that.".to_owned(),
        },
        Item::user("Please."),
    ];
    let tools = vec![ToolDefinition {
        name: "lookup_order".to_owned(),
        description: "Look an order up.".to_owned(),
        parameters: json!({
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
            "additionalProperties": false
        }),
        strict: true,
    }];
    let settings = ModelSettings {
        temperature: Some(0.25),
        top_p: Some(0.5),
        max_tokens: Some(300),
        tool_choice: Some(ToolChoice::Tool("lookup_order".to_owned())),
        parallel_tool_calls: Some(false),
    };
    ModelRequest::new("Billing", items.into_iter().map(Arc::new).collect())
        .with_instructions("You handle refunds.")
        .with_tools(tools)
        .with_settings(settings)
        .with_output_schema(OutputSchema {
            name: "Receipt".to_owned(),
            schema: json!({"type": "object", "properties": {"amount": {"type": "number"}}}),
            strict: true,
        })
}

fn chat(format: SchemaFormat) -> OpenAiChat {
    OpenAiChat::new(
        OpenAiConfig::new()
            .base_url("http://127.0.0.1:9/v1")
            .model("gpt-4o-mini")
            .schema_format(format),
    )
    .unwrap()
}

#[test]
fn a_request_with_every_kind_of_item_and_setting() {
    let body = chat(SchemaFormat::JsonSchema)
        .request_body(&request(), false)
        .unwrap();
    insta::assert_json_snapshot!("chat_body", body);
}

#[test]
fn a_streamed_request_asks_for_usage_and_a_json_object_schema() {
    let mut request = request();
    request.settings = ModelSettings::default();
    request.tools = Arc::from(Vec::new());
    request.instructions = None;
    request.input.truncate(1);
    let body = chat(SchemaFormat::JsonObject)
        .request_body(&request, true)
        .unwrap();
    insta::assert_json_snapshot!("chat_body_streamed", body);
}

fn responses() -> OpenAiResponses {
    OpenAiResponses::new(
        OpenAiConfig::new()
            .base_url("http://127.0.0.1:9/v1")
            .model("gpt-4o-mini"),
    )
    .unwrap()
}

#[test]
fn a_responses_request_with_every_kind_of_item_and_setting() {
    insta::assert_json_snapshot!(
        "responses_body",
        responses().wire_request(&request(), false)
    );
}

#[test]
fn a_streamed_responses_request_continuing_a_stored_response() {
    let mut request = request();
    request.input.truncate(1);
    request.previous_response_id = Some("resp_1".to_owned());
    request.settings = ModelSettings::default();
    request.settings.tool_choice = Some(ToolChoice::Required);
    request.model = Some(Arc::from("gpt-4.1"));
    request.output_schema = None;
    insta::assert_json_snapshot!(
        "responses_body_streamed",
        responses().wire_request(&request, true)
    );
}
