//! The support desk as a durable run on Temporal: the refund waits for a
//! supervisor in the workflow (no process holds it), the worker can die
//! and be replaced, and nothing runs twice.
//!
//! ```text
//! scripts/temporal.sh start        # prints 127.0.0.1:7239
//! cargo run --example durable_desk -- --address 127.0.0.1:7239
//!     the demo: start a worker process, start the run, kill the worker
//!     while the refund waits, start another, approve, print the result
//! cargo run --example durable_desk -- --address ADDR worker
//! cargo run --example durable_desk -- --address ADDR start ID "question"
//! cargo run --example durable_desk -- --address ADDR status ID
//! cargo run --example durable_desk -- --address ADDR approve ID
//! cargo run --example durable_desk -- --address ADDR result ID
//! ```
//!
//! The model is the offline stand-in of the desk's chat modes (it answers
//! from the request); the agents, tools and approval policy are the
//! desk's own.

// The desk's guided settings are for its single runs, not used here.
#[allow(dead_code)]
#[path = "../support_desk/desk.rs"]
mod desk;
#[path = "../support_desk/offline.rs"]
mod offline;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use agents_core::policy::RulePolicy;
use agents_core::prelude::*;
use agents_core::run::RunStatus;
use agents_core::temporal::{
    DurableAgents, DurableClient, DurableRun, DurableStatus, DurableWorker, StartRun,
};

use desk::{Reply, Shop, Triage};

type Error = Box<dyn std::error::Error>;

const TASK_QUEUE: &str = "support-desk";
const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/support_desk/policy.json");
const QUESTION: &str = "I was charged twice for A-1001";

/// The desk's agents for a worker: the stand-in model, the desk's policy
/// (refunds need a supervisor), the shop built from the run's seed (the
/// customer's question names the open order).
fn agents() -> Result<DurableAgents<Shop>, Error> {
    let runner = Runner::new(offline::DeskModel::new()).policy(RulePolicy::from_file(POLICY)?);
    Ok(DurableAgents::new(runner, |seed| {
        Shop::demo(seed.seed.as_str().unwrap_or_default())
    })
    .agent(&Triage::agent()))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let address = match args.iter().position(|a| a == "--address") {
        Some(at) if at + 1 < args.len() => {
            let address = args.remove(at + 1);
            args.remove(at);
            address
        }
        _ => std::env::var("AGENTS_TEMPORAL_ADDRESS").map_err(|_| {
            "give the Temporal server: --address HOST:PORT (scripts/temporal.sh start prints one)"
        })?,
    };
    let client = || DurableClient::connect(&address, "default", TASK_QUEUE);
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["demo"] => demo(&address).await,
        ["worker"] => {
            let mut worker = DurableWorker::connect(&address, "default", TASK_QUEUE, agents()?).await?;
            println!("worker serving task queue {TASK_QUEUE}");
            worker.run().await?;
            Ok(())
        }
        ["start", id, question] => {
            let run = client().await?.start(*id, start(question)).await?;
            println!("started {}", run.id());
            Ok(())
        }
        ["status", id] => {
            print_status(&client().await?.run(*id).status().await?);
            Ok(())
        }
        ["approve", id] => {
            let run = client().await?.run(*id);
            for call in run.status().await?.pending {
                run.approve(&call.call_id).await?;
                println!("approved {}({})", call.tool, call.arguments);
            }
            Ok(())
        }
        ["result", id] => {
            let reply: Reply = client().await?.run(*id).result().await?;
            println!("{reply}");
            Ok(())
        }
        _ => Err("usage: durable_desk [--address HOST:PORT] [demo | worker | start ID QUESTION | status ID | approve ID | result ID]".into()),
    }
}

fn start(question: &str) -> StartRun {
    StartRun::new("Triage", question).seed(serde_json::json!(question))
}

fn print_status(status: &DurableStatus) {
    println!("  status {:?} after {} turns", status.status, status.turns);
    for call in &status.pending {
        println!(
            "  waiting: {} wants {}({})",
            call.agent, call.tool, call.arguments
        );
    }
}

/// This program as a worker, in a process of its own.
fn worker(address: &str) -> Result<Child, Error> {
    Ok(Command::new(std::env::current_exe()?)
        .args(["--address", address, "worker"])
        .stdout(std::process::Stdio::null())
        .spawn()?)
}

async fn wait_for(run: &DurableRun, status: RunStatus) -> Result<DurableStatus, Error> {
    let started = Instant::now();
    loop {
        if let Ok(now) = run.status().await
            && now.status == status
        {
            return Ok(now);
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("the run did not reach {status:?} in 60 s").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn demo(address: &str) -> Result<(), Error> {
    let mut first = worker(address)?;
    println!("1. worker process {} started", first.id());
    let client = DurableClient::connect(address, "default", TASK_QUEUE).await?;
    let id = format!("desk-{}", std::process::id());
    let run = client.start(&id, start(QUESTION)).await?;
    println!("2. run {id} started: {QUESTION:?}");
    let waiting = wait_for(&run, RunStatus::WaitingForApproval).await?;
    print_status(&waiting);

    first.kill()?;
    first.wait()?;
    println!("3. worker killed while the refund waits; the run lives in Temporal");
    let mut second = worker(address)?;
    println!("4. worker process {} started", second.id());

    let started = Instant::now();
    for call in &waiting.pending {
        // The decision reaches the run once the new worker holds it.
        while let Err(error) = run.approve(&call.call_id).await {
            if started.elapsed() > Duration::from_secs(60) {
                return Err(error.into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        println!("5. supervisor approved {}({})", call.tool, call.arguments);
    }
    let outcome = run.outcome().await?;
    second.kill()?;
    second.wait()?;
    let reply: Option<Reply> = outcome.output.map(serde_json::from_value).transpose()?;
    println!("6. {:?} after {} turns", outcome.status, outcome.turns);
    match reply {
        Some(reply) => println!("   {reply}"),
        None => println!("   no reply: {}", outcome.error.unwrap_or_default()),
    }
    for (tool, ok) in &outcome.tool_calls {
        println!("   tool {tool}: {}", if *ok { "ok" } else { "error" });
    }
    let history = run.history_json().await?;
    let events = serde_json::from_slice::<serde_json::Value>(&history)?["events"]
        .as_array()
        .map_or(0, Vec::len);
    println!(
        "7. its history: {events} events, {} bytes of JSON",
        history.len()
    );
    Ok(())
}
