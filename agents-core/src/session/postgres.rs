//! [`PostgresSession`]: sessions in PostgreSQL, shared by every worker that
//! reaches the database.

use std::fmt;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::{ResumeLedger, Session, SessionError};
use crate::item::Item;
use crate::model::BoxFuture;

/// The schema, one migration per version, applied in order inside one
/// transaction under an advisory lock (workers starting together migrate
/// once). A database at a version newer than this release knows is refused.
const MIGRATIONS: &[&str] = &["
CREATE TABLE agent_sessions (
    session_id TEXT PRIMARY KEY,
    last_agent TEXT
);
CREATE TABLE agent_session_items (
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    item TEXT NOT NULL
);
CREATE INDEX agent_session_items_by_session ON agent_session_items (session_id, id);
CREATE TABLE agent_resumed_states (
    state_id TEXT PRIMARY KEY
);
"];

/// The advisory lock key under which migrations run (`agents` in ASCII).
const MIGRATION_LOCK: i64 = 0x6167_656e_7473;

impl From<tokio_postgres::Error> for SessionError {
    fn from(error: tokio_postgres::Error) -> Self {
        SessionError::Store(error.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for SessionError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        SessionError::Store(format!("no database connection: {error}"))
    }
}

/// A session stored in PostgreSQL (feature `postgres`), on `tokio-postgres`
/// with a `deadpool-postgres` pool: many workers, each with its own pool,
/// share sessions by id.
///
/// Keeps the [contract](super#the-contract-a-store-keeps): a batch is one
/// transaction, and writers of one session id are serialised by a lock on
/// the session's row (taken first in every write), so batches never
/// interleave and items keep the order their batches committed in. The
/// schema is created by versioned migrations (table
/// `agent_schema_migrations`) the first time a session is opened.
///
/// Also a [`ResumeLedger`]: runners of every worker sharing the database
/// resume each run state once between them.
///
/// ```no_run
/// use agents_core::session::PostgresSession;
///
/// # async fn open() -> Result<(), agents_core::session::SessionError> {
/// let session =
///     PostgresSession::connect("postgres://agents@127.0.0.1:5432/agents", "customer-42").await?;
/// # let _ = session; Ok(()) }
/// ```
///
/// `Debug` shows the session id only (a URL may carry a password).
#[derive(Clone)]
pub struct PostgresSession {
    id: Arc<str>,
    pool: Pool,
}

impl fmt::Debug for PostgresSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresSession")
            .field("session_id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PostgresSession {
    /// Connects to `url` (`postgres://user:password@host:port/database`,
    /// or the `key=value` form) without TLS, with a pool of up to 16
    /// connections, and opens `session_id` there. For TLS or other pool
    /// settings, build the pool and use [`with_pool`](Self::with_pool).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the URL does not parse, the server
    /// cannot be reached, or the migrations fail (including a database
    /// migrated by a newer release).
    pub async fn connect(url: &str, session_id: impl Into<String>) -> Result<Self, SessionError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|error: tokio_postgres::Error| SessionError::Store(error.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|error| SessionError::Store(error.to_string()))?;
        Self::with_pool(pool, session_id).await
    }

    /// Opens `session_id` on connections from `pool` (clones of the pool
    /// share it), migrating the schema first if needed.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn with_pool(
        pool: Pool,
        session_id: impl Into<String>,
    ) -> Result<Self, SessionError> {
        migrate(&pool).await?;
        Ok(PostgresSession {
            id: Arc::from(session_id.into()),
            pool,
        })
    }

    /// The same store, another session id (sharing the pool).
    pub fn session(&self, session_id: impl Into<String>) -> Self {
        PostgresSession {
            id: Arc::from(session_id.into()),
            pool: self.pool.clone(),
        }
    }
}

