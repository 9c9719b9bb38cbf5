//! The Chat Completions request body, borrowed from the [`ModelRequest`]:
//! the conversation's text, the tools' schemas and the output schema are
//! serialised from where the run keeps them, straight to bytes, never
//! copied into owned wire structs first (a turn used to deep-clone every
//! tool schema and every message, instructions included). The shape is
//! that of `async-openai`'s `CreateChatCompletionRequest`, the fields this
//! project sets; `tests/openai/body.rs` snapshots it.

use std::borrow::Cow;

use serde::Serialize;

use super::config::{OpenAiConfig, SchemaFormat};
use crate::item::{Item, ToolCall};
use crate::model::{ModelError, ModelRequest, OutputSchema, ToolChoice, ToolDefinition};

/// The body sent.
#[derive(Debug, Serialize)]
pub(super) struct ChatBody<'a> {
    messages: Vec<Message<'a>>,
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<WireToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Tools::is_empty")]
    tools: Tools<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum Message<'a> {
    System {
        content: Cow<'a, str>,
    },
    User {
        content: &'a str,
    },
    Assistant {
        /// Never `null`: llama.cpp's server rejects it.
        content: &'a str,
        #[serde(skip_serializing_if = "Calls::is_empty")]
        tool_calls: Calls<'a>,
    },
    Tool {
        content: &'a str,
        tool_call_id: &'a str,
    },
}

/// An assistant message's tool calls: the run of items they came from
/// (calls, and items this API takes no input for), serialised from it.
#[derive(Debug, Clone, Copy)]
struct Calls<'a>(&'a [std::sync::Arc<Item>]);

impl<'a> Calls<'a> {
    fn calls(self) -> impl Iterator<Item = Call<'a>> {
        self.0.iter().filter_map(|item| match &**item {
            Item::ToolCall(call) | Item::HandoffCall(call) => Some(wire_call(call)),
            _ => None,
        })
    }

    fn is_empty(&self) -> bool {
        self.calls().next().is_none()
    }
}

impl Serialize for Calls<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.calls())
    }
}

/// The request's tools, serialised from its definitions.
#[derive(Debug, Clone, Copy)]
struct Tools<'a>(&'a [ToolDefinition]);

impl Tools<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Tools<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(tool))
    }
}

#[derive(Debug, Serialize)]
struct Call<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: CallFunction<'a>,
}

#[derive(Debug, Serialize)]
struct CallFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Debug, Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: ToolFunction<'a>,
}

/// A tool as both APIs describe it (the Responses API without the
/// `function` wrapper).
#[derive(Debug, Serialize)]
pub(super) struct ToolFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a serde_json::Value,
    strict: bool,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum WireToolChoice<'a> {
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        function: FunctionName<'a>,
    },
}

#[derive(Debug, Serialize)]
struct FunctionName<'a> {
    name: &'a str,
}

/// The response format in the shape the configured [`SchemaFormat`] asks
/// for.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResponseFormat<'a> {
    JsonSchema { json_schema: JsonSchema<'a> },
    JsonObject { schema: &'a serde_json::Value },
}

#[derive(Debug, Serialize)]
struct JsonSchema<'a> {
    name: &'a str,
    schema: &'a serde_json::Value,
    strict: bool,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// The body for `request`.
///
/// # Errors
/// [`ModelError::BadRequest`] for a request that continues a conversation
/// kept on the server: Chat Completions keeps none.
pub(super) fn body<'a>(
    config: &'a OpenAiConfig,
    request: &'a ModelRequest,
    stream: bool,
) -> Result<ChatBody<'a>, ModelError> {
    if request.previous_response_id.is_some() || request.conversation_id.is_some() {
        return Err(ModelError::BadRequest {
            status: 0,
            message: "Chat Completions keeps no conversation on the server: \
                      previous_response_id and conversation_id need the Responses API (OpenAiResponses)"
                .to_owned(),
        });
    }
    let tools = Tools(&request.tools);
    let settings = &request.settings;
    Ok(ChatBody {
        messages: messages(request),
        model: request.model.as_deref().unwrap_or(&config.model),
        temperature: settings.temperature,
        top_p: settings.top_p,
        max_tokens: settings.max_tokens,
        // `tool_choice` without tools is an error on OpenAI.
        tool_choice: settings
            .tool_choice
            .as_ref()
            .filter(|_| !tools.is_empty())
            .map(tool_choice),
        parallel_tool_calls: settings.parallel_tool_calls.filter(|_| !tools.is_empty()),
        tools,
        response_format: request
            .output_schema
            .as_deref()
            .map(|schema| response_format(config.schema_format, schema)),
        stream: stream.then_some(true),
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
    })
}

