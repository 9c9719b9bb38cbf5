//! What crosses the wire between a client, the workflow and its
//! activities: every value here is journaled by Temporal as JSON.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::item::{Item, ToolCall, ToolOutput};
use crate::run::{PendingApproval, RunStatus, ToolFailure};

/// How a durable run starts: the workflow's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartRun {
    /// The starting agent's name, as registered with
    /// [`DurableAgents::agent`](super::DurableAgents::agent).
    pub agent: String,
    /// The user's message.
    pub input: String,
    /// What the context factory builds the run's context from (see
    /// [`ContextSeed`]); `null` when the context needs nothing.
    pub seed: serde_json::Value,
}

impl StartRun {
    /// A run of `agent` on `input`, with a `null` seed.
    pub fn new(agent: impl Into<String>, input: impl Into<String>) -> Self {
        StartRun {
            agent: agent.into(),
            input: input.into(),
            seed: serde_json::Value::Null,
        }
    }

    /// Sets the seed the context factory receives.
    pub fn seed(mut self, seed: serde_json::Value) -> Self {
        self.seed = seed;
        self
    }
}

/// What a context factory builds a run's context from. A context is not
/// serializable, so it is built where it is needed: in the workflow (for
/// instructions, guardrails and rules, which run in the loop) and in each
/// tool activity (for the tool). The factory must be deterministic: the
/// same seed gives a context that behaves the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContextSeed {
    /// The durable run's id (its workflow id).
    pub run_id: String,
    /// The seed given at the start ([`StartRun::seed`]).
    pub seed: serde_json::Value,
    /// In a tool activity: the call being made; `None` in the workflow.
    pub call: Option<CallKey>,
}

/// Which tool call a context is built for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallKey {
    /// The turn the call was made in, from 1.
    pub turn: u32,
    /// The model's id for the call.
    pub call_id: String,
    /// `run_id/turn/call_id`: the same on every attempt of this call and
    /// on no other call. A tool with an effect that must happen once
    /// (a payment, an e-mail) passes it to the system it calls as an
    /// idempotency key: an activity may run again after a worker crash.
    pub idempotency_key: String,
}

impl CallKey {
    pub(crate) fn new(run_id: &str, turn: u32, call_id: &str) -> Self {
        CallKey {
            turn,
            call_id: call_id.to_owned(),
            idempotency_key: format!("{run_id}/{turn}/{call_id}"),
        }
    }
}

/// The input of the tool-call activity (`agents.tool_call`), as
/// journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallInput {
    /// How the run started (the context factory's seed is in it).
    pub start: StartRun,
    /// The durable run's id.
    pub run_id: String,
    /// The agent whose tool it is.
    pub agent: String,
    /// The turn the model made the call in, from 1.
    pub turn: u32,
    /// The call as the model made it.
    pub call: ToolCall,
    /// The per-tool time limit ([`RunConfig::tool_timeout`](crate::RunConfig::tool_timeout)).
    pub timeout: Duration,
}

/// The output of the tool-call activity, as journaled: a tool that fails
/// is an outcome (the model is told), not an activity failure to retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolOutcome {
    /// The tool's output.
    Output {
        /// The output, as the model receives it.
        output: String,
    },
    /// Why the call produced no output.
    Failure {
        /// The failure.
        failure: ToolFailure,
    },
}

/// A person's answer to a pending call of a durable run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Decision {
    /// The pending call's id.
    pub call_id: String,
    /// Whether the call may run.
    pub approve: bool,
    /// What the model is told of a rejection.
    pub message: Option<String>,
}

impl Decision {
    /// Approves `call_id`.
    pub fn approve(call_id: impl Into<String>) -> Self {
        Decision {
            call_id: call_id.into(),
            approve: true,
            message: None,
        }
    }

    /// Rejects `call_id`; the model is told `message`.
    pub fn reject(call_id: impl Into<String>, message: impl Into<String>) -> Self {
        Decision {
            call_id: call_id.into(),
            approve: false,
            message: Some(message.into()),
        }
    }
}

/// Something that happened in a durable run, as a client reads it
/// ([`DurableRun::events`](super::DurableRun::events)). Streamed text is
/// not journaled: a message is one [`Item`](DurableEvent::Item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DurableEvent {
    /// A turn (one model call) starts.
    TurnStarted {
        /// The agent making the call.
        agent: String,
        /// The turn, from 1.
        turn: u32,
    },
    /// An item of a model response: a message, a tool or handoff call.
    Item {
        /// The agent whose model produced it.
        agent: String,
        /// The item.
        item: Item,
    },
    /// A tool call's output (or error output).
    ToolOutput {
        /// The agent.
        agent: String,
        /// The output.
        output: ToolOutput,
    },
    /// The conversation is now with another agent.
    AgentSwitched {
        /// The previous agent.
        from: String,
        /// The new agent.
        to: String,
    },
    /// The run waits for a person's decision on these calls.
    WaitingForApproval {
        /// The calls.
        pending: Vec<PendingApproval>,
    },
    /// A pending call was decided (by a person, or by the approval
    /// timeout: then rejected).
    Decided {
        /// The call.
        call_id: String,
        /// Whether it may run.
        approved: bool,
    },
}

/// Where a durable run stands ([`DurableRun::status`](super::DurableRun::status)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DurableStatus {
    /// `Running`, `WaitingForApproval`, or how it ended.
    pub status: RunStatus,
    /// Turns taken so far (over the whole run, across approvals).
    pub turns: u32,
    /// The calls waiting for a decision, with the decisions not yet
    /// applied taken out.
    pub pending: Vec<PendingApproval>,
    /// How many events the run has recorded.
    pub events: usize,
}

/// How a durable run ended: the workflow's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DurableOutcome {
    /// `Completed`, `Degraded`, `Failed`, `Cancelled` (or `Interrupted`).
    pub status: RunStatus,
    /// The final output as JSON (the agent's output type, serialized).
    pub output: Option<serde_json::Value>,
    /// The error's text, when it failed.
    pub error: Option<String>,
    /// The agent that answered last.
    pub last_agent: Option<String>,
    /// Turns taken.
    pub turns: u32,
    /// Every tool call executed, in order: name and whether it succeeded.
    pub tool_calls: Vec<(String, bool)>,
}
