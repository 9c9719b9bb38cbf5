//! The Responses API request body, borrowed from the [`ModelRequest`] as
//! the Chat Completions one is (`chat_request.rs`): items, tool schemas and
//! the output schema are serialised from where the run keeps them, not
//! built into a `serde_json::Value` tree per turn. `tests/openai/body.rs`
//! snapshots it.

use std::borrow::Cow;

use serde::Serialize;

use super::chat_request::{ToolFunction, choice_mode};
use super::config::OpenAiConfig;
use crate::item::Item;
use crate::model::{ModelRequest, OutputSchema, ToolChoice, ToolDefinition};

/// The body sent.
#[derive(Debug, Serialize)]
pub(super) struct WireRequest<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    input: Vec<Input<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<WireToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Text<'a>>,
    store: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_response_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation: Option<&'a str>,
}

/// One input item.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Input<'a> {
    /// A user or developer message with plain text content.
    Message {
        role: &'static str,
        content: Cow<'a, str>,
    },
    /// An assistant message: output text or a refusal.
    Assistant {
        #[serde(rename = "type")]
        kind: &'static str,
        role: &'static str,
        content: [Content<'a>; 1],
    },
    FunctionCall {
        #[serde(rename = "type")]
        kind: &'static str,
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
    },
    FunctionCallOutput {
        #[serde(rename = "type")]
        kind: &'static str,
        call_id: &'a str,
        output: &'a str,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Content<'a> {
    OutputText { text: &'a str },
    Refusal { refusal: &'a str },
}

#[derive(Debug, Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    function: ToolFunction<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum WireToolChoice<'a> {
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        name: &'a str,
    },
}

#[derive(Debug, Serialize)]
struct Text<'a> {
    format: Format<'a>,
}

#[derive(Debug, Serialize)]
struct Format<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    schema: &'a serde_json::Value,
    strict: bool,
}

/// The body for `request`.
pub(super) fn wire_request<'a>(
    config: &'a OpenAiConfig,
    request: &'a ModelRequest,
    stream: bool,
) -> WireRequest<'a> {
    let tools: Vec<Tool<'a>> = request.tools.iter().map(tool).collect();
    let settings = &request.settings;
    WireRequest {
        model: request.model.as_deref().unwrap_or(&config.model),
        instructions: request.instructions.as_deref(),
        input: request
            .input
            .iter()
            .filter_map(|item| input(item))
            .collect(),
        tool_choice: settings
            .tool_choice
            .as_ref()
            .filter(|_| !tools.is_empty())
            .map(tool_choice),
        parallel_tool_calls: settings.parallel_tool_calls.filter(|_| !tools.is_empty()),
        tools,
        temperature: settings.temperature,
        top_p: settings.top_p,
        max_output_tokens: settings.max_tokens,
        text: request.output_schema.as_deref().map(text),
        // A server-managed conversation needs the server to keep it.
        store: request.previous_response_id.is_some() || request.conversation_id.is_some(),
        stream,
        previous_response_id: request.previous_response_id.as_deref(),
        conversation: request.conversation_id.as_deref(),
    }
}

fn input(item: &Item) -> Option<Input<'_>> {
    let assistant = |content| Input::Assistant {
        kind: "message",
        role: "assistant",
        content: [content],
    };
    Some(match item {
        Item::UserMessage { content } => Input::Message {
            role: "user",
            content: Cow::Borrowed(content),
        },
        Item::AssistantMessage { content } => assistant(Content::OutputText { text: content }),
        Item::Refusal { content } => assistant(Content::Refusal { refusal: content }),
        Item::ToolCall(call) | Item::HandoffCall(call) => Input::FunctionCall {
            kind: "function_call",
            call_id: &call.call_id,
            name: &call.name,
            arguments: &call.arguments,
        },
        Item::ToolOutput(output) => Input::FunctionCallOutput {
            kind: "function_call_output",
            call_id: &output.call_id,
            output: &output.output,
        },
        Item::HandoffOutput(output) => Input::FunctionCallOutput {
            kind: "function_call_output",
            call_id: &output.call_id,
            output: &output.output,
        },
        Item::Summary { text, .. } => Input::Message {
            role: "developer",
            content: Cow::Owned(format!("Summary of the earlier conversation: {text}")),
        },
        // Reasoning items need the provider's ids to be replayed; with
        // `store: false` they are left out.
        _ => return None,
    })
}

fn tool(tool: &ToolDefinition) -> Tool<'_> {
    Tool {
        kind: "function",
        function: ToolFunction::of(tool),
    }
}

fn tool_choice(choice: &ToolChoice) -> WireToolChoice<'_> {
    match choice_mode(choice) {
        Ok(mode) => WireToolChoice::Mode(mode),
        Err(name) => WireToolChoice::Function {
            kind: "function",
            name,
        },
    }
}

fn text(schema: &OutputSchema) -> Text<'_> {
    Text {
        format: Format {
            kind: "json_schema",
            name: &schema.name,
            schema: &schema.schema,
            strict: schema.strict,
        },
    }
}
