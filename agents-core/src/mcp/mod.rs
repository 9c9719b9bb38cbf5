//! Tools from Model Context Protocol servers (feature `mcp`, on the
//! official Rust SDK, `rmcp`).
//!
//! An [`McpServer`] is a connection to one server: a child process spoken
//! to over stdio ([`McpServer::stdio`]), a server over streamable HTTP
//! ([`McpServer::http`]), or any `rmcp` transport already open
//! ([`McpServer::serve`], e.g. an in-memory duplex in tests). Its
//! [`tools`](McpServer::tools) are [`McpTool`]s: ordinary [`Tool`]s, so
//! everything that governs a tool governs them (approvals, policies, output
//! filters, tool guardrails, hooks, the per-tool timeout, execution records
//! and spans).
//!
//! ```
//! # #[cfg(feature = "macros")] {
//! use agents_core::mcp::McpServer;
//! use agents_core::prelude::*;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let mut command = tokio::process::Command::new("node");
//! command.arg("server.js");
//! let files = McpServer::stdio("files", command).with_prefix("files_");
//! let agent: Agent<()> = Agent::builder("Librarian")
//!     .instructions("Answer from the files.")
//!     .tools(files.tools().await?)
//!     .build()?;
//! # let _ = agent; Ok(()) }
//! # }
//! ```
//!
//! Lifecycle:
//!
//! - **Lazy**: a stdio or HTTP server is connected on the first
//!   [`tools`](McpServer::tools) or call ([`connect`](McpServer::connect)
//!   connects at once, to fail early).
//! - **Reconnect**: a call that finds the connection closed reconnects
//!   (three attempts, exponential backoff from 100 ms); a server that
//!   cannot be reached is an error output for that call
//!   ([`ToolError::Failed`] naming the server), and the run goes on.
//!   A server given as an open transport cannot be reconnected.
//! - **Cleanup**: a child process is started with `kill_on_drop`; it is
//!   stopped when the last clone of its [`McpServer`] (tools hold one) is
//!   dropped, or by [`close`](McpServer::close).
//!
//! Tool list: fetched once and cached; a `notifications/tools/list_changed`
//! from the server marks the cache stale, and the next
//! [`tools`](McpServer::tools) fetches it again. A tool that the refreshed
//! list no longer has is disabled (the model no longer sees it) in agents
//! built from the earlier list; a new tool needs a new agent (call
//! `tools()` again when building it).
//!
//! Names: [`with_prefix`](McpServer::with_prefix) prefixes every tool's
//! name (the server is still called by its own name), and two tools of
//! one agent with the same name are [`AgentError::DuplicateToolName`](crate::agent::AgentError)
//! when it is built, naming the name. [`allow`](McpServer::allow) and
//! [`deny`](McpServer::deny) filter by the server's names.
//!
//! Schemas: an input schema that meets OpenAI's strict rules after
//! [`to_strict`](crate::schema::to_strict) is sent strict, as a `#[tool]`'s
//! is; any other is sent as the server wrote it, not strict
//! ([`McpTool::strict_error`] says why).
//!
//! For one run only, add them to a copy of an agent:
//! `runner.run(&agent.with_tools(server.tools().await?)?, ctx, input)`.
//!
//! Differences from the OpenAI Agents SDK: there, servers are attached to
//! an agent (`mcp_servers=[...]`) and listed on every turn; here their
//! tools are added like any other (`.tools(server.tools().await?)` on the
//! builder, or `Agent::with_tools` for a run), so a mis-named or colliding
//! tool fails when the agent is built.

mod server;
mod tool;

pub use server::{McpError, McpServer};
pub use tool::McpTool;

#[cfg(doc)]
use crate::tool::{Tool, ToolError};
