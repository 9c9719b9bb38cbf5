//! Handoffs: the output each handoff call gets, and taking the winning one.

use std::sync::Arc;

use super::live::LiveRun;
use super::turn_loop::Env;
use crate::agent::AgentCore;
use crate::context::RunContext;
use crate::item::{HandoffOutput, ToolCall};

/// The output of a handoff call. The winning call (`winner`, the first of
/// the turn) is accepted unless a policy `denied` it or its `on_handoff`
/// callback refuses its input (then `to_agent` is `None`); the others get
/// an error output naming it.
pub(super) fn handoff_output<Ctx>(
    ctx: &RunContext<Ctx>,
    agent: &AgentCore<Ctx>,
    call: &ToolCall,
    winner: Option<&ToolCall>,
    denied: Option<&str>,
) -> HandoffOutput {
    let refused = |output: String| HandoffOutput {
        call_id: call.call_id.clone(),
        from_agent: agent.name.to_string(),
        to_agent: None,
        output,
    };
    if !winner.is_some_and(|w| std::ptr::eq(w, call)) {
        return refused(format!(
            "error: several handoffs were requested in one response; only the first (`{}`) was carried out",
            winner.map_or("", |w| w.name.as_str())
        ));
    }
    if let Some(message) = denied {
        return refused(format!(
            "error: the handoff `{}` was refused: {message}",
            call.name
        ));
    }
    let handoff = agent.handoff(&call.name);
    let target = handoff
        .map(|h| Arc::clone(&h.target_name))
        .unwrap_or_else(|| Arc::from(call.name.as_str()));
    let refusal = match handoff.and_then(|h| h.on_handoff.as_ref()) {
        Some(on_handoff) => on_handoff(ctx, &call.arguments).err(),
        None => None,
    };
    match refusal {
        None => HandoffOutput {
            call_id: call.call_id.clone(),
            from_agent: agent.name.to_string(),
            to_agent: Some(target.to_string()),
            output: handoff_accepted(&target),
        },
        Some(reason) => refused(format!(
            "error: invalid handoff input for `{}`: {reason}",
            call.name
        )),
    }
}

/// The handoff output text the model sees for the winning handoff, the
/// OpenAI Agents SDK's shape.
fn handoff_accepted(target: &Arc<str>) -> String {
    serde_json::json!({ "assistant": &**target }).to_string()
}

/// Hands the conversation over through the handoff tool `tool_name` of the
/// current agent: its input filter rewrites the history, the handoff is
/// emitted, and the target becomes the current agent.
pub(super) async fn take_handoff<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    tool_name: &str,
) {
    let agent = Arc::clone(&live.agent);
    let Some(handoff) = agent.handoff(tool_name) else {
        return;
    };
    if let Some(filter) = &handoff.input_filter {
        let history = std::mem::take(&mut live.history);
        live.history = filter(history);
    }
    let target = handoff.target.resolve();
    env.events.handoff(&live.ctx, &agent, &target).await;
    live.switch_to(handoff);
}