/// Applies the migrations the database lacks.
async fn migrate(pool: &Pool) -> Result<(), SessionError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS agent_schema_migrations (version INTEGER PRIMARY KEY)",
    )
    .await?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM agent_schema_migrations",
            &[],
        )
        .await?
        .get(0);
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if current > known {
        return Err(SessionError::Store(format!(
            "the database's session schema is at version {current}, this release knows up to {known}"
        )));
    }
    for (version, migration) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.batch_execute(migration).await?;
        tx.execute(
            "INSERT INTO agent_schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Locks the session's row for the rest of the transaction (creating it):
/// writers of one session take turns.
async fn lock_session(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
) -> Result<(), SessionError> {
    tx.execute(
        "INSERT INTO agent_sessions (session_id) VALUES ($1)
         ON CONFLICT (session_id) DO UPDATE SET session_id = excluded.session_id",
        &[&id],
    )
    .await?;
    Ok(())
}

async fn delete_items(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
) -> Result<(), SessionError> {
    tx.execute(
        "DELETE FROM agent_session_items WHERE session_id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

async fn insert_items(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    items: &[Arc<Item>],
) -> Result<(), SessionError> {
    if items.is_empty() {
        return Ok(());
    }
    let texts = items
        .iter()
        .map(|item| serde_json::to_string(&**item))
        .collect::<Result<Vec<String>, _>>()?;
    // One statement for the batch, in order.
    tx.execute(
        "INSERT INTO agent_session_items (session_id, item)
         SELECT $1, item FROM unnest($2::text[]) WITH ORDINALITY AS batch(item, position)
         ORDER BY position",
        &[&id, &texts],
    )
    .await?;
    Ok(())
}

impl ResumeLedger for PostgresSession {
    fn consume<'a>(&'a self, state_id: &'a str) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let inserted = client
                .execute(
                    "INSERT INTO agent_resumed_states (state_id) VALUES ($1) ON CONFLICT DO NOTHING",
                    &[&state_id],
                )
                .await?;
            Ok(inserted == 1)
        })
    }
}

impl Session for PostgresSession {
    fn session_id(&self) -> &str {
        &self.id
    }

    fn items(&self, limit: Option<usize>) -> BoxFuture<'_, Result<Vec<Arc<Item>>, SessionError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let limit = limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
            let rows = client
                .query(
                    "SELECT item FROM (
                         SELECT id, item FROM agent_session_items
                         WHERE session_id = $1 ORDER BY id DESC LIMIT $2
                     ) AS last ORDER BY id ASC",
                    &[&&*self.id, &limit],
                )
                .await?;
            rows.iter()
                .map(|row| Ok(Arc::new(serde_json::from_str::<Item>(row.get(0))?)))
                .collect()
        })
    }

    fn add_items(
        &self,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            lock_session(&tx, &self.id).await?;
            insert_items(&tx, &self.id, &items).await?;
            if let Some(agent) = agent {
                tx.execute(
                    "UPDATE agent_sessions SET last_agent = $2 WHERE session_id = $1",
                    &[&&*self.id, &agent],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn pop_item(&self) -> BoxFuture<'_, Result<Option<Item>, SessionError>> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            lock_session(&tx, &self.id).await?;
            let popped = tx
                .query_opt(
                    "DELETE FROM agent_session_items WHERE id = (
                         SELECT id FROM agent_session_items
                         WHERE session_id = $1 ORDER BY id DESC LIMIT 1
                     ) RETURNING item",
                    &[&&*self.id],
                )
                .await?;
            tx.commit().await?;
            match popped {
                Some(row) => Ok(Some(serde_json::from_str(row.get(0))?)),
                None => Ok(None),
            }
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            lock_session(&tx, &self.id).await?;
            delete_items(&tx, &self.id).await?;
            tx.execute(
                "DELETE FROM agent_sessions WHERE session_id = $1",
                &[&&*self.id],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn last_agent(&self) -> BoxFuture<'_, Result<Option<String>, SessionError>> {
        Box::pin(async move {
            let client = self.pool.get().await?;
            let row = client
                .query_opt(
                    "SELECT last_agent FROM agent_sessions WHERE session_id = $1",
                    &[&&*self.id],
                )
                .await?;
            Ok(row.and_then(|row| row.get::<_, Option<String>>(0)))
        })
    }

    fn replace_items(&self, items: Vec<Arc<Item>>) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            lock_session(&tx, &self.id).await?;
            delete_items(&tx, &self.id).await?;
            insert_items(&tx, &self.id, &items).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
