//! The [`Runner`]: a model and a configuration, shared by many runs.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::builder::Run;
use super::input::RunInput;
use super::seal::{StateGuard, StateKey};
use super::setup::Governance;
use super::setup::Start;
use super::state::RunState;
use super::stream::RunStream;
use crate::agent::AsAgent;
use crate::context::RunConfig;
use crate::model::Model;
use crate::policy::{Policy, SharedPolicy};
use crate::session::ResumeLedger;
use crate::tool::{OutputFilter, SharedOutputFilter};

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
    guard: Arc<StateGuard>,
    output_filters: Vec<SharedOutputFilter>,
    policies: Vec<SharedPolicy<Ctx>>,
    _ctx: PhantomData<fn(Ctx) -> Ctx>,
}

impl<Ctx> Clone for Runner<Ctx> {
    fn clone(&self) -> Self {
        Runner {
            model: Arc::clone(&self.model),
            config: self.config.clone(),
            guard: Arc::clone(&self.guard),
            output_filters: self.output_filters.clone(),
            policies: self.policies.clone(),
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
            guard: Arc::new(StateGuard::default()),
            output_filters: Vec::new(),
            policies: Vec::new(),
            _ctx: PhantomData,
        }
    }

    /// Replaces the configuration every run starts from.
    pub fn with_config(mut self, config: RunConfig) -> Self {
        self.config = config;
        self
    }

    /// Seals the states this runner pauses with `key`, and accepts states
    /// sealed with it (see [`RunState`]). Without one, a runner seals with
    /// a random key of its own: its states resume on it and its clones
    /// only.
    pub fn state_key(mut self, key: StateKey) -> Self {
        Arc::make_mut(&mut self.guard).key = key;
        self
    }

    /// Records resumed states in `ledger`, so that each is resumed once
    /// (default: in memory, this runner and its clones). Give runners of
    /// several processes one shared ledger (e.g. a `SqliteSession` on one
    /// file) for once between them.
    pub fn resume_ledger(mut self, ledger: impl ResumeLedger + 'static) -> Self {
        Arc::make_mut(&mut self.guard).ledger = Arc::new(ledger);
        self
    }

    /// Accepts states without a seal (default: refused when they have
    /// pending calls, rules or answers). For tests that write states by
    /// hand; never for states a client hands back.
    pub fn accept_unsealed_states(mut self, accept: bool) -> Self {
        Arc::make_mut(&mut self.guard).accept_unsealed = accept;
        self
    }

    /// Refuses to resume a state whose approvals were asked longer than
    /// `age` ago (`InvalidStateKind::Expired`). Default: no limit.
    pub fn approval_max_age(mut self, age: std::time::Duration) -> Self {
        Arc::make_mut(&mut self.guard).approval_max_age = Some(age);
        self
    }

    /// Filters the output of every tool of every run of this runner (see
    /// [`OutputFilter`]); after the agents' filters.
    pub fn output_filter(mut self, filter: impl OutputFilter + 'static) -> Self {
        self.output_filters.push(Arc::new(filter));
        self
    }

    /// Adds a policy on every run's tool calls and model calls (see
    /// [`crate::policy`]); asked first, before the agents' and the run's.
    pub fn policy(mut self, policy: impl Policy<Ctx> + 'static) -> Self {
        self.policies.push(Arc::new(policy));
        self
    }

    /// A run's governance as this runner starts it: its filters and
    /// policies, nothing for a runner without any.
    pub(super) fn governance(&self) -> Option<Box<Governance<Ctx>>> {
        if self.output_filters.is_empty() && self.policies.is_empty() {
            return None;
        }
        Some(Box::new(Governance {
            output_filters: self.output_filters.clone(),
            runner_policies: self.policies.clone(),
            ..Governance::default()
        }))
    }

    pub(super) fn guard(&self) -> &Arc<StateGuard> {
        &self.guard
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
    /// [`to_input_list`](super::RunResult::to_input_list)).
    ///
    /// Await the returned [`Run`](super::Run) to execute it; its setters override this
    /// runner's configuration for this run only.
    pub fn run<A>(&self, agent: &A, context: Ctx, input: impl Into<RunInput>) -> Run<Ctx, A::Output>
    where
        A: AsAgent<Ctx> + ?Sized,
        A::Output: Send + 'static,
    {
        Run::new(
            self,
            agent.as_agent(),
            context,
            Start::Input(input.into().into_items()),
        )
    }

    /// Starts `agent` on `input` as a stream of [`RunEvent`](super::RunEvent)s; shorthand for
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
    /// hit a limit (raise it on the returned [`Run`](super::Run)). `agent` is the agent
    /// the run *started* with; the current agent is found again through the
    /// recorded handoffs.
    ///
    /// The paused turn's tool calls run once each (approved ones execute,
    /// rejected ones send their message to the model), then the run goes on.
    ///
    /// # Errors
    /// Awaiting yields [`RunError::InvalidState`](super::RunError::InvalidState) for a state from a newer
    /// release or another agent graph, and any other [`RunError`](super::RunError) as a run
    /// would, including [`RunError::ApprovalRequired`](super::RunError::ApprovalRequired) again for calls still
    /// undecided.
    pub fn resume<A>(&self, agent: &A, context: Ctx, state: RunState) -> Run<Ctx, A::Output>
    where
        A: AsAgent<Ctx> + ?Sized,
        A::Output: Send + 'static,
    {
        Run::new(
            self,
            agent.as_agent(),
            context,
            Start::Resume(Box::new(state)),
        )
    }
}
