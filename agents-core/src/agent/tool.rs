use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Agent;
use crate::run::RunContext;
use crate::schema;
use crate::tool::{Tool, ToolError, output_to_string, parse_strict_arguments};

/// An agent used as a tool by another agent: the tool call starts a nested
/// run of the agent on the `input` the model passes, and the nested run's
/// final output is the tool output.
///
/// The nested run shares the outer run's model, context and limits, has its
/// own turn limit ([`max_turns`](AgentTool::max_turns)), and may nest at most
/// [`RunConfig::max_nesting_depth`](crate::RunConfig::max_nesting_depth)
/// deep. Its items stay inside it; a failure becomes the tool's error output.
/// Made by [`Agent::as_tool`].
pub struct AgentTool<Ctx, Out> {
    agent: Agent<Ctx, Out>,
    name: String,
    description: String,
    max_turns: Option<u32>,
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
struct AgentToolArgs {
    /// The request for the agent, in plain language.
    input: String,
}

impl<Ctx, Out> Tool<Ctx> for AgentTool<Ctx, Out>
where
    Ctx: Send + Sync + 'static,
    Out: Serialize + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> serde_json::Value {
        schema::schema_for_mode::<AgentToolArgs>(true).0
    }

    fn strict(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &RunContext<Ctx>, arguments: &str) -> Result<String, ToolError> {
        let args: AgentToolArgs = parse_strict_arguments(arguments)?;
        match ctx.run_agent(&self.agent, args.input, self.max_turns).await {
            Err(error) => Err(ToolError::new(error.to_string())),
            Ok(Ok(result)) => output_to_string(result.final_output),
            Ok(Err(error)) => Err(ToolError::new(format!(
                "agent `{}` failed: {error}",
                self.agent.name()
            ))),
        }
    }
}
