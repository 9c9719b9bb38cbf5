//! Resumable run state: a paused or stopped run as a serializable value.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::result::PartialRun;
use crate::item::Item;

/// The version of [`RunState`]'s JSON shape this crate writes and reads.
///
/// Version 1 (this release): the fields of [`PartialRun`] flattened at the
/// top level (`run_id`, `starting_agent`, `input`, `history`, `new_items`,
/// `last_agent`, `handoff_path`, `usage`, `usage_by_agent` (optional),
/// `raw_responses`, `turns`), then
/// `schema_version`, `pending_turn`, `pending`, `decisions` and `always`.
/// A state with a higher version is refused on resume
/// ([`RunError::InvalidState`](super::RunError::InvalidState)); older
/// versions will be read by later releases.
pub const RUN_STATE_SCHEMA_VERSION: u32 = 1;

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

/// A run that stopped before its final output — paused for approvals, or
/// ended by a limit — as a value that can be stored (serde JSON, see
/// [`RUN_STATE_SCHEMA_VERSION`]) and resumed, in this process or another,
/// with [`Runner::resume`](super::Runner::resume).
///
/// Resuming never repeats work: items already produced stay as they are,
/// and tools that ran are not run again; the paused turn's tool calls run
/// once, as decided.
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
    /// Decisions per `call_id`.
    pub decisions: BTreeMap<String, ApprovalDecision>,
    /// Decisions per tool name, for the rest of the run ("always").
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
            decisions: BTreeMap::new(),
            always: BTreeMap::new(),
        }
    }

    /// The calls waiting for a decision.
    pub fn pending(&self) -> &[PendingApproval] {
        &self.pending
    }

    /// Approves the call `call_id`.
    pub fn approve(&mut self, call_id: impl Into<String>) -> &mut Self {
        self.decisions
            .insert(call_id.into(), ApprovalDecision::Approve);
        self
    }

    /// Rejects the call `call_id`; the model is told `message`.
    pub fn reject(&mut self, call_id: impl Into<String>, message: impl Into<String>) -> &mut Self {
        self.decisions.insert(
            call_id.into(),
            ApprovalDecision::Reject {
                message: message.into(),
            },
        );
        self
    }

    /// Approves every call of `tool` for the rest of the run.
    pub fn approve_always(&mut self, tool: impl Into<String>) -> &mut Self {
        self.always.insert(tool.into(), ApprovalDecision::Approve);
        self
    }

    /// Rejects every call of `tool` for the rest of the run.
    pub fn reject_always(
        &mut self,
        tool: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Self {
        self.always.insert(
            tool.into(),
            ApprovalDecision::Reject {
                message: message.into(),
            },
        );
        self
    }
}
