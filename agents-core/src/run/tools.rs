//! Executing one turn's tool calls.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;

use super::error::ToolFailure;
use crate::agent::AgentCore;
use crate::context::RunContext;
use crate::item::ToolCall;
use crate::tool::ToolError;

/// Runs one function tool call: looks the tool up, runs it under the
/// per-tool timeout, and turns every way it can fail into a [`ToolFailure`].
pub(crate) async fn run_tool_call<Ctx>(
    agent: &AgentCore<Ctx>,
    ctx: &RunContext<Ctx>,
    call: &ToolCall,
    timeout: Duration,
) -> Result<String, ToolFailure> {
    let Some(tool) = agent.enabled_tool(ctx, &call.name) else {
        return Err(ToolFailure::UnknownTool {
            name: call.name.clone(),
            available: available_tools(agent, ctx),
        });
    };
    let arguments = if call.arguments.trim().is_empty() {
        "{}"
    } else {
        call.arguments.as_str()
    };
    let guarded = AssertUnwindSafe(tool.dyn_call(ctx, arguments)).catch_unwind();
    match tokio::time::timeout(timeout, guarded).await {
        Err(_) => Err(ToolFailure::TimedOut {
            tool: call.name.clone(),
            timeout,
        }),
        Ok(Err(panic)) => Err(ToolFailure::Panicked {
            tool: call.name.clone(),
            message: panic_message(panic.as_ref()),
        }),
        Ok(Ok(Err(ToolError::InvalidArguments(message)))) => Err(ToolFailure::InvalidArguments {
            tool: call.name.clone(),
            message,
        }),
        Ok(Ok(Err(error))) => Err(ToolFailure::Failed {
            tool: call.name.clone(),
            message: error.to_string(),
        }),
        Ok(Ok(Ok(output))) => Ok(output),
    }
}

/// The tools and handoffs offered on this turn, by name.
fn available_tools<Ctx>(agent: &AgentCore<Ctx>, ctx: &RunContext<Ctx>) -> String {
    let offered = agent.offered_definitions(ctx);
    let names: Vec<&str> = offered
        .iter()
        .map(|definition| definition.name.as_str())
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}
