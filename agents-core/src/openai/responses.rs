//! The Responses API (`POST /responses`).
//!
//! The request is written with this module's own serde types: the shapes
//! used here (messages, function calls and outputs, function tools, a JSON
//! schema format) are a small, stable part of the API, and async-openai's
//! `InputItem` union spans dozens of item kinds this runner never sends.
//! Responses are read leniently, like Chat Completions ones.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::chat::WireUsage;
use super::config::OpenAiConfig;
use super::decode;
use super::http::{Http, error_message};
use super::responses_request::wire_request;
use super::sse;
use crate::item::{Item, ToolCall};
use crate::model::{
    BoxFuture, BoxStream, Model, ModelError, ModelRequest, ModelResponse, ModelStreamEvent,
};

/// A model behind the Responses API (OpenAI's newer API: reasoning items,
/// `instructions` as a field).
///
/// ```no_run
/// use agents_core::openai::{OpenAiConfig, OpenAiResponses};
///
/// let model = OpenAiResponses::new(OpenAiConfig::from_env().model("gpt-4o-mini"))?;
/// # Ok::<(), agents_core::ModelError>(())
/// ```
///
/// Requests are sent with `store: false`: the full input goes with every
/// call and nothing is kept server-side — unless the run uses a
/// server-managed conversation (`Run::previous_response_id`,
/// `auto_previous_response_id`, `conversation_id`): then `store: true`,
/// only the new items, and `previous_response_id` or `conversation`.
#[derive(Debug, Clone)]
pub struct OpenAiResponses {
    http: Arc<Http>,
}

impl OpenAiResponses {
    /// A model client with `config`.
    ///
    /// # Errors
    /// As [`OpenAiChat::new`](super::OpenAiChat::new).
    pub fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        Ok(OpenAiResponses {
            http: Arc::new(Http::new(config, "responses")?),
        })
    }

    /// A model client configured from the environment.
    ///
    /// # Errors
    /// As [`new`](OpenAiResponses::new).
    pub fn from_env() -> Result<Self, ModelError> {
        Self::new(OpenAiConfig::from_env())
    }

    /// The wire request for `request`, as JSON (for inspection and tests).
    pub fn wire_request(&self, request: &ModelRequest, stream: bool) -> Value {
        serde_json::to_value(wire_request(&self.http.config, request, stream))
            .unwrap_or(Value::Null)
    }
}

impl Model for OpenAiResponses {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let body = wire_request(&self.http.config, &request, false);
            let body = self.http.post_body(&body).await?;
            decode_response(&body).map_err(|error| self.http.redact(error))
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        let body = wire_request(&self.http.config, &request, true);
        self.http.post_stream(Ok(body), EventDecoder::default())
    }
}

/// A whole (not streamed) response body.
pub(super) fn decode_response(body: &[u8]) -> Result<ModelResponse, ModelError> {
    let wire: WireResponse<'_> = decode::from_json(body)?;
    if wire.id.is_none() && wire.status.is_none() && wire.output.is_empty() {
        // `{}` with status 200 is not an empty answer.
        return Err(ModelError::decode(
            "the body has no `id`, `status` or `output`: not a Responses API response",
        ));
    }
    wire.into_response()
}

/// A Responses API response, its strings borrowed from the body where
/// they have no escapes.
#[derive(Debug, Default, Deserialize)]
struct WireResponse<'a> {
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    status: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default, borrow)]
    output: Vec<WireItem<'a>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

