//! The wire benchmark's workload on rig 0.44, against the same fake server
//! (`cargo run --release --example bench_wire -- serve`): three-turn runs
//! (two parallel `lookup_order` calls, one call, a final text) through
//! rig's OpenAI Chat Completions client and its agent loop, streamed or
//! not, at concurrency 1 and 100; prints the same JSON lines as
//! `bench_wire` (client CPU per turn from this process's CPU-time clock).
//!
//! ```text
//! cargo run --release -- --url http://127.0.0.1:8090/v1 [--quick]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rig_agent::agent::MultiTurnStreamItem;
use rig_agent::{Agent, AgentBuilder};
use rig_core::providers::openai::OpenAIConfig;
use rig_core::tool::{Tool, ToolContext};
use serde::Deserialize;

type Error = Box<dyn std::error::Error + Send + Sync>;

const QUESTION: &str = "Where are A-1, A-2 and A-3?";

/// Look up an order.
struct LookupOrder;

#[derive(Deserialize)]
struct LookupArgs {
    order_id: String,
}

impl Tool for LookupOrder {
    const NAME: &'static str = "lookup_order";
    type Args = LookupArgs;
    type Output = String;
    type Error = std::convert::Infallible;

    fn description(&self) -> String {
        "Look up an order.".to_owned()
    }

    fn parameters(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        })
    }

    async fn call(
        &self,
        _context: &mut ToolContext,
        args: LookupArgs,
    ) -> Result<String, std::convert::Infallible> {
        Ok(format!("{}: shipped", args.order_id))
    }
}

fn agent(url: &str) -> Agent {
    let model = OpenAIConfig::new("bench")
        .with_base_url(url)
        .client()
        .chat("gpt-4o-mini");
    AgentBuilder::new(model)
        .preamble("You look orders up.")
        .tool(LookupOrder)
        .default_max_turns(8)
        .build()
}

async fn one(clerk: &Agent, stream: bool) -> Result<(), Error> {
    if stream {
        let mut events = clerk.prompt(QUESTION).stream();
        let mut output = None;
        while let Some(event) = events.next().await {
            if let MultiTurnStreamItem::FinalResponse(response) = event? {
                output = Some(response.output().to_string());
            }
        }
        if !output
            .as_deref()
            .is_some_and(|output| output.contains("A-3"))
        {
            return Err(format!("unexpected final output: {output:?}").into());
        }
    } else {
        let response = clerk.prompt(QUESTION).run().await?;
        let output = response.output().to_string();
        if !output.contains("A-3") {
            return Err(format!("unexpected final output: {output}").into());
        }
    }
    Ok(())
}

fn cpu_time() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn measure(
    clerk: Arc<Agent>,
    stream: bool,
    concurrency: usize,
    runs: usize,
) -> Result<String, Error> {
    let cpu = cpu_time();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let clerk = Arc::clone(&clerk);
        let mine = runs / concurrency + usize::from(task < runs % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(mine);
            for _ in 0..mine {
                let run = Instant::now();
                one(&clerk, stream).await?;
                times.push(run.elapsed());
            }
            Ok::<_, Error>(times)
        }));
    }
    let mut times = Vec::with_capacity(runs);
    for task in tasks {
        times.extend(task.await??);
    }
    let wall = started.elapsed();
    let cpu = cpu_time().saturating_sub(cpu);
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Ok(format!(
        "{{\"client\":\"rig\",\"api\":\"chat\",\"stream\":{stream},\"concurrency\":{concurrency},\"runs\":{runs},\"cpu_us_per_turn\":{:.1},\"runs_per_s\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"peak_rss_mb\":{:.1}}}",
        cpu.as_secs_f64() * 1e6 / (runs * 3) as f64,
        runs as f64 / wall.as_secs_f64(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        peak_rss_mb(),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .iter()
        .position(|a| a == "--url")
        .and_then(|at| args.get(at + 1))
        .ok_or("usage: bench-wire-rig --url http://127.0.0.1:PORT/v1 [--quick]")?;
    let quick = args.iter().any(|a| a == "--quick");
    let clerk = Arc::new(agent(url));
    one(&clerk, false).await?; // warm up: the connection
    for stream in [false, true] {
        for concurrency in [1, 100] {
            let runs = match (concurrency, quick) {
                (1, false) => 500,
                (1, true) => 50,
                (_, false) => 5_000,
                (_, true) => 500,
            };
            println!(
                "{}",
                measure(Arc::clone(&clerk), stream, concurrency, runs).await?
            );
        }
    }
    Ok(())
}
