//! What a durable run costs per turn: the same three-turn run (a tool
//! call, another, a final answer; the model is an instant stand-in) made
//! in process and as a Temporal workflow on a dev server, one run at a
//! time; medians of each, and the extra per turn.
//!
//! ```text
//! scripts/temporal.sh start
//! cargo run --release --example bench_durable -- --address 127.0.0.1:7239 [--runs 100]
//! ```

use std::time::{Duration, Instant};

use agents_core::model::{BoxFuture, BoxStream, ModelStreamEvent};
use agents_core::prelude::*;
use agents_core::temporal::{DurableAgents, DurableClient, DurableWorker, StartRun};
use agents_core::{Item, Model, ModelError, ModelRequest, ModelResponse};
use agents_testing::{MockModel, Step, call};
use serde_json::json;

type Error = Box<dyn std::error::Error>;

/// Look up an order.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: shipped")
}

#[agent(instructions = "Look orders up.", tools = [lookup_order])]
struct Clerk;

/// Two tool calls, then an answer, decided from the request.
struct ThreeTurns(MockModel);

fn answer(request: &ModelRequest) -> Step {
    let outputs = request
        .input
        .iter()
        .filter(|item| matches!(***item, Item::ToolOutput(_)))
        .count();
    if outputs < 2 {
        Step::tool_calls([call(
            lookup_order {},
            json!({"order_id": format!("A-{outputs}")}),
        )])
    } else {
        Step::text("Both orders shipped.")
    }
}

impl Model for ThreeTurns {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        self.0.push([Step::respond(answer)]);
        self.0.call(request)
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        self.0.push([Step::respond(answer)]);
        self.0.stream(request)
    }
}

fn runner() -> Runner<()> {
    Runner::new(ThreeTurns(MockModel::script([])))
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|at| args.get(at + 1).cloned())
    };
    let address = value("--address")
        .or_else(|| std::env::var("AGENTS_TEMPORAL_ADDRESS").ok())
        .ok_or("give the Temporal server: --address HOST:PORT")?;
    let runs: usize = value("--runs").map_or(Ok(100), |n| n.parse())?;

    // In process.
    let local = runner();
    let mut in_process = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let result = local.run(&Clerk, (), "Where are A-0 and A-1?").await?;
        in_process.push(started.elapsed());
        assert_eq!(result.turns, 3);
    }

    // As workflows, the worker in this process.
    let queue = format!("bench-durable-{}", std::process::id());
    let agents = DurableAgents::new(runner(), |_| ()).agent(&Clerk::agent());
    let mut worker = DurableWorker::connect(&address, "default", &queue, agents).await?;
    let stop = worker.shutdown_handle();
    let client = DurableClient::connect(&address, "default", &queue).await?;
    let measure = async {
        let mut durable = Vec::with_capacity(runs);
        for n in 0..runs {
            let started = Instant::now();
            let run = client
                .start(
                    format!("{queue}-{n}"),
                    StartRun::new("Clerk", "Where are A-0 and A-1?"),
                )
                .await?;
            let outcome = run.outcome().await?;
            durable.push(started.elapsed());
            assert_eq!(outcome.turns, 3, "{outcome:?}");
        }
        stop();
        Ok::<_, Error>(durable)
    };
    let (served, durable) = tokio::join!(worker.run(), measure);
    served?;
    let mut durable = durable?;

    let local = median(&mut in_process);
    let remote = median(&mut durable);
    println!("three-turn run, {runs} runs each, one at a time (medians):");
    println!(
        "  in process:           {:>10.3} ms",
        local.as_secs_f64() * 1e3
    );
    println!(
        "  durable (Temporal):   {:>10.3} ms",
        remote.as_secs_f64() * 1e3
    );
    println!(
        "  extra per turn:       {:>10.3} ms",
        (remote.saturating_sub(local)).as_secs_f64() * 1e3 / 3.0
    );
    println!(
        "  durable p90:          {:>10.3} ms",
        durable[durable.len() * 9 / 10].as_secs_f64() * 1e3
    );
    Ok(())
}
