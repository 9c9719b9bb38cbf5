//! The state a run owns while it executes.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::result::{GuardrailResult, PartialRun};
use super::state::ApprovalDecision;
use crate::agent::handoff::ConvertFn;
use crate::agent::{AgentCore, HandoffEntry};
use crate::context::{RunContext, ToolExecution, top_level_path};
use crate::item::{HandoffOutput, INTERRUPTED, Item, RunItem, ToolOutput};
use crate::model::ModelResponse;
use crate::usage::Usage;

/// Everything a run owns. Lives outside the loop's future so that a timeout
/// or cancellation, which drops that future, still leaves every item.
pub(super) struct LiveRun<Ctx> {
    pub(super) ctx: RunContext<Ctx>,
    pub(super) starting_agent: Arc<str>,
    pub(super) input: Vec<Arc<Item>>,
    /// What the next model call sees (handoff input filters rewrite it).
    pub(super) history: Vec<Arc<Item>>,
    pub(super) new_items: Vec<RunItem>,
    pub(super) raw_responses: Vec<ModelResponse>,
    pub(super) agent: Arc<AgentCore<Ctx>>,
    /// Output conversions of the handoffs taken, in order.
    pub(super) conversions: Vec<Vec<ConvertFn>>,
    /// Handoff tool names taken, in order: how to find the current agent
    /// again from the starting one on resume.
    pub(super) handoff_path: Vec<String>,
    /// Approval decisions per call id (from a resumed state).
    pub(super) decisions: BTreeMap<String, ApprovalDecision>,
    /// Approval decisions per tool name, for the rest of the run.
    pub(super) always: BTreeMap<String, ApprovalDecision>,
    /// The agent whose start hooks ran last.
    pub(super) started: Option<Arc<str>>,
    /// Usage per agent name.
    pub(super) usage_by_agent: UsageByAgent,
    /// How many of `new_items` the session has stored.
    pub(super) saved: usize,
    /// Every tool call this run executed, in call order per turn.
    pub(super) tool_executions: Vec<ToolExecution>,
    /// The agents that have run function tools in this run.
    pub(super) used_tools: Vec<Arc<str>>,
    /// Every input and output guardrail that ran.
    pub(super) guardrail_results: Vec<GuardrailResult>,
    /// Where the items the server has not seen begin in `history`, for a
    /// server-managed conversation: just after the last model response.
    pub(super) server_mark: usize,
}

/// Usage per agent name while a run executes: a run has few agents, so a
/// list (no allocation until the first model call, one small one then)
/// beats a map; results carry a `BTreeMap`.
#[derive(Default)]
pub(super) struct UsageByAgent(Vec<(Arc<str>, Usage)>);

impl UsageByAgent {
    /// Adds `usage` to `agent`'s total.
    pub(super) fn add(&mut self, agent: &Arc<str>, usage: Usage) {
        match self.0.iter_mut().find(|(name, _)| name == agent) {
            Some((_, total)) => *total += usage,
            None => {
                // Most runs have one or two agents: no spare room for those.
                if self.0.len() < 4 {
                    self.0.reserve_exact(1);
                }
                self.0.push((Arc::clone(agent), usage));
            }
        }
    }

    /// The totals as the map results carry.
    pub(super) fn into_map(self) -> BTreeMap<String, Usage> {
        self.0
            .into_iter()
            .map(|(name, usage)| (name.to_string(), usage))
            .collect()
    }

    /// The totals of a resumed run.
    pub(super) fn from_map(map: BTreeMap<String, Usage>) -> Self {
        UsageByAgent(
            map.into_iter()
                .map(|(name, usage)| (Arc::from(name), usage))
                .collect(),
        )
    }
}

impl<Ctx> LiveRun<Ctx> {
    /// A run of `agent` on `input`, nothing produced yet.
    pub(super) fn start(
        ctx: RunContext<Ctx>,
        agent: Arc<AgentCore<Ctx>>,
        input: Vec<Arc<Item>>,
    ) -> Self {
        LiveRun {
            ctx,
            starting_agent: Arc::clone(&agent.name),
            history: input.clone(),
            input,
            new_items: Vec::new(),
            raw_responses: Vec::new(),
            agent,
            conversions: Vec::new(),
            handoff_path: Vec::new(),
            decisions: BTreeMap::new(),
            always: BTreeMap::new(),
            started: None,
            usage_by_agent: UsageByAgent::default(),
            saved: 0,
            tool_executions: Vec::new(),
            used_tools: Vec::new(),
            guardrail_results: Vec::new(),
            server_mark: 0,
        }
    }

