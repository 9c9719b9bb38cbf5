//! Interruption that leaves a clean transcript: after an interrupt, a
//! cancel or a timeout during parallel tool calls, every call in the
//! partial run has an output, and the conversation continues with a
//! request OpenAI would accept.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agents_core::model::{BoxFuture, Model, ModelError, ModelRequest, ModelResponse};
use agents_core::prelude::*;
use agents_core::run::{RunHandle, RunStatus};
use agents_core::session::{MemorySession, Session};
use agents_core::{Item, PartialRun, RunError};
use agents_testing::{MockModel, Step, call, check_request};
use serde_json::json;

/// How many slow calls started.
#[derive(Clone, Default)]
struct Started(Arc<AtomicU32>);

/// Never finishes.
#[tool]
async fn stuck(started: &Started, order_id: String) -> String {
    started.0.fetch_add(1, Ordering::SeqCst);
    std::future::pending::<()>().await;
    format!("{order_id} done")
}

fn agent() -> Agent<Started> {
    Agent::<Started>::builder("Clerk")
        .tool(stuck {})
        .build()
        .unwrap()
}

/// A turn of two parallel calls that never finish.
fn two_stuck_calls() -> MockModel {
    let model = MockModel::script([Step::tool_calls([
        call(stuck {}, json!({"order_id": "A-1"})),
        call(stuck {}, json!({"order_id": "A-2"})),
    ])]);
    model.allow_unused_steps();
    model
}

async fn both_started(started: &Started) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while started.0.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the calls did not start");
}

/// Every call of `partial` is answered, item by item, by an interrupted
/// output right after the calls; and a continued conversation is a
/// request OpenAI accepts.
async fn assert_clean(partial: &PartialRun) {
    let items = partial.to_input_list();
    let kinds: Vec<String> = items
        .iter()
        .map(|item| match &**item {
            Item::UserMessage { .. } => "user".to_owned(),
            Item::ToolCall(call) => format!("call {}", call.call_id),
            Item::ToolOutput(output) => {
                assert!(output.interrupted && output.is_error, "{output:?}");
                format!("interrupted {}", output.call_id)
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "user",
            "call call_1",
            "call call_2",
            "interrupted call_1",
            "interrupted call_2"
        ]
    );
    let mut next = items;
    next.push(Arc::new(Item::user("Are you still there?")));
    let model = MockModel::script([Step::text("Yes.")]);
    let result = Runner::new(model.clone())
        .run(&agent(), Started::default(), next)
        .await
        .unwrap();
    assert_eq!(result.final_output, "Yes.");
    check_request(&model.requests()[0]).unwrap();
}

#[test]
fn the_validator_rejects_a_call_without_an_output() {
    let request = ModelRequest::new(
        "Clerk",
        vec![
            Arc::new(Item::user("hi")),
            Arc::new(Item::tool_call("call_1", "stuck", "{}")),
            Arc::new(Item::user("and?")),
        ],
    );
    let problem = check_request(&request).unwrap_err();
    assert!(problem.contains("no output for call `call_1`"), "{problem}");
}

#[tokio::test]
async fn an_interrupt_during_parallel_tool_calls_leaves_every_call_answered() {
    let started = Started::default();
    let handle: RunHandle<String> = Runner::new(two_stuck_calls())
        .run(&agent(), started.clone(), "check A-1 and A-2")
        .start();
    both_started(&started).await;
    handle.interrupt();
    let status = handle.status_changes();
    let error = handle.result().await.unwrap_err();
    assert_eq!(*status.borrow(), RunStatus::Interrupted);
    let RunError::Interrupted { partial } = error else {
        panic!("expected an interrupted run, got {error:?}");
    };
    assert_clean(&partial).await;
}

#[tokio::test]
async fn a_cancel_during_parallel_tool_calls_leaves_every_call_answered() {
    let started = Started::default();
    let handle: RunHandle<String> = Runner::new(two_stuck_calls())
        .run(&agent(), started.clone(), "check A-1 and A-2")
        .start();
    both_started(&started).await;
    handle.cancel();
    let error = handle.result().await.unwrap_err();
    assert!(matches!(error, RunError::Cancelled { .. }), "{error:?}");
    assert_clean(error.partial()).await;
}

#[tokio::test]
async fn a_timeout_during_parallel_tool_calls_leaves_every_call_answered() {
    let error = Runner::new(two_stuck_calls())
        .run(&agent(), Started::default(), "check A-1 and A-2")
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::Timeout { .. }), "{error:?}");
    assert_clean(error.partial()).await;
}

/// A model that never answers.
struct Silent;

impl Model for Silent {
    fn call(&self, _request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn an_interrupt_during_a_model_call_ends_the_run_as_interrupted() {
    let handle: RunHandle<String> = Runner::new(Silent)
        .run(&agent(), Started::default(), "hello?")
        .start();
    tokio::task::yield_now().await;
    handle.interrupt();
    handle.interrupt(); // twice does nothing more
    let error = handle.result().await.unwrap_err();
    let RunError::Interrupted { partial } = error else {
        panic!("expected an interrupted run, got {error:?}");
    };
    assert!(partial.new_items.is_empty());
    assert_eq!(partial.turns, 1);
}

#[tokio::test]
async fn a_session_continues_after_an_interrupted_turn() {
    let session = Arc::new(MemorySession::new("customer-9"));
    let started = Started::default();
    let handle: RunHandle<String> = Runner::new(two_stuck_calls())
        .run(&agent(), started.clone(), "check A-1 and A-2")
        .session(Arc::clone(&session))
        .start();
    both_started(&started).await;
    handle.interrupt();
    handle.result().await.unwrap_err();

    let model = MockModel::script([Step::text("Sorry, where were we?")]);
    Runner::new(model.clone())
        .run(&agent(), Started::default(), "Are you still there?")
        .session(Arc::clone(&session))
        .await
        .unwrap();
    check_request(&model.requests()[0]).unwrap();
    assert!(session.items(None).await.unwrap().len() >= 3);
}
