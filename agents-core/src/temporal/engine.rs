//! The agents a worker runs, with their runner and context factory,
//! behind one object-safe face the workflow and the activities share
//! (they are not generic: Temporal registers them by name).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use serde::Serialize;

use crate::agent::{Agent, AgentCore};
use crate::context::{RunContext, RunTree, Runtime};
use crate::model::{BoxFuture, ModelError, ModelRequest, ModelResponse};
use crate::run::{RunError, RunEvent, RunState, RunStatus, RunStream, Runner, ToolFailure};

use super::journal::JournalEffects;
use super::types::{CallKey, ContextSeed, DurableOutcome, StartRun, ToolCallInput};

/// Builds a run's context from its seed (see [`ContextSeed`]).
type ContextFactory<Ctx> = Arc<dyn Fn(&ContextSeed) -> Ctx + Send + Sync>;

/// How model and tool calls run as activities: their retries, and how
/// long a run waits for a person.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DurableOptions {
    /// Attempts of one model call before the loop sees it fail (Temporal
    /// retries an attempt that failed with a retryable error: rate limit,
    /// server error, connection, timeout; backoff from 1 s, doubling).
    /// Default 5.
    pub model_attempts: u32,
    /// Attempts of one tool call (a retry happens only when the activity
    /// itself failed: the worker died or the call outlived its timeout; a
    /// tool that returns an error is an outcome, told to the model, never
    /// retried). Default 3: a tool with an effect that must happen once
    /// uses its [`CallKey::idempotency_key`].
    pub tool_attempts: u32,
    /// How long a run waits for the decisions on its pending calls; the
    /// calls still undecided then are rejected ("the approval expired")
    /// and the run goes on. `None` (the default) waits as long as it takes.
    pub approval_timeout: Option<Duration>,
}

impl Default for DurableOptions {
    fn default() -> Self {
        DurableOptions {
            model_attempts: 5,
            tool_attempts: 3,
            approval_timeout: None,
        }
    }
}

impl DurableOptions {
    /// Sets [`approval_timeout`](Self::approval_timeout).
    pub fn approval_timeout(mut self, timeout: Duration) -> Self {
        self.approval_timeout = Some(timeout);
        self
    }

    /// Sets [`model_attempts`](Self::model_attempts) (at least 1).
    pub fn model_attempts(mut self, attempts: u32) -> Self {
        self.model_attempts = attempts.max(1);
        self
    }

    /// Sets [`tool_attempts`](Self::tool_attempts) (at least 1).
    pub fn tool_attempts(mut self, attempts: u32) -> Self {
        self.tool_attempts = attempts.max(1);
        self
    }
}

/// The agents a durable worker can start, with the runner that runs them
/// (its model, configuration and policies) and the factory of their
/// context.
///
/// Agents are registered by name: a client starts a run by naming one
/// ([`StartRun::agent`]). Their output type must serialize: the run's
/// result crosses the wire as JSON.
pub struct DurableAgents<Ctx> {
    runner: Runner<Ctx>,
    context: ContextFactory<Ctx>,
    agents: Vec<Arc<dyn Registered<Ctx>>>,
    options: DurableOptions,
}

impl<Ctx> std::fmt::Debug for DurableAgents<Ctx> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.agents.iter().map(|a| a.name()).collect();
        f.debug_struct("DurableAgents")
            .field("agents", &names)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<Ctx: Send + Sync + 'static> DurableAgents<Ctx> {
    /// Agents run by `runner`, their context built by `context` from each
    /// run's seed (in the workflow and in every tool activity; it must be
    /// deterministic).
    pub fn new(
        runner: Runner<Ctx>,
        context: impl Fn(&ContextSeed) -> Ctx + Send + Sync + 'static,
    ) -> Self {
        DurableAgents {
            // A paused run's state never leaves the workflow, and a replay
            // resumes it again: the history, not a ledger, makes each
            // resume happen once.
            runner: runner.resume_ledger(HistoryLedger),
            context: Arc::new(context),
            agents: Vec::new(),
            options: DurableOptions::default(),
        }
    }

    /// Registers `agent` as a starting agent, under its name. The agents
    /// it hands off to need no registration.
    pub fn agent<Out>(mut self, agent: &Agent<Ctx, Out>) -> Self
    where
        Out: Serialize + Send + 'static,
    {
        self.agents.retain(|a| a.name() != agent.name());
        self.agents.push(Arc::new(agent.clone()));
        self
    }

    /// Sets the retries and the approval timeout.
    pub fn options(mut self, options: DurableOptions) -> Self {
        self.options = options;
        self
    }

    fn registered(&self, name: &str) -> Option<&Arc<dyn Registered<Ctx>>> {
        self.agents.iter().find(|a| a.name() == name)
    }

    fn seed(&self, start: &StartRun, run_id: &str, call: Option<CallKey>) -> Ctx {
        (self.context)(&ContextSeed {
            run_id: run_id.to_owned(),
            seed: start.seed.clone(),
            call,
        })
    }
}

