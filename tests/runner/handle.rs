//! Run handles: a started run watched and steered through its status,
//! events, pause, resume and cancel, at each point a request can land.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::run::{
    CancellationToken, ControlError, RunEvent, RunHandle, RunStatus, ToleratedFailure,
};
use agents_core::{Item, PartialRun, RunError};
use agents_testing::{MockModel, Step, call};
use serde_json::json;
use tokio::sync::watch;

/// The context: a gate the `wait` tool holds at until it opens, and how
/// many tool calls started.
#[derive(Clone)]
pub(crate) struct Gate {
    open: watch::Receiver<bool>,
    pub(crate) started: Arc<AtomicU32>,
}

pub(crate) fn gate() -> (watch::Sender<bool>, Gate) {
    let (sender, open) = watch::channel(false);
    let gate = Gate {
        open,
        started: Arc::default(),
    };
    (sender, gate)
}

/// Waits until the gate opens.
#[tool]
pub(crate) async fn wait(gate: &Gate) -> String {
    gate.started.fetch_add(1, Ordering::SeqCst);
    let mut open = gate.open.clone();
    let _ = open.wait_for(|open| *open).await;
    "done".to_owned()
}

/// Always fails.
#[tool]
fn broken() -> Result<String, ToolError> {
    Err(ToolError::new("the order store is down"))
}

fn agent() -> Agent<Gate> {
    Agent::<Gate>::builder("Worker")
        .tool(wait {})
        .tool(broken {})
        .build()
        .unwrap()
}

/// Two turns: the gated tool, then the answer.
fn two_turns() -> MockModel {
    MockModel::script([
        Step::tool_calls([call(wait {}, json!({}))]),
        Step::text("finished"),
    ])
}

async fn until(handle: &RunHandle<String>, status: RunStatus) {
    let mut changes = handle.status_changes();
    tokio::time::timeout(Duration::from_secs(5), changes.wait_for(|s| *s == status))
        .await
        .unwrap_or_else(|_| panic!("status {status:?} not reached; now {:?}", handle.status()))
        .unwrap();
}

/// A started two-turn run that may be stopped before its script is used up.
fn stoppable(gate: &Gate) -> (MockModel, RunHandle<String>) {
    let model = two_turns();
    model.allow_unused_steps();
    let handle = Runner::new(model.clone())
        .run(&agent(), gate.clone(), "go")
        .start();
    (model, handle)
}

async fn until_started(gate: &Gate, calls: u32) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while gate.started.load(Ordering::SeqCst) < calls {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the tool did not start");
}

