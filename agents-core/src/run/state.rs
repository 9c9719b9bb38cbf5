//! Resumable run state: a paused or stopped run as a serializable value.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::result::PartialRun;
use crate::item::Item;

/// The version of [`RunState`]'s JSON shape this crate writes and reads.
///
/// Version 2 (this release): the fields of [`PartialRun`] flattened at the
/// top level (`run_id`, `starting_agent`, `input`, `history`, `new_items`,
/// `last_agent`, `handoff_path`, `usage`, `usage_by_agent` (optional),
/// `raw_responses`, `turns`, `tool_executions` and `guardrail_results`
/// (both optional)), then `schema_version`, `pending_turn`,
/// `pending`, `rules`, `state_id`, `paused_at_ms`, `session_id`, `seal`
/// (all sealed), and `decisions` and `always` (the answers, not sealed).
/// Version 1 (no seal, no `rules`, `state_id`, `paused_at_ms`,
/// `session_id`) is read as an unsealed state. A state with a higher
/// version is refused on resume
/// ([`RunError::InvalidState`](super::RunError::InvalidState)).
pub const RUN_STATE_SCHEMA_VERSION: u32 = 2;

/// A person's decision on a tool call that needs approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run the tool.
    Approve,
    /// Do not run it; the model receives `message` as the tool output.
    Reject {
        /// What the model is told.
        message: String,
    },
}

/// A tool call waiting for a person's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The agent that made the call.
    pub agent: String,
    /// The tool.
    pub tool: String,
    /// The arguments the model wrote (raw JSON).
    pub arguments: String,
    /// The call's id: what [`RunState::approve`] and [`RunState::reject`]
    /// take.
    pub call_id: String,
}

/// Why an answer to a paused run was refused at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// No pending call has this id: only calls the model made, shown in
    /// [`RunState::pending`], can be decided.
    #[error("no pending call has the id `{call_id}`; pending: {pending}")]
    UnknownCall {
        /// The id given.
        call_id: String,
        /// The pending calls' ids, comma-separated.
        pending: String,
    },
    /// No pending call is of this tool: an "always" rule is given for a tool
    /// the person was asked about.
    #[error("no pending call is of the tool `{tool}`; pending tools: {pending}")]
    ToolNotPending {
        /// The tool given.
        tool: String,
        /// The pending calls' tools, comma-separated.
        pending: String,
    },
}

/// A run that stopped before its final output — paused for approvals, or
/// ended by a limit — as a value that can be stored (serde JSON, see
/// [`RUN_STATE_SCHEMA_VERSION`]) and resumed, in this process or another,
/// with [`Runner::resume`](super::Runner::resume).
///
/// Resuming never repeats work: items already produced stay as they are,
/// and tools that ran are not run again; the paused turn's tool calls run
/// once, as decided.
///
/// # Sealed, and resumed once
///
/// A state is data a client hands back, so it is not trusted. The runner
/// that pauses a run **seals** the state: an HMAC-SHA256 over everything but
/// the answers (`decisions`, `always`), with the runner's
/// [`StateKey`](super::StateKey). On resume the runner checks, before
/// anything runs, and refuses with
/// [`RunError::InvalidState`](super::RunError::InvalidState) (its
/// [`kind`](super::InvalidStateKind) says which):
///
/// - the seal verifies with its key (any edit of a call, its arguments, its
///   tool, the history or the rules breaks it; a state sealed with another
///   key does too) — a state that authorises nothing (no pending call, no
///   rule, no answer: a run stopped by a limit, from
///   [`from_partial`](Self::from_partial)) may be unsealed;
/// - every answer is for a pending call, every "always" rule for a pending
///   call's tool ([`approve`](Self::approve) and friends also check this at
///   once);
/// - the approval is not older than the runner's
///   [`approval_max_age`](super::Runner::approval_max_age);
/// - the run has the session it was paused with, and that session holds no
///   output of a pending call yet;
/// - the state was not resumed before: its id is recorded in the runner's
///   [`ResumeLedger`](crate::session::ResumeLedger).
///
/// What "at most once" covers: one runner (and its clones) with the default
/// in-memory ledger resumes a state once in that process; runners of
/// several processes resume it once between them when they share a ledger
/// (`SqliteSession` on one file); with a session attached, a call whose
/// output the session already holds is never run again, whichever runner
/// resumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunState {
    /// The shape version, [`RUN_STATE_SCHEMA_VERSION`] when written by this
    /// crate.
    pub schema_version: u32,
    /// Everything the run produced.
    #[serde(flatten)]
    pub run: PartialRun,
    /// The calls of the turn that paused, not yet executed.
    pub pending_turn: Vec<Arc<Item>>,
    /// The calls waiting for a decision.
    pub pending: Vec<PendingApproval>,
    /// "Always" rules in force when the run paused, per tool name.
    #[serde(default)]
    pub rules: BTreeMap<String, ApprovalDecision>,
    /// This state's random id: what the resume ledger records.
    #[serde(default)]
    pub state_id: String,
    /// When the run paused, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub paused_at_ms: u64,
    /// The id of the session the run was paused with, if any.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The seal, hex; `None`: unsealed.
    #[serde(default)]
    pub seal: Option<String>,
    /// Answers per `call_id` (not sealed).
    pub decisions: BTreeMap<String, ApprovalDecision>,
    /// Answers per tool name, for the rest of the run ("always"; not
    /// sealed).
    pub always: BTreeMap<String, ApprovalDecision>,
}

