//! Running agents: the [`Runner`], its configuration, and what a run returns.
//!
//! A run is a loop of turns. One turn is one model call; inside a turn the
//! order is fixed: call the model → append its items → resolve a handoff
//! (the first handoff call wins, later ones get an error output) → run the
//! tool calls concurrently, recording their outputs in call order → if the
//! model answered without tool calls, its last message is the final output.
//! Limits (turns, wall-clock, per model call, per tool) always apply.

mod calls;
mod config;
pub(crate) mod context;
mod error;
mod input;
mod live;
mod nested;
mod result;
mod state;
mod stream;
mod tools;
mod trace;
pub(crate) mod turn;

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

pub use config::{RunConfig, ToolErrorPolicy};
pub use context::{Metadata, RunContext};
pub use error::{RunError, ToolFailure};
pub use input::RunInput;
pub use nested::{NestedResult, NestedRunError};
pub use result::{PartialRun, RunResult};
pub use state::{ApprovalDecision, PendingApproval, RUN_STATE_SCHEMA_VERSION, RunState};
pub use stream::{RunEvent, RunStream};
/// Cancels a run from another task; see [`Run::cancellation_token`].
pub use tokio_util::sync::CancellationToken;
pub use turn::MaxTurnsFallback;

use crate::agent::{Agent, AsAgent};
use crate::guardrail::{InputGuardrail, OutputGuardrail, ToolGuardrail};
use crate::hooks::RunHooks;
use crate::model::{BoxFuture, Model, ModelSettings};
use crate::session::Session;
use turn::{RunExtras, Start};

/// Drives agents: calls the model, runs tools, follows handoffs.
///
/// `Clone + Send + Sync`: one runner serves any number of concurrent runs,
/// each owning its own state. `Ctx` is the run context type, usually
/// inferred from the first [`run`](Runner::run).
///
/// ```
/// use agents_core::prelude::*;
/// use agents_testing::{MockModel, Step};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = MockModel::script([Step::text("Hello!")]);
/// let agent: Agent<()> = Agent::builder("Greeter").instructions("Greet the user.").build()?;
/// let runner = Runner::new(model.clone()).with_config(RunConfig::new().max_turns(3));
///
/// let result = runner.run(&agent, (), "hi").await?;
/// assert_eq!(result.final_output, "Hello!");
/// model.assert_complete();
/// # Ok(()) }
/// ```
pub struct Runner<Ctx> {
    model: Arc<dyn Model>,
    config: RunConfig,
    _ctx: PhantomData<fn(Ctx) -> Ctx>,
}

impl<Ctx> Clone for Runner<Ctx> {
    fn clone(&self) -> Self {
        Runner {
            model: Arc::clone(&self.model),
            config: self.config.clone(),
            _ctx: PhantomData,
        }
    }
}

impl<Ctx> fmt::Debug for Runner<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<Ctx: Send + Sync + 'static> Runner<Ctx> {
    /// A runner calling `model`, with the default [`RunConfig`].
    pub fn new(model: impl Model + 'static) -> Self {
        Self::from_shared(Arc::new(model))
    }

    /// A runner calling an already shared model.
    pub fn from_shared(model: Arc<dyn Model>) -> Self {
        Runner {
            model,
            config: RunConfig::default(),
            _ctx: PhantomData,
        }
    }

    /// Replaces the configuration every run starts from.
    pub fn with_config(mut self, config: RunConfig) -> Self {
        self.config = config;
        self
    }

    /// The configuration every run starts from.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The model.
    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// Starts describing a run of `agent` with `context` and `input` (a
    /// `&str`, a `String`, or items such as a previous result's
    /// [`to_input_list`](RunResult::to_input_list)).
    ///
    /// Await the returned [`Run`] to execute it; its setters override this
    /// runner's configuration for this run only.
    pub fn run<A>(&self, agent: &A, context: Ctx, input: impl Into<RunInput>) -> Run<Ctx, A::Output>
    where
        A: AsAgent<Ctx> + ?Sized,
        A::Output: Send + 'static,
    {
        Run {
            model: Arc::clone(&self.model),
            agent: agent.as_agent(),
            context,
            start: Start::Input(input.into().into_items()),
            config: self.config.clone(),
            cancellation: None,
            extras: RunExtras::default(),
        }
    }

    /// Starts `agent` on `input` as a stream of [`RunEvent`]s; shorthand for
    /// `self.run(agent, context, input).stream()`.
    pub fn run_streamed<A>(
        &self,
        agent: &A,
        context: Ctx,
        input: impl Into<RunInput>,
    ) -> RunStream<A::Output>
    where
        A: AsAgent<Ctx> + ?Sized,
        A::Output: Send + 'static,
    {
        self.run(agent, context, input).stream()
    }

    /// Resumes a stopped run from its [`RunState`]: a run paused for
    /// approvals (decide each pending call on the state first), or one that
    /// hit a limit (raise it on the returned [`Run`]). `agent` is the agent
    /// the run *started* with; the current agent is found again through the
    /// recorded handoffs.
    ///
    /// The paused turn's tool calls run once each (approved ones execute,
    /// rejected ones send their message to the model), then the run goes on.
    ///
    /// # Errors
    /// Awaiting yields [`RunError::InvalidState`] for a state from a newer
    /// release or another agent graph, and any other [`RunError`] as a run
    /// would, including [`RunError::ApprovalRequired`] again for calls still
    /// undecided.
    pub fn resume<A>(&self, agent: &A, context: Ctx, state: RunState) -> Run<Ctx, A::Output>
    where
        A: AsAgent<Ctx> + ?Sized,
        A::Output: Send + 'static,
    {
        Run {
            model: Arc::clone(&self.model),
            agent: agent.as_agent(),
            context,
            start: Start::Resume(Box::new(state)),
            config: self.config.clone(),
            cancellation: None,
            extras: RunExtras::default(),
        }
    }
}

