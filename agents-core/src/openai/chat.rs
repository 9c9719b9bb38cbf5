//! The Chat Completions API (`POST /chat/completions`), spoken by OpenAI
//! and by llama.cpp, vLLM, Ollama and LM Studio.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;

use super::chat_request::body;
use super::config::OpenAiConfig;
use super::decode;
use super::http::Http;
use super::sse;
use crate::item::{Item, ToolCall};
use crate::model::{
    BoxFuture, BoxStream, Model, ModelError, ModelRequest, ModelResponse, ModelStreamEvent,
};
use crate::usage::Usage;

/// A model behind the Chat Completions API.
///
/// ```no_run
/// use agents_core::openai::{OpenAiChat, OpenAiConfig};
///
/// // OpenAI, from OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_MODEL:
/// let openai = OpenAiChat::from_env()?;
/// // A local llama.cpp server:
/// let local = OpenAiChat::new(OpenAiConfig::new().base_url("http://127.0.0.1:8080/v1").model("gemma-3-270m"))?;
/// # Ok::<(), agents_core::ModelError>(())
/// ```
///
/// Compatibility with servers other than OpenAI: instructions go as a
/// `system` message; an assistant message that only carries tool calls has
/// `content: ""` (llama.cpp rejects `null`); missing ids, usage and
/// `finish_reason` are tolerated; tool calls without an id get
/// `call_<n>`.
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    http: Arc<Http>,
}

impl OpenAiChat {
    /// A model client with `config`.
    ///
    /// # Errors
    /// [`ModelError::BadRequest`] for a base URL that is not http(s) or an
    /// invalid header, [`ModelError::Connection`] when the HTTP client cannot
    /// be built.
    pub fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        Ok(OpenAiChat {
            http: Arc::new(Http::new(config, "chat/completions")?),
        })
    }

    /// A model client configured from the environment
    /// ([`OpenAiConfig::from_env`]).
    ///
    /// # Errors
    /// As [`new`](OpenAiChat::new).
    pub fn from_env() -> Result<Self, ModelError> {
        Self::new(OpenAiConfig::from_env())
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        &self.http.config
    }

    /// The JSON body sent for `request` (for inspection and tests).
    ///
    /// # Errors
    /// [`ModelError::BadRequest`] when the request does not serialize.
    pub fn request_body(
        &self,
        request: &ModelRequest,
        stream: bool,
    ) -> Result<serde_json::Value, ModelError> {
        let body = body(&self.http.config, request, stream)?;
        serde_json::to_value(&body).map_err(|error| ModelError::BadRequest {
            status: 0,
            message: format!("request does not serialize: {error}"),
        })
    }
}

impl Model for OpenAiChat {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let body = body(&self.http.config, &request, false)?;
            let body = self.http.post_body(&body).await?;
            decode_response(&body).map_err(|error| self.http.redact(error))
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        let body = body(&self.http.config, &request, true);
        self.http.post_stream(body, ChunkDecoder::default())
    }
}

fn short(text: &str) -> String {
    let text: String = text.chars().take(200).collect();
    format!("`{text}`")
}

/// A whole (not streamed) response body.
pub(super) fn decode_response(body: &[u8]) -> Result<ModelResponse, ModelError> {
    let wire: WireResponse<'_> = decode::from_json(body)?;
    if wire.choices.0.is_none() {
        // `{}` with status 200 is not an empty answer.
        return Err(ModelError::decode(
            "the body has no `choices`: not a Chat Completions response",
        ));
    }
    Ok(from_wire(wire))
}

/// A Chat Completions response or stream chunk, read leniently (servers
/// differ in what they omit), its strings borrowed from the body where it
/// has no escapes: a chunk's id, model and finish reason cost nothing.
#[derive(Debug, Default, Deserialize)]
struct WireResponse<'a> {
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    choices: FirstChoice<'a>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// The first of a response's `choices`, the only one a request asks for
/// (it never sets `n`): read without a vector (a chunk would otherwise
/// allocate room for four choices to hold one), any others skipped.
#[derive(Debug, Default)]
struct FirstChoice<'a>(Option<WireChoice<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for FirstChoice<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct First<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> serde::de::Visitor<'de> for First<'a> {
            type Value = FirstChoice<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of choices")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(FirstChoice(first))
            }
        }

        deserializer.deserialize_seq(First(std::marker::PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
struct WireChoice<'a> {
    #[serde(default, borrow)]
    message: Option<WireMessage<'a>>,
    #[serde(default, borrow)]
    delta: Option<WireMessage<'a>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct WireMessage<'a> {
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<WireToolCall<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
struct WireToolCall<'a> {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    function: WireFunction<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct WireFunction<'a> {
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "decode::borrowed")]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default, alias = "input_tokens")]
    prompt_tokens: u64,
    #[serde(default, alias = "output_tokens")]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
    #[serde(default, alias = "input_tokens_details")]
    prompt_tokens_details: Option<WireDetails>,
    #[serde(default, alias = "output_tokens_details")]
    completion_tokens_details: Option<WireDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct WireDetails {
    #[serde(default)]
    cached_tokens: u64,
    #[serde(default)]
    reasoning_tokens: u64,
}

