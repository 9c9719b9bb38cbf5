//! The tests' MCP server over stdio (`mcp-test-server`): what the stdio
//! transport and the child-process cleanup tests start.

#[path = "server.rs"]
mod server;

use rmcp::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Ok(running) = server::TestServer::default()
        .serve(rmcp::transport::stdio())
        .await
    else {
        std::process::exit(1);
    };
    let _ = running.waiting().await;
}