/// One run, ready to execute: `.await` it.
///
/// Created by [`Runner::run`]. The setters override the runner's
/// configuration for this run. The future is `Send + 'static`, so it can be
/// spawned.
///
/// # Errors
/// Awaiting yields a [`RunError`] when a limit is exceeded, the model fails,
/// the run is cancelled, the final output does not parse, or a tool fails
/// under [`ToolErrorPolicy::FailRun`]. Each carries the partial run.
#[must_use = "a run does nothing until it is awaited"]
pub struct Run<Ctx, Out> {
    model: Arc<dyn Model>,
    agent: Agent<Ctx, Out>,
    context: Ctx,
    start: Start,
    config: RunConfig,
    cancellation: Option<CancellationToken>,
    extras: RunExtras<Ctx, Out>,
}

impl<Ctx, Out> fmt::Debug for Run<Ctx, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("agent", &self.agent.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<Ctx, Out> Run<Ctx, Out> {
    /// Replaces the whole configuration for this run.
    pub fn config(mut self, config: RunConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the maximum number of turns.
    pub fn max_turns(mut self, max_turns: u32) -> Self {
        self.config.max_turns = max_turns;
        self
    }

    /// Sets the wall-clock limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Sets the limit of one model call.
    pub fn model_call_timeout(mut self, timeout: Duration) -> Self {
        self.config.model_call_timeout = timeout;
        self
    }

    /// Sets the limit of one tool call.
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.config.tool_timeout = timeout;
        self
    }

    /// Sets the tool error policy.
    pub fn tool_error_policy(mut self, policy: ToolErrorPolicy) -> Self {
        self.config.tool_error_policy = policy;
        self
    }

    /// Sets the run id.
    pub fn run_id(mut self, run_id: impl Into<Arc<str>>) -> Self {
        self.config.run_id = Some(run_id.into());
        self
    }

    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.config = self.config.metadata(key, value);
        self
    }

    /// Sets model settings that override the agents', field by field.
    pub fn model_settings(mut self, settings: ModelSettings) -> Self {
        self.config.model_settings = settings;
        self
    }

    /// Model settings for one agent (by name) in this run, merged field by
    /// field over the agent's and the run's: e.g. force a tool choice for
    /// one agent of a graph.
    pub fn agent_model_settings(
        mut self,
        agent: impl Into<String>,
        settings: ModelSettings,
    ) -> Self {
        self.extras.agent_settings.push((agent.into(), settings));
        self
    }

    /// Lets `token` cancel the run: the run stops at once and returns
    /// [`RunError::Cancelled`] with the partial run.
    pub fn cancellation_token(mut self, token: CancellationToken) -> Self {
        self.cancellation = Some(token);
        self
    }

    /// Adds hooks called on every agent's events in this run.
    pub fn hooks(mut self, hooks: impl RunHooks<Ctx>) -> Self {
        self.extras.hooks.push(Arc::new(hooks));
        self
    }

    /// Adds an input guardrail for this run.
    pub fn input_guardrail(mut self, guardrail: InputGuardrail<Ctx>) -> Self {
        self.extras.input_guardrails.push(guardrail);
        self
    }

    /// Adds an output guardrail on this run's final output.
    pub fn output_guardrail(mut self, guardrail: OutputGuardrail<Ctx, Out>) -> Self {
        self.extras.output_guardrails.push(guardrail);
        self
    }

    /// Adds a tool guardrail for every agent of this run.
    pub fn tool_guardrail(mut self, guardrail: ToolGuardrail<Ctx>) -> Self {
        self.extras.tool_guardrails.push(guardrail);
        self
    }

    /// Keeps the conversation in `session`: its history is loaded in front of
    /// the input, the input is stored at once, each turn's items as the turn
    /// completes, and the run continues with the agent that answered last on
    /// this session when the starting agent's handoffs reach it. See
    /// [`session`](crate::session).
    pub fn session(mut self, session: impl Session + 'static) -> Self {
        self.extras.session = Some(Arc::new(session));
        self
    }

    /// Loads only the last `items` items of the session's history.
    pub fn session_limit(mut self, items: usize) -> Self {
        self.extras.session_limit = Some(items);
        self
    }

    /// When the run exceeds its turn limit, `handler` may give a fallback
    /// final output instead of [`RunError::MaxTurnsExceeded`] (return `None`
    /// to keep the error). The fallback stays out of the items unless it
    /// carries a message ([`MaxTurnsFallback::with_message`]).
    pub fn on_max_turns(
        mut self,
        handler: impl FnOnce(&PartialRun) -> Option<MaxTurnsFallback<Out>> + Send + Sync + 'static,
    ) -> Self {
        self.extras.max_turns_handler = Some(Box::new(handler));
        self
    }
}

impl<Ctx, Out> Run<Ctx, Out>
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    /// Runs as a stream of [`RunEvent`]s: the model is called in streaming
    /// mode and every delta, tool output, handoff and usage is reported as
    /// it happens. [`RunStream::result`] gives the same [`RunResult`] as
    /// awaiting the run.
    pub fn stream(mut self) -> RunStream<Out> {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        self.extras.events = Some(sender);
        RunStream::new(self.into_future(), receiver)
    }
}

impl<Ctx, Out> IntoFuture for Run<Ctx, Out>
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    type Output = Result<RunResult<Out>, RunError>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(turn::execute(
            self.model,
            self.agent,
            Arc::new(self.context),
            self.start,
            self.config,
            self.cancellation,
            0,
            self.extras,
        ))
    }
}
