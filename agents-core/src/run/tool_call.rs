//! One function tool call: a policy's denial or a person's rejection, the
//! tool-start hooks, the input guardrails, the tool itself through the
//! effect seam, the output filters and size limit, the output guardrails.

use std::future::Future;

use super::effects::ToolInvocation;
use super::error::ToolFailure;
use super::events::{Event, Scope};
use super::state::ApprovalDecision;
use super::turn_loop::Env;
use crate::agent::AgentCore;
use crate::context::RunContext;
use crate::guardrail::{ToolCheck, ToolGuardrail, ToolGuardrailDecision};
use crate::item::ToolCall;

/// How one tool call ended.
pub(super) enum CallOutcome {
    Output(Result<String, ToolFailure>),
    Trip {
        guardrail: String,
        info: serde_json::Value,
    },
}

/// One function tool call and what decides it.
pub(super) struct Call<'a, Ctx> {
    pub(super) agent: &'a AgentCore<Ctx>,
    pub(super) ctx: &'a RunContext<Ctx>,
    pub(super) call: &'a ToolCall,
    /// A policy's denial: the call does not run.
    pub(super) denied: Option<&'a str>,
    pub(super) decision: Option<&'a ApprovalDecision>,
    pub(super) scope: &'a Scope,
}

/// Runs one function tool call through its approval decision, the
/// tool-start hooks, the tool input guardrails, the tool itself and the tool
/// output guardrails.
pub(super) async fn execute_call<Ctx: Send + Sync, Out>(
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
            // Boxed here and below: a call waiting on its tool keeps this
            // future, which would otherwise be as large as a guardrail's.
            let guard = Box::pin(guarded(env, &call, guardrail, "tool_input", decision));
            if let Some(outcome) = guard.await {
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
                let guard = Box::pin(guarded(env, &call, guardrail, "tool_output", decision));
                if let Some(outcome) = guard.await {
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