/// The partial run of a run that ended cancelled; panics on any other end.
async fn cancelled(handle: RunHandle<String>) -> Box<PartialRun> {
    match handle.result().await {
        Err(RunError::Cancelled { partial }) => partial,
        other => panic!("expected a cancelled run, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pause_during_tool_calls_lands_at_the_turn_boundary_and_resume_finishes() {
    let (open, gate) = gate();
    let model = two_turns();
    let handle = Runner::new(model.clone())
        .run(&agent(), gate.clone(), "go")
        .start();
    until_started(&gate, 1).await;
    assert_eq!(handle.status(), RunStatus::Running);
    handle.pause().unwrap();
    // The turn in flight finishes: the tool is released, then the run waits.
    open.send_replace(true);
    until(&handle, RunStatus::Paused).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(model.calls(), 1, "no model call while paused");
    assert_eq!(handle.status(), RunStatus::Paused);
    handle.pause().unwrap(); // pausing a paused run does nothing

    handle.resume().unwrap();
    let result = handle.result().await.unwrap();
    assert_eq!(result.final_output, "finished");
    assert_eq!(result.status, RunStatus::Completed);
    assert!(result.tolerated_failures().is_empty());
    model.assert_complete();
}

#[tokio::test]
async fn a_pause_before_the_first_turn_holds_the_first_model_call() {
    let (_open, gate) = gate();
    let model = MockModel::script([Step::text("hi")]);
    let runner = Runner::new(model.clone());
    let run = runner.run(&agent(), gate, "go");
    // Current-thread runtime: the task has not run yet.
    let handle = run.start();
    assert_eq!(handle.status(), RunStatus::Queued);
    handle.pause().unwrap();
    until(&handle, RunStatus::Paused).await;
    assert_eq!(model.calls(), 0);
    handle.resume().unwrap();
    assert_eq!(handle.result().await.unwrap().final_output, "hi");
}

#[tokio::test]
async fn cancel_during_tool_calls_stops_at_once_and_keeps_the_items() {
    let (_open, gate) = gate();
    let (model, handle) = stoppable(&gate);
    until_started(&gate, 1).await;
    handle.cancel();
    handle.cancel(); // twice does nothing more
    let mut status = handle.status_changes();
    let partial = cancelled(handle).await;
    assert_eq!(*status.borrow_and_update(), RunStatus::Cancelled);
    assert!(matches!(&*partial.new_items[0].item, Item::ToolCall(call) if call.name == "wait"));
    assert_eq!(model.calls(), 1);
}

#[tokio::test]
async fn a_started_run_stops_when_the_token_it_was_given_is_cancelled() {
    let (_open, gate) = gate();
    let model = two_turns();
    model.allow_unused_steps();
    let token = CancellationToken::new();
    let handle = Runner::new(model.clone())
        .run(&agent(), gate.clone(), "go")
        .cancellation_token(token.clone())
        .start();
    until_started(&gate, 1).await;
    token.cancel();
    cancelled(handle).await;
    assert_eq!(model.calls(), 1);
}

#[tokio::test]
async fn a_cancel_outranks_an_interrupt_asked_before_the_run_saw_it() {
    let (_open, gate) = gate();
    let (model, handle) = stoppable(&gate);
    // Current-thread runtime: the run has not been polled yet.
    handle.cancel();
    handle.interrupt();
    cancelled(handle).await;
    assert_eq!(model.calls(), 0);
}

#[tokio::test]
async fn cancel_after_turn_finishes_the_turn_then_stops() {
    let (open, gate) = gate();
    let (model, handle) = stoppable(&gate);
    until_started(&gate, 1).await;
    handle.cancel_after_turn();
    open.send_replace(true);
    let partial = cancelled(handle).await;
    // The turn finished: the call has its output; no second model call.
    assert!(matches!(&*partial.new_items[1].item, Item::ToolOutput(o) if o.output == "done"));
    assert_eq!(model.calls(), 1);
}

#[tokio::test]
async fn a_paused_run_can_be_cancelled() {
    let (open, gate) = gate();
    let (_model, handle) = stoppable(&gate);
    handle.pause().unwrap();
    open.send_replace(true);
    until(&handle, RunStatus::Paused).await;
    handle.cancel_after_turn();
    cancelled(handle).await;
}

#[tokio::test]
async fn requests_after_the_end_are_typed_errors_or_no_ops() {
    let (_open, gate) = gate();
    let model = MockModel::script([Step::text("done")]);
    let handle = Runner::new(model).run(&agent(), gate, "go").start();
    until(&handle, RunStatus::Completed).await;
    assert_eq!(
        handle.pause(),
        Err(ControlError::Ended(RunStatus::Completed))
    );
    assert_eq!(
        handle.resume(),
        Err(ControlError::Ended(RunStatus::Completed))
    );
    handle.cancel();
    handle.cancel_after_turn();
    let mut late = handle.events();
    let result = handle.result().await.unwrap();
    assert_eq!(result.status, RunStatus::Completed);
    assert!(
        late.recv().await.is_err(),
        "a late subscriber receives nothing"
    );
}

#[tokio::test]
async fn resume_of_a_run_that_is_not_paused_is_an_error() {
    let (open, gate) = gate();
    let handle = Runner::new(two_turns())
        .run(&agent(), gate.clone(), "go")
        .start();
    until_started(&gate, 1).await;
    assert_eq!(handle.resume(), Err(ControlError::NotPaused));
    open.send_replace(true);
    assert_eq!(handle.result().await.unwrap().status, RunStatus::Completed);
}

#[tokio::test]
async fn subscribers_receive_the_runs_events() {
    let (open, gate) = gate();
    open.send_replace(true);
    let handle = Runner::new(two_turns()).run(&agent(), gate, "go").start();
    let mut first = handle.events();
    let mut second = handle.events();
    handle.result().await.unwrap();
    let mut kinds = Vec::new();
    while let Ok(event) = first.recv().await {
        kinds.push(match event {
            RunEvent::TurnStarted { .. } => "turn",
            RunEvent::ToolCallStarted { .. } => "call",
            RunEvent::ToolOutput { .. } => "output",
            RunEvent::TextDelta { .. } => "text",
            RunEvent::Usage { .. } => "usage",
            RunEvent::ItemCreated { .. } => "item",
            RunEvent::RunFinished { .. } => "finished",
            _ => "other",
        });
    }
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "turn", "call", "other", "usage", "item", "output", "turn", "text", "usage", "item",
            "finished"
        ]
    );
    let mut count = 0;
    while second.recv().await.is_ok() {
        count += 1;
    }
    assert!(count >= kinds.len());
}

