use std::time::Duration;

use super::result::PartialRun;
use crate::model::ModelError;

/// Why a tool call produced no output. Its `Display` is the error message the
/// model receives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolFailure {
    /// The model called a tool the agent does not have.
    #[error("unknown tool `{name}`; available tools: {available}")]
    UnknownTool {
        /// The name the model used.
        name: String,
        /// The agent's tool names, comma-separated.
        available: String,
    },
    /// The arguments did not decode.
    #[error("invalid arguments for tool `{tool}`: {message}")]
    InvalidArguments {
        /// The tool.
        tool: String,
        /// Field path and expected type, or the JSON syntax error.
        message: String,
    },
    /// The tool returned an error.
    #[error("tool `{tool}` failed: {message}")]
    Failed {
        /// The tool.
        tool: String,
        /// The tool's error message.
        message: String,
    },
    /// The tool panicked.
    #[error("tool `{tool}` panicked: {message}")]
    Panicked {
        /// The tool.
        tool: String,
        /// The panic message.
        message: String,
    },
    /// The tool ran longer than the per-tool timeout.
    #[error("tool `{tool}` timed out after {timeout:?}")]
    TimedOut {
        /// The tool.
        tool: String,
        /// The limit.
        timeout: Duration,
    },
}

/// Why a run ended without a final output.
///
/// Every variant carries the [`PartialRun`]: the items, usage and last agent
/// up to the point the run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The run used its turn limit without a final output. Raise
    /// `max_turns`, or look at the partial run for a tool loop.
    #[error("max turns ({max_turns}) exceeded")]
    MaxTurnsExceeded {
        /// The limit.
        max_turns: u32,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The run took longer than its wall-clock timeout.
    #[error("run timed out after {timeout:?}")]
    Timeout {
        /// The limit.
        timeout: Duration,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// A model call failed or exceeded the per-model-call timeout
    /// ([`ModelError::Timeout`]).
    #[error("model call failed for agent `{agent}`: {source}")]
    Model {
        /// The agent whose call failed.
        agent: String,
        /// What failed.
        #[source]
        source: ModelError,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The run was cancelled through its cancellation token.
    #[error("run cancelled")]
    Cancelled {
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The final answer did not parse into the agent's output type.
    #[error("agent `{agent}` produced output that does not parse as `{output_type}`: {source}")]
    OutputParse {
        /// The agent.
        agent: String,
        /// The expected Rust type.
        output_type: &'static str,
        /// The text the model produced.
        output: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
        /// The run so far, including the unparsable message.
        partial: Box<PartialRun>,
    },
    /// A tool call failed and the run's policy is
    /// [`ToolErrorPolicy::FailRun`](super::ToolErrorPolicy::FailRun).
    #[error("agent `{agent}`: {failure}")]
    Tool {
        /// The agent.
        agent: String,
        /// The call's id.
        call_id: String,
        /// What failed.
        failure: ToolFailure,
        /// The run so far, including the error output.
        partial: Box<PartialRun>,
    },
    /// The last agent's output type does not convert into the run's output
    /// type. Cannot happen with agents built through the public API; reported
    /// instead of panicking.
    #[error("agent `{agent}` produced a `{produced}`, which the run cannot return")]
    OutputType {
        /// The agent.
        agent: String,
        /// The agent's output type.
        produced: &'static str,
        /// The run so far.
        partial: Box<PartialRun>,
    },
}

impl RunError {
    /// What the run had produced when it stopped.
    pub fn partial(&self) -> &PartialRun {
        match self {
            RunError::MaxTurnsExceeded { partial, .. }
            | RunError::Timeout { partial, .. }
            | RunError::Model { partial, .. }
            | RunError::Cancelled { partial }
            | RunError::OutputParse { partial, .. }
            | RunError::Tool { partial, .. }
            | RunError::OutputType { partial, .. } => partial,
        }
    }

    /// Takes the partial run out of the error.
    pub fn into_partial(self) -> PartialRun {
        match self {
            RunError::MaxTurnsExceeded { partial, .. }
            | RunError::Timeout { partial, .. }
            | RunError::Model { partial, .. }
            | RunError::Cancelled { partial }
            | RunError::OutputParse { partial, .. }
            | RunError::Tool { partial, .. }
            | RunError::OutputType { partial, .. } => *partial,
        }
    }
}
