//! The policies' say on a turn's tool calls, before approvals: a denied
//! call will get an error output without running, a rewritten one replaces
//! the model's call in the history, a call a policy sends to a person
//! pauses the run.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::live::LiveRun;
use super::turn_loop::Env;
use crate::item::{Item, ToolCall};
use crate::policy::{Verdict, decide_handoff, decide_tool_call};

/// A turn's calls after the policies.
#[derive(Debug, Default)]
pub(super) struct Policed {
    /// The calls, rewritten ones replaced.
    pub(super) calls: Vec<Arc<Item>>,
    /// Denied calls: call id → message.
    pub(super) denied: HashMap<String, String>,
    /// Calls a policy sends to a person.
    pub(super) approval: HashSet<String>,
    /// Rewritten calls: call id → the arguments the model wrote.
    pub(super) originals: HashMap<String, String>,
}

impl Policed {
    pub(super) fn denied(&self, call_id: &str) -> Option<&str> {
        self.denied.get(call_id).map(String::as_str)
    }
}

/// Asks the policies about each tool call of `calls`; `None` when the run
/// has no policy for this agent (nothing to do, nothing allocated).
pub(super) fn police<Ctx, Out>(
    live: &mut LiveRun<Ctx>,
    env: &Env<'_, Ctx, Out>,
    calls: &[Arc<Item>],
) -> Option<Policed> {
    let agent = Arc::clone(&live.agent);
    if !env.extras.has_policies(&agent) {
        return None;
    }
    let mut policed = Policed::default();
    for item in calls {
        let call = match &**item {
            Item::ToolCall(call) => call,
            Item::HandoffCall(call) => {
                let to = agent
                    .handoff(&call.name)
                    .map_or(call.name.as_str(), |h| &*h.target_name);
                let policies = env.extras.policies_for(&agent);
                if let Some(message) = decide_handoff(policies, &live.ctx, &agent.name, to, call) {
                    policed.denied.insert(call.call_id.clone(), message);
                }
                policed.calls.push(Arc::clone(item));
                continue;
            }
            _ => {
                policed.calls.push(Arc::clone(item));
                continue;
            }
        };
        let verdict = decide_tool_call(
            env.extras.policies_for(&agent),
            &live.ctx,
            &agent.name,
            call,
        );
        let rewritten = match verdict {
            Verdict::Deny { message } => {
                policed.denied.insert(call.call_id.clone(), message);
                None
            }
            Verdict::RequireApproval { rewritten } => {
                policed.approval.insert(call.call_id.clone());
                rewritten
            }
            Verdict::Allow { rewritten } => rewritten,
        };
        match rewritten.filter(|arguments| *arguments != call.arguments) {
            Some(arguments) => {
                let new = Arc::new(Item::ToolCall(ToolCall {
                    arguments,
                    ..call.clone()
                }));
                live.replace_call(&call.call_id, &new);
                policed
                    .originals
                    .insert(call.call_id.clone(), call.arguments.clone());
                policed.calls.push(new);
            }
            None => policed.calls.push(Arc::clone(item)),
        }
    }
    Some(policed)
}
