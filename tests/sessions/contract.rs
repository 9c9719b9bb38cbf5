//! The session contract, one suite run against every store: memory, SQLite
//! and PostgreSQL. The PostgreSQL cases are `#[ignore]`d: CI runs them
//! with `--ignored` against a throwaway server (`scripts/postgres.sh
//! start` prints its URL into `AGENTS_PG_URL`); run that way without the
//! variable they fail, never pass unrun.

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use agents_core::prelude::*;
use agents_core::session::{MemorySession, PostgresSession, Session, SqliteSession};
use agents_testing::{MockModel, Step};
use serde_json::json;

/// Where sessions are stored; `open` makes a new connection each time, as
/// another worker would.
enum Store {
    Memory(MemorySession),
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// A session id no other test (or earlier run of the suite on a kept
/// database) uses.
fn fresh_id(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!(
        "{name}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// The test server's URL; a run with `--ignored` but without one fails.
fn pg_url() -> String {
    std::env::var("AGENTS_PG_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| {
            panic!("AGENTS_PG_URL is not set: AGENTS_PG_URL=\"$(scripts/postgres.sh start | tail -1)\" cargo test -p agents-tests --test sessions -- --ignored")
        })
}

impl Store {
    fn memory(id: &str) -> Self {
        Store::Memory(MemorySession::new(id))
    }

    fn sqlite(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{}.db", fresh_id(name)));
        Store::Sqlite(path)
    }

    fn postgres() -> Self {
        Store::Postgres(pg_url())
    }

    async fn open(&self, id: &str) -> Arc<dyn Session> {
        match self {
            // The memory store is one process's: clones share it.
            Store::Memory(session) => {
                assert_eq!(session.session_id(), id);
                Arc::new(session.clone())
            }
            Store::Sqlite(path) => Arc::new(SqliteSession::open(path, id).unwrap()),
            Store::Postgres(url) => Arc::new(PostgresSession::connect(url, id).await.unwrap()),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Store::Sqlite(path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn texts(items: &[Arc<Item>]) -> Vec<String> {
    items
        .iter()
        .map(|item| item.message_text().unwrap_or("?").to_owned())
        .collect()
}

fn users(texts: &[&str]) -> Vec<Arc<Item>> {
    texts.iter().map(|t| Arc::new(Item::user(*t))).collect()
}

/// Order, limit, pop, last agent, clear and replace.
async fn keeps_order_and_the_last_agent(store: Store, id: &str) {
    let session = store.open(id).await;
    assert!(session.items(None).await.unwrap().is_empty());
    assert_eq!(session.last_agent().await.unwrap(), None);
    session
        .add_items(users(&["a", "b"]), Some("Triage".to_owned()))
        .await
        .unwrap();
    session
        .add_items(users(&["c"]), Some("Billing".to_owned()))
        .await
        .unwrap();
    // A batch without an agent keeps the last one.
    session.add_items(users(&["d"]), None).await.unwrap();
    // Another connection sees the same.
    let other = store.open(id).await;
    assert_eq!(
        texts(&other.items(None).await.unwrap()),
        ["a", "b", "c", "d"]
    );
    assert_eq!(texts(&other.items(Some(2)).await.unwrap()), ["c", "d"]);
    assert_eq!(
        texts(&other.items(Some(0)).await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        other.last_agent().await.unwrap().as_deref(),
        Some("Billing")
    );
    let popped = other.pop_item().await.unwrap().unwrap();
    assert_eq!(popped.message_text(), Some("d"));
    assert_eq!(texts(&session.items(None).await.unwrap()), ["a", "b", "c"]);
    session.replace_items(users(&["summary"])).await.unwrap();
    assert_eq!(texts(&other.items(None).await.unwrap()), ["summary"]);
    other.clear().await.unwrap();
    assert!(session.items(None).await.unwrap().is_empty());
    assert_eq!(session.last_agent().await.unwrap(), None);
    assert!(session.pop_item().await.unwrap().is_none());
}

/// Echoes its input.
#[tool]
async fn echo(text: String) -> String {
    tokio::task::yield_now().await;
    text
}

/// Answers any run: a tool call on its input, then a final answer.
fn step() -> Step {
    Step::respond(|request| {
        let last = request.input.last().cloned();
        match last.as_deref() {
            Some(Item::UserMessage { content }) => {
                Step::tool_call("echo", json!({ "text": content }))
            }
            Some(Item::ToolOutput(output)) => Step::text(format!("done: {}", output.output)),
            other => Step::text(format!("unexpected {other:?}")),
        }
    })
}

/// Fifty runs at once on one session id, each through its own connection:
/// every turn whole and in order, no orphan call, nothing twice.
async fn fifty_concurrent_runs_keep_every_turn_whole(store: Store, id: &str) {
    let agent = Agent::<()>::builder("Echo").tool(echo {}).build().unwrap();
    let model = MockModel::script((0..100).map(|_| step()));
    let runner = Runner::new(model.clone());
    let mut handles = Vec::new();
    for i in 0..50 {
        let session = store.open(id).await;
        handles.push(tokio::spawn(
            runner
                .run(&agent, (), format!("run {i}"))
                .session(session)
                .into_future(),
        ));
    }
    for handle in handles {
        let result = handle.await.unwrap().unwrap();
        assert!(result.final_output.starts_with("done: run "));
    }
    let items = store.open(id).await.items(None).await.unwrap();
    assert_eq!(
        items.len(),
        200,
        "input, call, output and answer of 50 runs"
    );
    // Nothing twice.
    let serialized: std::collections::HashSet<String> = items
        .iter()
        .map(|item| serde_json::to_string(&**item).unwrap())
        .collect();
    assert_eq!(serialized.len(), 200, "an item was stored twice");
    for i in 0..50 {
        let text = format!("run {i}");
        let position =
            |pred: &dyn Fn(&Item) -> bool| items.iter().position(|item| pred(item)).unwrap();
        let input = position(&|item| item.message_text() == Some(text.as_str()));
        let arguments = json!({ "text": text }).to_string();
        let call = position(&|item| matches!(item, Item::ToolCall(c) if c.arguments == arguments));
        let answer =
            position(&|item| item.message_text() == Some(format!("done: {text}").as_str()));
        let Item::ToolCall(c) = &*items[call] else {
            unreachable!()
        };
        // A turn's call and its output are one batch: adjacent, so no call
        // is ever stored without its output.
        assert!(
            matches!(&*items[call + 1], Item::ToolOutput(o) if o.call_id == c.call_id),
            "run {i}: call and output split"
        );
        assert!(input < call && call < answer, "run {i}: turns out of order");
    }
    model.assert_complete();
}

/// A writer stopped in the middle of a batch (its task aborted, as a
/// killed worker's connection is dropped) leaves all of the batch or none,
/// and the session takes the next batch.
async fn a_writer_stopped_mid_batch_leaves_all_or_nothing(store: Store, id: &str) {
    let session = store.open(id).await;
    session.add_items(users(&["before"]), None).await.unwrap();
    let batch: Vec<Arc<Item>> = (0..2_000)
        .map(|i| Arc::new(Item::user(format!("bulk {i} {}", "x".repeat(200)))))
        .collect();
    let writer = store.open(id).await;
    let task = tokio::spawn(async move { writer.add_items(batch, None).await });
    // Give it time to start, then stop it.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    task.abort();
    let _ = task.await;
    // Stores that finish the batch in the background (SQLite's blocking
    // thread) do so shortly; a store that rolls back has nothing to wait for.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = store.open(id).await;
    let count = after.items(None).await.unwrap().len();
    assert!(
        count == 1 || count == 2_001,
        "a batch was stored in part: {count} items"
    );
    after.add_items(users(&["after"]), None).await.unwrap();
    let items = after.items(None).await.unwrap();
    assert_eq!(items.last().unwrap().message_text(), Some("after"));
    assert_eq!(items.len(), count + 1);
}

macro_rules! contract {
    ($store:ident, $make:expr $(, #[$attr:meta])?) => {
        mod $store {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])?
            async fn keeps_order_and_the_last_agent() {
                let id = fresh_id("order");
                let make: fn(&str) -> Store = $make;
                super::keeps_order_and_the_last_agent(make(&id), &id).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])?
            async fn fifty_concurrent_runs_keep_every_turn_whole() {
                let id = fresh_id("fifty");
                let make: fn(&str) -> Store = $make;
                super::fifty_concurrent_runs_keep_every_turn_whole(make(&id), &id).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])?
            async fn a_writer_stopped_mid_batch_leaves_all_or_nothing() {
                let id = fresh_id("stopped");
                let make: fn(&str) -> Store = $make;
                super::a_writer_stopped_mid_batch_leaves_all_or_nothing(make(&id), &id).await;
            }
        }
    };
}

contract!(memory, Store::memory);
contract!(sqlite, Store::sqlite);
contract!(
    postgres,
    |_| Store::postgres(),
    #[ignore = "needs PostgreSQL: AGENTS_PG_URL from scripts/postgres.sh start"]
);

/// Twenty workers try to resume one state at once: exactly one may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: AGENTS_PG_URL from scripts/postgres.sh start"]
async fn postgres_resumes_a_state_once_among_workers() {
    use agents_core::session::ResumeLedger;

    let url = pg_url();
    let state_id = fresh_id("state");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let ledger = PostgresSession::connect(&url, "ledger").await.unwrap();
        let state_id = state_id.clone();
        tasks.push(tokio::spawn(async move {
            ledger.consume(&state_id).await.unwrap()
        }));
    }
    let mut firsts = 0;
    for task in tasks {
        firsts += u32::from(task.await.unwrap());
    }
    assert_eq!(firsts, 1);
}

/// A database migrated by a newer release is refused, not misread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: AGENTS_PG_URL from scripts/postgres.sh start"]
async fn postgres_refuses_a_schema_newer_than_it_knows() {
    let url = pg_url();
    // A database of its own, so the other tests' schema stays as it is.
    let admin = PostgresSession::connect(&url, "admin").await.unwrap();
    drop(admin);
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let database = fresh_id("newer").replace('-', "_");
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    let other = url.rsplit_once('/').unwrap().0.to_owned() + "/" + &database;
    PostgresSession::connect(&other, "s").await.unwrap();
    let (newer, connection) = tokio_postgres::connect(&other, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    newer
        .batch_execute("INSERT INTO agent_schema_migrations (version) VALUES (999)")
        .await
        .unwrap();
    let error = PostgresSession::connect(&other, "s").await.unwrap_err();
    assert!(error.to_string().contains("version 999"), "{error}");
}

#[tokio::test]
async fn a_postgres_server_that_is_not_there_is_a_store_error() {
    // A port nothing listens on: bound, then closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("postgres://agents@127.0.0.1:{port}/agents");
    let error = PostgresSession::connect(&url, "s").await.unwrap_err();
    assert!(
        matches!(&error, agents_core::session::SessionError::Store(message) if message.contains("connection")),
        "{error}"
    );
    let error = PostgresSession::connect("not a url", "s")
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        agents_core::session::SessionError::Store(_)
    ));
}
