//! Many runs on one SQLite session id at once.

use std::future::IntoFuture;

use agents_core::prelude::*;
use agents_core::session::{Session, SqliteSession};
use agents_testing::{MockModel, Step};

/// Echoes its input.
#[tool]
async fn echo(text: String) -> String {
    tokio::task::yield_now().await;
    text
}

/// A step that answers any run of the script: a tool call on the run's
/// input, then a final answer once the tool output is back.
fn step() -> Step {
    Step::respond(|request| {
        let last = request.input.last().cloned();
        match last.as_deref() {
            Some(Item::UserMessage { content }) => {
                Step::tool_call("echo", serde_json::json!({ "text": content }))
            }
            Some(Item::ToolOutput(output)) => Step::text(format!("done: {}", output.output)),
            other => Step::text(format!("unexpected {other:?}")),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_runs_keep_every_turn_whole_and_in_order() {
    let path = std::env::temp_dir().join(format!("agents-concurrency-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let agent = Agent::<()>::builder("Echo").tool(echo {}).build().unwrap();
    let model = MockModel::script((0..100).map(|_| step()));
    let runner = Runner::new(model.clone());

    let handles: Vec<_> = (0..50)
        .map(|i| {
            // One connection per run, as separate processes would have.
            let session = SqliteSession::open(&path, "shared").unwrap();
            tokio::spawn(
                runner
                    .run(&agent, (), format!("run {i}"))
                    .session(session)
                    .into_future(),
            )
        })
        .collect();
    for handle in handles {
        let result = handle.await.unwrap().unwrap();
        assert!(result.final_output.starts_with("done: run "));
    }

    let items = SqliteSession::open(&path, "shared")
        .unwrap()
        .items(None)
        .await
        .unwrap();
    assert_eq!(
        items.len(),
        200,
        "input, call, output and answer of 50 runs"
    );
    for i in 0..50 {
        let text = format!("run {i}");
        let position =
            |pred: &dyn Fn(&Item) -> bool| items.iter().position(|item| pred(item)).unwrap();
        let input = position(&|item| item.message_text() == Some(text.as_str()));
        // Exact arguments: "run 1" is also a prefix of "run 10".
        let arguments = serde_json::json!({ "text": text }).to_string();
        let call = position(&|item| matches!(item, Item::ToolCall(c) if c.arguments == arguments));
        let answer =
            position(&|item| item.message_text() == Some(format!("done: {text}").as_str()));
        // A turn's call and output are one batch: adjacent.
        let Item::ToolCall(c) = &*items[call] else {
            unreachable!()
        };
        assert!(
            matches!(&*items[call + 1], Item::ToolOutput(o) if o.call_id == c.call_id),
            "run {i}: call and output split"
        );
        assert!(input < call && call < answer, "run {i}: turns out of order");
    }
    model.assert_complete();
    let _ = std::fs::remove_file(&path);
}