impl RunState {
    /// A state that resumes `run` where it stopped (e.g. after max turns),
    /// with no pending approvals.
    pub fn from_partial(run: PartialRun) -> Self {
        RunState {
            schema_version: RUN_STATE_SCHEMA_VERSION,
            run,
            pending_turn: Vec::new(),
            pending: Vec::new(),
            rules: BTreeMap::new(),
            state_id: String::new(),
            paused_at_ms: 0,
            session_id: None,
            seal: None,
            decisions: BTreeMap::new(),
            always: BTreeMap::new(),
        }
    }

    /// Whether the state grants anything: a pending call, a rule or an
    /// answer. Only such a state must be sealed.
    pub fn authorises(&self) -> bool {
        !self.pending_turn.is_empty()
            || !self.pending.is_empty()
            || !self.rules.is_empty()
            || !self.decisions.is_empty()
            || !self.always.is_empty()
    }

    /// The calls waiting for a decision.
    pub fn pending(&self) -> &[PendingApproval] {
        &self.pending
    }

    /// Approves the call `call_id`.
    ///
    /// # Errors
    /// [`ApprovalError::UnknownCall`] when no pending call has this id.
    pub fn approve(&mut self, call_id: impl Into<String>) -> Result<&mut Self, ApprovalError> {
        let call_id = self.pending_call(call_id.into())?;
        self.decisions.insert(call_id, ApprovalDecision::Approve);
        Ok(self)
    }

    /// Rejects the call `call_id`; the model is told `message`.
    ///
    /// # Errors
    /// [`ApprovalError::UnknownCall`] when no pending call has this id.
    pub fn reject(
        &mut self,
        call_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<&mut Self, ApprovalError> {
        let call_id = self.pending_call(call_id.into())?;
        let message = message.into();
        self.decisions
            .insert(call_id, ApprovalDecision::Reject { message });
        Ok(self)
    }

    /// Approves every call of `tool` for the rest of the run (the pending
    /// ones included).
    ///
    /// # Errors
    /// [`ApprovalError::ToolNotPending`] when no pending call is of `tool`.
    pub fn approve_always(&mut self, tool: impl Into<String>) -> Result<&mut Self, ApprovalError> {
        let tool = self.pending_tool(tool.into())?;
        self.always.insert(tool, ApprovalDecision::Approve);
        Ok(self)
    }

    /// Rejects every call of `tool` for the rest of the run (the pending
    /// ones included).
    ///
    /// # Errors
    /// [`ApprovalError::ToolNotPending`] when no pending call is of `tool`.
    pub fn reject_always(
        &mut self,
        tool: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<&mut Self, ApprovalError> {
        let tool = self.pending_tool(tool.into())?;
        let message = message.into();
        self.always
            .insert(tool, ApprovalDecision::Reject { message });
        Ok(self)
    }

    /// `call_id` if a pending call has it.
    pub(super) fn pending_call(&self, call_id: String) -> Result<String, ApprovalError> {
        if self.pending.iter().any(|p| p.call_id == call_id) {
            return Ok(call_id);
        }
        Err(ApprovalError::UnknownCall {
            call_id,
            pending: self.list(|p| &p.call_id),
        })
    }

    /// `tool` if a pending call is of it.
    pub(super) fn pending_tool(&self, tool: String) -> Result<String, ApprovalError> {
        if self.pending.iter().any(|p| p.tool == tool) {
            return Ok(tool);
        }
        Err(ApprovalError::ToolNotPending {
            tool,
            pending: self.list(|p| &p.tool),
        })
    }

    fn list(&self, field: impl Fn(&PendingApproval) -> &String) -> String {
        let names: Vec<&str> = self.pending.iter().map(|p| field(p).as_str()).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}
