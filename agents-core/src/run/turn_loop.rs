//! The turn loop. One turn is one model call:
//!
//! build the request → call the model → record its items → decide the
//! [`NextStep`] (running the turn's tool calls on the way) → act on it.
//!
//! Each step is a function in a file of its own: [`request`](super::request),
//! [`model_call`](super::model_call), [`calls`](super::calls),
//! [`handoff`](super::handoff), [`finalize`](super::finalize),
//! [`checkpoint`](super::checkpoint). The steps report what they do to the
//! event pipeline ([`events`](super::events)) and reach the world only
//! through the effect seam ([`effects`](super::effects)).

use std::sync::Arc;

use super::budget;
use super::calls::run_calls;
use super::checkpoint::checkpoint;
use super::effects::Effects;
use super::ending::Stop;
use super::events::Observers;
use super::finalize::finalize;
use super::handoff::take_handoff;
use super::live::LiveRun;
use super::model_call::{call_model, record_response};
use super::request::{begin_turn, build_request};
use super::setup::RunExtras;
use super::state::PendingApproval;
use crate::context::RunConfig;
use crate::item::Item;
use crate::model::Model;

/// What a run reads while its loop runs.
pub(super) struct Env<'a, Ctx, Out> {
    pub(super) model: &'a dyn Model,
    pub(super) config: &'a RunConfig,
    pub(super) extras: &'a RunExtras<Ctx, Out>,
    pub(super) events: &'a Observers<Ctx>,
    pub(super) effects: &'a dyn Effects<Ctx>,
}

/// What the loop does after a turn (the OpenAI Agents SDK's `NextStep`).
pub(super) enum NextStep<Out> {
    /// Call the model again: tools ran, or the answer had nothing to act on.
    RunAgain,
    /// Hand the conversation over through this handoff tool, then run again.
    Handoff(String),
    /// This text is the final output, to parse and check.
    FinalOutput(String),
    /// Calls wait for a person's decision: pause with this turn.
    NeedsApproval {
        pending_turn: Vec<Arc<Item>>,
        pending: Vec<PendingApproval>,
    },
    /// The run ends here for this reason.
    Stop(Stop<Out>),
}

/// Runs turns until one ends the run. `pending_turn` holds the calls of a
/// turn paused for approval (empty for a fresh run); `resumed` says the
/// input guardrails already ran.
pub(super) async fn run_loop<Ctx: Send + Sync, Out: Send + 'static>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    pending_turn: Vec<Arc<Item>>,
    resumed: bool,
) -> Stop<Out> {
    let mut next = if pending_turn.is_empty() {
        NextStep::RunAgain
    } else {
        run_calls(live, env, &pending_turn).await
    };
    let mut first_turn = !resumed;
    loop {
        match next {
            NextStep::RunAgain => {}
            NextStep::Handoff(tool_name) => take_handoff(live, env, &tool_name).await,
            NextStep::FinalOutput(text) => return finalize(live, env, &text).await,
            NextStep::NeedsApproval {
                pending_turn,
                pending,
            } => {
                return Stop::Interrupted {
                    pending_turn,
                    pending,
                };
            }
            NextStep::Stop(stop) => return stop,
        }
        // The previous turn is complete: store it before the next starts.
        if let Err(error) = checkpoint(live, env, None).await {
            return Stop::Session(error);
        }
        // A handle may pause the run here, or stop it after the turn.
        if let Some(control) = &env.extras.control {
            if control.boundary().await {
                return Stop::Cancelled;
            }
        }
        if live.ctx.turn >= env.config.max_turns {
            return Stop::MaxTurns;
        }
        if let Err(limit) = budget::before_model_call(live, env) {
            return Stop::Budget(limit);
        }
        begin_turn(live, env).await;
        let request = build_request(live, env).await;
        // Boxed: a run parked in its tools keeps the loop's future, which
        // would otherwise be as large as a model call's.
        let response = match Box::pin(call_model(live, env, request, first_turn)).await {
            Ok(response) => response,
            Err(stop) => return stop,
        };
        first_turn = false;
        let calls = record_response(live, env, response);
        if let Err(limit) = budget::after_model_call(live, env) {
            return Stop::Budget(limit);
        }
        next = match calls {
            calls if calls.is_empty() => answer(live),
            calls => run_calls(live, env, &calls).await,
        };
    }
}

/// A response without tool calls: its last message is the final output. A
/// response with neither a message nor a call (e.g. only reasoning) ends
/// the run too, with an empty answer: a text agent's final output is `""`,
/// a structured agent's is an output error (as the OpenAI Agents SDK does
/// for text; it calls the model again for structured output, this runner
/// does not).
///
/// A refusal as the last message ends a structured agent's run
/// ([`Stop::Refusal`], not retried and not an output-parse error); a text
/// agent's final output is the refusal's text.
fn answer<Ctx, Out>(live: &LiveRun<Ctx>) -> NextStep<Out> {
    let last = live.raw_responses.last().and_then(|response| {
        response.output.iter().rev().find_map(|item| match &**item {
            Item::AssistantMessage { content } => Some((content.clone(), false)),
            Item::Refusal { content } => Some((content.clone(), true)),
            _ => None,
        })
    });
    match last {
        Some((refusal, true)) if live.agent.output.schema.is_some() => {
            NextStep::Stop(Stop::Refusal {
                agent: live.agent.name.to_string(),
                refusal,
            })
        }
        Some((text, _)) => NextStep::FinalOutput(text),
        None => NextStep::FinalOutput(String::new()),
    }
}
