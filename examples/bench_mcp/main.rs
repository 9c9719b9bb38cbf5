//! What an MCP tool call costs against a `#[tool]`: the same two-turn run
//! (one `add` call, then a text answer) on the scripted mock model, with
//! the tool as a `#[tool]` function, as an MCP tool over an in-memory
//! duplex (the `rmcp` protocol, no process), and as an MCP tool of a child
//! process over stdio (this program, started with `--serve`). One JSON
//! line per configuration: the median batch's microseconds per run and per
//! tool call, and the extra per call against `#[tool]`.
//!
//! `cargo run --release --example bench_mcp` (`--quick`: a tenth of the runs).

#[path = "../../tests/mcp/server.rs"]
#[allow(dead_code, reason = "the tests' server, shared as is")]
mod server;

use std::time::Instant;

use agents_core::mcp::McpServer;
use agents_core::prelude::*;
use agents_testing::{MockModel, Step};
use rmcp::ServiceExt;
use serde_json::json;

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> String {
    json!({ "sum": a + b }).to_string()
}

fn script() -> MockModel {
    MockModel::script([
        Step::tool_call("add", json!({"a": 40, "b": 2})),
        Step::text("42"),
    ])
}

/// Runs `runs` runs of `agent` per batch, `batches` times; the median
/// batch's microseconds per run.
async fn measure(agent: &Agent<()>, runs: u32, batches: usize) -> f64 {
    for _ in 0..runs / 10 {
        Runner::new(script()).run(agent, (), "2+40?").await.unwrap();
    }
    let mut per_run = Vec::new();
    for _ in 0..batches {
        let start = Instant::now();
        for _ in 0..runs {
            let result = Runner::new(script()).run(agent, (), "2+40?").await.unwrap();
            assert_eq!(result.tool_executions[0].output().output, r#"{"sum":42}"#);
        }
        per_run.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(runs));
    }
    per_run.sort_by(f64::total_cmp);
    per_run[per_run.len() / 2]
}

fn report(config: &str, runs: u32, us_per_run: f64, baseline: f64) {
    println!(
        "{}",
        json!({
            "config": config,
            "runs": runs,
            "us_per_run": (us_per_run * 10.0).round() / 10.0,
            "extra_us_per_call_vs_tool": ((us_per_run - baseline) * 10.0).round() / 10.0,
        })
    );
}

async fn mcp_agent(server: &McpServer) -> Agent<()> {
    Agent::builder("Calculator")
        .tools(server.tools().await.expect("lists"))
        .build()
        .expect("builds")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        if let Ok(running) = server::TestServer::default()
            .serve(rmcp::transport::stdio())
            .await
        {
            let _ = running.waiting().await;
        }
        return;
    }
    let runs = if args.iter().any(|a| a == "--quick") {
        200
    } else {
        2_000
    };
    let batches = 5;

    let plain: Agent<()> = Agent::builder("Calculator").tool(add {}).build().unwrap();
    let baseline = measure(&plain, runs, batches).await;
    report("tool", runs, baseline, baseline);

    let (client, server_end) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server::TestServer::default().serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    let duplex = McpServer::serve("duplex", client)
        .await
        .unwrap()
        .allow(["add"]);
    let in_memory = measure(&mcp_agent(&duplex).await, runs, batches).await;
    report("mcp_duplex", runs, in_memory, baseline);

    let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
    command.arg("--serve");
    let stdio = McpServer::stdio("stdio", command).allow(["add"]);
    let child = measure(&mcp_agent(&stdio).await, runs, batches).await;
    report("mcp_stdio", runs, child, baseline);
    stdio.close().await;
}