/// The resume ledger of runs in a workflow: every resume is admitted
/// (the workflow's history makes each happen once; a replay repeats it).
struct HistoryLedger;

impl crate::session::ResumeLedger for HistoryLedger {
    fn consume<'a>(
        &'a self,
        _state_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, crate::session::SessionError>> {
        Box::pin(std::future::ready(Ok(true)))
    }
}

/// How the loop begins in the workflow: from the input, or from the state
/// of a run that paused for approval (decisions applied).
pub(crate) enum Begin {
    Input,
    Resume(Box<RunState>),
}

/// What a run that stopped left.
pub(crate) enum Finished {
    /// It waits for decisions on its pending calls.
    Paused(Box<RunState>),
    /// It ended.
    Ended(DurableOutcome),
}

/// A run inside the workflow, its output type erased.
pub(crate) trait ErasedRun: Send {
    /// The next event; `Ready(None)` once the run ended.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<RunEvent>>;
    /// How it ended (after `poll_event` gave `Ready(None)`).
    fn finish(self: Box<Self>) -> Finished;
}

/// What the workflow and the activities need of a worker's agents.
pub(crate) trait Engine: Send + Sync {
    fn begin(
        &self,
        start: &StartRun,
        begin: Begin,
        effects: JournalEffects,
    ) -> Result<Box<dyn ErasedRun>, String>;
    fn call_model(&self, request: ModelRequest)
    -> BoxFuture<'_, Result<ModelResponse, ModelError>>;
    fn call_tool(&self, input: ToolCallInput) -> BoxFuture<'_, Result<String, ToolFailure>>;
    fn options(&self) -> &DurableOptions;
    fn model_call_timeout(&self) -> Duration;
}

impl<Ctx: Send + Sync + 'static> Engine for DurableAgents<Ctx> {
    fn begin(
        &self,
        start: &StartRun,
        begin: Begin,
        effects: JournalEffects,
    ) -> Result<Box<dyn ErasedRun>, String> {
        let agent = self.registered(&start.agent).ok_or_else(|| {
            let known: Vec<&str> = self.agents.iter().map(|a| a.name()).collect();
            format!(
                "no agent `{}` is registered with this worker (registered: {})",
                start.agent,
                known.join(", ")
            )
        })?;
        let context = self.seed(start, &effects.run_id, None);
        Ok(agent.begin(&self.runner, context, &start.input, begin, effects))
    }

    fn call_model(
        &self,
        request: ModelRequest,
    ) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        let timeout = self.runner.config().model_call_timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, self.runner.model().call(request)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(ModelError::Timeout(timeout)),
            }
        })
    }

    fn call_tool(&self, input: ToolCallInput) -> BoxFuture<'_, Result<String, ToolFailure>> {
        Box::pin(async move {
            let unknown = || ToolFailure::UnknownTool {
                name: input.call.name.clone(),
                available: format!("(no agent `{}` on this worker)", input.agent),
            };
            let Some(core) = self
                .registered(&input.start.agent)
                .and_then(|root| root.core(&input.agent))
            else {
                return Err(unknown());
            };
            let key = CallKey::new(&input.run_id, input.turn, &input.call.call_id);
            let context = self.seed(&input.start, &input.run_id, Some(key));
            let ctx = self.tool_context(context, &core, &input);
            crate::run::run_tool_call(&core, &ctx, &input.call, input.timeout).await
        })
    }

    fn options(&self) -> &DurableOptions {
        &self.options
    }

    fn model_call_timeout(&self) -> Duration {
        self.runner.config().model_call_timeout
    }
}

