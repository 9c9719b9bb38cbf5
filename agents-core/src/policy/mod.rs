//! Policies: one place that decides, for every action of a run, whether it
//! happens — allow, deny, ask a person, or rewrite a tool call's arguments.
//!
//! A [`Policy`] is asked about each [`Action`] before it happens: a model
//! call about to be made, a tool call about to run (after the model made
//! it, before approvals, hooks and guardrails), a handoff about to happen. Policies are set on a
//! runner (`Runner::policy`, every run), on an agent
//! (`AgentBuilder::policy`, its actions) and on a run (`Run::policy`), and
//! asked in that order.
//!
//! **Combination**: each policy sees the action as the ones before left it
//! (a rewrite is passed on). A [`Decision::Deny`] ends the asking: the first
//! deny wins. Otherwise [`Decision::RequireApproval`] from any policy beats
//! allow; rewrites apply in order. No policy, or none with an opinion, is
//! allow.
//!
//! What each decision does:
//!
//! | decision | tool call | handoff | model call |
//! |---|---|---|---|
//! | `Allow` | runs (its tool may still need approval) | happens | is made |
//! | `Deny { message }` | does not run; the model gets `message` as an error output | refused; the model gets `message` as the handoff's error output, the agent stays | the run ends: `RunError::PolicyDenied` |
//! | `RequireApproval` | pauses the run for a person, as `#[tool(needs_approval)]` does | refused, as a deny (handoffs are not paused for a person) | the run ends: `RunError::PolicyDenied` (no person can be asked mid-call) |
//! | `Rewrite { arguments }` | runs with `arguments`; the history, the trace and the execution record show them, the record keeps the original | not applicable (allow) | not applicable (allow) |
//!
//! **Which mechanism when**: a policy for rules about *whether* an action
//! happens, written once for the whole application or loaded from a file
//! ([`RulePolicy`]); `#[tool(needs_approval)]` / `tool::with_approval` when
//! a tool itself always needs a person; a tool guardrail to check a call's
//! input or output against the run's data (it may trip the run); a
//! tool-start hook to observe calls (its veto stays for compatibility).
//! A person's "always" answer (`RunState::approve_always`) is remembered
//! for the rest of the run.
//!
//! The OpenAI Agents SDK has no policy layer; its tool guardrails and
//! `needs_approval` are the nearest.

mod rules;

use std::sync::Arc;

pub use rules::{ArgumentCondition, PolicyError, Rule, RuleDecision, RulePolicy, RuleTarget};

use crate::context::RunContext;
use crate::item::ToolCall;
use crate::model::ModelRequest;

/// An action about to happen, as a [`Policy`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Action<'a> {
    /// A model call about to be made for `agent`.
    ModelCall {
        /// The agent.
        agent: &'a str,
        /// The request.
        request: &'a ModelRequest,
    },
    /// A tool call the model made, about to run.
    ToolCall {
        /// The agent whose tool it is.
        agent: &'a str,
        /// The call: tool name, id, arguments (raw JSON).
        call: &'a ToolCall,
    },
    /// A handoff the model asked for, about to happen.
    Handoff {
        /// The agent handing off.
        agent: &'a str,
        /// The agent it would hand to.
        to: &'a str,
        /// The handoff call: its tool name (`transfer_to_...`) and input.
        call: &'a ToolCall,
    },
}

impl Action<'_> {
    /// The agent acting.
    pub fn agent(&self) -> &str {
        match self {
            Action::ModelCall { agent, .. }
            | Action::ToolCall { agent, .. }
            | Action::Handoff { agent, .. } => agent,
        }
    }
}

/// A policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Let it happen (also: no opinion).
    Allow,
    /// Do not let it happen; `message` says why (the model sees it for a
    /// tool call).
    Deny {
        /// Why.
        message: String,
    },
    /// A person must approve it first (tool calls).
    RequireApproval,
    /// Run the tool call with these arguments (raw JSON) instead.
    Rewrite {
        /// The new arguments.
        arguments: String,
    },
}

