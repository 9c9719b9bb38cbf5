//! The turn loop as a Temporal workflow, and the model and tool calls as
//! its activities.
//!
//! The workflow runs the project's own loop (a [`Runner`](crate::Runner)
//! run) with [`JournalEffects`]: each model call becomes the activity
//! `agents.model_call` (input: the [`ModelRequest`], output: the
//! [`ModelResponse`]), each tool call the activity `agents.tool_call`
//! (input: the call, its agent and turn; output: the tool's output or its
//! failure), the run's time limit a durable timer. Everything else the
//! loop does is a function of those results, so a replay of the history
//! reaches the same state without calling the model or any tool again.

// The workflow and activity macros write items of their own.
#![allow(missing_docs, unreachable_pub)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{
    ActivityOptions, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};

use crate::model::{ModelError, ModelRequest, ModelResponse};
use crate::run::{PendingApproval, RunEvent, RunState, RunStatus, ToolFailure};

use super::engine::{Begin, Engine, Finished, failed};
use super::journal::{Journal, JournalEffects, Outcome, Request};
use super::types::{
    Decision, DurableEvent, DurableOutcome, DurableStatus, StartRun, ToolCallInput, ToolOutcome,
};

/// The activities of durable runs: a model call and a tool call, on the
/// worker's agents.
pub struct AgentActivities {
    pub(crate) engine: Arc<dyn Engine>,
}

#[activities]
impl AgentActivities {
    /// Makes one model call on the worker's model. A failure of a
    /// retryable kind (rate limit, server error, connection, timeout) is
    /// an activity failure Temporal retries; any other is non-retryable.
    #[activity(name = "agents.model_call")]
    pub async fn model_call(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: ModelRequest,
    ) -> Result<ModelResponse, ActivityError> {
        self.engine.call_model(request).await.map_err(|error| {
            use crate::model::ModelErrorKind as Kind;
            let retryable = matches!(
                error.kind(),
                Kind::RateLimited | Kind::Server | Kind::Connection | Kind::Timeout
            );
            let failure = if retryable {
                temporalio_sdk::ApplicationFailure::new(error.to_string())
            } else {
                temporalio_sdk::ApplicationFailure::non_retryable(error.to_string())
            };
            ActivityError::application(failure)
        })
    }

    /// Runs one tool call on the worker's agents, with a context the
    /// factory builds for this call; the tool's own failure is an outcome
    /// ([`ToolOutcome::Failure`]), never an activity failure.
    #[activity(name = "agents.tool_call")]
    pub async fn tool_call(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: ToolCallInput,
    ) -> Result<ToolOutcome, ActivityError> {
        Ok(match self.engine.call_tool(input).await {
            Ok(output) => ToolOutcome::Output { output },
            Err(failure) => ToolOutcome::Failure { failure },
        })
    }
}

/// The workflow of one durable run. Registered by
/// [`DurableWorker`](super::DurableWorker) with a factory that hands it the
/// worker's agents.
#[workflow]
pub struct AgentWorkflow {
    pub(crate) engine: Arc<dyn Engine>,
    pub(crate) status: RunStatus,
    pub(crate) turns: u32,
    pub(crate) pending: Vec<PendingApproval>,
    pub(crate) decisions: BTreeMap<String, Decision>,
    pub(crate) events: Vec<DurableEvent>,
}

impl AgentWorkflow {
    pub(crate) fn new(engine: Arc<dyn Engine>) -> Self {
        AgentWorkflow {
            engine,
            status: RunStatus::Running,
            turns: 0,
            pending: Vec::new(),
            decisions: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    fn undecided(&self) -> Vec<PendingApproval> {
        self.pending
            .iter()
            .filter(|p| !self.decisions.contains_key(&p.call_id))
            .cloned()
            .collect()
    }
}

#[workflow_methods(factory_only)]
impl AgentWorkflow {
    /// Runs the turn loop from `start` until the run ends: through
    /// approvals (durable waits), to its [`DurableOutcome`].
    #[run(name = "agents.run")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        start: StartRun,
    ) -> WorkflowResult<DurableOutcome> {
        let engine = ctx.state(|w| Arc::clone(&w.engine));
        let journal = Arc::new(Journal::default());
        let effects = JournalEffects {
            journal: Arc::clone(&journal),
            run_id: Arc::from(ctx.workflow_id()),
            start: Arc::new(start.clone()),
        };
        let mut begin = Begin::Input;
        loop {
            let run = match engine.begin(&start, begin, effects.clone()) {
                Ok(run) => run,
                Err(error) => return Ok(failed(error)),
            };
            let finished = match drive(ctx, &journal, engine.as_ref(), run).await {
                Some(finished) => finished,
                None => return Ok(cancelled(ctx)),
            };
            match finished {
                Finished::Ended(outcome) => {
                    ctx.state_mut(|w| w.status = outcome.status);
                    return Ok(outcome);
                }
                Finished::Paused(state) => match wait_for_decisions(ctx, *state).await {
                    Some(state) => begin = Begin::Resume(Box::new(state)),
                    None => return Ok(cancelled(ctx)),
                },
            }
        }
    }

    /// Where the run stands.
    #[query(name = "agents.status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> DurableStatus {
        DurableStatus {
            status: self.status,
            turns: self.turns,
            pending: self.undecided(),
            events: self.events.len(),
        }
    }