impl<Ctx: Send + Sync + 'static> DurableAgents<Ctx> {
    /// The run context a tool sees in its activity: the run's id, the
    /// agent, the turn; nested runs (agents used as tools) run in the
    /// activity on the worker's model.
    fn tool_context(
        &self,
        context: Ctx,
        core: &AgentCore<Ctx>,
        input: &ToolCallInput,
    ) -> RunContext<Ctx> {
        let mut ctx = RunContext::new(context);
        ctx.run_id = Arc::from(input.run_id.as_str());
        ctx.agent = Arc::clone(&core.name);
        ctx.turn = input.turn;
        ctx.metadata = Arc::clone(&self.runner.config().metadata);
        ctx.runtime = Some(Runtime {
            model: Arc::clone(self.runner.model()),
            config: Arc::new(self.runner.config().clone()),
            depth: 0,
            path: Arc::from([]),
            tree: Arc::new(RunTree::new()),
        });
        ctx
    }
}

/// A registered starting agent, its output type erased.
trait Registered<Ctx>: Send + Sync {
    fn name(&self) -> &str;
    fn begin(
        &self,
        runner: &Runner<Ctx>,
        context: Ctx,
        input: &str,
        begin: Begin,
        effects: JournalEffects,
    ) -> Box<dyn ErasedRun>;
    /// The agent `name` of this agent's graph.
    fn core(&self, name: &str) -> Option<Arc<AgentCore<Ctx>>>;
}

impl<Ctx, Out> Registered<Ctx> for Agent<Ctx, Out>
where
    Ctx: Send + Sync + 'static,
    Out: Serialize + Send + 'static,
{
    fn name(&self) -> &str {
        Agent::name(self)
    }

    fn begin(
        &self,
        runner: &Runner<Ctx>,
        context: Ctx,
        input: &str,
        begin: Begin,
        effects: JournalEffects,
    ) -> Box<dyn ErasedRun> {
        let run = match begin {
            Begin::Input => runner.run(self, context, input.to_owned()),
            Begin::Resume(state) => runner.resume(self, context, *state),
        };
        Box::new(TypedRun {
            stream: run.effects(effects).stream(),
        })
    }

    fn core(&self, name: &str) -> Option<Arc<AgentCore<Ctx>>> {
        self.reachable_core(name)
    }
}

struct TypedRun<Out> {
    stream: RunStream<Out>,
}

impl<Out: Serialize + Send + 'static> ErasedRun for TypedRun<Out> {
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<RunEvent>> {
        self.stream.poll_next_unpin(cx)
    }

    fn finish(self: Box<Self>) -> Finished {
        let Some(outcome) = self.stream.result().now_or_never() else {
            return Finished::Ended(failed("the run was asked for its result before it ended"));
        };
        match outcome {
            Ok(result) => {
                let tool_calls = result
                    .tool_executions
                    .iter()
                    .map(|record| (record.call().name.clone(), record.succeeded()))
                    .collect();
                let mut outcome = DurableOutcome {
                    status: result.status,
                    output: None,
                    error: None,
                    last_agent: Some(result.last_agent.to_string()),
                    turns: result.turns,
                    tool_calls,
                };
                match serde_json::to_value(&result.final_output) {
                    Ok(output) => outcome.output = Some(output),
                    Err(error) => {
                        outcome.status = RunStatus::Failed;
                        outcome.error =
                            Some(format!("the final output does not serialize: {error}"));
                    }
                }
                Finished::Ended(outcome)
            }
            Err(RunError::ApprovalRequired { state }) => Finished::Paused(state),
            Err(error) => {
                let partial = error.partial();
                Finished::Ended(DurableOutcome {
                    status: RunStatus::of_error(&error),
                    output: None,
                    error: Some(error.to_string()),
                    last_agent: Some(partial.last_agent.to_string()),
                    turns: partial.turns,
                    tool_calls: Vec::new(),
                })
            }
        }
    }
}

/// An outcome of a run that failed outside the loop.
pub(crate) fn failed(error: impl Into<String>) -> DurableOutcome {
    DurableOutcome {
        status: RunStatus::Failed,
        output: None,
        error: Some(error.into()),
        last_agent: None,
        turns: 0,
        tool_calls: Vec::new(),
    }
}
