use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;

use super::Agent;

/// An agent used as a tool by another agent: the tool call starts a nested
/// run of the agent on the `input` the model passes, and the nested run's
/// final output is the tool output.
///
/// The nested run shares the outer run's model, context and limits, has its
/// own turn limit ([`max_turns`](AgentTool::max_turns)), and may nest at most
/// [`RunConfig::max_nesting_depth`](crate::RunConfig::max_nesting_depth)
/// deep. Its items stay inside it; a failure becomes the tool's error output.
/// Made by [`Agent::as_tool`].
///
/// Its [`Tool`](crate::tool::Tool) implementation lives with the runner
/// (`run/nested.rs`): running an agent is the run layer's job, so this
/// layer holds only the data and never calls upward.
pub struct AgentTool<Ctx, Out> {
    pub(crate) agent: Agent<Ctx, Out>,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) max_turns: Option<u32>,
}

impl<Ctx, Out> fmt::Debug for AgentTool<Ctx, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentTool")
            .field("name", &self.name)
            .field("agent", &self.agent.name())
            .finish_non_exhaustive()
    }
}

impl<Ctx, Out> Agent<Ctx, Out> {
    /// This agent as a tool called `name`, described to the model by
    /// `description`.
    pub fn as_tool(
        &self,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> AgentTool<Ctx, Out> {
        AgentTool {
            agent: self.clone(),
            name: name.into(),
            description: description.into(),
            max_turns: None,
        }
    }
}

impl<Ctx, Out> AgentTool<Ctx, Out> {
    /// Sets the nested run's turn limit (default: the outer run's).
    pub fn max_turns(mut self, max_turns: u32) -> Self {
        self.max_turns = Some(max_turns);
        self
    }
}

/// The arguments of an agent used as a tool.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct AgentToolArgs {
    /// The request for the agent, in plain language.
    pub(crate) input: String,
}
