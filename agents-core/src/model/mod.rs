//! The [`Model`] trait: one call to a language model.
//!
//! The runner talks to every model, real or mock, through this trait. Cross-
//! cutting behaviour (retries, timeouts, recording) is written as a wrapper
//! that implements `Model` around another `Model`.

mod error;
pub mod layers;
mod settings;
mod stream;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use error::{ModelError, ModelErrorKind};
pub use settings::{ModelSettings, ToolChoice};
pub use stream::{ModelStreamEvent, ResponseAssembler};

use crate::item::Item;
use crate::usage::Usage;

/// A boxed, `Send` future, the return type of object-safe async methods
/// (the `futures` crate's type, re-exported).
pub use futures::future::BoxFuture;
/// A boxed, `Send` stream (the `futures` crate's type, re-exported).
pub use futures::stream::BoxStream;

/// A language model the runner can call.
///
/// Object-safe, so a runner stores `Arc<dyn Model>`. Implement
/// [`call`](Model::call); [`stream`](Model::stream) has a default that adapts
/// the non-streaming call, so a model without native streaming still serves
/// streaming runs.
///
/// ```
/// use agents_core::model::{BoxFuture, Model, ModelError, ModelRequest, ModelResponse};
/// use agents_core::Item;
///
/// /// Answers every request with the last user message, reversed.
/// struct Reverse;
///
/// impl Model for Reverse {
///     fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
///         Box::pin(async move {
///             let text = request.input.iter().rev().find_map(|i| match &**i {
///                 Item::UserMessage { content } => Some(content.chars().rev().collect::<String>()),
///                 _ => None,
///             });
///             Ok(ModelResponse::new(vec![Item::assistant(text.unwrap_or_default())]))
///         })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "expected a type implementing `agents_core::model::Model`",
    note = "use `agents_testing::MockModel` for offline runs, or implement `Model::call`"
)]
pub trait Model: Send + Sync {
    /// Sends one request and waits for the whole response.
    ///
    /// # Errors
    /// A [`ModelError`] saying what failed: authentication, rate limit, a bad
    /// request, a server error, a timeout, an undecodable response.
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>>;

    /// Sends one request and yields the response as it is generated.
    ///
    /// The stream ends with [`ModelStreamEvent::Completed`] (or a whole
    /// [`ModelStreamEvent::Response`]); feeding every event to a
    /// [`ResponseAssembler`] rebuilds the same [`ModelResponse`] that
    /// [`call`](Model::call) returns. The default implementation makes the
    /// non-streaming call and sends its response as one
    /// [`ModelStreamEvent::Response`].
    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        let call = self.call(request);
        Box::pin(futures::stream::once(async move {
            call.await
                .map(|response| ModelStreamEvent::Response(Box::new(response)))
        }))
    }
}

impl<M: Model + ?Sized> Model for Arc<M> {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        (**self).call(request)
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        (**self).stream(request)
    }
}

impl<M: Model + ?Sized> Model for Box<M> {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        (**self).call(request)
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        (**self).stream(request)
    }
}

/// What the model is told about a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// The name the model calls the tool by (`^[a-zA-Z0-9_-]{1,64}$` for
    /// OpenAI).
    pub name: String,
    /// What the tool does and when to use it.
    pub description: String,
    /// JSON schema of the arguments object.
    pub parameters: serde_json::Value,
    /// Whether the provider should enforce the schema exactly (OpenAI strict
    /// function calling).
    pub strict: bool,
}

