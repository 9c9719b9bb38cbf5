//! Runner benchmark on the scripted mock model: one JSON line per
//! configuration. `cargo run --release --example bench` (or
//! `scripts/bench.sh`, which also runs the Python SDK peer).
//!
//! Workload, per run: turn 1 Triage calls `lookup_order` and `get_weather`
//! in parallel; turn 2 Triage hands off to Billing; turn 3 Billing calls
//! `refund`; turn 4 Billing answers with text.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::watch;

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call};
use futures::StreamExt;
use serde_json::json;

/// `--features mimalloc`: mimalloc as the global allocator, to measure
/// what another allocator buys.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The run context: a gate that holds every run at its first tool call
/// until all runs of a batch are in flight (open: no wait).
#[derive(Clone)]
struct Gate {
    open: watch::Receiver<bool>,
    arrived: Arc<AtomicU64>,
}

impl Gate {
    fn open() -> Self {
        let (_sender, open) = watch::channel(true);
        Gate {
            open,
            arrived: Arc::default(),
        }
    }
}

/// Look up an order by its id.
#[tool]
async fn lookup_order(gate: &Gate, order_id: String) -> String {
    gate.arrived.fetch_add(1, Ordering::SeqCst);
    let mut open = gate.open.clone();
    let _ = open.wait_for(|open| *open).await;
    format!("{order_id}: paid")
}

/// Current weather in a city.
#[tool]
fn get_weather(city: String) -> String {
    format!("sunny in {city}")
}

/// Refund part of an order. Amount in cents.
#[tool]
fn refund(order_id: String, amount_cents: u32) -> String {
    format!("refunded {amount_cents} on {order_id}")
}

#[agent(context = Gate, instructions = "Handle refunds.", tools = [refund])]
struct Billing;

#[derive(Handoffs)]
enum Route {
    Billing(Billing),
}

#[agent(context = Gate, instructions = "Route the customer.", tools = [lookup_order, get_weather], handoffs = Route)]
struct Triage;

const TURNS_PER_RUN: u64 = 4;

fn script() -> MockModel {
    MockModel::script([
        Step::tool_calls([
            call(lookup_order {}, json!({"order_id": "A-1001"})),
            call(get_weather {}, json!({"city": "Paris"})),
        ]),
        Step::handoff::<Billing>(),
        Step::tool_calls([call(
            refund {},
            json!({"order_id": "A-1001", "amount_cents": 2500}),
        )]),
        Step::text("Refunded 25.00."),
    ])
}

/// A one-turn script for the history-length configurations.
fn one_turn() -> MockModel {
    MockModel::script([Step::text("ok")])
}

/// How a sequential run is driven.
#[derive(Clone, Copy)]
enum Mode {
    /// Awaited.
    Plain,
    /// Started with a handle, its result awaited.
    Handle,
    /// Started with a handle, an event subscriber draining its events.
    Subscribed,
    /// Started with a handle, its events drained by the task awaiting it.
    SubscribedInline,
    /// Streamed (`run_streamed`), every event drained.
    Streamed,
}

async fn one_run(gate: Gate) {
    let result = Runner::new(script())
        .run(&Triage, gate, "I was charged twice")
        .await;
    assert!(result.is_ok());
}

