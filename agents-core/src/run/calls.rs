//! One turn's tool and handoff calls: approvals, hooks, tool guardrails,
//! concurrent execution, outputs in call order, the handoff.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use futures::future::join_all;

use super::budget;
use super::effects::ToolInvocation;
use super::ending::Stop;
use super::error::ToolFailure;
use super::events::{Event, Scope};
use super::handoff::handoff_output;
use super::live::LiveRun;
use super::policing::police;
use super::state::{ApprovalDecision, PendingApproval};
use super::turn_loop::{Env, NextStep};
use crate::agent::{AgentCore, ToolResult, ToolUseBehavior};
use crate::context::{RunContext, ToolErrorPolicy, ToolExecution};
use crate::guardrail::{ToolCheck, ToolGuardrail, ToolGuardrailDecision};
use crate::item::{Item, ToolCall, ToolOutput};

/// How one tool call ended.
enum CallOutcome {
    Output(Result<String, ToolFailure>),
    Trip {
        guardrail: String,
        info: serde_json::Value,
    },
}

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
                let output = ToolOutput {
                    call_id: call.call_id.clone(),
                    output,
                    is_error,
                    interrupted: false,
                };
                if let Some(scope) = scopes.next() {
                    let ended = Event::ToolEnded {
                        scope,
                        call,
                        output: &output,
                    };
                    env.events.emit(&live.ctx, agent, ended).await;
                }
                let output = Arc::new(Item::ToolOutput(output));
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

/// One function tool call and what decides it.
struct Call<'a, Ctx> {
    agent: &'a AgentCore<Ctx>,
    ctx: &'a RunContext<Ctx>,
    call: &'a ToolCall,
    /// A policy's denial: the call does not run.
    denied: Option<&'a str>,
    decision: Option<&'a ApprovalDecision>,
    scope: &'a Scope,
}

/// Runs one function tool call through its approval decision, the
/// tool-start hooks, the tool input guardrails, the tool itself and the tool
/// output guardrails.
async fn execute_call<Ctx: Send + Sync, Out>(
    env: &Env<'_, Ctx, Out>,
    call: Call<'_, Ctx>,
    guardrails: &[&ToolGuardrail<Ctx>],
) -> CallOutcome {
    let tool_call = call.call;
    if let Some(message) = call.denied {
        return CallOutcome::Output(Err(ToolFailure::Denied {
            tool: tool_call.name.clone(),
            message: message.to_owned(),
        }));
    }
    if let Some(ApprovalDecision::Reject { message }) = call.decision {
        return CallOutcome::Output(Err(ToolFailure::Rejected {
            tool: tool_call.name.clone(),
            message: message.clone(),
        }));
    }
    if let Some(message) = env.events.tool_start(call.ctx, call.agent, tool_call).await {
        return CallOutcome::Output(Err(ToolFailure::Denied {
            tool: tool_call.name.clone(),
            message,
        }));
    }
    for guardrail in guardrails {
        if let ToolCheck::Input(check) = &guardrail.check {
            let decision = check(call.ctx, tool_call);
            if let Some(outcome) = guarded(env, &call, guardrail, "tool_input", decision).await {
                return outcome;
            }
        }
    }
    let invocation = ToolInvocation {
        agent: call.agent,
        ctx: call.ctx,
        call: tool_call,
        timeout: env.config.tool_timeout,
    };
    let limit = env.config.max_tool_output_bytes;
    let result = env
        .effects
        .tool_call(invocation)
        .await
        .map(|output| filtered(env, call.agent, &tool_call.name, output))
        .and_then(|output| match output.len() {
            bytes if bytes > limit => Err(ToolFailure::OutputTooLarge {
                tool: tool_call.name.clone(),
                bytes,
                limit,
            }),
            _ => Ok(output),
        });
    if let Ok(output) = &result {
        for guardrail in guardrails {
            if let ToolCheck::Output(check) = &guardrail.check {
                let decision = check(call.ctx, tool_call, output);
                if let Some(outcome) = guarded(env, &call, guardrail, "tool_output", decision).await
                {
                    return outcome;
                }
            }
        }
    }
    CallOutcome::Output(result)
}

/// `output` of a call of `tool` through the output filters: the agent's
/// for the tool, the agent's, the runner's, the run's.
fn filtered<Ctx, Out>(
    env: &Env<'_, Ctx, Out>,
    agent: &AgentCore<Ctx>,
    tool: &str,
    output: String,
) -> String {
    let for_agent = agent
        .output_filters
        .iter()
        .filter(|(only, _)| only.as_deref().is_none_or(|only| only == tool))
        .map(|(_, filter)| filter);
    for_agent
        .chain(env.extras.output_filters())
        .fold(output, |output, filter| filter.filter(tool, output))
}

/// Runs one tool guardrail's check in its own scope; what its decision does
/// to the call: nothing (allow), an error output (reject), or a tripwire.
async fn guarded<Ctx: Send + Sync, Out>(
    env: &Env<'_, Ctx, Out>,
    call: &Call<'_, Ctx>,
    guardrail: &ToolGuardrail<Ctx>,
    kind: &'static str,
    check: impl Future<Output = ToolGuardrailDecision>,
) -> Option<CallOutcome> {
    let started = Event::GuardrailStarted {
        parent: Some(call.scope),
        name: &guardrail.name,
        kind,
    };
    let scope = env.events.emit(call.ctx, call.agent, started).await;
    let decision = scope.instrument(check).await;
    let triggered = !matches!(decision, ToolGuardrailDecision::Allow);
    let ended = Event::GuardrailEnded {
        scope: &scope,
        triggered,
    };
    env.events.emit(call.ctx, call.agent, ended).await;
    match decision {
        ToolGuardrailDecision::Reject(message) => {
            Some(CallOutcome::Output(Err(ToolFailure::Rejected {
                tool: call.call.name.clone(),
                message,
            })))
        }
        ToolGuardrailDecision::Trip(info) => Some(CallOutcome::Trip {
            guardrail: guardrail.name.to_string(),
            info,
        }),
        _ => None,
    }
}
