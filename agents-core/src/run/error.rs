use std::time::Duration;

use super::result::PartialRun;
use super::state::{PendingApproval, RunState};
use crate::context::BudgetLimit;
use crate::guardrail::GuardrailOutput;
use crate::model::ModelError;

/// Why a tool call produced no output. Its `Display` is the error message the
/// model receives.
///
/// Serializable (tagged by `kind`): a durable engine journals it as a tool
/// call's outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
    /// A person rejected the call, or a tool guardrail rejected its input or
    /// output; `message` is what the model is told.
    #[error("{message}")]
    Rejected {
        /// The tool.
        tool: String,
        /// The message for the model.
        message: String,
    },
    /// A tool-start hook or a policy denied the call.
    #[error("tool `{tool}` was not run: {message}")]
    Denied {
        /// The tool.
        tool: String,
        /// The hook's reason.
        message: String,
    },
    /// The tool's output was larger than
    /// [`RunConfig::max_tool_output_bytes`](crate::RunConfig::max_tool_output_bytes);
    /// it is not kept.
    #[error(
        "the output of tool `{tool}` ({bytes} bytes) is larger than the limit of {limit} bytes"
    )]
    OutputTooLarge {
        /// The tool.
        tool: String,
        /// The output's size, in bytes.
        bytes: usize,
        /// The limit, in bytes.
        limit: usize,
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

/// Which check refused a state given to
/// [`Runner::resume`](super::Runner::resume).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidStateKind {
    /// The seal does not verify: the state was changed, or sealed with
    /// another key.
    Seal,
    /// A state with pending calls, rules or answers has no seal, and the
    /// runner does not accept unsealed states.
    Unsealed,
    /// An answer names a call that is not pending, an "always" rule a tool
    /// no pending call is of, or a pending call is not in the paused turn.
    UnknownCall,
    /// The approval was asked longer ago than the runner allows.
    Expired,
    /// The run is resumed without the session it paused with, with another
    /// one, or with one when it paused without.
    Session,
    /// The state was resumed before, or its pending calls already ran.
    Replayed,
    /// The resume ledger failed.
    Ledger,
    /// A schema version this release does not read.
    Version,
    /// The agent graph does not fit: another starting agent, or a handoff
    /// path the agents do not have.
    Agents,
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
    /// The run paused: tool calls need a person's approval. Decide each one
    /// on the state ([`RunState::approve`], [`RunState::reject`]) and resume
    /// with [`Runner::resume`](super::Runner::resume); the state serializes
    /// to JSON for storage in between.
    #[error("run paused: {} tool call(s) need approval", state.pending.len())]
    ApprovalRequired {
        /// The paused run.
        state: Box<RunState>,
    },
    /// An input guardrail tripped.
    #[error("input guardrail `{guardrail}` tripped")]
    InputGuardrailTripwire {
        /// The guardrail's name.
        guardrail: String,
        /// What it reported.
        output: GuardrailOutput,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// An output guardrail tripped: the final output is withheld (it stays in
    /// the partial run's items, and out of any session).
    #[error("output guardrail `{guardrail}` tripped")]
    OutputGuardrailTripwire {
        /// The guardrail's name.
        guardrail: String,
        /// What it reported.
        output: GuardrailOutput,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// A tool guardrail tripped on a call or its output.
    #[error("tool guardrail `{guardrail}` tripped on call `{call_id}`")]
    ToolGuardrailTripwire {
        /// The guardrail's name.
        guardrail: String,
        /// The call.
        call_id: String,
        /// What it reported.
        info: serde_json::Value,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The session store failed to load or save; the items of the turn in
    /// flight are in the partial run.
    #[error("session store failed: {source}")]
    Session {
        /// What failed.
        #[source]
        source: crate::session::SessionError,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The model refused to answer an agent with structured output
    /// ([`Item::Refusal`](crate::Item::Refusal)); not retried. A handler
    /// ([`Run::on_refusal`](super::Run::on_refusal)) may give a fallback
    /// output instead.
    #[error("the model refused to answer for agent `{agent}`: {refusal}")]
    Refusal {
        /// The agent.
        agent: String,
        /// The model's explanation.
        refusal: String,
        /// The run so far (the refusal is its last item).
        partial: Box<PartialRun>,
    },
    /// The run's options contradict each other: a session with a
    /// server-managed conversation (`previous_response_id`,
    /// `conversation_id`), as the OpenAI Agents SDK refuses too. Nothing
    /// ran.
    #[error("invalid run options: {message}")]
    InvalidConfig {
        /// What contradicts what.
        message: String,
        /// The run (empty but for its input).
        partial: Box<PartialRun>,
    },
    /// A policy refused a model call (see [`crate::policy`]).
    #[error("a policy refused the model call of agent `{agent}`: {message}")]
    PolicyDenied {
        /// The agent whose model call it was.
        agent: String,
        /// The policy's message.
        message: String,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// A state given to [`Runner::resume`](super::Runner::resume) was
    /// refused before anything ran: its seal, its answers, its age, its
    /// session, a second resume, or a shape this release does not read (see
    /// [`RunState`](super::RunState)). No tool ran.
    #[error("cannot resume ({kind:?}): {message}")]
    InvalidState {
        /// Which check refused it.
        kind: InvalidStateKind,
        /// What does not fit.
        message: String,
        /// The state's run.
        partial: Box<PartialRun>,
    },
    /// A [`RunHandle`](super::RunHandle) interrupted the run: its model call
    /// or tool calls in flight were stopped, each with an
    /// [interrupted](crate::ToolOutput::interrupted) output. The partial
    /// run is consistent: continue it with new input
    /// ([`PartialRun::to_input_list`]).
    #[error("the run was interrupted")]
    Interrupted {
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The run exceeded its [`Budget`](crate::context::Budget): `limit` says
    /// which limit and by how much. Raise it, or look at the partial run
    /// for what was spent.
    #[error("budget exceeded: {limit}")]
    BudgetExceeded {
        /// The limit exceeded.
        limit: BudgetLimit,
        /// The run so far.
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
            RunError::ApprovalRequired { state } => &state.run,
            RunError::MaxTurnsExceeded { partial, .. }
            | RunError::Timeout { partial, .. }
            | RunError::Model { partial, .. }
            | RunError::Cancelled { partial }
            | RunError::OutputParse { partial, .. }
            | RunError::Tool { partial, .. }
            | RunError::InputGuardrailTripwire { partial, .. }
            | RunError::OutputGuardrailTripwire { partial, .. }
            | RunError::ToolGuardrailTripwire { partial, .. }
            | RunError::InvalidState { partial, .. }
            | RunError::PolicyDenied { partial, .. }
            | RunError::Refusal { partial, .. }
            | RunError::InvalidConfig { partial, .. }
            | RunError::Session { partial, .. }
            | RunError::BudgetExceeded { partial, .. }
            | RunError::Interrupted { partial }
            | RunError::OutputType { partial, .. } => partial,
        }
    }

    /// The tool calls waiting for approval (empty unless
    /// [`ApprovalRequired`](RunError::ApprovalRequired)).
    pub fn pending_approvals(&self) -> &[PendingApproval] {
        match self {
            RunError::ApprovalRequired { state } => &state.pending,
            _ => &[],
        }
    }

    /// The stopped run as a state to resume: the paused state for
    /// [`ApprovalRequired`](RunError::ApprovalRequired), the partial run
    /// otherwise (e.g. resume after max turns with a higher limit).
    pub fn into_state(self) -> RunState {
        match self {
            RunError::ApprovalRequired { state } => *state,
            other => RunState::from_partial(other.into_partial()),
        }
    }

    /// Takes the partial run out of the error.
    pub fn into_partial(self) -> PartialRun {
        match self {
            RunError::ApprovalRequired { state } => state.run,
            RunError::MaxTurnsExceeded { partial, .. }
            | RunError::Timeout { partial, .. }
            | RunError::Model { partial, .. }
            | RunError::Cancelled { partial }
            | RunError::OutputParse { partial, .. }
            | RunError::Tool { partial, .. }
            | RunError::InputGuardrailTripwire { partial, .. }
            | RunError::OutputGuardrailTripwire { partial, .. }
            | RunError::ToolGuardrailTripwire { partial, .. }
            | RunError::InvalidState { partial, .. }
            | RunError::PolicyDenied { partial, .. }
            | RunError::Refusal { partial, .. }
            | RunError::InvalidConfig { partial, .. }
            | RunError::Session { partial, .. }
            | RunError::BudgetExceeded { partial, .. }
            | RunError::Interrupted { partial }
            | RunError::OutputType { partial, .. } => *partial,
        }
    }
}