impl WireResponse<'_> {
    fn into_response(self) -> Result<ModelResponse, ModelError> {
        if self.status.as_deref() == Some("failed") {
            let message = self
                .error
                .as_ref()
                .map(|e| error_message(&e.to_string()))
                .unwrap_or_else(|| "the response failed".to_owned());
            return Err(ModelError::Server {
                status: 200,
                message,
            });
        }
        let output = self
            .output
            .into_iter()
            .filter_map(WireItem::into_item)
            .map(Arc::new)
            .collect();
        Ok(ModelResponse {
            output,
            usage: self.usage.map(|u| u.usage()).unwrap_or_default(),
            response_id: self.id.filter(|id| !id.is_empty()).map(Cow::into_owned),
            model: self
                .model
                .filter(|model| !model.is_empty())
                .map(Cow::into_owned),
            failovers: Vec::new(),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct WireItem<'a> {
    #[serde(default, rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    content: Vec<WireContent<'a>>,
    #[serde(default, borrow)]
    summary: Vec<WireContent<'a>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    call_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct WireContent<'a> {
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    refusal: Option<Cow<'a, str>>,
}

impl WireItem<'_> {
    fn into_item(self) -> Option<Item> {
        match &*self.kind {
            "message" => {
                let refusal: String = self
                    .content
                    .iter()
                    .filter_map(|part| part.refusal.as_deref())
                    .collect();
                if !refusal.is_empty() {
                    return Some(Item::Refusal { content: refusal });
                }
                let text: String = self
                    .content
                    .into_iter()
                    .filter_map(|part| part.text)
                    .collect();
                Some(Item::assistant(text))
            }
            "function_call" => Some(Item::ToolCall(ToolCall {
                call_id: owned(self.call_id.or(self.id)),
                name: owned(self.name),
                arguments: owned(self.arguments),
            })),
            "reasoning" => {
                let text: Vec<Cow<'_, str>> = self
                    .summary
                    .into_iter()
                    .chain(self.content)
                    .filter_map(|part| part.text)
                    .collect();
                (!text.is_empty()).then(|| Item::Reasoning {
                    text: text.join("\n"),
                })
            }
            _ => None,
        }
    }
}

/// The string of an optional field, owned (empty when absent).
fn owned(text: Option<Cow<'_, str>>) -> String {
    text.map(Cow::into_owned).unwrap_or_default()
}

/// Turns Responses API stream events into [`ModelStreamEvent`]s.
#[derive(Debug, Default)]
pub(super) struct EventDecoder {
    /// Output indexes of the function calls started, in order.
    calls: Vec<u64>,
    /// Refusal text so far, sent as one item at completion.
    refusal: String,
}

#[derive(Debug, Deserialize)]
struct WireEvent<'a> {
    /// Borrowed from the message (one per server-sent event).
    #[serde(default, rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    output_index: Option<u64>,
    #[serde(default)]
    delta: Option<String>,
    #[serde(default, borrow)]
    item: Option<WireItem<'a>>,
    #[serde(default, borrow)]
    response: Option<WireResponse<'a>>,
    #[serde(default)]
    message: Option<String>,
}

impl sse::Decoder for EventDecoder {
    fn decode(
        &mut self,
        event: &str,
        data: &str,
        events: &mut Vec<ModelStreamEvent>,
    ) -> Result<(), ModelError> {
        let wire: WireEvent<'_> = serde_json::from_str(data).map_err(|error| {
            ModelError::decode(format!(
                "stream event: {error} in `{}`",
                data.chars().take(200).collect::<String>()
            ))
        })?;
        let kind = if wire.kind.is_empty() {
            event
        } else {
            &*wire.kind
        };
        match kind {
            "response.output_item.added" => match wire.item {
                Some(item) if item.kind == "function_call" => {
                    self.calls
                        .push(wire.output_index.unwrap_or(self.calls.len() as u64));
                    events.push(ModelStreamEvent::ToolCallStarted {
                        index: self.calls.len() - 1,
                        call_id: owned(item.call_id.or(item.id)),
                        name: owned(item.name),
                    });
                }
                _ => {}
            },
            "response.output_text.delta" => {
                events.extend(wire.delta.map(ModelStreamEvent::TextDelta));
            }
            "response.refusal.delta" => {
                self.refusal
                    .push_str(wire.delta.as_deref().unwrap_or_default());
            }
            "response.function_call_arguments.delta" => {
                let index = self
                    .calls
                    .iter()
                    .position(|i| Some(*i) == wire.output_index);
                match (index, wire.delta) {
                    (Some(index), Some(delta)) => {
                        events.push(ModelStreamEvent::ToolCallArgumentsDelta { index, delta });
                    }
                    (None, _) => {
                        return Err(ModelError::decode(
                            "arguments delta for a function call that never started",
                        ));
                    }
                    _ => {}
                }
            }
            "response.output_item.done" => match wire.item {
                Some(item) if item.kind == "reasoning" => {
                    events.extend(item.into_item().map(ModelStreamEvent::ItemDone));
                }
                _ => {}
            },
            "response.completed" | "response.incomplete" => {
                let response = wire.response.unwrap_or_default();
                if !self.refusal.is_empty() {
                    let content = std::mem::take(&mut self.refusal);
                    events.push(ModelStreamEvent::ItemDone(Item::Refusal { content }));
                }
                if let Some(usage) = &response.usage {
                    events.push(ModelStreamEvent::Usage(usage.usage()));
                }
                events.push(ModelStreamEvent::Completed {
                    response_id: response.id.filter(|id| !id.is_empty()).map(Cow::into_owned),
                });
            }
            "response.failed" => {
                let message = wire
                    .response
                    .and_then(|r| r.error)
                    .map(|e| error_message(&e.to_string()))
                    .unwrap_or_else(|| "the response failed".to_owned());
                return Err(ModelError::Server {
                    status: 200,
                    message,
                });
            }
            "error" => {
                return Err(ModelError::Server {
                    status: 200,
                    message: wire.message.unwrap_or_else(|| error_message(data)),
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, _events: &mut Vec<ModelStreamEvent>) -> Result<(), ModelError> {
        Err(ModelError::decode(
            "stream ended before the response completed",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_responses_strings_are_borrowed_unless_escaped() {
        let body = r#"{"id":"resp_1","status":"completed","output":[{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{\"a\":1}"}]}"#;
        let wire: WireResponse<'_> = serde_json::from_str(body).unwrap();
        assert!(matches!(wire.id, Some(Cow::Borrowed("resp_1"))));
        assert!(matches!(wire.status, Some(Cow::Borrowed("completed"))));
        let item = &wire.output[0];
        assert!(matches!(item.kind, Cow::Borrowed("function_call")));
        assert!(matches!(item.call_id, Some(Cow::Borrowed("call_1"))));
        // An escape has to be unescaped into a copy.
        assert!(matches!(&item.arguments, Some(Cow::Owned(text)) if text == r#"{"a":1}"#));
        let response = wire.into_response().unwrap();
        assert_eq!(
            *response.output[0],
            Item::ToolCall(ToolCall {
                call_id: "call_1".into(),
                name: "f".into(),
                arguments: r#"{"a":1}"#.into(),
            })
        );
    }
}
