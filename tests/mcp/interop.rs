//! Interop with an MCP server nobody here wrote: the reference
//! `@modelcontextprotocol/server-everything` from npm, over stdio.
//! `scripts/mcp-server.sh install` installs it into a cache outside the
//! repository and prints the path of its entry point; CI runs these tests
//! with that path in `AGENTS_MCP_EVERYTHING`:
//!
//! ```sh
//! AGENTS_MCP_EVERYTHING="$(scripts/mcp-server.sh install | tail -1)" \
//!     cargo test -p agents-tests --test mcp -- --ignored
//! ```
//!
//! Ignored in the plain test command; run without the variable they fail,
//! never pass unrun.

use agents_core::mcp::McpServer;
use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call_named};
use serde_json::json;

fn everything() -> McpServer {
    let entry = std::env::var("AGENTS_MCP_EVERYTHING").expect(
        "AGENTS_MCP_EVERYTHING names server-everything's dist/index.js \
         (scripts/mcp-server.sh install prints it)",
    );
    let mut command = tokio::process::Command::new("node");
    command.arg(entry).arg("stdio");
    McpServer::stdio("everything", command)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs server-everything: scripts/mcp-server.sh install"]
async fn server_everything_lists_its_tools_and_answers_two_calls() {
    let server = everything();
    let tools = server.tools().await.expect("lists the tools");
    let mut names: Vec<&str> = tools.iter().map(|tool| tool.remote_name()).collect();
    names.sort_unstable();
    println!("server-everything: {} tools: {names:?}", tools.len());
    for tool in &tools {
        if let Some(why) = tool.strict_error() {
            println!("not strict: {}: {why}", tool.remote_name());
        }
    }
    assert!(names.contains(&"echo"), "{names:?}");
    assert!(names.contains(&"get-sum"), "{names:?}");
    let agent: Agent<()> = Agent::builder("Interop")
        .tools(tools)
        .build()
        .expect("its tools make an agent");
    let model = MockModel::script([
        Step::tool_calls([
            call_named("echo", json!({"message": "hello from Rust"})),
            call_named("get-sum", json!({"a": 19, "b": 23})),
        ]),
        Step::text("done"),
    ]);
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();
    let outputs = super::outputs(&result);
    println!("outputs: {outputs:?}");
    assert!(
        result.tool_executions.iter().all(|r| r.succeeded()),
        "{outputs:?}"
    );
    assert!(outputs[0].contains("hello from Rust"), "{outputs:?}");
    assert!(outputs[1].contains("42"), "{outputs:?}");
    server.close().await;
}