    /// The events from index `since` on.
    #[query(name = "agents.events")]
    pub fn events(&self, _ctx: &WorkflowContextView, since: usize) -> Vec<DurableEvent> {
        self.events.get(since..).unwrap_or_default().to_vec()
    }

    #[update_validator(decide)]
    fn validate_decide(
        &self,
        _ctx: &WorkflowContextView,
        decision: &Decision,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if self.status != RunStatus::WaitingForApproval {
            return Err(format!(
                "the run is not waiting for approval (it is {:?})",
                self.status
            )
            .into());
        }
        if !self.pending.iter().any(|p| p.call_id == decision.call_id) {
            return Err(format!("no pending call `{}`", decision.call_id).into());
        }
        if self.decisions.contains_key(&decision.call_id) {
            return Err(format!("call `{}` is decided already", decision.call_id).into());
        }
        Ok(())
    }

    /// Decides one pending call; the run goes on once every pending call
    /// is decided. Returns how many are still undecided.
    #[update(name = "agents.decide")]
    pub fn decide(&mut self, _ctx: &mut SyncWorkflowContext<Self>, decision: Decision) -> usize {
        self.events.push(DurableEvent::Decided {
            call_id: decision.call_id.clone(),
            approved: decision.approve,
        });
        self.decisions.insert(decision.call_id.clone(), decision);
        self.undecided().len()
    }
}

/// The outcome of a run cancelled through Temporal.
fn cancelled(ctx: &WorkflowContext<AgentWorkflow>) -> DurableOutcome {
    ctx.state_mut(|w| w.status = RunStatus::Cancelled);
    let mut outcome = failed("the run was cancelled");
    outcome.status = RunStatus::Cancelled;
    outcome.turns = ctx.state(|w| w.turns);
    outcome
}

/// Parks the run until every pending call is decided (or the approval
/// timeout rejects the rest); the state with the decisions applied, or
/// `None` when the workflow was cancelled meanwhile.
async fn wait_for_decisions(
    ctx: &WorkflowContext<AgentWorkflow>,
    mut state: RunState,
) -> Option<RunState> {
    let pending = state.pending().to_vec();
    ctx.state_mut(|w| {
        w.status = RunStatus::WaitingForApproval;
        w.pending = pending.clone();
        w.decisions.clear();
        w.events.push(DurableEvent::WaitingForApproval {
            pending: pending.clone(),
        });
    });
    let timeout = ctx.state(|w| w.engine.options().approval_timeout);
    let mut decided = ctx.wait_condition(|w| w.undecided().is_empty());
    // Whether the wait ended by the workflow's cancellation (a fired
    // timer is not: it rejects the undecided calls below).
    let cancelled = match timeout {
        Some(after) => {
            let mut timer = ctx.timer(after);
            temporalio_sdk::workflows::select! {
                outcome = decided => outcome.is_err(),
                _ = timer => false,
            }
        }
        None => decided.await.is_err(),
    };
    if cancelled {
        return None;
    }
    let decisions = ctx.state_mut(|w| {
        let decisions = std::mem::take(&mut w.decisions);
        w.pending.clear();
        w.status = RunStatus::Running;
        decisions
    });
    for call in &pending {
        let applied = match decisions.get(&call.call_id) {
            Some(decision) if decision.approve => state.approve(call.call_id.clone()).map(drop),
            Some(decision) => state
                .reject(
                    call.call_id.clone(),
                    decision
                        .message
                        .clone()
                        .unwrap_or_else(|| "A person rejected this call.".to_owned()),
                )
                .map(drop),
            None => {
                ctx.state_mut(|w| {
                    w.events.push(DurableEvent::Decided {
                        call_id: call.call_id.clone(),
                        approved: false,
                    });
                });
                state
                    .reject(
                        call.call_id.clone(),
                        "The approval expired; the call was not made.",
                    )
                    .map(drop)
            }
        };
        // Only pending ids are applied: the state's own ids.
        debug_assert!(applied.is_ok());
    }
    Some(state)
}