#[tokio::test]
async fn a_subscriber_receives_the_events_sent_before_the_run_waits() {
    let (open, gate) = gate();
    let (handle, mut events) = Runner::new(two_turns())
        .run(&agent(), gate.clone(), "go")
        .start_with_events();
    // The run is held in its tool: what it sent before is published.
    let mut seen = Vec::new();
    while !matches!(seen.last(), Some(RunEvent::ToolCallStarted { .. })) {
        let event = tokio::select! {
            biased;
            () = tokio::time::sleep(Duration::from_secs(5)) => {
                panic!("the events before the tool did not arrive while it runs: {seen:?}")
            }
            event = events.recv() => event.unwrap(),
        };
        seen.push(event);
    }
    assert!(matches!(seen[0], RunEvent::TurnStarted { turn: 1, .. }));
    assert_eq!(gate.started.load(Ordering::SeqCst), 1);
    assert_eq!(handle.status(), RunStatus::Running);
    open.send_replace(true);
    handle.result().await.unwrap();
    let mut rest = 0;
    while events.recv().await.is_ok() {
        rest += 1;
    }
    assert!(rest > 0, "the second turn's events follow");
}

/// Needs a person's approval.
#[tool(needs_approval)]
fn refund() -> String {
    "refunded".to_owned()
}

/// A started run whose first turn waits for a person's approval.
fn approval_run() -> RunHandle<String> {
    let agent = Agent::<()>::builder("Billing")
        .tool(refund {})
        .build()
        .unwrap();
    let model = MockModel::script([Step::tool_calls([call(refund {}, json!({}))])]);
    Runner::new(model).run(&agent, (), "refund").start()
}

#[tokio::test]
async fn a_run_waiting_for_approval_says_so() {
    let handle = approval_run();
    let status = handle.status_changes();
    let error = handle.result().await.unwrap_err();
    assert!(matches!(error, RunError::ApprovalRequired { .. }));
    assert_eq!(*status.borrow(), RunStatus::WaitingForApproval);
    assert_eq!(RunStatus::of_error(&error), RunStatus::WaitingForApproval);
}

#[tokio::test]
async fn a_run_that_went_on_after_a_tool_error_is_degraded_and_lists_it() {
    let (_open, gate) = gate();
    let model = MockModel::script([
        Step::tool_calls([call(broken {}, json!({}))]),
        Step::text("The order store is down; try again later."),
    ]);
    let result = Runner::new(model)
        .run(&agent(), gate, "where is my order")
        .await
        .unwrap();
    assert_eq!(result.status, RunStatus::Degraded);
    insta::assert_debug_snapshot!(result.tolerated_failures());
}

