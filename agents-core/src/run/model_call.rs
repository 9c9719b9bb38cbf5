//! The model call of a turn: through the effect seam, under its time limit,
//! beside the input guardrails on the first turn; then its items recorded.

use std::future::Future;
use std::sync::Arc;

use futures::future::join_all;

use super::effects::ModelCall;
use super::ending::Stop;
use super::events::Event;
use super::live::LiveRun;
use super::result::{GuardrailKind, GuardrailResult};
use super::turn_loop::Env;
use crate::guardrail::{GuardrailMode, InputGuardrail};
use crate::item::Item;
use crate::model::{ModelError, ModelRequest, ModelResponse};
use crate::policy::decide_model_call;

/// Calls the model for the current agent and accounts its usage. On the
/// first turn the input guardrails run too: blocking ones before the call,
/// parallel ones beside it.
pub(super) async fn call_model<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    request: ModelRequest,
    first_turn: bool,
) -> Result<ModelResponse, Stop<Out>> {
    let agent = Arc::clone(&live.agent);
    if env.extras.has_policies(&agent) {
        let policies = env.extras.policies_for(&agent);
        if let Some(message) = decide_model_call(policies, &live.ctx, &agent.name, &request) {
            return Err(Stop::PolicyDenied {
                agent: agent.name.to_string(),
                message,
            });
        }
    }
    let scope = env
        .events
        .emit(
            &live.ctx,
            &agent,
            Event::ModelCallStarted { request: &request },
        )
        .await;
    let call = ModelCall {
        model: env.model,
        request,
        timeout: env.config.model_call_timeout,
        deltas: env.events.deltas(&agent, env.extras.raw_model_events),
    };
    // Lazy: the model is not called before the blocking input guardrails
    // have passed. Boxed by the seam: a parked run (waiting on its tools)
    // holds a pointer, not the model call's whole state, which keeps many
    // concurrent runs small.
    let response = scope.instrument(env.effects.model_call(call));
    let outcome = if first_turn {
        let guardrails: Vec<&InputGuardrail<Ctx>> = env
            .extras
            .input_guardrails
            .iter()
            .chain(agent.input_guardrails.iter())
            .collect();
        with_input_guardrails(live, &guardrails, response).await?
    } else {
        response.await
    };
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            let kind = match error {
                ModelError::Timeout(_) => "timeout",
                _ => "model_error",
            };
            let failed = Event::ModelCallFailed {
                scope: &scope,
                kind,
            };
            env.events.emit(&live.ctx, &agent, failed).await;
            return Err(Stop::Model(agent.name.to_string(), error));
        }
    };
    let mut usage = response.usage;
    usage.requests = usage.requests.max(1);
    live.ctx.usage += usage;
    live.usage_by_agent.add(&agent.name, usage);
    let ended = Event::ModelCallEnded {
        scope: &scope,
        response: &response,
        usage,
    };
    env.events.emit(&live.ctx, &agent, ended).await;
    Ok(response)
}

/// Appends the model's items (a call to a handoff tool is recorded as a
/// handoff call), reports each to the run's stream, and keeps the raw
/// response; returns the turn's tool and handoff calls, in order.
pub(super) fn record_response<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    response: ModelResponse,
) -> Vec<Arc<Item>> {
    let agent = Arc::clone(&live.agent);
    let mut calls = Vec::new();
    for item in &response.output {
        let item = match &**item {
            Item::ToolCall(call) if agent.enabled_handoff(&live.ctx, &call.name).is_some() => {
                Arc::new(Item::HandoffCall(call.clone()))
            }
            _ => Arc::clone(item),
        };
        if matches!(*item, Item::ToolCall(_) | Item::HandoffCall(_)) {
            calls.push(Arc::clone(&item));
        }
        env.events.item_created(&agent, &item);
        live.push(item);
    }
    // The first two without spare room: many runs end (or park in their
    // tools) within two model calls.
    if live.raw_responses.len() < 2 {
        live.raw_responses.reserve_exact(1);
    }
    live.raw_responses.push(response);
    live.server_mark = live.history.len();
    calls
}

/// The first model call with the input guardrails: blocking ones before it
/// (a trip means no call), parallel ones beside it (a trip discards the
/// answer, or drops the call if it is still running). Every guardrail that
/// ran is kept on the run.
async fn with_input_guardrails<Ctx, Out, T>(
    live: &mut LiveRun<Ctx>,
    guardrails: &[&InputGuardrail<Ctx>],
    call: impl Future<Output = T>,
) -> Result<T, Stop<Out>> {
    let (results, outcome) = {
        let live = &*live;
        let check = |mode: GuardrailMode| {
            let selected: Vec<&InputGuardrail<Ctx>> = guardrails
                .iter()
                .copied()
                .filter(|g| g.mode == mode)
                .collect();
            async move {
                let outputs =
                    join_all(selected.iter().map(|g| (g.check)(&live.ctx, &live.input))).await;
                selected
                    .iter()
                    .zip(outputs)
                    .map(|(g, output)| GuardrailResult {
                        guardrail: g.name.to_string(),
                        kind: GuardrailKind::Input,
                        output,
                    })
                    .collect::<Vec<_>>()
            }
        };
        let mut results = check(GuardrailMode::Blocking).await;
        if let Some(stop) = trip(&results) {
            (results, Err(stop))
        } else {
            let parallel = check(GuardrailMode::Parallel);
            tokio::pin!(parallel, call);
            let outcome = tokio::select! {
                biased;
                parallel_results = &mut parallel => {
                    let stop = trip(&parallel_results);
                    results.extend(parallel_results);
                    match stop {
                        Some(stop) => Err(stop),
                        None => Ok(call.await),
                    }
                }
                answer = &mut call => {
                    let parallel_results = parallel.await;
                    let stop = trip(&parallel_results);
                    results.extend(parallel_results);
                    match stop {
                        Some(stop) => Err(stop),
                        None => Ok(answer),
                    }
                }
            };
            (results, outcome)
        }
    };
    live.guardrail_results.extend(results);
    outcome
}

/// The stop for the first tripped guardrail of `results`, if one tripped.
fn trip<Out>(results: &[GuardrailResult]) -> Option<Stop<Out>> {
    results
        .iter()
        .find(|result| result.output.tripwire_triggered)
        .map(|result| Stop::InputTripwire {
            guardrail: result.guardrail.clone(),
            output: result.output.clone(),
        })
}
