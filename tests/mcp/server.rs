//! An MCP server for the tests, written with `rmcp`: served in process
//! over an in-memory duplex, and over stdio by the `mcp-test-server`
//! binary.
//!
//! Tools: `add` (structured result), `echo` (text), `fail` (an `isError`
//! result), `slow` (sleeps `ms` milliseconds), `whoami` (echoes the
//! request's `_meta.token`), `retire_echo` (removes `echo` from the list and
//! says the list changed), `lookup` (an optional argument).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities, Tool,
};
use rmcp::service::{MaybeSendFuture, RequestContext};
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Value, json};

/// The test server; clones share whether `echo` is retired.
#[derive(Clone, Default)]
pub(crate) struct TestServer {
    echo_retired: Arc<AtomicBool>,
}

fn schema(value: Value) -> Arc<serde_json::Map<String, Value>> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => unreachable!("schemas here are objects"),
    }
}

impl TestServer {
    fn tools(&self) -> Vec<Tool> {
        let mut tools = vec![
            Tool::new(
                "add",
                "Add two integers.",
                schema(json!({
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"]
                })),
            ),
            Tool::new(
                "fail",
                "Always fails.",
                schema(json!({"type": "object", "properties": {}})),
            ),
            Tool::new(
                "slow",
                "Sleeps, then answers.",
                schema(json!({
                    "type": "object",
                    "properties": {"ms": {"type": "integer"}},
                    "required": ["ms"]
                })),
            ),
            Tool::new(
                "whoami",
                "Says who is calling.",
                schema(json!({"type": "object", "properties": {}})),
            ),
            Tool::new(
                "retire_echo",
                "Removes the echo tool.",
                schema(json!({"type": "object", "properties": {}})),
            ),
            Tool::new(
                "lookup",
                "Looks a word up; the language is optional.",
                schema(json!({
                    "type": "object",
                    "properties": {
                        "word": {"type": "string"},
                        "language": {"type": "string"}
                    },
                    "required": ["word"]
                })),
            ),
            Tool::new(
                "free_form",
                "Takes any object.",
                schema(json!({"type": "object", "additionalProperties": true})),
            ),
        ];
        if !self.echo_retired.load(Ordering::SeqCst) {
            tools.push(Tool::new(
                "echo",
                "Echo the text back.",
                schema(json!({
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"]
                })),
            ));
        }
        tools
    }

    async fn answer(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = Value::Object(request.arguments.unwrap_or_default());
        let text = |s: String| CallToolResult::success(vec![ContentBlock::text(s)]);
        Ok(match &*request.name {
            "add" => {
                let sum = args["a"].as_i64().unwrap_or(0) + args["b"].as_i64().unwrap_or(0);
                CallToolResult::structured(json!({"sum": sum}))
            }
            "echo" if !self.echo_retired.load(Ordering::SeqCst) => {
                text(args["text"].as_str().unwrap_or_default().to_owned())
            }
            "fail" => CallToolResult::error(vec![ContentBlock::text("the disk is on fire")]),
            "slow" => {
                let ms = args["ms"].as_u64().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                text(format!("slept {ms} ms"))
            }
            "whoami" => {
                let token = context.meta.get("token").and_then(Value::as_str);
                text(format!("token: {}", token.unwrap_or("none")))
            }
            "retire_echo" => {
                self.echo_retired.store(true, Ordering::SeqCst);
                let _ = context.peer.notify_tool_list_changed().await;
                text("echo retired".to_owned())
            }
            "lookup" => text(format!(
                "{} ({})",
                args["word"].as_str().unwrap_or_default(),
                match &args.get("language") {
                    Some(Value::String(language)) => language.as_str(),
                    Some(Value::Null) => "null sent",
                    _ => "no language",
                }
            )),
            "free_form" => text(args.to_string()),
            name => return Err(ErrorData::invalid_params(format!("no tool {name}"), None)),
        })
    }
}

impl ServerHandler for TestServer {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
    }

    fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, ErrorData>> + MaybeSendFuture + '_ {
        std::future::ready(Ok(ListToolsResult::with_all_items(self.tools())))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.answer(request, context)
            .await
            .map(CallToolResponse::Complete)
    }
}
