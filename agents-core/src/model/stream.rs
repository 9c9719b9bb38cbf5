use std::sync::Arc;

use super::{Failover, ModelError, ModelResponse};
use crate::item::{Item, ToolCall};
use crate::usage::Usage;

/// One event of a streamed model call.
///
/// A stream is a sequence of deltas and complete items ending with
/// [`Completed`](ModelStreamEvent::Completed). A producer sends each output
/// item either as deltas (text, tool call) or as one
/// [`ItemDone`](ModelStreamEvent::ItemDone), never both. A model that does
/// not stream sends its whole answer as one
/// [`Response`](ModelStreamEvent::Response) instead, which ends the stream
/// as `Completed` does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelStreamEvent {
    /// A piece of assistant message text. Consecutive deltas form one message.
    TextDelta(String),
    /// A tool call begins. `index` identifies it among this response's calls.
    ToolCallStarted {
        /// Position of the call in the response (provider numbering).
        index: usize,
        /// The call's id.
        call_id: String,
        /// The tool's name.
        name: String,
    },
    /// A piece of a tool call's JSON arguments.
    ToolCallArgumentsDelta {
        /// The `index` given by [`ToolCallStarted`](ModelStreamEvent::ToolCallStarted).
        index: usize,
        /// The next characters of the arguments.
        delta: String,
    },
    /// A complete output item that was not streamed as deltas.
    ItemDone(Item),
    /// Token usage of the call.
    Usage(Usage),
    /// Which model is answering, sent before its first output by a model
    /// that knows (a [`Fallback`](super::layers::Fallback) chain).
    ServedBy {
        /// The name of the model answering.
        model: String,
        /// The models that failed before it (see
        /// [`ModelResponse::failovers`]).
        failovers: Vec<Failover>,
    },
    /// The response is complete. Always the last event.
    Completed {
        /// The provider's response id, if any.
        response_id: Option<String>,
    },
    /// The whole response at once, from a model that does not stream (the
    /// default [`Model::stream`](super::Model::stream)): its items, usage
    /// and id. It ends the stream as [`Completed`](ModelStreamEvent::Completed)
    /// does; a [`ServedBy`](ModelStreamEvent::ServedBy) may come before it.
    /// A streamed run reports its text and tool calls as the deltas a
    /// streaming model would have sent (one per message, one per call's
    /// arguments). Boxed: a response is larger than the other events.
    Response(Box<ModelResponse>),
}

impl ModelStreamEvent {
    /// Whether this event ends its stream: [`Completed`](Self::Completed)
    /// or a whole [`Response`](Self::Response).
    pub fn ends_stream(&self) -> bool {
        matches!(self, Self::Completed { .. } | Self::Response(_))
    }

    /// The token usage this event reports: a [`Usage`](Self::Usage)'s, or a
    /// whole [`Response`](Self::Response)'s.
    pub fn usage(&self) -> Option<Usage> {
        match self {
            Self::Usage(usage) => Some(*usage),
            Self::Response(response) => Some(response.usage),
            _ => None,
        }
    }

    /// The events that stream `response`: message text as one delta per
    /// message, tool calls as a start and one arguments delta, other items as
    /// [`ItemDone`](ModelStreamEvent::ItemDone), then usage and completion.
    pub fn from_response(response: ModelResponse) -> Vec<ModelStreamEvent> {
        let mut events = Vec::with_capacity(response.output.len() * 2 + 3);
        if response.model.is_some() || !response.failovers.is_empty() {
            events.push(ModelStreamEvent::ServedBy {
                model: response.model.unwrap_or_default(),
                failovers: response.failovers,
            });
        }
        let mut index = 0;
        let mut last_was_text = false;
        for item in response.output {
            // Moved out when this response holds the only reference.
            match Arc::unwrap_or_clone(item) {
                // Two adjacent messages would merge into one; keep them apart.
                Item::AssistantMessage { content } if !last_was_text => {
                    events.push(ModelStreamEvent::TextDelta(content));
                    last_was_text = true;
                    continue;
                }
                Item::ToolCall(call) => {
                    events.push(ModelStreamEvent::ToolCallStarted {
                        index,
                        call_id: call.call_id,
                        name: call.name,
                    });
                    events.push(ModelStreamEvent::ToolCallArgumentsDelta {
                        index,
                        delta: call.arguments,
                    });
                    index += 1;
                }
                other => events.push(ModelStreamEvent::ItemDone(other)),
            }
            last_was_text = false;
        }
        events.push(ModelStreamEvent::Usage(response.usage));
        events.push(ModelStreamEvent::Completed {
            response_id: response.response_id,
        });
        events
    }
}