/// Decides whether actions of a run happen (see the [module docs](self)).
///
/// Closures `Fn(&RunContext<Ctx>, &Action) -> Decision` are policies.
pub trait Policy<Ctx>: Send + Sync {
    /// The decision on `action`.
    fn decide(&self, ctx: &RunContext<Ctx>, action: &Action<'_>) -> Decision;
}

impl<Ctx, F> Policy<Ctx> for F
where
    F: Fn(&RunContext<Ctx>, &Action<'_>) -> Decision + Send + Sync,
{
    fn decide(&self, ctx: &RunContext<Ctx>, action: &Action<'_>) -> Decision {
        self(ctx, action)
    }
}

/// A shared policy, as runners, agents and runs hold them.
pub type SharedPolicy<Ctx> = Arc<dyn Policy<Ctx>>;

/// The combined decision of `policies`, asked in order, on a tool call or
/// a model call (see the [module docs](self) for the rule).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Go ahead, with these arguments if a policy rewrote them.
    Allow {
        /// The rewritten arguments, if any.
        rewritten: Option<String>,
    },
    /// Ask a person first, then go ahead with these arguments (if rewritten).
    RequireApproval {
        /// The rewritten arguments, if any.
        rewritten: Option<String>,
    },
    /// Do not.
    Deny {
        /// Why.
        message: String,
    },
}

/// Asks `policies` about the tool call `call` of `agent`, in order.
pub fn decide_tool_call<'p, Ctx: 'p>(
    policies: impl IntoIterator<Item = &'p SharedPolicy<Ctx>>,
    ctx: &RunContext<Ctx>,
    agent: &str,
    call: &ToolCall,
) -> Verdict {
    let mut current = call.clone();
    let mut rewritten = false;
    let mut approval = false;
    for policy in policies {
        let action = Action::ToolCall {
            agent,
            call: &current,
        };
        match policy.decide(ctx, &action) {
            Decision::Allow => {}
            Decision::Deny { message } => return Verdict::Deny { message },
            Decision::RequireApproval => approval = true,
            Decision::Rewrite { arguments } => {
                current.arguments = arguments;
                rewritten = true;
            }
        }
    }
    let rewritten = rewritten.then_some(current.arguments);
    if approval {
        Verdict::RequireApproval { rewritten }
    } else {
        Verdict::Allow { rewritten }
    }
}

/// Asks `policies` about a handoff of `agent` to `to`; `Some(message)` if
/// it must not happen (a deny, or a required approval: handoffs are not
/// paused for a person).
pub fn decide_handoff<'p, Ctx: 'p>(
    policies: impl IntoIterator<Item = &'p SharedPolicy<Ctx>>,
    ctx: &RunContext<Ctx>,
    agent: &str,
    to: &str,
    call: &ToolCall,
) -> Option<String> {
    refusal(policies, ctx, &Action::Handoff { agent, to, call }, || {
        format!(
            "a policy requires approval for the handoff to `{to}`, and handoffs are not paused for a person"
        )
    })
}

/// Asks `policies` about a model call; `Some(message)` if it must not be
/// made (a deny, or a required approval, which cannot be asked mid-call).
pub fn decide_model_call<'p, Ctx: 'p>(
    policies: impl IntoIterator<Item = &'p SharedPolicy<Ctx>>,
    ctx: &RunContext<Ctx>,
    agent: &str,
    request: &ModelRequest,
) -> Option<String> {
    refusal(policies, ctx, &Action::ModelCall { agent, request }, || {
        format!(
            "a policy requires approval for a model call of `{agent}`, which cannot be asked mid-run"
        )
    })
}

/// The first deny's message, or `unapprovable()` for a required approval,
/// of an action no person can be asked about.
fn refusal<'p, Ctx: 'p>(
    policies: impl IntoIterator<Item = &'p SharedPolicy<Ctx>>,
    ctx: &RunContext<Ctx>,
    action: &Action<'_>,
    unapprovable: impl FnOnce() -> String,
) -> Option<String> {
    for policy in policies {
        match policy.decide(ctx, action) {
            Decision::Deny { message } => return Some(message),
            Decision::RequireApproval => return Some(unapprovable()),
            Decision::Allow | Decision::Rewrite { .. } => {}
        }
    }
    None
}