impl WireUsage {
    pub(super) fn usage(&self) -> Usage {
        Usage {
            requests: 1,
            input_tokens: self.prompt_tokens,
            cached_input_tokens: self
                .prompt_tokens_details
                .as_ref()
                .map_or(0, |d| d.cached_tokens),
            output_tokens: self.completion_tokens,
            reasoning_tokens: self
                .completion_tokens_details
                .as_ref()
                .map_or(0, |d| d.reasoning_tokens),
            total_tokens: if self.total_tokens > 0 {
                self.total_tokens
            } else {
                self.prompt_tokens.saturating_add(self.completion_tokens)
            },
        }
    }
}

fn from_wire(wire: WireResponse<'_>) -> ModelResponse {
    let mut output = Vec::new();
    if let Some(message) = wire.choices.0.and_then(|c| c.message) {
        if let Some(reasoning) = message.reasoning_content.filter(|r| !r.is_empty()) {
            output.push(Arc::new(Item::Reasoning {
                text: reasoning.into_owned(),
            }));
        }
        let calls = message.tool_calls.unwrap_or_default();
        let refusal = message.refusal.filter(|r| !r.is_empty());
        // An empty answer without calls is still an answer (an empty final
        // output), not "nothing happened" — unless the model refused.
        let text = message
            .content
            .filter(|t| !t.is_empty() || (calls.is_empty() && refusal.is_none()));
        if let Some(text) = text {
            output.push(Arc::new(Item::assistant(text.into_owned())));
        }
        if let Some(content) = refusal {
            output.push(Arc::new(Item::Refusal {
                content: content.into_owned(),
            }));
        }
        for (n, call) in calls.into_iter().enumerate() {
            output.push(Arc::new(Item::ToolCall(ToolCall {
                call_id: call
                    .id
                    .filter(|id| !id.is_empty())
                    .map_or_else(|| format!("call_{n}"), Cow::into_owned),
                name: call.function.name.map(Cow::into_owned).unwrap_or_default(),
                arguments: call
                    .function
                    .arguments
                    .map(Cow::into_owned)
                    .unwrap_or_default(),
            })));
        }
    }
    ModelResponse {
        output,
        usage: wire.usage.map(|u| u.usage()).unwrap_or_default(),
        response_id: wire.id.filter(|id| !id.is_empty()).map(Cow::into_owned),
        model: wire
            .model
            .filter(|model| !model.is_empty())
            .map(Cow::into_owned),
        failovers: Vec::new(),
    }
}

/// Turns Chat Completions stream chunks into [`ModelStreamEvent`]s.
#[derive(Debug, Default)]
pub(super) struct ChunkDecoder {
    response_id: Option<String>,
    /// Provider index and id of each call, in order of appearance (our
    /// index is the position).
    calls: Vec<(usize, Option<String>)>,
    finished: bool,
    usage_seen: bool,
    /// Refusal text so far, sent as one item at the end.
    refusal: String,
}

impl ChunkDecoder {
    /// The last events: the refusal, if any, then completion.
    fn completion(&mut self, events: &mut Vec<ModelStreamEvent>) {
        if !self.refusal.is_empty() {
            let content = std::mem::take(&mut self.refusal);
            events.push(ModelStreamEvent::ItemDone(Item::Refusal { content }));
        }
        events.push(ModelStreamEvent::Completed {
            response_id: self.response_id.take(),
        });
    }
}

