//! What a long-lived agent is doing, and what it tells its subscribers.

use std::sync::Arc;

use crate::run::{PendingApproval, RunEvent, RunStatus};

/// Where a long-lived agent stands ([`AgentHandle::state`](super::AgentHandle::state)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentState {
    /// Waiting for input.
    Idle,
    /// Answering a message: calling the model.
    Processing,
    /// Answering a message: a tool is running.
    ExecutingTool {
        /// The tool's name.
        name: String,
        /// The call's id.
        call_id: String,
    },
    /// The last message's run paused for a person's approval; the agent
    /// takes the next input meanwhile (resume the state to go on).
    WaitingForApproval {
        /// The calls waiting: tool, arguments and the id that
        /// [`approve`](super::AgentHandle::approve) takes.
        pending: Vec<PendingApproval>,
    },
    /// A tool of its run waits for the answer of its sub-agent `id`
    /// ([`AgentHandle::ask`](super::AgentHandle::ask) on a child).
    WaitingForSubAgent {
        /// The sub-agent's id.
        id: String,
    },
    /// Shut down: it takes no more input.
    Done,
    /// Its task failed (a panic in it); it takes no more input.
    Failed {
        /// What happened.
        error: String,
    },
}

/// What a long-lived agent's subscribers receive
/// ([`AgentHandle::subscribe`](super::AgentHandle::subscribe)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AgentEvent {
    /// The state changed.
    State(AgentState),
    /// An event of the run answering the current message.
    Run(RunEvent),
    /// A message's run ended.
    Answered {
        /// How it ended.
        status: RunStatus,
        /// The final output as text (`Display` of the output), when the run
        /// produced one.
        output: Option<Arc<str>>,
        /// The error's text, when it failed.
        error: Option<Arc<str>>,
    },
}

/// How a message was answered ([`AgentHandle::ask`](super::AgentHandle::ask)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// How the message's run ended.
    pub status: RunStatus,
    /// The final output as text, when the run produced one.
    pub output: Option<Arc<str>>,
    /// The error's text, when it failed.
    pub error: Option<Arc<str>>,
}
