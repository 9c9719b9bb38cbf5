//! One turn's tool and handoff calls: approvals, hooks, tool guardrails,
//! concurrent execution, outputs in call order, the handoff.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use futures::future::join_all;

use super::budget;
use super::ending::Stop;
use super::error::ToolFailure;
use super::events::Event;
use super::handoff::handoff_output;
use super::live::LiveRun;
use super::policing::police;
use super::state::PendingApproval;
use super::tool_call::{Call, CallOutcome, execute_call};
use super::turn_loop::{Env, NextStep};
use crate::agent::{ToolResult, ToolUseBehavior};
use crate::context::{ToolErrorPolicy, ToolExecution};
use crate::guardrail::ToolGuardrail;
use crate::item::{Item, SharedToolOutput, ToolCall, ToolOutput};

/// Runs one turn's calls and records their outputs in call order, then
/// says what comes next: a pause for approval, a stop (a tripwire, a failed
/// tool under [`ToolErrorPolicy::FailRun`]), the winning handoff, a tool's
/// output as the final output (tool-use behaviour), or another model call.
pub(super) async fn run_calls<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    calls: &[Arc<Item>],
) -> NextStep<Out> {
    let agent = &Arc::clone(&live.agent);
    let policed = police(live, env, calls);
    let calls: &[Arc<Item>] = policed.as_ref().map_or(calls, |p| &p.calls);
    let winner = calls.iter().find_map(|item| match &**item {
        Item::HandoffCall(call) => Some(call),
        _ => None,
    });
    let tool_calls: Vec<&ToolCall> = calls
        .iter()
        .filter_map(|item| match &**item {
            Item::ToolCall(call) => Some(call),
            _ => None,
        })
        .collect();

    // Calls that need a person's decision pause the whole turn before any
    // of its tools run, so resuming runs each of them exactly once.
    let pending: Vec<PendingApproval> = tool_calls
        .iter()
        .filter(|call| {
            let by_policy = policed.as_ref().map(|p| {
                (
                    p.approval.contains(&call.call_id),
                    p.denied(&call.call_id).is_some(),
                )
            });
            let (by_policy, denied) = by_policy.unwrap_or((false, false));
            !denied
                && agent
                    .enabled_tool(&live.ctx, &call.name)
                    .is_some_and(|tool| {
                        (by_policy || tool.dyn_needs_approval(&live.ctx, &call.arguments))
                            && live.decision(&call.call_id, &call.name).is_none()
                    })
        })
        .map(|call| PendingApproval {
            agent: agent.name.to_string(),
            tool: call.name.clone(),
            arguments: call.arguments.clone(),
            call_id: call.call_id.clone(),
        })
        .collect();
    if !pending.is_empty() {
        return NextStep::NeedsApproval {
            pending_turn: calls.to_vec(),
            pending,
        };
    }
    if let Err(limit) = budget::before_tool_calls(live, env, tool_calls.len()) {
        return NextStep::Stop(Stop::Budget(limit));
    }

    if !tool_calls.is_empty() && !live.used_tools.contains(&agent.name) {
        live.used_tools.push(Arc::clone(&agent.name));
    }
    let guardrails: Vec<&ToolGuardrail<Ctx>> = env
        .extras
        .tool_guardrails
        .iter()
        .chain(agent.tool_guardrails.iter())
        .collect();

    let mut scopes = Vec::with_capacity(tool_calls.len());
    for call in &tool_calls {
        let started = Event::ToolStarted { call };
        scopes.push(env.events.emit(&live.ctx, agent, started).await);
    }
    // Calls beyond the cap (the run's and the agent's, the lower) wait for
    // a slot; outputs still follow the calls' order.
    let cap = [
        env.config.max_concurrent_tool_calls,
        agent.max_concurrent_tool_calls,
    ]
    .into_iter()
    .flatten()
    .min()
    .map_or(usize::MAX, |cap| cap.max(1));
    let outcomes = {
        let live = &*live;
        let calls: Vec<_> = tool_calls
            .iter()
            .zip(&scopes)
            .map(|(call, scope)| {
                let decision = live.decision(&call.call_id, &call.name);
                let denied = policed.as_ref().and_then(|p| p.denied(&call.call_id));
                let call = Call {
                    agent,
                    ctx: &live.ctx,
                    call,
                    decision,
                    denied,
                    scope,
                };
                let timed = async {
                    let (started_at, clock) = (SystemTime::now(), Instant::now());
                    let outcome = execute_call(env, call, &guardrails).await;
                    (outcome, started_at, clock.elapsed())
                };
                scope.instrument(timed)
            })
            .collect();
        if cap >= calls.len() {
            join_all(calls).await
        } else {
            futures::stream::iter(calls).buffered(cap).collect().await
        }
    };
    // An answer is used up by the call it answered: a later call that
    // happens to reuse the id (servers number calls `call_0`, `call_1`, ...
    // per response) asks again.
    for call in &tool_calls {
        live.decisions.remove(&call.call_id);
    }
    let mut scopes = scopes.iter();

    let mut outcomes = outcomes.into_iter();
    let mut refused = false;
    let mut first_failure = None;
    let mut trip = None;
    let mut stop_output: Option<String> = None;
    // (tool, call id, output, is_error) for a tool-use function.
    let mut results: Vec<(String, String, String, bool)> = Vec::new();
    for item in calls {
        match &**item {
            Item::ToolCall(call) => {
                let (outcome, started_at, duration) = outcomes.next().unwrap_or_else(|| {
                    let failure = ToolFailure::Failed {
                        tool: call.name.clone(),
                        message: "no result".to_owned(),
                    };
                    (
                        CallOutcome::Output(Err(failure)),
                        SystemTime::now(),
                        Duration::ZERO,
                    )
                });
                let result = match outcome {
                    CallOutcome::Output(result) => result,
                    CallOutcome::Trip { guardrail, info } => {
                        let message = format!("tool guardrail `{guardrail}` stopped this call");
                        if trip.is_none() {
                            trip = Some((guardrail, call.call_id.clone(), info));
                        }
                        Err(ToolFailure::Rejected {
                            tool: call.name.clone(),
                            message,
                        })
                    }
                };
                let (output, is_error) = match result {
                    Ok(output) => (output, false),
                    Err(failure) => {
                        let text = failure.to_string();
                        let counts = !matches!(
                            failure,
                            ToolFailure::Rejected { .. } | ToolFailure::Denied { .. }
                        );
                        if counts && first_failure.is_none() {
                            first_failure = Some((call.call_id.clone(), failure));
                        }
                        (text, true)
                    }
                };
                let stops_here = match &agent.tool_use_behavior {
                    ToolUseBehavior::RunLlmAgain => false,
                    ToolUseBehavior::StopOnFirstTool => true,
                    ToolUseBehavior::StopAtTools(names) => names.contains(&call.name),
                };
                // A failed call goes back to the model, which may retry it.
                if stops_here && !is_error && stop_output.is_none() {
                    stop_output = Some(output.clone());
                }
                if agent.tool_use_fn.is_some() {
                    results.push((
                        call.name.clone(),
                        call.call_id.clone(),
                        output.clone(),
                        is_error,
                    ));
                }
                let output = SharedToolOutput::from(ToolOutput {
                    call_id: call.call_id.clone(),
                    output,
                    is_error,
                    interrupted: false,
                });
                if let Some(scope) = scopes.next() {
                    let ended = Event::ToolEnded {
                        scope,
                        call,
                        output: &output,
                    };
                    env.events.emit(&live.ctx, agent, ended).await;
                }
                let output = output.into_item();
                let original = policed
                    .as_ref()
                    .and_then(|p| p.originals.get(&call.call_id).cloned());
                live.tool_executions.push(
                    ToolExecution::new(
                        Arc::clone(&agent.name),
                        live.path(),
                        Arc::clone(item),
                        Arc::clone(&output),
                        started_at,
                        duration,
                    )
                    .rewritten_from(original),
                );
                live.push(output);
            }
            Item::HandoffCall(call) => {
                let denied = policed.as_ref().and_then(|p| p.denied(&call.call_id));
                let output = handoff_output(&live.ctx, agent, call, winner, denied);
                let is_winner = winner.is_some_and(|w| std::ptr::eq(w, call));
                refused |= is_winner && output.to_agent.is_none();
                live.push(Arc::new(Item::HandoffOutput(output)));
            }
            _ => {}
        }
    }

    if let Some((guardrail, call_id, info)) = trip {
        return NextStep::Stop(Stop::ToolTripwire {
            guardrail,
            call_id,
            info,
        });
    }
    if env.config.tool_error_policy == ToolErrorPolicy::FailRun {
        if let Some((call_id, failure)) = first_failure {
            return NextStep::Stop(Stop::Tool {
                agent: agent.name.to_string(),
                call_id,
                failure,
            });
        }
    }
    if let Some(decide) = &agent.tool_use_fn {
        let views: Vec<ToolResult<'_>> = results
            .iter()
            .map(|(tool, call_id, output, is_error)| ToolResult {
                tool,
                call_id,
                output,
                is_error: *is_error,
            })
            .collect();
        stop_output = decide(&live.ctx, &views);
    }
    match (winner.filter(|_| !refused), stop_output) {
        (Some(call), _) if agent.handoff(&call.name).is_some() => {
            NextStep::Handoff(call.name.clone())
        }
        (_, Some(output)) => NextStep::FinalOutput(output),
        _ => NextStep::RunAgain,
    }
}
