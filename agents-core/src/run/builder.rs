//! [`Run`]: one run being described, then executed by awaiting it.

use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::effects::Effects;
use super::ending::MaxTurnsFallback;
use super::error::RunError;
use super::execute::{Nesting, execute};
use super::result::{PartialRun, RunResult};
use super::runner::Runner;
use super::seal::StateGuard;
use super::setup::{RunExtras, Start};
use super::stream::{EventSender, RunStream};
use crate::agent::Agent;
use crate::context::{Budget, RunConfig, ToolErrorPolicy};
use crate::guardrail::{InputGuardrail, OutputGuardrail, ToolGuardrail};
use crate::hooks::RunHooks;
use crate::model::{BoxFuture, Model, ModelSettings};
use crate::session::Session;

/// One run, ready to execute: `.await` it.
///
/// Created by [`Runner::run`](super::Runner::run). The setters override the runner's
/// configuration for this run. The future is `Send + 'static`, so it can be
/// spawned.
///
/// # Errors
/// Awaiting yields a [`RunError`] when a limit is exceeded, the model fails,
/// the run is cancelled, the final output does not parse, or a tool fails
/// under [`ToolErrorPolicy::FailRun`]. Each carries the partial run.
#[must_use = "a run does nothing until it is awaited"]
pub struct Run<Ctx, Out> {
    pub(super) model: Arc<dyn Model>,
    pub(super) agent: Agent<Ctx, Out>,
    pub(super) context: Arc<Ctx>,
    pub(super) start: Start,
    pub(super) config: RunConfig,
    pub(super) cancellation: Option<CancellationToken>,
    pub(super) extras: RunExtras<Ctx, Out>,
    pub(super) guard: Arc<StateGuard>,
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

    /// Sets how many tool calls of one response run at once (see
    /// [`RunConfig::max_concurrent_tool_calls`]).
    pub fn max_concurrent_tool_calls(mut self, calls: usize) -> Self {
        self.config.max_concurrent_tool_calls = Some(calls);
        self
    }

    /// Continues the server-managed conversation that ended with the
    /// response `id` (the Responses API's `previous_response_id`): only
    /// this run's input is sent, and each later turn names the previous
    /// turn's response. Not with a session
    /// ([`RunError::InvalidConfig`]). The model must keep state
    /// (`OpenAiResponses`; the Chat Completions client refuses).
    pub fn previous_response_id(mut self, id: impl Into<String>) -> Self {
        self.extras
            .governance_mut()
            .server_conversation
            .previous_response_id = Some(id.into());
        self
    }

    /// Lets the server keep this run's conversation from its first turn:
    /// each turn after the first sends only the new items and names the
    /// previous turn's response. The OpenAI Agents SDK's
    /// `auto_previous_response_id`. Not with a session.
    pub fn auto_previous_response_id(mut self, auto: bool) -> Self {
        self.extras
            .governance_mut()
            .server_conversation
            .auto_previous = auto;
        self
    }

    /// Runs in the server-managed conversation `id` (the Responses API's
    /// `conversation`): the server keeps every item; each request sends
    /// only the new ones. Not with a session.
    pub fn conversation_id(mut self, id: impl Into<String>) -> Self {
        self.extras
            .governance_mut()
            .server_conversation
            .conversation_id = Some(id.into());
        self
    }

    /// Also sends, in a streamed run, every model stream event as the model
    /// sent it ([`RunEvent::RawModelEvent`](super::RunEvent::RawModelEvent)).
    /// Off by default.
    pub fn raw_model_events(mut self, raw: bool) -> Self {
        self.extras.raw_model_events = raw;
        self
    }

    /// Adds a policy on this run's tool calls and model calls (see
    /// [`crate::policy`]); asked last, after the runner's and the agent's.
    pub fn policy(mut self, policy: impl crate::policy::Policy<Ctx> + 'static) -> Self {
        self.extras.governance_mut().policies.push(Arc::new(policy));
        self
    }

    /// Filters the output of every tool in this run (see
    /// [`OutputFilter`](crate::tool::OutputFilter)); after the agents' and
    /// the runner's filters.
    pub fn output_filter(mut self, filter: impl crate::tool::OutputFilter + 'static) -> Self {
        self.extras
            .governance_mut()
            .output_filters
            .push(Arc::new(filter));
        self
    }

    /// Sets the largest tool output kept (see
    /// [`RunConfig::max_tool_output_bytes`]).
    pub fn max_tool_output_bytes(mut self, bytes: usize) -> Self {
        self.config.max_tool_output_bytes = bytes;
        self
    }

    /// Sets what this run may spend (see [`Budget`]).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.config.budget = budget;
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

    /// Runs this run's effects (model calls, tool calls, the wall-clock
    /// timer, run ids, session reads and writes) through `effects` instead
    /// of [`InProcess`](super::InProcess): to journal them in a durable
    /// engine, or to record and replay them in tests. See
    /// [`effects`](super::effects).
    pub fn effects(mut self, effects: impl Effects<Ctx> + 'static) -> Self {
        self.extras.effects = Some(Arc::new(effects));
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

    /// When the final output does not parse into the agent's output type,
    /// `handler` (given the partial run and the text the model wrote) may
    /// give a fallback final output instead of [`RunError::OutputParse`]
    /// (return `None` to keep the error). The result is then
    /// [`Degraded`](super::RunStatus::Degraded). The fallback stays out of
    /// the items unless it carries a message. The OpenAI Agents SDK's
    /// error handlers.
    pub fn on_output_parse_error(
        mut self,
        handler: impl FnOnce(&PartialRun, &str) -> Option<MaxTurnsFallback<Out>> + Send + Sync + 'static,
    ) -> Self {
        self.extras.output_parse_handler = Some(Box::new(handler));
        self
    }

    /// When the model refuses to answer an agent with structured output,
    /// `handler` (given the partial run and the refusal) may give a
    /// fallback final output instead of [`RunError::Refusal`] (return
    /// `None` to keep the error). The result is then
    /// [`Degraded`](super::RunStatus::Degraded); the refusal stays in the
    /// items, the fallback only if it carries a message.
    pub fn on_refusal(
        mut self,
        handler: impl FnOnce(&PartialRun, &str) -> Option<MaxTurnsFallback<Out>> + Send + Sync + 'static,
    ) -> Self {
        self.extras.refusal_handler = Some(Box::new(handler));
        self
    }
}

impl<Ctx, Out> Run<Ctx, Out>
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    /// Runs as a stream of [`RunEvent`](super::RunEvent)s: the model is called in streaming
    /// mode and every delta, tool output, handoff and usage is reported as
    /// it happens. [`RunStream::result`] gives the same [`RunResult`] as
    /// awaiting the run.
    pub fn stream(mut self) -> RunStream<Out> {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        self.extras.events = Some(EventSender::Stream(sender));
        RunStream::new(self.into_future(), receiver)
    }
}

impl<Ctx: Send + Sync + 'static, Out> Run<Ctx, Out> {
    /// A run of `agent` by `runner`, from `start`, with the runner's
    /// configuration.
    pub(super) fn new(
        runner: &Runner<Ctx>,
        agent: Agent<Ctx, Out>,
        context: Ctx,
        start: Start,
    ) -> Self {
        Run {
            model: Arc::clone(runner.model()),
            agent,
            context: Arc::new(context),
            start,
            config: runner.config().clone(),
            cancellation: None,
            extras: RunExtras {
                governance: runner.governance(),
                ..RunExtras::default()
            },
            guard: Arc::clone(runner.guard()),
        }
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
        Box::pin(execute(self, Nesting::top()))
    }
}