enum Slot {
    Text(String),
    Call {
        index: usize,
        call_id: String,
        name: String,
        arguments: String,
    },
    Done(Item),
}

/// Rebuilds a [`ModelResponse`] from [`ModelStreamEvent`]s.
///
/// Items keep the order in which they first appeared in the stream.
#[derive(Default)]
pub struct ResponseAssembler {
    slots: Vec<Slot>,
    usage: Usage,
    completed: Option<Option<String>>,
    model: Option<String>,
    failovers: Vec<Failover>,
    /// The items of a whole [`Response`](ModelStreamEvent::Response) that
    /// came before any other item.
    whole: Option<Vec<Arc<Item>>>,
}

impl std::fmt::Debug for ResponseAssembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseAssembler")
            .field("items", &self.slots.len())
            .field("completed", &self.completed.is_some())
            .finish()
    }
}

impl ResponseAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one event.
    ///
    /// # Errors
    /// [`ModelError::Decode`] for an event after `Completed` (or a whole
    /// `Response`), or an arguments delta for a tool call that never
    /// started.
    pub fn push(&mut self, event: ModelStreamEvent) -> Result<(), ModelError> {
        if self.completed.is_some() {
            return Err(ModelError::decode("stream event after completion"));
        }
        match event {
            ModelStreamEvent::TextDelta(delta) => match self.slots.last_mut() {
                Some(Slot::Text(text)) => text.push_str(&delta),
                _ => self.slots.push(Slot::Text(delta)),
            },
            ModelStreamEvent::ToolCallStarted {
                index,
                call_id,
                name,
            } => self.slots.push(Slot::Call {
                index,
                call_id,
                name,
                arguments: String::new(),
            }),
            ModelStreamEvent::ToolCallArgumentsDelta { index, delta } => {
                let slot = self.slots.iter_mut().rev().find_map(|slot| match slot {
                    Slot::Call {
                        index: i,
                        arguments,
                        ..
                    } if *i == index => Some(arguments),
                    _ => None,
                });
                match slot {
                    Some(arguments) => arguments.push_str(&delta),
                    None => {
                        return Err(ModelError::decode(format!(
                            "arguments delta for tool call #{index}, which never started"
                        )));
                    }
                }
            }
            ModelStreamEvent::ItemDone(item) => self.slots.push(Slot::Done(item)),
            ModelStreamEvent::Usage(usage) => self.usage += usage,
            ModelStreamEvent::ServedBy { model, failovers } => {
                self.served_by(Some(model), failovers);
            }
            ModelStreamEvent::Completed { response_id } => self.completed = Some(response_id),
            ModelStreamEvent::Response(response) => {
                let ModelResponse {
                    output,
                    usage,
                    response_id,
                    model,
                    failovers,
                } = *response;
                if self.slots.is_empty() {
                    self.whole = Some(output);
                } else {
                    self.slots.extend(
                        output
                            .into_iter()
                            .map(|item| Slot::Done(Arc::unwrap_or_clone(item))),
                    );
                }
                self.usage += usage;
                if model.is_some() || !failovers.is_empty() {
                    self.served_by(model, failovers);
                }
                self.completed = Some(response_id);
            }
        }
        Ok(())
    }

    /// Which model answered and the failovers before it: the latest
    /// report names them (a `ServedBy`, or a whole `Response` that says).
    fn served_by(&mut self, model: Option<String>, failovers: Vec<Failover>) {
        self.model = model.filter(|model| !model.is_empty());
        self.failovers = failovers;
    }

    /// The assembled response.
    ///
    /// # Errors
    /// [`ModelError::Decode`] when the stream ended without `Completed` (a
    /// truncated stream): a partial item is never returned as complete.
    pub fn finish(self) -> Result<ModelResponse, ModelError> {
        let Some(response_id) = self.completed else {
            return Err(ModelError::decode(
                "stream ended before the response completed",
            ));
        };
        if let Some(output) = self.whole {
            return Ok(ModelResponse {
                output,
                usage: self.usage,
                response_id,
                model: self.model,
                failovers: self.failovers,
            });
        }
        let output = self
            .slots
            .into_iter()
            .map(|slot| {
                Arc::new(match slot {
                    Slot::Text(content) => Item::AssistantMessage { content },
                    Slot::Call {
                        call_id,
                        name,
                        arguments,
                        ..
                    } => Item::ToolCall(ToolCall {
                        call_id,
                        name,
                        arguments,
                    }),
                    Slot::Done(item) => item,
                })
            })
            .collect();
        Ok(ModelResponse {
            output,
            usage: self.usage,
            response_id,
            model: self.model,
            failovers: self.failovers,
        })
    }
}
