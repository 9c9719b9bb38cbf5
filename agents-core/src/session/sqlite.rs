use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{ResumeLedger, Session, SessionError};
use crate::item::Item;
use crate::model::BoxFuture;

/// How long a writer waits for another connection's transaction (other runs
/// or processes on the same file) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agent_sessions (
    session_id TEXT PRIMARY KEY,
    last_agent TEXT
);
CREATE TABLE IF NOT EXISTS agent_session_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    item TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS agent_session_items_by_session
    ON agent_session_items (session_id, id);
CREATE TABLE IF NOT EXISTS agent_resumed_states (
    state_id TEXT PRIMARY KEY
);
";

impl From<rusqlite::Error> for SessionError {
    fn from(error: rusqlite::Error) -> Self {
        SessionError::Store(error.to_string())
    }
}

/// A session stored in SQLite (rusqlite with its bundled SQLite, so nothing
/// needs installing).
///
/// - WAL journal and a busy timeout: many runs and processes may use one
///   database file; writers take turns, readers do not block.
/// - One `IMMEDIATE` transaction per [`add_items`](Session::add_items): a
///   turn's items are stored all or none, contiguously, in order.
/// - Items are stored as JSON (the [`Item`] serde shape), one row each,
///   ordered by an autoincrement id.
///
/// Database work runs on tokio's blocking pool, never on the async threads.
#[derive(Debug, Clone)]
pub struct SqliteSession {
    id: Arc<str>,
    conn: Arc<Mutex<Connection>>,
}

impl SqliteSession {
    /// Opens (creating if needed) the database at `path` and the session
    /// `session_id` in it.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the file cannot be opened or the schema
    /// created.
    pub fn open(
        path: impl AsRef<Path>,
        session_id: impl Into<String>,
    ) -> Result<Self, SessionError> {
        let conn = Connection::open(path)?;
        Self::setup(conn, session_id.into())
    }

    /// A session in a private in-memory database (gone with the value).
    ///
    /// # Errors
    /// [`SessionError::Store`] when SQLite cannot start.
    pub fn in_memory(session_id: impl Into<String>) -> Result<Self, SessionError> {
        Self::setup(Connection::open_in_memory()?, session_id.into())
    }

    fn setup(conn: Connection, session_id: String) -> Result<Self, SessionError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Switching a new file to WAL takes an exclusive lock, and SQLite
        // reports a busy file at once there rather than waiting: when many
        // connections open a fresh file together, take turns.
        let started = std::time::Instant::now();
        loop {
            match Self::prepare(&conn) {
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if matches!(
                        error.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                outcome => break outcome?,
            }
        }
        Ok(SqliteSession {
            id: Arc::from(session_id),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// WAL journal, relaxed sync (safe with WAL), the schema.
    fn prepare(conn: &Connection) -> Result<(), rusqlite::Error> {
        // WAL is a property of the file: set once, by the first connection.
        // `journal_mode` answers with a row; read it rather than execute.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            let _mode: String =
                conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        conn.execute_batch(SCHEMA)
    }

    /// Runs `work` with the connection on the blocking pool.
    fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, &str) -> Result<T, SessionError> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, SessionError>> {
        let conn = Arc::clone(&self.conn);
        let id = Arc::clone(&self.id);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                work(&mut conn, &id)
            })
            .await
            .map_err(|error| SessionError::Store(format!("session task failed: {error}")))?
        })
    }
}

/// Records resumed run states in the table `agent_resumed_states` of the
/// database file (whatever the session id): runners in several processes
/// that share the file resume each state once between them.
impl ResumeLedger for SqliteSession {
    fn consume<'a>(&'a self, state_id: &'a str) -> BoxFuture<'a, Result<bool, SessionError>> {
        let state_id = state_id.to_owned();
        self.with_conn(move |conn, _| {
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO agent_resumed_states (state_id) VALUES (?1)",
                params![state_id],
            )?;
            Ok(inserted == 1)
        })
    }
}

fn decode_rows(rows: Vec<String>) -> Result<Vec<Arc<Item>>, SessionError> {
    rows.iter()
        .map(|text| Ok(Arc::new(serde_json::from_str::<Item>(text)?)))
        .collect()
}

fn insert_items(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    items: &[Arc<Item>],
) -> Result<(), SessionError> {
    let mut insert =
        tx.prepare_cached("INSERT INTO agent_session_items (session_id, item) VALUES (?1, ?2)")?;
    for item in items {
        insert.execute(params![id, serde_json::to_string(&**item)?])?;
    }
    Ok(())
}

impl Session for SqliteSession {
    fn session_id(&self) -> &str {
        &self.id
    }

    fn items(&self, limit: Option<usize>) -> BoxFuture<'_, Result<Vec<Arc<Item>>, SessionError>> {
        self.with_conn(move |conn, id| {
            let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
            let mut query = conn.prepare_cached(
                "SELECT item FROM (
                     SELECT id, item FROM agent_session_items
                     WHERE session_id = ?1 ORDER BY id DESC LIMIT ?2
                 ) ORDER BY id ASC",
            )?;
            let rows = query
                .query_map(params![id, limit], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            decode_rows(rows)
        })
    }

    fn add_items(
        &self,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'_, Result<(), SessionError>> {
        self.with_conn(move |conn, id| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert_items(&tx, id, &items)?;
            if let Some(agent) = agent {
                tx.execute(
                    "INSERT INTO agent_sessions (session_id, last_agent) VALUES (?1, ?2)
                     ON CONFLICT (session_id) DO UPDATE SET last_agent = excluded.last_agent",
                    params![id, agent],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn pop_item(&self) -> BoxFuture<'_, Result<Option<Item>, SessionError>> {
        self.with_conn(|conn, id| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last: Option<(i64, String)> = tx
                .query_row(
                    "SELECT id, item FROM agent_session_items WHERE session_id = ?1 ORDER BY id DESC LIMIT 1",
                    params![id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((row_id, text)) = last else {
                return Ok(None);
            };
            tx.execute("DELETE FROM agent_session_items WHERE id = ?1", params![row_id])?;
            tx.commit()?;
            Ok(Some(serde_json::from_str(&text)?))
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), SessionError>> {
        self.with_conn(|conn, id| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM agent_session_items WHERE session_id = ?1",
                params![id],
            )?;
            tx.execute(
                "DELETE FROM agent_sessions WHERE session_id = ?1",
                params![id],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn last_agent(&self) -> BoxFuture<'_, Result<Option<String>, SessionError>> {
        self.with_conn(|conn, id| {
            Ok(conn
                .query_row(
                    "SELECT last_agent FROM agent_sessions WHERE session_id = ?1",
                    params![id],
                    |row| row.get::<_, Option<String>>(0),
                )
                .optional()?
                .flatten())
        })
    }

    fn replace_items(&self, items: Vec<Arc<Item>>) -> BoxFuture<'_, Result<(), SessionError>> {
        self.with_conn(move |conn, id| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM agent_session_items WHERE session_id = ?1",
                params![id],
            )?;
            insert_items(&tx, id, &items)?;
            tx.commit()?;
            Ok(())
        })
    }
}
