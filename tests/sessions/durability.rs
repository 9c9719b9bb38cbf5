//! A run killed mid-turn leaves every completed turn in SQLite.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::session::{Session, SqliteSession};
use agents_testing::{MockModel, Step};
use serde_json::json;

const CHILD_DB: &str = "AGENTS_TEST_CHILD_DB";

/// Echoes its input.
#[tool]
fn echo(text: String) -> String {
    text
}

/// Tells the parent it is running, then never returns.
#[tool]
async fn hang() -> String {
    println!("HANGING");
    let _ = std::io::stdout().flush();
    std::future::pending::<()>().await;
    String::new()
}

/// The child: runs two complete turns, then hangs in the third. Does
/// nothing unless the parent set the database path.
#[tokio::test]
async fn child_run_that_hangs_in_its_third_turn() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let agent = Agent::<()>::builder("Worker")
        .tool(echo {})
        .tool(hang {})
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "one"})),
        Step::tool_call("echo", json!({"text": "two"})),
        Step::tool_call("hang", json!({})),
    ]);
    let session = SqliteSession::open(&path, "killed").unwrap();
    let _ = Runner::new(model)
        .run(&agent, (), "work")
        .session(session)
        .tool_timeout(Duration::from_secs(600))
        .await;
}

#[test]
fn a_killed_run_leaves_every_completed_turn_readable() {
    let path = std::env::temp_dir().join(format!("agents-durability-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::child_run_that_hangs_in_its_third_turn",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut reached = false;
    for line in lines.by_ref().take(50) {
        if line.unwrap().contains("HANGING") {
            reached = true;
            break;
        }
    }
    assert!(reached, "the child never reached its third turn");
    child.kill().unwrap();
    child.wait().unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let session = SqliteSession::open(&path, "killed").unwrap();
    let items = rt.block_on(session.items(None)).unwrap();
    let kinds: Vec<String> = items
        .iter()
        .map(|item| match &**item {
            Item::UserMessage { content } => format!("user {content}"),
            Item::ToolCall(call) => format!("call {} {}", call.name, call.arguments),
            Item::ToolOutput(output) => format!("output {}", output.output),
            other => format!("{other:?}"),
        })
        .collect();
    // The input and both completed turns; the hanging turn was in flight.
    assert_eq!(
        kinds,
        [
            "user work",
            r#"call echo {"text":"one"}"#,
            "output one",
            r#"call echo {"text":"two"}"#,
            "output two",
        ]
    );
    assert_eq!(
        rt.block_on(session.last_agent()).unwrap().as_deref(),
        Some("Worker")
    );
    let _ = std::fs::remove_file(&path);
}