impl sse::Decoder for ChunkDecoder {
    fn decode(
        &mut self,
        _event: &str,
        data: &str,
        events: &mut Vec<ModelStreamEvent>,
    ) -> Result<(), ModelError> {
        if data.trim() == "[DONE]" {
            self.finished = true;
            self.completion(events);
            return Ok(());
        }
        let chunk: WireResponse<'_> = serde_json::from_str(data).map_err(|error| {
            ModelError::decode(format!("stream chunk: {error} in {}", short(data)))
        })?;
        if self.response_id.is_none() {
            self.response_id = chunk.id.filter(|id| !id.is_empty()).map(Cow::into_owned);
        }
        if let Some(choice) = chunk.choices.0 {
            if choice.finish_reason.is_some() {
                self.finished = true;
            }
            let Some(delta) = choice.delta.or(choice.message) else {
                return Ok(());
            };
            if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                events.push(ModelStreamEvent::TextDelta(text.into_owned()));
            }
            if let Some(refusal) = delta.refusal {
                self.refusal.push_str(&refusal);
            }
            for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
                let provider_index = call.index.unwrap_or(position);
                let id = call.id.filter(|id| !id.is_empty()).map(Cow::into_owned);
                // The same call continues while its index (and id, when the
                // server repeats it in every chunk, as llama.cpp does) stays
                // the same; a new index, or a new id under a reused index,
                // starts a new call.
                let known = self.calls.iter().rposition(|(i, known_id)| {
                    *i == provider_index && (id.is_none() || known_id.is_none() || *known_id == id)
                });
                let index = match known {
                    Some(index) => index,
                    None => {
                        self.calls.push((provider_index, id.clone()));
                        let index = self.calls.len() - 1;
                        events.push(ModelStreamEvent::ToolCallStarted {
                            index,
                            call_id: id.unwrap_or_else(|| format!("call_{index}")),
                            name: call.function.name.map(Cow::into_owned).unwrap_or_default(),
                        });
                        index
                    }
                };
                if let Some(arguments) = call.function.arguments.filter(|a| !a.is_empty()) {
                    events.push(ModelStreamEvent::ToolCallArgumentsDelta {
                        index,
                        delta: arguments.into_owned(),
                    });
                }
            }
        }
        if let Some(usage) = chunk.usage {
            if !self.usage_seen {
                self.usage_seen = true;
                events.push(ModelStreamEvent::Usage(usage.usage()));
            }
        }
        Ok(())
    }

    fn finish(&mut self, events: &mut Vec<ModelStreamEvent>) -> Result<(), ModelError> {
        // Some servers end with `finish_reason` and no `[DONE]`.
        if self.finished {
            self.completion(events);
            Ok(())
        } else {
            Err(ModelError::decode(
                "stream ended before the response completed",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunks_strings_are_borrowed_unless_escaped() {
        let chunk = r#"{"id":"chatcmpl-1","model":"m","choices":[{"delta":{"content":"a\"b","tool_calls":[{"id":"call_1","function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]}"#;
        let wire: WireResponse<'_> = serde_json::from_str(chunk).unwrap();
        assert!(matches!(wire.id, Some(Cow::Borrowed("chatcmpl-1"))));
        assert!(matches!(wire.model, Some(Cow::Borrowed("m"))));
        let choice = wire.choices.0.as_ref().unwrap();
        let delta = choice.delta.as_ref().unwrap();
        // An escape has to be unescaped into a copy.
        assert!(matches!(&delta.content, Some(Cow::Owned(text)) if text == "a\"b"));
        let call = &delta.tool_calls.as_ref().unwrap()[0];
        assert!(matches!(call.id, Some(Cow::Borrowed("call_1"))));
        assert!(matches!(call.function.arguments, Some(Cow::Borrowed("{}"))));
        assert!(choice.finish_reason.is_none());
    }

    #[test]
    fn only_the_first_choice_is_read_and_the_others_are_skipped() {
        let body = r#"{"choices":[{"message":{"content":"one"}},{"message":{"content":"two","tool_calls":[{"id":"c","function":{"name":"f"}}]}}]}"#;
        let response = decode_response(body.as_bytes()).unwrap();
        assert_eq!(response.output, vec![Arc::new(Item::assistant("one"))]);
        let no_choice = decode_response(br#"{"choices":[]}"#).unwrap_err();
        assert!(
            no_choice.to_string().contains("no `choices`"),
            "{no_choice}"
        );
        assert!(decode_response(br#"{"choices":[{"message":{"content":"a"}}, 7"#).is_err());
    }
}
