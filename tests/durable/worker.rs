//! A durable worker in its own process, for the crash test: it serves
//! the durable tests' agents on a task queue until it is killed.
//!
//! `durable-test-worker ADDRESS TASK_QUEUE LOG`

#[path = "agents.rs"]
mod agents;

use agents_core::temporal::DurableWorker;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(queue), Some(log)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: durable-test-worker ADDRESS TASK_QUEUE LOG");
        std::process::exit(2);
    };
    let agents = agents::durable_agents(Some(log.into()));
    let mut worker = DurableWorker::connect(&address, "default", queue, agents).await?;
    worker.run().await?;
    Ok(())
}