#[tokio::test]
async fn a_max_turns_fallback_is_degraded() {
    let (open, gate) = gate();
    open.send_replace(true);
    let model = MockModel::script([Step::tool_calls([call(wait {}, json!({}))])]);
    let result = Runner::new(model)
        .run(&agent(), gate, "go")
        .max_turns(1)
        .on_max_turns(|_| {
            Some(agents_core::run::MaxTurnsFallback::new(
                "gave up".to_owned(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(result.status, RunStatus::Degraded);
    assert_eq!(
        result.tolerated_failures(),
        [ToleratedFailure::MaxTurnsFallback { turns: 1 }]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_paused_runs_all_resume_and_complete() {
    let (open, gate) = gate();
    // Each run has its own scripted model.
    let handles: Vec<RunHandle<String>> = (0..1000)
        .map(|_| {
            Runner::new(two_turns())
                .run(&agent(), gate.clone(), "go")
                .start()
        })
        .collect();
    until_started(&gate, 1000).await;
    for handle in &handles {
        handle.pause().unwrap();
    }
    open.send_replace(true);
    for handle in &handles {
        until(handle, RunStatus::Paused).await;
    }
    for handle in &handles {
        handle.resume().unwrap();
    }
    for handle in handles {
        let result = handle.result().await.unwrap();
        assert_eq!(result.final_output, "finished");
    }
}

#[test]
fn run_blocking_runs_from_synchronous_code() {
    let (open, gate) = gate();
    open.send_replace(true);
    let result = Runner::new(two_turns())
        .run(&agent(), gate, "go")
        .run_blocking()
        .unwrap();
    assert_eq!(result.final_output, "finished");
    assert_eq!(result.tool_executions.len(), 1);
}

#[tokio::test]
async fn run_blocking_refuses_inside_a_runtime() {
    let (_open, gate) = gate();
    let model = two_turns();
    model.allow_unused_steps();
    let run = Runner::new(model.clone()).run(&agent(), gate, "go");
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.run_blocking()));
    let message = refused.expect_err("run_blocking inside a runtime must refuse");
    let message = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| message.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("`.await` the run instead"), "{message}");
    assert_eq!(model.calls(), 0);
}

#[tokio::test]
async fn a_run_that_fails_is_failed() {
    let (_open, gate) = gate();
    let model = MockModel::script([Step::error(agents_core::ModelError::Server {
        status: 500,
        message: "overloaded".to_owned(),
    })]);
    let handle = Runner::new(model).run(&agent(), gate, "go").start();
    let status = handle.status_changes();
    let error = handle.result().await.unwrap_err();
    assert!(matches!(error, RunError::Model { .. }), "{error:?}");
    assert_eq!(*status.borrow(), RunStatus::Failed);
}

#[tokio::test]
async fn requests_to_a_run_waiting_for_approval_say_it_has_ended() {
    let handle = approval_run();
    let mut status = handle.status_changes();
    status
        .wait_for(|s| *s == RunStatus::WaitingForApproval)
        .await
        .unwrap();
    let ended = Err(ControlError::Ended(RunStatus::WaitingForApproval));
    assert_eq!(handle.pause(), ended);
    assert_eq!(handle.resume(), ended);
    handle.cancel(); // does nothing: the state waits for its decisions
    let error = handle.result().await.unwrap_err();
    assert_eq!(error.pending_approvals().len(), 1);
}

/// A model that never answers.
struct Silent;

impl agents_core::Model for Silent {
    fn call(
        &self,
        _request: agents_core::ModelRequest,
    ) -> agents_core::model::BoxFuture<
        '_,
        Result<agents_core::ModelResponse, agents_core::ModelError>,
    > {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn cancel_during_a_model_call_drops_the_call() {
    let (_open, gate) = gate();
    let handle = Runner::new(Silent).run(&agent(), gate, "go").start();
    let mut status = handle.status_changes();
    status.wait_for(|s| *s == RunStatus::Running).await.unwrap();
    tokio::task::yield_now().await;
    handle.cancel();
    let partial = cancelled(handle).await;
    assert_eq!(partial.turns, 1);
    assert!(partial.new_items.is_empty());
}
