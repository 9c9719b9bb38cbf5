//! The record of run states already resumed, so that a state with approved
//! tool calls is resumed (and its calls run) at most once.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use super::SessionError;
use crate::model::BoxFuture;

/// Where a runner records the run states it resumed: each state carries a
/// random id, and a state whose id is already recorded is refused
/// (`InvalidStateKind::Replayed`, in `agents_core::run`).
///
/// [`InMemoryLedger`] (a runner's default) remembers within one process;
/// `SqliteSession` (feature `sqlite`) records in its database file, so runners
/// of several processes sharing the file resume each state once between
/// them.
pub trait ResumeLedger: Send + Sync {
    /// Records `state_id` as resumed: `true` the first time, `false` if it
    /// was recorded before. Atomic: of many concurrent calls with one id,
    /// exactly one gets `true`.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails; the state is then not
    /// resumed.
    fn consume<'a>(&'a self, state_id: &'a str) -> BoxFuture<'a, Result<bool, SessionError>>;
}

/// A [`ResumeLedger`] in memory: a set of ids, for the life of the value
/// (shared by the clones of the runner holding it).
#[derive(Debug, Default)]
pub struct InMemoryLedger {
    consumed: Mutex<HashSet<String>>,
}

impl InMemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ResumeLedger for InMemoryLedger {
    fn consume<'a>(&'a self, state_id: &'a str) -> BoxFuture<'a, Result<bool, SessionError>> {
        let first = self
            .consumed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(state_id.to_owned());
        Box::pin(std::future::ready(Ok(first)))
    }
}
