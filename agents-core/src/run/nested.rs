//! Runs inside a run: agents used as tools and guardrail agents.

use std::sync::Arc;

use super::builder::Run;
use super::error::RunError;
use super::execute::{Nesting, execute};
use super::input::RunInput;
use super::result::RunResult;
use super::seal::StateGuard;
use super::setup::{RunExtras, Start};
use crate::agent::{AgentTool, AgentToolArgs, AsAgent};
use crate::context::RunContext;
use crate::schema;
use crate::tool::{Tool, ToolError, output_to_string, parse_strict_arguments};
use serde::Serialize;

/// Why a nested run could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NestedRunError {
    /// The context is not inside a run (e.g. [`RunContext::new`] in a unit
    /// test), so there is no model to call.
    #[error("agent `{agent}` can run only inside a run")]
    OutsideRun {
        /// The agent.
        agent: String,
    },
    /// Nesting would exceed
    /// [`RunConfig::max_nesting_depth`](super::RunConfig::max_nesting_depth).
    #[error("agent `{agent}` not run: agents used as tools may nest at most {max_depth} deep")]
    TooDeep {
        /// The agent.
        agent: String,
        /// The limit.
        max_depth: u32,
    },
}

/// A nested run's outcome.
pub type NestedResult<Out> = Result<Result<RunResult<Out>, RunError>, NestedRunError>;

impl<Ctx: Send + Sync + 'static> RunContext<Ctx> {
    /// Runs `agent` on `input` inside this run: same model, same context,
    /// same limits (with `max_turns` if given), one level deeper. For agents
    /// used as tools and guardrails that ask an agent.
    ///
    /// # Errors
    /// The outer `Err` is a [`NestedRunError`] when the nested run cannot
    /// start; the inner one is the nested run's own [`RunError`].
    pub async fn run_agent<A>(
        &self,
        agent: &A,
        input: impl Into<RunInput>,
        max_turns: Option<u32>,
    ) -> NestedResult<A::Output>
    where
        A: AsAgent<Ctx> + ?Sized,
        A::Output: Send + 'static,
    {
        let agent = agent.as_agent();
        let Some(runtime) = &self.runtime else {
            return Err(NestedRunError::OutsideRun {
                agent: agent.name().to_owned(),
            });
        };
        if runtime.depth >= runtime.config.max_nesting_depth {
            return Err(NestedRunError::TooDeep {
                agent: agent.name().to_owned(),
                max_depth: runtime.config.max_nesting_depth,
            });
        }
        let mut config = crate::context::RunConfig::clone(&runtime.config);
        config.run_id = None;
        if let Some(max_turns) = max_turns {
            config.max_turns = max_turns;
        }
        let run = Run {
            model: Arc::clone(&runtime.model),
            agent,
            context: Arc::clone(&self.context),
            start: Start::Input(input.into().into_items()),
            config,
            cancellation: None,
            extras: RunExtras::default(),
            guard: Arc::new(StateGuard::default()),
        };
        let nesting = Nesting {
            depth: runtime.depth + 1,
            path: runtime
                .path
                .iter()
                .cloned()
                .chain([Arc::clone(&self.agent)])
                .collect(),
            tree: Arc::clone(&runtime.tree),
        };
        let nested = Box::pin(execute(run, nesting));
        Ok(nested.await)
    }
}

/// An agent used as a tool runs a nested run: this impl sits in the run
/// layer so that the agent layer below it never calls up into the runner.
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
