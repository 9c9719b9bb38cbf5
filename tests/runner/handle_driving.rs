//! Who drives a started run: its own task until `result()` is awaited, the
//! awaiting task from then on, its own task again when that future is
//! dropped before the end. Whoever drives it, the run ends once, with the
//! same outcome.

use std::sync::atomic::Ordering;
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::run::RunStatus;
use agents_testing::{MockModel, Step, call};
use serde_json::json;
use tokio::sync::watch;

use super::handle::{Gate, gate, wait};

fn setup() -> (watch::Sender<bool>, Gate, Agent<Gate>, MockModel) {
    let (sender, gate) = gate();
    let agent = Agent::<Gate>::builder("Worker")
        .tool(wait {})
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call(wait {}, json!({}))]),
        Step::text("finished"),
    ]);
    (sender, gate, agent, model)
}

async fn until_started(gate: &Gate) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while gate.started.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the tool did not start");
}

#[tokio::test]
async fn a_run_nobody_awaits_proceeds_on_its_own_task_and_the_awaiter_takes_over() {
    let (open, gate, agent, model) = setup();
    let handle = Runner::new(model.clone())
        .run(&agent, gate.clone(), "go")
        .start();
    // Nobody awaits the result: the run reaches its tool on its own.
    until_started(&gate).await;
    assert_eq!(model.calls(), 1);
    open.send_replace(true);
    let result = handle.result().await.unwrap();
    assert_eq!(result.final_output, "finished");
    assert_eq!(result.status, RunStatus::Completed);
    model.assert_complete();
}

#[tokio::test]
async fn a_dropped_result_future_hands_the_run_back_to_a_task() {
    let (open, gate, agent, model) = setup();
    let handle = Runner::new(model.clone())
        .run(&agent, gate.clone(), "go")
        .start();
    let controls = handle.controls();
    let mut status = handle.status_changes();
    // The awaiter drives the run into its tool, then gives up.
    let waited = tokio::time::timeout(Duration::from_millis(30), handle.result()).await;
    assert!(waited.is_err(), "the tool is held: the run cannot end yet");
    assert_eq!(gate.started.load(Ordering::SeqCst), 1);
    assert_eq!(controls.status(), RunStatus::Running);
    // Nobody awaits it now; the run goes on when its tool is released.
    open.send_replace(true);
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| *s == RunStatus::Completed),
    )
    .await
    .expect("the run did not complete on its own")
    .unwrap();
    assert_eq!(model.calls(), 2);
    model.assert_complete();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_awaited_given_up_and_left_alone_on_two_workers_all_end_once() {
    let (open, gate, agent, unused) = setup();
    unused.allow_unused_steps();
    let mut watches = Vec::new();
    let mut awaited = Vec::new();
    for n in 0..300 {
        let model = MockModel::script([
            Step::tool_calls([call(wait {}, json!({}))]),
            Step::text(format!("run {n}")),
        ]);
        let handle = Runner::new(model.clone())
            .run(&agent, gate.clone(), "go")
            .start();
        watches.push((model, handle.status_changes()));
        match n % 3 {
            // Awaited on another task to the end.
            0 => awaited.push(tokio::spawn(async move { handle.result().await })),
            // Awaited, then given up while the tool holds it.
            1 => {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_millis(5), handle.result()).await;
                });
            }
            // Never awaited.
            _ => drop(handle),
        }
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    open.send_replace(true);
    for (n, task) in awaited.into_iter().enumerate() {
        let result = task.await.unwrap().unwrap();
        assert_eq!(result.final_output, format!("run {}", n * 3));
    }
    for (model, mut status) in watches {
        tokio::time::timeout(
            Duration::from_secs(10),
            status.wait_for(|s| s.is_terminal()),
        )
        .await
        .expect("a run never ended")
        .unwrap();
        assert_eq!(*status.borrow(), RunStatus::Completed);
        assert_eq!(model.calls(), 2, "each model call made once");
    }
}

#[tokio::test]
async fn a_panic_in_the_run_is_resumed_in_the_awaiter() {
    let agent: Agent<()> = Agent::builder("Worker").build().unwrap();
    let model = MockModel::script([Step::respond(|_| panic!("the model broke"))]);
    let handle = Runner::new(model).run(&agent, (), "go").start();
    let awaited = tokio::spawn(handle.result()).await;
    let panic = awaited.expect_err("the awaiter panicked").into_panic();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"the model broke"));
}
