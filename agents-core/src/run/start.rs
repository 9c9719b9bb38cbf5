//! Where a run begins: fresh input (with its session's history), or a
//! stored [`RunState`] to resume.

use std::sync::Arc;

use super::error::{InvalidStateKind, RunError};
use super::live::{LiveRun, UsageByAgent};
use super::result::PartialRun;
use super::state::RunState;
use crate::agent::AgentCore;
use crate::context::RunContext;
use crate::item::Item;

/// Rebuilds a live run from a stored state: the current agent and the
/// output conversions are found again by following the handoff path from
/// the starting agent.
pub(super) fn resume<Ctx>(
    starting: Arc<AgentCore<Ctx>>,
    mut ctx: RunContext<Ctx>,
    state: RunState,
) -> Result<(LiveRun<Ctx>, Vec<Arc<Item>>), RunError> {
    let invalid = |message: String, run: PartialRun| RunError::InvalidState {
        kind: InvalidStateKind::Agents,
        message,
        partial: Box::new(run),
    };
    if state.run.starting_agent != starting.name {
        return Err(invalid(
            format!(
                "the state's run started with agent `{}`, not `{}`",
                state.run.starting_agent, starting.name
            ),
            state.run,
        ));
    }
    let mut agent = Arc::clone(&starting);
    let mut conversions = Vec::new();
    for tool_name in &state.run.handoff_path {
        let Some(handoff) = agent.handoff(tool_name) else {
            let message = format!("agent `{}` has no handoff `{tool_name}`", agent.name);
            return Err(invalid(message, state.run));
        };
        conversions.push(handoff.convert.clone());
        let next = handoff.target.resolve();
        agent = next;
    }
    if agent.name != state.run.last_agent {
        let message = format!(
            "the handoff path leads to `{}`, the state says `{}`",
            agent.name, state.run.last_agent
        );
        return Err(invalid(message, state.run));
    }
    let run = state.run;
    let history_len = run.history.len();
    // Everything in a stored state was saved to the session before.
    let saved = run.new_items.len();
    ctx.run_id = run.run_id;
    ctx.usage = run.usage;
    ctx.turn = run.turns;
    ctx.agent = Arc::clone(&agent.name);
    Ok((
        LiveRun {
            ctx,
            starting_agent: run.starting_agent,
            input: run.input,
            history: run.history,
            new_items: run.new_items,
            raw_responses: run.raw_responses,
            started: Some(Arc::clone(&agent.name)),
            agent,
            conversions,
            handoff_path: run.handoff_path,
            decisions: state.decisions,
            always: {
                let mut always = state.rules;
                always.extend(state.always);
                always
            },
            usage_by_agent: UsageByAgent::from_map(run.usage_by_agent),
            saved,
            tool_executions: run.tool_executions,
            used_tools: Vec::new(),
            guardrail_results: run.guardrail_results,
            server_mark: history_len,
        },
        state.pending_turn,
    ))
}
