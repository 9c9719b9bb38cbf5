//! One turn's tool and handoff calls: approvals, hooks, tool guardrails,
//! concurrent execution, outputs in call order, the handoff.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tracing::{Instrument, Span};

use super::config::{RunConfig, ToolErrorPolicy};
use super::context::RunContext;
use super::error::ToolFailure;
use super::live::LiveRun;
use super::state::{ApprovalDecision, PendingApproval};
use super::stream::RunEvent;
use super::tools::{handoff_accepted, run_tool_call};
use super::trace;
use super::turn::{RunExtras, Stop};
use crate::agent::{AgentCore, ToolUseBehavior};
use crate::guardrail::{ToolCheck, ToolGuardrail, ToolGuardrailDecision};
use crate::hooks::{DynRunHooks, ToolStartDecision};
use crate::item::{HandoffOutput, Item, ToolCall, ToolOutput};

/// How one tool call ended.
enum CallOutcome {
    Output(Result<String, ToolFailure>),
    Trip {
        guardrail: String,
        info: serde_json::Value,
    },
}

/// Runs one turn's calls and records their outputs in call order. Returns
/// how the run stops, or `None` to call the model again.
pub(super) async fn run_calls<Ctx: Send + Sync, Out>(
    live: &mut LiveRun<Ctx>,
    agent: &Arc<AgentCore<Ctx>>,
    calls: &[Arc<Item>],
    config: &RunConfig,
    extras: &RunExtras<Ctx, Out>,
) -> Option<Stop<Out>> {
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
            agent.tool(&call.name).is_some_and(|tool| {
                tool.dyn_needs_approval(&live.ctx, &call.arguments)
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
        return Some(Stop::Interrupted {
            pending_turn: calls.to_vec(),
            pending,
        });
    }

    let hooks: Vec<&dyn DynRunHooks<Ctx>> = extras
        .hooks
        .iter()
        .chain(agent.hooks.iter())
        .map(|h| &**h)
        .collect();
    let guardrails: Vec<&ToolGuardrail<Ctx>> = extras
        .tool_guardrails
        .iter()
        .chain(agent.tool_guardrails.iter())
        .collect();

    let sensitive = config.trace_sensitive_data;
    let spans: Vec<Span> = tool_calls
        .iter()
        .map(|call| trace::tool(&live.spans.turn, call, sensitive))
        .collect();
    let outcomes = {
        let live = &*live;
        join_all(tool_calls.iter().zip(&spans).map(|(call, span)| {
            let decision = live.decision(&call.call_id, &call.name);
            execute_call(
                agent,
                &live.ctx,
                call,
                decision,
                &hooks,
                &guardrails,
                config.tool_timeout,
            )
            .instrument(span.clone())
        }))
        .await
    };
    let mut spans = spans.into_iter();

    let mut outcomes = outcomes.into_iter();
    let mut refused = false;
    let mut first_failure = None;
    let mut trip = None;
    let mut stop_output: Option<String> = None;
    for item in calls {
        match &**item {
            Item::ToolCall(call) => {
                let outcome = outcomes.next().unwrap_or_else(|| {
                    CallOutcome::Output(Err(ToolFailure::Failed {
                        tool: call.name.clone(),
                        message: "no result".to_owned(),
                    }))
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
                let output = ToolOutput {
                    call_id: call.call_id.clone(),
                    output,
                    is_error,
                };
                if let Some(span) = spans.next() {
                    trace::record_tool_end(&span, &output, sensitive);
                }
                for hook in &hooks {
                    hook.tool_end(&live.ctx, &agent.name, call, &output).await;
                }
                if let Some(events) = &extras.events {
                    let _ = events.send(RunEvent::ToolOutput {
                        agent: Arc::clone(&agent.name),
                        output: output.clone(),
                    });
                }
                live.push(Arc::new(Item::ToolOutput(output)));
            }
            Item::HandoffCall(call) => {
                let is_winner = winner.is_some_and(|w| std::ptr::eq(w, call));
                let output = if is_winner {
                    let handoff = agent.handoff(&call.name);
                    let target = handoff
                        .map(|h| Arc::clone(&h.target_name))
                        .unwrap_or_else(|| Arc::from(call.name.as_str()));
                    let refusal = match handoff.and_then(|h| h.on_handoff.as_ref()) {
                        Some(on_handoff) => on_handoff(&live.ctx, &call.arguments).err(),
                        None => None,
                    };
                    match refusal {
                        None => HandoffOutput {
                            call_id: call.call_id.clone(),
                            from_agent: agent.name.to_string(),
                            to_agent: Some(target.to_string()),
                            output: handoff_accepted(&target),
                        },
                        Some(reason) => {
                            refused = true;
                            HandoffOutput {
                                call_id: call.call_id.clone(),
                                from_agent: agent.name.to_string(),
                                to_agent: None,
                                output: format!(
                                    "error: invalid handoff input for `{}`: {reason}",
                                    call.name
                                ),
                            }
                        }
                    }
                } else {
                    HandoffOutput {
                        call_id: call.call_id.clone(),
                        from_agent: agent.name.to_string(),
                        to_agent: None,
                        output: format!(
                            "error: several handoffs were requested in one response; only the first (`{}`) was carried out",
                            winner.map_or("", |w| w.name.as_str())
                        ),
                    }
                };
                live.push(Arc::new(Item::HandoffOutput(output)));
            }
            _ => {}
        }
    }

    if let Some((guardrail, call_id, info)) = trip {
        return Some(Stop::ToolTripwire {
            guardrail,
            call_id,
            info,
        });
    }
    if config.tool_error_policy == ToolErrorPolicy::FailRun {
        if let Some((call_id, failure)) = first_failure {
            return Some(Stop::Tool {
                agent: agent.name.to_string(),
                call_id,
                failure,
            });
        }
    }

    if let Some(call) = winner.filter(|_| !refused) {
        if let Some(handoff) = agent.handoff(&call.name) {
            if let Some(filter) = &handoff.input_filter {
                let history = std::mem::take(&mut live.history);
                live.history = filter(history);
            }
            drop(trace::handoff(
                &live.spans.turn,
                &agent.name,
                &handoff.target_name,
            ));
            if let Some(events) = &extras.events {
                let _ = events.send(RunEvent::HandoffRequested {
                    from: Arc::clone(&agent.name),
                    to: Arc::clone(&handoff.target_name),
                });
                let _ = events.send(RunEvent::AgentSwitched {
                    from: Arc::clone(&agent.name),
                    to: Arc::clone(&handoff.target_name),
                });
            }
            for hook in &hooks {
                hook.handoff(&live.ctx, &agent.name, &handoff.target_name)
                    .await;
            }
            live.switch_to(handoff);
            return None;
        }
    }

    stop_output.map(|output| Stop::FinalText(output))
}

/// Runs one function tool call through its approval decision, the
/// tool-start hooks, the tool input guardrails, the tool itself and the tool
/// output guardrails.
async fn execute_call<Ctx>(
    agent: &AgentCore<Ctx>,
    ctx: &RunContext<Ctx>,
    call: &ToolCall,
    decision: Option<&ApprovalDecision>,
    hooks: &[&dyn DynRunHooks<Ctx>],
    guardrails: &[&ToolGuardrail<Ctx>],
    timeout: Duration,
) -> CallOutcome {
    if let Some(ApprovalDecision::Reject { message }) = decision {
        return CallOutcome::Output(Err(ToolFailure::Rejected {
            tool: call.name.clone(),
            message: message.clone(),
        }));
    }
    for hook in hooks {
        if let ToolStartDecision::Deny(message) = hook.tool_start(ctx, &agent.name, call).await {
            return CallOutcome::Output(Err(ToolFailure::Denied {
                tool: call.name.clone(),
                message,
            }));
        }
    }
    for guardrail in guardrails {
        if let ToolCheck::Input(check) = &guardrail.check {
            let span = trace::guardrail(&Span::current(), &guardrail.name, "tool_input");
            let decision = check(ctx, call).instrument(span.clone()).await;
            if let Some(outcome) = guardrail_outcome(&span, guardrail, call, decision) {
                return outcome;
            }
        }
    }
    let result = run_tool_call(agent, ctx, call, timeout).await;
    if let Ok(output) = &result {
        for guardrail in guardrails {
            if let ToolCheck::Output(check) = &guardrail.check {
                let span = trace::guardrail(&Span::current(), &guardrail.name, "tool_output");
                let decision = check(ctx, call, output).instrument(span.clone()).await;
                if let Some(outcome) = guardrail_outcome(&span, guardrail, call, decision) {
                    return outcome;
                }
            }
        }
    }
    CallOutcome::Output(result)
}

/// What a tool guardrail's decision does to the call: nothing (allow), an
/// error output (reject), or a tripwire.
fn guardrail_outcome<Ctx>(
    span: &Span,
    guardrail: &ToolGuardrail<Ctx>,
    call: &ToolCall,
    decision: ToolGuardrailDecision,
) -> Option<CallOutcome> {
    trace::record_guardrail(span, !matches!(decision, ToolGuardrailDecision::Allow));
    match decision {
        ToolGuardrailDecision::Reject(message) => {
            Some(CallOutcome::Output(Err(ToolFailure::Rejected {
                tool: call.name.clone(),
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