/// Drives the loop until it stops: polls it, runs what it asks for as
/// activities and timers, and polls it again when an answer came. `None`
/// when the workflow was cancelled.
async fn drive(
    ctx: &WorkflowContext<AgentWorkflow>,
    journal: &Arc<Journal>,
    engine: &dyn Engine,
    run: Box<dyn crate::temporal::engine::ErasedRun>,
) -> Option<Finished> {
    let mut run = Some(run);
    let mut inflight: Vec<(u64, Answer<'_>)> = Vec::new();
    let mut cancelled = std::pin::pin!(ctx.cancelled());
    std::future::poll_fn(move |cx| {
        loop {
            if cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            journal.set_now(ctx.workflow_time());
            // The loop, as far as it goes: it is never woken, only polled
            // again here when one of its requests was answered.
            let mut quiet = Context::from_waker(Waker::noop());
            let mut idle_polls = 0;
            while let Some(running) = run.as_mut() {
                match running.poll_event(&mut quiet) {
                    Poll::Ready(Some(event)) => {
                        idle_polls = 0;
                        record(ctx, &event);
                    }
                    Poll::Ready(None) => {
                        let ended = run.take().map(|r| r.finish());
                        return Poll::Ready(ended);
                    }
                    // Once more: events sent in the poll that went idle
                    // are read by the next.
                    Poll::Pending if idle_polls == 0 => idle_polls = 1,
                    Poll::Pending => break,
                }
            }
            for (id, request) in journal.requests() {
                inflight.push((id, schedule(ctx, engine, request)));
            }
            let mut answered = false;
            inflight.retain_mut(|(id, call)| match call.as_mut().poll(cx) {
                Poll::Ready(outcome) => {
                    journal.complete(*id, outcome);
                    answered = true;
                    false
                }
                Poll::Pending => true,
            });
            if !answered {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// A request in flight in the workflow: its activity or timer.
type Answer<'a> = Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// Starts one request as an activity or a timer.
fn schedule<'a>(
    ctx: &'a WorkflowContext<AgentWorkflow>,
    engine: &dyn Engine,
    request: Request,
) -> Answer<'a> {
    let options = engine.options();
    match request {
        Request::Model(request) => {
            let mut opts = ActivityOptions::start_to_close_timeout(
                engine.model_call_timeout() + Duration::from_secs(5),
            );
            opts.retry_policy = Some(retry(options.model_attempts));
            let call = ctx.execute_activity(AgentActivities::model_call, request, opts);
            Box::pin(async move {
                Outcome::Model(call.await.map_err(|error| ModelError::Other {
                    message: format!("the model call failed: {error}"),
                }))
            })
        }
        Request::Tool(input) => {
            let tool = input.call.name.clone();
            let mut opts =
                ActivityOptions::start_to_close_timeout(input.timeout + Duration::from_secs(5));
            opts.retry_policy = Some(retry(options.tool_attempts));
            let call = ctx.execute_activity(AgentActivities::tool_call, input, opts);
            Box::pin(async move {
                Outcome::Tool(match call.await {
                    Ok(ToolOutcome::Output { output }) => Ok(output),
                    Ok(ToolOutcome::Failure { failure }) => Err(failure),
                    Err(error) => Err(ToolFailure::Failed {
                        tool,
                        message: format!("the tool call's activity failed: {error}"),
                    }),
                })
            })
        }
        Request::Timer(after) => {
            let timer = ctx.timer(after);
            Box::pin(async move {
                timer.await;
                Outcome::Timer
            })
        }
    }
}

fn retry(attempts: u32) -> temporalio_common::RetryPolicy {
    temporalio_common::RetryPolicy::builder()
        .initial_interval(Duration::from_secs(1))
        .maximum_attempts(attempts.max(1))
        .build()
}

/// Keeps what a client can read of an event.
fn record(ctx: &WorkflowContext<AgentWorkflow>, event: &RunEvent) {
    let recorded = match event {
        RunEvent::TurnStarted { agent, turn } => {
            ctx.state_mut(|w| w.turns += 1);
            Some(DurableEvent::TurnStarted {
                agent: agent.to_string(),
                turn: *turn,
            })
        }
        RunEvent::ItemCreated { agent, item } => Some(DurableEvent::Item {
            agent: agent.to_string(),
            item: crate::item::Item::clone(item),
        }),
        RunEvent::ToolOutput { agent, output } => Some(DurableEvent::ToolOutput {
            agent: agent.to_string(),
            output: crate::item::ToolOutput::clone(output),
        }),
        RunEvent::AgentSwitched { from, to } => Some(DurableEvent::AgentSwitched {
            from: from.to_string(),
            to: to.to_string(),
        }),
        _ => None,
    };
    if let Some(event) = recorded {
        ctx.state_mut(|w| w.events.push(event));
    }
}
