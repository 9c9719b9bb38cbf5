//! Sessions: conversation history that outlives one run.
//!
//! Give a run a session (`Run::session`, in `agents_core::run`) and it loads
//! the history, prepends it to the new input, saves the new input at once and
//! each turn's items as the turn completes (a crash loses at most the turn
//! in flight), and remembers which agent answered last so the next run on
//! the session continues with that agent.
//!
//! Stores: [`MemorySession`] (tests, single process),
//! `SqliteSession` (feature `sqlite`: embedded, durable,
//! safe across runs and processes sharing one database file) and
//! `PostgresSession` (feature `postgres`: shared by every worker that
//! reaches the database).
//!
//! # The contract a store keeps
//!
//! A production store (Postgres, Redis, ...) implements [`Session`] and
//! keeps these rules, which the runner relies on:
//!
//! 1. **Order.** [`items`](Session::items) returns items oldest first, in
//!    the order they were added.
//! 2. **Atomic batches.** One [`add_items`](Session::add_items) call is one
//!    turn: its items are stored all or none, contiguously: concurrent runs
//!    on the same session id never interleave inside a batch (a transaction,
//!    or a single append of a list).
//! 3. **Last agent.** `add_items` with an agent name records it in the same
//!    batch; [`last_agent`](Session::last_agent) returns the latest one.
//! 4. **Durability.** Once `add_items` returns `Ok`, the items survive the
//!    process ending.
//! 5. **Replace.** [`replace_items`](Session::replace_items) swaps the whole
//!    history atomically (used by compaction).

mod compaction;
mod ledger;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;

pub use compaction::{CompactionReport, compact};
pub use ledger::{InMemoryLedger, ResumeLedger};
pub use memory::MemorySession;
#[cfg(feature = "postgres")]
pub use postgres::PostgresSession;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteSession;

use crate::item::Item;
use crate::model::BoxFuture;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed (I/O, database, network).
    #[error("session store failed: {0}")]
    Store(String),
    /// A stored item does not decode (written by an incompatible release, or
    /// corrupted).
    #[error("a stored item does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    /// Compaction's summarising model call failed.
    #[error("summarising the session failed: {0}")]
    Summary(String),
}

/// A conversation's stored history. See the [module docs](self) for the
/// contract an implementation keeps.
pub trait Session: Send + Sync {
    /// The session's id.
    fn session_id(&self) -> &str;

    /// The stored items, oldest first; with `limit`, only the last `limit`.
    ///
    /// # Errors
    /// [`SessionError`] when the store fails or an item does not decode.
    fn items(&self, limit: Option<usize>) -> BoxFuture<'_, Result<Vec<Arc<Item>>, SessionError>>;

    /// Appends `items` as one atomic batch and, when given, records `agent`
    /// as the agent that answered last.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails; nothing is stored then.
    fn add_items(
        &self,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'_, Result<(), SessionError>>;

    /// Removes and returns the most recent item.
    ///
    /// # Errors
    /// [`SessionError`] when the store fails or the item does not decode.
    fn pop_item(&self) -> BoxFuture<'_, Result<Option<Item>, SessionError>>;

    /// Removes every item and the last agent.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    fn clear(&self) -> BoxFuture<'_, Result<(), SessionError>>;

    /// The agent that answered last, if recorded.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    fn last_agent(&self) -> BoxFuture<'_, Result<Option<String>, SessionError>>;

    /// Replaces the whole history with `items`, atomically.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails; the history is unchanged
    /// then.
    fn replace_items(&self, items: Vec<Arc<Item>>) -> BoxFuture<'_, Result<(), SessionError>>;
}

impl<S: Session + ?Sized> Session for Arc<S> {
    fn session_id(&self) -> &str {
        (**self).session_id()
    }
    fn items(&self, limit: Option<usize>) -> BoxFuture<'_, Result<Vec<Arc<Item>>, SessionError>> {
        (**self).items(limit)
    }
    fn add_items(
        &self,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'_, Result<(), SessionError>> {
        (**self).add_items(items, agent)
    }
    fn pop_item(&self) -> BoxFuture<'_, Result<Option<Item>, SessionError>> {
        (**self).pop_item()
    }
    fn clear(&self) -> BoxFuture<'_, Result<(), SessionError>> {
        (**self).clear()
    }
    fn last_agent(&self) -> BoxFuture<'_, Result<Option<String>, SessionError>> {
        (**self).last_agent()
    }
    fn replace_items(&self, items: Vec<Arc<Item>>) -> BoxFuture<'_, Result<(), SessionError>> {
        (**self).replace_items(items)
    }
}
