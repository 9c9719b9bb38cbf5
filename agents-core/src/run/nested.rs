//! Runs inside a run: agents used as tools and guardrail agents.

use std::sync::Arc;

use super::context::RunContext;
use super::error::RunError;
use super::input::RunInput;
use super::result::RunResult;
use super::turn::{RunExtras, Start, execute};
use crate::agent::AsAgent;

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
        let mut config = runtime.config.clone();
        config.run_id = None;
        if let Some(max_turns) = max_turns {
            config.max_turns = max_turns;
        }
        let nested = Box::pin(execute(
            Arc::clone(&runtime.model),
            agent,
            Arc::clone(&self.context),
            Start::Input(input.into().into_items()),
            config,
            None,
            runtime.depth + 1,
            RunExtras::default(),
        ));
        Ok(nested.await)
    }
}
