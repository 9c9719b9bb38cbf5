//! The budget checks of the turn loop: before a model call, after it, and
//! before a turn's tool calls. Nested runs of agents used as tools share
//! the top-level run's counters. A resumed run counts from zero.

use super::live::LiveRun;
use super::turn_loop::Env;
use crate::context::BudgetLimit;

/// Before a model call: the model-call count.
pub(super) fn before_model_call<Ctx, Out>(
    live: &LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
) -> Result<(), BudgetLimit> {
    let budget = &env.config.budget;
    match live.ctx.runtime.as_ref() {
        Some(runtime) if budget.is_limited() => runtime.tree.spent.model_call(budget),
        _ => Ok(()),
    }
}

/// After a model call: its tokens and cost.
pub(super) fn after_model_call<Ctx, Out>(
    live: &LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
) -> Result<(), BudgetLimit> {
    let budget = &env.config.budget;
    let (Some(runtime), Some(response)) = (live.ctx.runtime.as_ref(), live.raw_responses.last())
    else {
        return Ok(());
    };
    if !budget.is_limited() {
        return Ok(());
    }
    let model = live.agent.model.as_deref();
    runtime.tree.spent.usage(budget, model, &response.usage)
}

/// Before a turn's `calls` function tool calls run: the tool-call count.
pub(super) fn before_tool_calls<Ctx, Out>(
    live: &LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    calls: usize,
) -> Result<(), BudgetLimit> {
    let budget = &env.config.budget;
    match live.ctx.runtime.as_ref() {
        Some(runtime) if budget.is_limited() => {
            let calls = u32::try_from(calls).unwrap_or(u32::MAX);
            runtime.tree.spent.tool_calls(budget, calls)
        }
        _ => Ok(()),
    }
}