/// Everything one model call needs.
///
/// Built by the runner once per turn. Items, tool definitions and the output
/// schema are shared (`Arc`) with the run, so building and cloning a request
/// costs one reference count per history item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelRequest {
    /// Name of the agent making the call (for logs, mocks and recordings; not
    /// sent to the provider).
    pub agent: Arc<str>,
    /// The model the agent asks for (e.g. `"gpt-4o-mini"`); `None` leaves the
    /// choice to the model client's default.
    pub model: Option<Arc<str>>,
    /// The agent's instructions, sent as the system/developer message.
    pub instructions: Option<Arc<str>>,
    /// The conversation so far, oldest first.
    pub input: Vec<Arc<Item>>,
    /// Tools the model may call: the agent's function tools, then its
    /// handoffs (`transfer_to_<name>`).
    pub tools: Arc<[ToolDefinition]>,
    /// JSON schema the final answer must follow, for agents with structured
    /// output.
    pub output_schema: Option<Arc<OutputSchema>>,
    /// Sampling and tool-choice settings, already merged (run over agent).
    pub settings: ModelSettings,
    /// A server-managed conversation (the Responses API): the response this
    /// request continues. `input` then holds only the items new since it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// A server-managed conversation (the Responses API's `conversation`):
    /// the server keeps its items; `input` holds only new ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
}

impl ModelRequest {
    /// A request for `agent` with the given input and nothing else.
    pub fn new(agent: impl Into<Arc<str>>, input: Vec<Arc<Item>>) -> Self {
        ModelRequest {
            agent: agent.into(),
            model: None,
            instructions: None,
            input,
            tools: Arc::from(Vec::new()),
            output_schema: None,
            settings: ModelSettings::default(),
            previous_response_id: None,
            conversation_id: None,
        }
    }

    /// Sets the instructions.
    pub fn with_instructions(mut self, instructions: impl Into<Arc<str>>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the tool definitions.
    pub fn with_tools(mut self, tools: impl Into<Arc<[ToolDefinition]>>) -> Self {
        self.tools = tools.into();
        self
    }

    /// Sets the output schema.
    pub fn with_output_schema(mut self, schema: OutputSchema) -> Self {
        self.output_schema = Some(Arc::new(schema));
        self
    }

    /// Sets the model settings.
    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.settings = settings;
        self
    }
}

/// The JSON schema of an agent's structured output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// A name for the schema (OpenAI requires one, `^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// The JSON schema document.
    pub schema: serde_json::Value,
    /// Whether the provider should enforce the schema exactly (OpenAI strict
    /// structured outputs).
    pub strict: bool,
}

/// What one model call produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelResponse {
    /// Output items in the order the model produced them: messages, tool
    /// calls, reasoning.
    pub output: Vec<Arc<Item>>,
    /// Token usage of this call.
    pub usage: Usage,
    /// The provider's id for the response, when it gives one.
    pub response_id: Option<String>,
    /// Which model answered: the name the provider reported (Chat
    /// Completions' `model`), or the name a [`Fallback`](layers::Fallback)
    /// chain gave the model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The models of a [`Fallback`](layers::Fallback) chain that failed
    /// before this one answered, in order; empty when the first answered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failovers: Vec<Failover>,
}

/// A model of a [`Fallback`](layers::Fallback) chain that failed, so the
/// next one was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Failover {
    /// The chain's name for the model that failed.
    pub model: String,
    /// The kind of its error.
    pub kind: ModelErrorKind,
    /// Its error, as text.
    pub error: String,
}

impl Failover {
    /// The failover of `model` with `error`.
    pub fn new(model: impl Into<String>, error: &ModelError) -> Self {
        Failover {
            model: model.into(),
            kind: error.kind(),
            error: error.to_string(),
        }
    }
}

impl ModelResponse {
    /// A response with the given output items, zero usage and no id.
    pub fn new(output: Vec<Item>) -> Self {
        ModelResponse {
            output: output.into_iter().map(Arc::new).collect(),
            usage: Usage::default(),
            response_id: None,
            model: None,
            failovers: Vec::new(),
        }
    }

    /// Sets the usage.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// Sets the response id.
    pub fn with_response_id(mut self, id: impl Into<String>) -> Self {
        self.response_id = Some(id.into());
        self
    }

    /// Sets the name of the model that answered.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}