async fn one_run_as(gate: Gate, mode: Mode) {
    let run = Runner::new(script()).run(&Triage, gate, "I was charged twice");
    match mode {
        Mode::Plain => assert!(run.await.is_ok()),
        Mode::Handle => assert!(run.start().result().await.is_ok()),
        Mode::Subscribed => {
            let (handle, mut events) = run.start_with_events();
            let drain = tokio::spawn(async move {
                let mut received = 0_u32;
                while events.recv().await.is_ok() {
                    received += 1;
                }
                received
            });
            assert!(handle.result().await.is_ok());
            assert!(drain.await.unwrap() > 0);
        }
        Mode::Streamed => {
            let mut stream = run.stream();
            let mut received = 0_u32;
            while stream.next().await.is_some() {
                received += 1;
            }
            assert!(stream.result().await.is_ok());
            assert!(received > 0);
        }
        Mode::SubscribedInline => {
            let (handle, mut events) = run.start_with_events();
            let drain = async move {
                let mut received = 0_u32;
                while events.recv().await.is_ok() {
                    received += 1;
                }
                received
            };
            let (result, received) = tokio::join!(handle.result(), drain);
            assert!(result.is_ok());
            assert!(received > 0);
        }
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(
    config: &str,
    runs: u64,
    concurrency: u64,
    turns_per_run: u64,
    seconds: f64,
    extra: serde_json::Value,
) {
    let turns = runs * turns_per_run;
    let mut line = json!({
        "impl": "agents-rs",
        "config": config,
        "runs": runs,
        "concurrency": concurrency,
        "seconds": (seconds * 1e6).round() / 1e6,
        "runs_per_s": (runs as f64 / seconds).round(),
        "turns_per_s": (turns as f64 / seconds).round(),
        "us_per_turn": (seconds * 1e6 / turns as f64 * 1000.0).round() / 1000.0,
        "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
    });
    if let (Some(line), serde_json::Value::Object(extra)) = (line.as_object_mut(), extra) {
        line.extend(extra);
    }
    println!("{line}");
}

/// Sequential runs: batches, the median batch reported.
async fn sequential(config: &str, mode: Mode, runs_per_batch: u64, batches: usize) {
    let gate = Gate::open();
    for _ in 0..200 {
        one_run_as(gate.clone(), mode).await;
    }
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..batches {
        let start = Instant::now();
        let cpu_start = cpu_time();
        for _ in 0..runs_per_batch {
            one_run_as(gate.clone(), mode).await;
        }
        times.push(start.elapsed().as_secs_f64());
        cpu.push((cpu_time() - cpu_start).as_secs_f64());
    }
    let turns = (runs_per_batch * TURNS_PER_RUN) as f64;
    let cpu_us_per_turn = median(cpu) * 1e6 / turns;
    report(
        config,
        runs_per_batch,
        1,
        TURNS_PER_RUN,
        median(times),
        json!({
            "batches": batches,
            "cpu_us_per_turn": (cpu_us_per_turn * 1000.0).round() / 1000.0,
        }),
    );
}

/// This process's CPU time so far (user and system, every thread: the
/// runtime's idle worker included), from the process CPU-time clock.
/// Steadier than wall time on a machine shared with other tenants.
fn cpu_time() -> std::time::Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    std::time::Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

/// `runs` runs in flight at once: every run is held at its first tool call
/// until all have reached it, then all finish.
async fn concurrent(runs: u64) {
    let (release, open) = watch::channel(false);
    let gate = Gate {
        open,
        arrived: Arc::default(),
    };
    let start = Instant::now();
    let handles: Vec<_> = (0..runs)
        .map(|_| tokio::spawn(one_run(gate.clone())))
        .collect();
    while gate.arrived.load(Ordering::SeqCst) < runs {
        tokio::task::yield_now().await;
    }
    let in_flight = gate.arrived.load(Ordering::SeqCst);
    let _ = release.send(true);
    for handle in handles {
        handle.await.unwrap();
    }
    report(
        "concurrent",
        runs,
        runs,
        TURNS_PER_RUN,
        start.elapsed().as_secs_f64(),
        json!({"in_flight_at_once": in_flight}),
    );
}

/// One turn with `history` items already in the conversation.
async fn history(length: usize, runs: u64, batches: usize) {
    let agent = Billing.as_agent();
    let items: Vec<std::sync::Arc<Item>> = (0..length)
        .map(|i| {
            std::sync::Arc::new(if i % 2 == 0 {
                Item::user(format!("question {i}"))
            } else {
                Item::assistant(format!("answer {i}"))
            })
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..batches {
        let start = Instant::now();
        for _ in 0..runs {
            let result = Runner::new(one_turn())
                .run(&agent, Gate::open(), items.clone())
                .await;
            assert!(result.is_ok());
        }
        times.push(start.elapsed().as_secs_f64());
    }
    report(
        &format!("history_{length}"),
        runs,
        1,
        1,
        median(times),
        json!({"history_items": length, "batches": batches}),
    );
}

/// Long-lived agents: `agents` idle agents alive in one runtime (memory
/// per agent, time to spawn and to shut down all), then each answering one
/// message at once (messages/s).
async fn runtime_agents(agents: usize) {
    use agents_core::runtime::{AgentEvent, AgentRuntime};

    let rss_before = current_rss_mb();
    let model = MockModel::script((0..agents).map(|_| Step::text("ok")));
    let runtime = AgentRuntime::new(Runner::new(model));
    let agent = Billing.as_agent();
    let start = Instant::now();
    let handles: Vec<_> = (0..agents)
        .map(|i| {
            runtime
                .spawn(format!("agent-{i}"), &agent, Gate::open())
                .unwrap()
        })
        .collect();
    let spawn_s = start.elapsed().as_secs_f64();
    let rss_idle = current_rss_mb();
    let mut subscribers: Vec<_> = handles.iter().map(|h| h.subscribe()).collect();
    let start = Instant::now();
    for handle in &handles {
        handle.send("hello").unwrap();
    }
    for events in &mut subscribers {
        while !matches!(events.recv().await, Ok(AgentEvent::Answered { .. })) {}
    }
    let answer_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let ended = runtime.shutdown_all().await;
    assert_eq!(ended.len(), agents);
    let shutdown_s = start.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "impl": "agents-rs",
            "config": "runtime_agents",
            "agents": agents,
            "spawn_all_ms": (spawn_s * 1e4).round() / 10.0,
            "kb_per_idle_agent": ((rss_idle - rss_before) * 1024.0 / agents as f64 * 10.0).round() / 10.0,
            "messages_per_s": (agents as f64 / answer_s).round(),
            "shutdown_all_ms": (shutdown_s * 1e4).round() / 10.0,
            "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
        })
    );
}

/// The process's resident set now (`VmRSS`), in MB.
fn current_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    // `--only CONFIG`: that configuration alone (for profiling one).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let wanted = |config: &str| only.as_deref().is_none_or(|only| only == config);
    // On a worker, as a server's request handler would be: a handle's task
    // then starts on the same worker.
    for (config, mode) in [
        ("sequential", Mode::Plain),
        ("sequential_handle", Mode::Handle),
        ("sequential_streamed", Mode::Streamed),
        ("sequential_subscribed", Mode::Subscribed),
        ("sequential_subscribed_inline", Mode::SubscribedInline),
    ] {
        if wanted(config) {
            tokio::spawn(sequential(config, mode, 20_000 / scale, 7))
                .await
                .unwrap();
        }
    }
    for length in [10, 100, 1000] {
        if wanted(&format!("history_{length}")) {
            history(length, 20_000 / scale / (1 + length as u64 / 100), 5).await;
        }
    }
    if wanted("runtime_agents") {
        runtime_agents(10_000 / scale as usize).await;
    }
    // Last: its peak RSS is the process's peak.
    if wanted("concurrent") {
        concurrent(10_000).await;
    }
}
