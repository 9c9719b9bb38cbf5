//! Durable runs against a real Temporal server (the dev server of
//! `scripts/temporal.sh`): `#[ignore]`d, run with `AGENTS_TEMPORAL_ADDRESS`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agents_core::run::RunStatus;
use agents_core::temporal::{DurableClient, DurableRun, DurableStatus, DurableWorker, StartRun};

use super::agents;

/// The server's address; a test asked to run without one fails.
fn address() -> String {
    std::env::var("AGENTS_TEMPORAL_ADDRESS").unwrap_or_else(|_| {
        panic!("set AGENTS_TEMPORAL_ADDRESS (scripts/temporal.sh start prints it)")
    })
}

/// A name no earlier run used: task queues and run ids are per test.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn temp_log(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}.log", unique(name)));
    let _ = std::fs::remove_file(&path);
    path
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Polls the run's status until `done` holds (30 s at most).
async fn until(run: &DurableRun, done: impl Fn(&DurableStatus) -> bool) -> DurableStatus {
    let started = Instant::now();
    loop {
        if let Ok(status) = run.status().await
            && done(&status)
        {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run did not get there in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Temporal server: AGENTS_TEMPORAL_ADDRESS"]
async fn a_run_waits_for_approval_then_completes() {
    let log = temp_log("durable-approval");
    with_worker(
        agents::durable_agents(Some(log.clone())),
        |client| async move {
            approve_and_check(&client, &log).await;
        },
    )
    .await;
}

async fn approve_and_check(client: &DurableClient, log: &Path) {
    let run = client
        .start(
            unique("refund"),
            StartRun::new("Triage", "I was charged twice for A-1001"),
        )
        .await
        .unwrap();
    let waiting = until(&run, |s| s.status == RunStatus::WaitingForApproval).await;
    let pending: Vec<&str> = waiting.pending.iter().map(|p| p.tool.as_str()).collect();
    assert_eq!(pending, ["refund"]);
    // Nothing runs while it waits; a decision for another call is refused.
    assert_eq!(
        lines(log)
            .iter()
            .filter(|l| l.starts_with("tool refund"))
            .count(),
        0
    );
    let refused = run.approve("call_nobody").await.unwrap_err();
    assert!(refused.to_string().contains("no pending call"), "{refused}");

    let call_id = waiting.pending[0].call_id.clone();
    assert_eq!(run.approve(&call_id).await.unwrap(), 0);
    let outcome = run.outcome().await.unwrap();
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
    assert_eq!(
        outcome.output,
        Some(serde_json::json!("Done: refunded 24900 cents on A-1001."))
    );
    // A client that knows only the id finds the run and its events.
    let again = client.run(run.id());
    let events = again.events(0).await.unwrap();
    assert!(events.len() > 4, "{events:?}");
    let logged = lines(log);
    let tools: Vec<&String> = logged.iter().filter(|l| l.starts_with("tool")).collect();
    assert_eq!(tools.len(), 2, "each tool once: {logged:?}");
    // Turn 3 made the refund call: its key, on every attempt.
    assert_eq!(*tools[1], format!("tool refund {}/3/{call_id}", run.id()));

    if let Ok(path) = std::env::var("AGENTS_TEMPORAL_RECORD") {
        std::fs::write(&path, run.history_json().await.unwrap()).unwrap();
    }
}

/// A worker in a process of its own, serving `queue` and logging to `log`.
fn worker_process(address: &str, queue: &str, log: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_durable-test-worker"))
        .args([address, queue])
        .arg(log)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the durable test worker starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Temporal server: AGENTS_TEMPORAL_ADDRESS"]
async fn a_killed_worker_is_replaced_and_nothing_runs_twice() {
    let address = address();
    let queue = unique("durable-crash");
    let log = temp_log("durable-crash");
    let mut first = worker_process(&address, &queue, &log);
    let client = DurableClient::connect(&address, "default", &queue)
        .await
        .unwrap();
    let run = client
        .start(
            unique("crash"),
            StartRun::new("Triage", "I was charged twice for A-1001"),
        )
        .await
        .unwrap();
    // The first tool ran and the run parked for the refund's approval:
    // the worker dies (SIGKILL: no clean shutdown).
    let waiting = until(&run, |s| s.status == RunStatus::WaitingForApproval).await;
    assert!(
        lines(&log)
            .iter()
            .any(|l| l.starts_with("tool lookup_order"))
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let before = lines(&log);

    let mut second = worker_process(&address, &queue, &log);
    let call_id = waiting.pending[0].call_id.clone();
    // The decision reaches the run once the new worker holds it.
    let started = Instant::now();
    while let Err(error) = run.approve(&call_id).await {
        assert!(started.elapsed() < Duration::from_secs(60), "{error}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let outcome = run.outcome().await.unwrap();
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");

    let all = lines(&log);
    let after = &all[before.len()..];
    let count =
        |lines: &[String], prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    // Each tool ran once over both workers.
    assert_eq!(count(&all, "tool lookup_order"), 1, "{all:#?}");
    assert_eq!(count(&all, "tool refund"), 1, "{all:#?}");
    // The first worker made the three model calls before the pause; the
    // second replayed them from the history and made only the one after
    // the approval.
    let model_calls = |lines: &[String]| {
        lines
            .iter()
            .filter(|l| l.starts_with("model") && l.ends_with("start"))
            .count()
    };
    assert_eq!(model_calls(&before), 3, "{before:#?}");
    assert_eq!(model_calls(after), 1, "{after:#?}");
}

/// Runs `body` with an in-process worker of `agents` on a new task queue
/// (the worker's future is not `Send`: it runs beside `body`).
async fn with_worker<F: std::future::Future<Output = ()>>(
    agents: agents_core::temporal::DurableAgents<agents::Desk>,
    body: impl FnOnce(DurableClient) -> F,
) {
    let address = address();
    let queue = unique("durable");
    let mut worker = DurableWorker::connect(&address, "default", &queue, agents)
        .await
        .unwrap();
    let stop = worker.shutdown_handle();
    let client = DurableClient::connect(&address, "default", &queue)
        .await
        .unwrap();
    let (served, ()) = tokio::join!(worker.run(), async {
        body(client).await;
        stop();
    });
    served.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Temporal server: AGENTS_TEMPORAL_ADDRESS"]
async fn an_approval_that_expires_is_a_rejection() {
    let log = temp_log("durable-expiry");
    let options =
        agents_core::temporal::DurableOptions::default().approval_timeout(Duration::from_secs(1));
    let agents = agents::durable_agents(Some(log.clone())).options(options);
    with_worker(agents, |client| async move {
        let run = client
            .start(unique("expiry"), StartRun::new("Triage", "charged twice"))
            .await
            .unwrap();
        // Nobody decides: the durable timer rejects the call.
        let outcome = run.outcome().await.unwrap();
        assert_eq!(
            outcome.output,
            Some(serde_json::json!(
                "No refund: The approval expired; the call was not made."
            )),
            "{outcome:?}"
        );
        assert!(!lines(&log).iter().any(|l| l.starts_with("tool refund")));
        let events = run.events(0).await.unwrap();
        assert!(events.iter().any(|e| matches!(
            e,
            agents_core::temporal::DurableEvent::Decided {
                approved: false,
                ..
            }
        )));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Temporal server: AGENTS_TEMPORAL_ADDRESS"]
async fn a_cancelled_run_ends_cancelled_without_running_the_refund() {
    let log = temp_log("durable-cancel");
    with_worker(
        agents::durable_agents(Some(log.clone())),
        |client| async move {
            let run = client
                .start(unique("cancel"), StartRun::new("Triage", "charged twice"))
                .await
                .unwrap();
            until(&run, |s| s.status == RunStatus::WaitingForApproval).await;
            run.cancel().await.unwrap();
            let outcome = run.outcome().await.unwrap();
            assert_eq!(outcome.status, RunStatus::Cancelled, "{outcome:?}");
            assert!(!lines(&log).iter().any(|l| l.starts_with("tool refund")));
            // A decision after the end is refused.
            assert!(run.approve("call_3").await.is_err());
        },
    )
    .await;
}
