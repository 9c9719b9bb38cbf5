use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::Arc;

use super::{Agent, AgentCore};

/// The agents reachable from one agent through handoffs, with their tools:
/// what a program's agent graph looks like, for docs and reviews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentGraph {
    /// Every reachable agent, the starting one first, then in breadth-first
    /// order of handoffs.
    pub agents: Vec<GraphAgent>,
}

/// One agent of an [`AgentGraph`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphAgent {
    /// The agent's name.
    pub name: String,
    /// Its function tools' names.
    pub tools: Vec<String>,
    /// The names of the agents it may hand off to.
    pub handoffs: Vec<String>,
}

impl<Ctx, Out> Agent<Ctx, Out> {
    /// The graph of agents reachable from this one. Cycles are followed
    /// once.
    pub fn graph(&self) -> AgentGraph {
        let mut agents = Vec::new();
        let mut seen: Vec<Arc<str>> = Vec::new();
        let mut queue: VecDeque<Arc<AgentCore<Ctx>>> = VecDeque::from([Arc::clone(&self.core)]);
        seen.push(Arc::clone(&self.core.name));
        while let Some(core) = queue.pop_front() {
            for handoff in &core.handoffs {
                if !seen.contains(&handoff.target_name) {
                    seen.push(Arc::clone(&handoff.target_name));
                    queue.push_back(handoff.target.resolve());
                }
            }
            agents.push(GraphAgent {
                name: core.name.to_string(),
                tools: core.tool_definitions[..core.tools.len()]
                    .iter()
                    .map(|t| t.name.clone())
                    .collect(),
                handoffs: core
                    .handoffs
                    .iter()
                    .map(|h| h.target_name.to_string())
                    .collect(),
            });
        }
        AgentGraph { agents }
    }
}

impl<Ctx, Out> Agent<Ctx, Out> {
    /// The agent named `name` among those reachable from this one (this
    /// one included), breadth first.
    #[cfg_attr(not(feature = "temporal"), allow(dead_code))]
    pub(crate) fn reachable_core(&self, name: &str) -> Option<Arc<AgentCore<Ctx>>> {
        let mut seen: Vec<Arc<str>> = vec![Arc::clone(&self.core.name)];
        let mut queue: VecDeque<Arc<AgentCore<Ctx>>> = VecDeque::from([Arc::clone(&self.core)]);
        while let Some(core) = queue.pop_front() {
            if &*core.name == name {
                return Some(core);
            }
            for handoff in &core.handoffs {
                if !seen.contains(&handoff.target_name) {
                    seen.push(Arc::clone(&handoff.target_name));
                    queue.push_back(handoff.target.resolve());
                }
            }
        }
        None
    }
}

impl AgentGraph {
    /// The graph as a Mermaid flowchart: one box per agent, a solid arrow per
    /// handoff, a dotted arrow to a rounded node per tool.
    ///
    /// ```text
    /// flowchart LR
    ///     Triage["Triage"]
    ///     Triage -->|handoff| Billing
    ///     Triage -.->|tool| Triage__lookup_order(["lookup_order"])
    /// ```
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for agent in &self.agents {
            let _ = writeln!(
                out,
                "    {}[\"{}\"]",
                node_id(&agent.name),
                escape(&agent.name)
            );
        }
        for agent in &self.agents {
            let id = node_id(&agent.name);
            for target in &agent.handoffs {
                let _ = writeln!(out, "    {id} -->|handoff| {}", node_id(target));
            }
            for tool in &agent.tools {
                let _ = writeln!(
                    out,
                    "    {id} -.->|tool| {id}__{}([\"{}\"])",
                    node_id(tool),
                    escape(tool)
                );
            }
        }
        out
    }
}

fn node_id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('"', "#quot;")
}
