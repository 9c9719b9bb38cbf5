//! Conversation items: what the user, the model and the tools said.
//!
//! Items are the unit of a conversation. A run shares them by [`Arc`]: the
//! history given to the model on each turn, the run's new items and the raw
//! model responses all point at the same allocations, so a turn never
//! deep-copies the conversation.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One entry of a conversation.
///
/// Serialized with an internal `type` tag in `snake_case`
/// (`{"type":"user_message","content":"hi"}`), the shape stored by sessions
/// and recordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Item {
    /// A message from the user.
    UserMessage {
        /// The message text.
        content: String,
    },
    /// A text message from the model.
    AssistantMessage {
        /// The message text. For an agent with structured output this is the
        /// JSON document the model produced.
        content: String,
    },
    /// The model refused to answer (OpenAI's `refusal`); `content` is its
    /// explanation. For an agent with structured output a refusal ends the
    /// run (`RunError::Refusal`, in `agents_core::run`); for a text agent
    /// it is the final output.
    Refusal {
        /// The model's explanation.
        content: String,
    },
    /// The model asked to call a function tool.
    ToolCall(ToolCall),
    /// The output of a function tool call, sent back to the model.
    ToolOutput(ToolOutput),
    /// The model asked to hand the conversation to another agent. Same wire
    /// shape as a tool call (`transfer_to_<snake_case_name>`).
    HandoffCall(ToolCall),
    /// The runner's answer to a handoff call.
    HandoffOutput(HandoffOutput),
    /// Reasoning text or a reasoning summary, for models that expose it.
    Reasoning {
        /// The reasoning text.
        text: String,
    },
    /// A summary standing in for earlier items (session compaction,
    /// `agents_core::session::compact`); providers send it as a
    /// system/developer message.
    Summary {
        /// The summary.
        text: String,
        /// How many items it replaced.
        replaced_items: usize,
    },
}

impl Item {
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Item::UserMessage {
            content: content.into(),
        }
    }

    /// An assistant (model) text message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Item::AssistantMessage {
            content: content.into(),
        }
    }

    /// A function tool call with raw JSON `arguments`.
    pub fn tool_call(
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Item::ToolCall(ToolCall {
            call_id: call_id.into(),
            name: name.into(),
            arguments: arguments.into(),
        })
    }

    /// A successful tool output for `call_id`.
    pub fn tool_output(call_id: impl Into<String>, output: impl Into<String>) -> Self {
        Item::ToolOutput(ToolOutput {
            call_id: call_id.into(),
            output: output.into(),
            is_error: false,
            interrupted: false,
        })
    }

    /// The `call_id` of a tool or handoff call or output; `None` for messages
    /// and reasoning.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            Item::ToolCall(c) | Item::HandoffCall(c) => Some(&c.call_id),
            Item::ToolOutput(o) => Some(&o.call_id),
            Item::HandoffOutput(o) => Some(&o.call_id),
            _ => None,
        }
    }

    /// The text of a user or assistant message.
    pub fn message_text(&self) -> Option<&str> {
        match self {
            Item::UserMessage { content } | Item::AssistantMessage { content } => Some(content),
            _ => None,
        }
    }
}

/// A call the model asked for: a function tool or a handoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The id the model gave the call; its output must carry the same id.
    pub call_id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as the model wrote them: a JSON document, unparsed and
    /// possibly malformed.
    pub arguments: String,
}

/// The output of a function tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolOutput {
    /// The `call_id` of the [`ToolCall`] this answers.
    pub call_id: String,
    /// The text sent to the model: a string output as is, anything else as
    /// JSON, or an error message.
    pub output: String,
    /// Whether `output` is an error message (unknown tool, bad arguments, a
    /// failing, panicking or timed-out tool) rather than the tool's result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
    /// Whether the runner wrote this output because the run stopped before
    /// the call finished (cancelled, interrupted, timed out, out of
    /// budget): every call then still has an output, so the conversation
    /// can be continued (OpenAI's API rejects a call without one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl ToolOutput {
    /// The output of a call the run stopped before it finished: an error
    /// output saying so, marked [`interrupted`](Self::interrupted).
    pub fn interrupted(call_id: impl Into<String>) -> Self {
        ToolOutput {
            call_id: call_id.into(),
            output: INTERRUPTED.to_owned(),
            is_error: true,
            interrupted: true,
        }
    }
}

/// A [`ToolOutput`] as a run keeps it: a handle on the run's
/// [`Item::ToolOutput`], shared rather than copied (a streamed run's
/// `RunEvent::ToolOutput` and the run's items point at the same
/// allocation). Derefs to the [`ToolOutput`];
/// [`item`](Self::item) is the item itself.
///
/// ```
/// use std::sync::Arc;
/// use agents_core::{Item, SharedToolOutput, ToolOutput};
///
/// let item = Arc::new(Item::ToolOutput(ToolOutput {
///     call_id: "c1".into(),
///     output: "paid".into(),
///     is_error: false,
///     interrupted: false,
/// }));
/// let shared = SharedToolOutput::new(Arc::clone(&item)).unwrap();
/// assert_eq!(shared.output, "paid");
/// let output: &ToolOutput = shared.as_ref();
/// assert_eq!(output.call_id, "c1");
/// assert!(Arc::ptr_eq(shared.item(), &item));
///
/// let message = Arc::new(Item::UserMessage { content: "hi".into() });
/// assert!(SharedToolOutput::new(message).is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SharedToolOutput(Arc<Item>);

impl SharedToolOutput {
    /// The output `item` holds, shared; `None` when `item` is not an
    /// [`Item::ToolOutput`].
    pub fn new(item: Arc<Item>) -> Option<Self> {
        matches!(*item, Item::ToolOutput(_)).then_some(SharedToolOutput(item))
    }

    /// The [`Item::ToolOutput`] this output is.
    pub fn item(&self) -> &Arc<Item> {
        &self.0
    }

    /// The [`Item::ToolOutput`] this output is, taken.
    pub fn into_item(self) -> Arc<Item> {
        self.0
    }
}

impl From<ToolOutput> for SharedToolOutput {
    fn from(output: ToolOutput) -> Self {
        SharedToolOutput(Arc::new(Item::ToolOutput(output)))
    }
}

impl std::ops::Deref for SharedToolOutput {
    type Target = ToolOutput;

    fn deref(&self) -> &ToolOutput {
        match &*self.0 {
            Item::ToolOutput(output) => output,
            _ => unreachable!("SharedToolOutput::new admits tool outputs only"),
        }
    }
}

impl AsRef<ToolOutput> for SharedToolOutput {
    fn as_ref(&self) -> &ToolOutput {
        self
    }
}

impl std::fmt::Debug for SharedToolOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ToolOutput::fmt(self, f)
    }
}

/// The text of a call the run stopped before it finished.
pub const INTERRUPTED: &str = "error: interrupted: the run stopped before this call finished";

/// The runner's answer to a handoff call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffOutput {
    /// The `call_id` of the handoff call this answers.
    pub call_id: String,
    /// The agent that asked for the handoff.
    pub from_agent: String,
    /// The agent the conversation was handed to, or `None` when the handoff
    /// was refused (another handoff in the same response won).
    pub to_agent: Option<String>,
    /// The text sent to the model, e.g. `{"assistant":"Billing"}`.
    pub output: String,
}

/// An item produced during a run, with the agent that was active when it was
/// produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunItem {
    /// Name of the agent that was active.
    pub agent: Arc<str>,
    /// The item, shared with the run's history.
    pub item: Arc<Item>,
}