/// The messages: the instructions as a `system` message, then the
/// conversation, consecutive assistant text and calls merged into one
/// assistant message.
fn messages(request: &ModelRequest) -> Vec<Message<'_>> {
    let mut messages = Vec::with_capacity(request.input.len() + 1);
    if let Some(instructions) = &request.instructions {
        messages.push(Message::System {
            content: Cow::Borrowed(instructions),
        });
    }
    // The assistant message being built: its text, and the run of items
    // its calls come from (`start..end` of the input).
    let mut pending: Option<(&str, usize, usize)> = None;
    let input = &request.input;
    for (at, item) in input.iter().enumerate() {
        match &**item {
            Item::UserMessage { content } => {
                flush(&mut pending, input, &mut messages);
                messages.push(Message::User { content });
            }
            Item::AssistantMessage { content } | Item::Refusal { content } => {
                flush(&mut pending, input, &mut messages);
                pending = Some((content, at + 1, at + 1));
            }
            Item::ToolCall(_) | Item::HandoffCall(_) => {
                pending.get_or_insert(("", at, at)).2 = at + 1;
            }
            Item::ToolOutput(output) => {
                flush(&mut pending, input, &mut messages);
                messages.push(Message::Tool {
                    content: &output.output,
                    tool_call_id: &output.call_id,
                });
            }
            Item::HandoffOutput(output) => {
                flush(&mut pending, input, &mut messages);
                messages.push(Message::Tool {
                    content: &output.output,
                    tool_call_id: &output.call_id,
                });
            }
            Item::Summary { text, .. } => {
                flush(&mut pending, input, &mut messages);
                messages.push(Message::System {
                    content: Cow::Owned(format!("Summary of the earlier conversation: {text}")),
                });
            }
            // The Chat Completions API takes no reasoning input.
            _ => {}
        }
    }
    flush(&mut pending, input, &mut messages);
    messages
}

/// Ends the assistant message being built, if any.
fn flush<'a>(
    pending: &mut Option<(&'a str, usize, usize)>,
    input: &'a [std::sync::Arc<Item>],
    messages: &mut Vec<Message<'a>>,
) {
    if let Some((content, start, end)) = pending.take() {
        messages.push(Message::Assistant {
            content,
            tool_calls: Calls(input.get(start..end).unwrap_or_default()),
        });
    }
}

fn wire_call(call: &ToolCall) -> Call<'_> {
    Call {
        id: &call.call_id,
        kind: "function",
        function: CallFunction {
            name: &call.name,
            arguments: &call.arguments,
        },
    }
}

fn tool(tool: &ToolDefinition) -> Tool<'_> {
    Tool {
        kind: "function",
        function: ToolFunction::of(tool),
    }
}

impl<'a> ToolFunction<'a> {
    /// `tool`'s description, borrowed.
    pub(super) fn of(tool: &'a ToolDefinition) -> Self {
        ToolFunction {
            name: &tool.name,
            description: &tool.description,
            parameters: &tool.parameters,
            strict: tool.strict,
        }
    }
}

fn tool_choice(choice: &ToolChoice) -> WireToolChoice<'_> {
    match choice_mode(choice) {
        Ok(mode) => WireToolChoice::Mode(mode),
        Err(name) => WireToolChoice::Function {
            kind: "function",
            function: FunctionName { name },
        },
    }
}

/// A tool choice as both APIs name it: a mode (`auto`, `none`,
/// `required`), or `Err` with the one tool's name.
pub(super) fn choice_mode(choice: &ToolChoice) -> Result<&'static str, &str> {
    match choice {
        ToolChoice::Auto => Ok("auto"),
        ToolChoice::None => Ok("none"),
        ToolChoice::Required => Ok("required"),
        ToolChoice::Tool(name) => Err(name),
    }
}

fn response_format(format: SchemaFormat, schema: &OutputSchema) -> ResponseFormat<'_> {
    match format {
        SchemaFormat::JsonSchema => ResponseFormat::JsonSchema {
            json_schema: JsonSchema {
                name: &schema.name,
                schema: &schema.schema,
                strict: schema.strict,
            },
        },
        SchemaFormat::JsonObject => ResponseFormat::JsonObject {
            schema: &schema.schema,
        },
    }
}