    /// Puts `new` where the tool call `call_id` of this run is, in the
    /// history and in the new items (a policy rewrote its arguments).
    pub(super) fn replace_call(&mut self, call_id: &str, new: &Arc<Item>) {
        let is_call = |item: &Item| matches!(item, Item::ToolCall(call) if call.call_id == call_id);
        if let Some(slot) = self.history.iter_mut().rev().find(|item| is_call(item)) {
            *slot = Arc::clone(new);
        }
        if let Some(slot) = self
            .new_items
            .iter_mut()
            .rev()
            .find(|item| is_call(&item.item))
        {
            slot.item = Arc::clone(new);
        }
    }

    pub(super) fn push(&mut self, item: Arc<Item>) {
        self.history.push(Arc::clone(&item));
        self.new_items.push(RunItem {
            agent: Arc::clone(&self.agent.name),
            item,
        });
    }

    /// Hands the run to `handoff`'s target: its output conversion, the
    /// path a resume replays, the current agent.
    pub(super) fn switch_to(&mut self, handoff: &HandoffEntry<Ctx>) {
        self.conversions.push(handoff.convert.clone());
        self.handoff_path.push(handoff.tool_name.clone());
        self.agent = handoff.target.resolve();
        self.ctx.agent = Arc::clone(&self.agent.name);
    }

    pub(super) fn decision(&self, call_id: &str, tool: &str) -> Option<&ApprovalDecision> {
        self.decisions
            .get(call_id)
            .or_else(|| self.always.get(tool))
    }

    /// Gives every tool and handoff call of this run that has no output an
    /// interrupted one ([`ToolOutput::interrupted`]), so the partial run can
    /// be continued: for a run stopped before its calls finished.
    pub(super) fn close_open_calls(&mut self) {
        let answered: std::collections::HashSet<&str> = self
            .new_items
            .iter()
            .filter(|i| matches!(*i.item, Item::ToolOutput(_) | Item::HandoffOutput(_)))
            .filter_map(|i| i.item.call_id())
            .collect();
        let open: Vec<(bool, String)> = self
            .new_items
            .iter()
            .filter_map(|i| match &*i.item {
                Item::ToolCall(call) if !answered.contains(call.call_id.as_str()) => {
                    Some((false, call.call_id.clone()))
                }
                Item::HandoffCall(call) if !answered.contains(call.call_id.as_str()) => {
                    Some((true, call.call_id.clone()))
                }
                _ => None,
            })
            .collect();
        for (handoff, call_id) in open {
            let output = if handoff {
                Item::HandoffOutput(HandoffOutput {
                    call_id,
                    from_agent: self.agent.name.to_string(),
                    to_agent: None,
                    output: INTERRUPTED.to_owned(),
                })
            } else {
                Item::ToolOutput(ToolOutput::interrupted(call_id))
            };
            self.push(Arc::new(output));
        }
    }

    /// The agents enclosing this run, outermost first.
    pub(super) fn path(&self) -> Arc<[Arc<str>]> {
        self.ctx
            .runtime
            .as_ref()
            .map_or_else(top_level_path, |runtime| Arc::clone(&runtime.path))
    }

    pub(super) fn into_partial(self) -> PartialRun {
        PartialRun {
            run_id: self.ctx.run_id,
            starting_agent: self.starting_agent,
            input: self.input,
            history: self.history,
            new_items: self.new_items,
            last_agent: Arc::clone(&self.agent.name),
            handoff_path: self.handoff_path,
            usage: self.ctx.usage,
            usage_by_agent: self.usage_by_agent.into_map(),
            raw_responses: self.raw_responses,
            turns: self.ctx.turn,
            tool_executions: self.tool_executions,
            guardrail_results: self.guardrail_results,
        }
    }

    pub(super) fn partial(self) -> Box<PartialRun> {
        Box::new(self.into_partial())
    }
}
