//! One long-lived agent's task: messages in order, control first.

use std::fmt::Display;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt as _;
use tokio::sync::{broadcast, mpsc, watch};

use std::collections::BTreeMap;

use tokio::sync::oneshot;

use super::{AgentEvent, AgentState, Answer, DecideError, INPUT_QUEUE};
use crate::agent::Agent;
use crate::context::RunContext;
use crate::policy::{Action, Decision as PolicyDecision, Policy, SharedPolicy};
use crate::run::{
    ApprovalDecision, EVENT_BUFFER, Run, RunError, RunEvent, RunInput, RunState, RunStatus, Runner,
};
use crate::session::Session;

/// What a handle asks of the task, never queued behind input.
pub(super) enum Control {
    Interrupt,
    Shutdown,
    /// A person's decision on a pending call, answered on the channel.
    Decide(Decision, oneshot::Sender<Result<(), DecideError>>),
}

/// A decision on the calls an agent's paused run waits for.
pub(super) enum Decision {
    Approve(String),
    Reject(String, String),
    /// For every call of the tool, for the rest of the agent's life.
    Always(String, ApprovalDecision),
}

/// A queued message, with where its answer goes when someone waits.
pub(super) struct Message {
    pub(super) input: RunInput,
    pub(super) reply: Option<oneshot::Sender<Answer>>,
}

/// The channels of a spawned agent.
pub(super) struct Spawned {
    pub(super) input: mpsc::Sender<Message>,
    pub(super) control: mpsc::UnboundedSender<Control>,
    pub(super) state: watch::Receiver<AgentState>,
    /// The agent's state, as its sub-agents' asks set it.
    pub(super) state_tx: Arc<watch::Sender<AgentState>>,
    pub(super) events: Events,
}

/// An agent's event channel, made on the first subscription: an agent
/// nobody watches holds no buffer and builds no event.
#[derive(Clone, Default)]
pub(super) struct Events(Arc<std::sync::OnceLock<broadcast::Sender<AgentEvent>>>);

impl Events {
    pub(super) fn subscribe(&self) -> broadcast::Receiver<AgentEvent> {
        self.0
            .get_or_init(|| broadcast::channel(EVENT_BUFFER).0)
            .subscribe()
    }

    pub(super) fn send(&self, event: impl FnOnce() -> AgentEvent) {
        if let Some(sender) = self.0.get() {
            let _ = sender.send(event());
        }
    }
}

/// Starts the task of one agent.
pub(super) fn spawn<Ctx, Out>(
    runner: Runner<Ctx>,
    agent: Agent<Ctx, Out>,
    context: Ctx,
    session: Arc<dyn Session>,
    policies: Vec<SharedPolicy<Ctx>>,
    on_end: Box<dyn FnOnce() + Send>,
) -> Spawned
where
    Ctx: Clone + Send + Sync + 'static,
    Out: Display + Send + 'static,
{
    let (input, inputs) = mpsc::channel(INPUT_QUEUE);
    let (control, controls) = mpsc::unbounded_channel();
    let (state_tx, state) = watch::channel(AgentState::Idle);
    let state_tx = Arc::new(state_tx);
    let events = Events::default();
    let task = AgentTask {
        runner,
        agent,
        context,
        session,
        policies,
        state: Arc::clone(&state_tx),
        events: events.clone(),
        waiting: None,
        remembered: BTreeMap::new(),
    };
    tokio::spawn(async move {
        // Leaves the registry however the loop ends (a panic included).
        let guard = OnEnd(Some(on_end));
        let state = Arc::clone(&task.state);
        let events = task.events.clone();
        let outcome = AssertUnwindSafe(task.run(inputs, controls))
            .catch_unwind()
            .await;
        let ended = match outcome {
            Ok(()) => AgentState::Done,
            Err(panic) => AgentState::Failed {
                error: panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "the agent's task panicked".to_owned()),
            },
        };
        // Out of the registry before the end is published: whoever sees
        // it sees the agent gone.
        drop(guard);
        state.send_replace(ended.clone());
        events.send(|| AgentEvent::State(ended));
    });
    Spawned {
        input,
        control,
        state,
        state_tx,
        events,
    }
}

struct OnEnd(Option<Box<dyn FnOnce() + Send>>);

impl Drop for OnEnd {
    fn drop(&mut self) {
        if let Some(on_end) = self.0.take() {
            on_end();
        }
    }
}

struct AgentTask<Ctx, Out> {
    runner: Runner<Ctx>,
    agent: Agent<Ctx, Out>,
    context: Ctx,
    session: Arc<dyn Session>,
    /// The spawn's own policies, after the runner's (the runtime's).
    policies: Vec<SharedPolicy<Ctx>>,
    state: Arc<watch::Sender<AgentState>>,
    events: Events,
    /// A paused run waiting for decisions (and where its answer goes):
    /// input waits meanwhile.
    waiting: Option<(RunState, Option<oneshot::Sender<Answer>>)>,
    /// Decisions per tool for the rest of the agent's life.
    remembered: BTreeMap<String, ApprovalDecision>,
}

/// A shared policy as a policy value.
struct Local<Ctx>(SharedPolicy<Ctx>);

impl<Ctx> Policy<Ctx> for Local<Ctx> {
    fn decide(&self, ctx: &RunContext<Ctx>, action: &Action<'_>) -> PolicyDecision {
        self.0.decide(ctx, action)
    }
}

impl<Ctx, Out> AgentTask<Ctx, Out>
where
    Ctx: Clone + Send + Sync + 'static,
    Out: Display + Send + 'static,
{
    /// The agent's life. A message's run is boxed while it runs, so an
    /// idle agent holds only its channels and state.
    async fn run(
        mut self,
        mut inputs: mpsc::Receiver<Message>,
        mut controls: mpsc::UnboundedReceiver<Control>,
    ) {
        loop {
            let waiting = self.waiting.is_some();
            let input = tokio::select! {
                biased;
                control = controls.recv() => match control {
                    // Nothing runs: an interrupt has nothing to stop.
                    Some(Control::Interrupt) => continue,
                    Some(Control::Decide(decision, reply)) => {
                        let complete = match self.decide(decision) {
                            Ok(complete) => {
                                let _ = reply.send(Ok(()));
                                complete
                            }
                            Err(error) => {
                                let _ = reply.send(Err(error));
                                false
                            }
                        };
                        if let Some((state, reply)) = complete.then(|| self.waiting.take()).flatten() {
                            let run = self.runner.resume(&self.agent, self.context.clone(), state);
                            if Box::pin(self.answer(run, reply, &mut controls)).await {
                                break;
                            }
                        }
                        continue;
                    }
                    Some(Control::Shutdown) | None => break,
                },
                // While a run waits for decisions, input waits too: a new
                // run would find the session's last turn unanswered.
                message = inputs.recv(), if !waiting => match message {
                    Some(message) => message,
                    None => break,
                },
            };
            let Message { input, reply } = input;
            let run = self.runner.run(&self.agent, self.context.clone(), input);
            if Box::pin(self.answer(run, reply, &mut controls)).await {
                break;
            }
        }
        // The caller publishes the end, once the agent has left the
        // registry.
    }

    /// Applies a decision to the waiting run; whether every pending call
    /// is now decided.
    fn decide(&mut self, decision: Decision) -> Result<bool, DecideError> {
        let Some((state, _)) = self.waiting.as_mut() else {
            return Err(DecideError::NotWaiting);
        };
        match decision {
            Decision::Approve(call_id) => state.approve(call_id).map(drop),
            Decision::Reject(call_id, message) => state.reject(call_id, message).map(drop),
            Decision::Always(tool, decision) => {
                let applied = match &decision {
                    ApprovalDecision::Approve => state.approve_always(tool.clone()).map(drop),
                    ApprovalDecision::Reject { message } => {
                        state.reject_always(tool.clone(), message.clone()).map(drop)
                    }
                };
                if applied.is_ok() {
                    self.remembered.insert(tool, decision);
                }
                applied
            }
        }
        .map_err(DecideError::Approval)?;
        Ok(self
            .waiting
            .as_ref()
            .is_some_and(|(state, _)| all_decided(state)))
    }

    /// Runs `run` (a message's, or a resumed one) to its end; whether a
    /// shutdown came meanwhile.
    async fn answer(
        &mut self,
        mut run: Run<Ctx, Out>,
        reply: Option<oneshot::Sender<Answer>>,
        controls: &mut mpsc::UnboundedReceiver<Control>,
    ) -> bool {
        self.set(AgentState::Processing);
        for policy in &self.policies {
            run = run.policy(Local(Arc::clone(policy)));
        }
        let (handle, mut run_events) = run.session(Arc::clone(&self.session)).start_with_events();
        let steer = handle.controls();
        let mut result = std::pin::pin!(handle.result());
        let mut shutting_down = false;
        let mut events_open = true;
        let outcome = loop {
            tokio::select! {
                biased;
                control = controls.recv(), if !shutting_down => match control {
                    Some(Control::Interrupt) => steer.interrupt(),
                    Some(Control::Decide(_, reply)) => {
                        let _ = reply.send(Err(DecideError::NotWaiting));
                    }
                    Some(Control::Shutdown) | None => {
                        shutting_down = true;
                        steer.cancel_after_turn();
                    }
                },
                event = run_events.recv(), if events_open => match event {
                    Ok(event) => self.follow(event),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => events_open = false,
                },
                outcome = &mut result => break outcome,
            }
        };
        // The events sent before the run ended.
        while let Ok(event) = run_events.try_recv() {
            self.follow(event);
        }
        let outcome = match outcome {
            Err(RunError::ApprovalRequired { mut state }) => {
                // The decisions remembered for this agent apply first; when
                // they decide every pending call, the run goes on at once.
                for (tool, decision) in &self.remembered {
                    let _ = match decision {
                        ApprovalDecision::Approve => state.approve_always(tool.clone()).map(drop),
                        ApprovalDecision::Reject { message } => {
                            state.reject_always(tool.clone(), message.clone()).map(drop)
                        }
                    };
                }
                if all_decided(&state) && !shutting_down {
                    let run = self
                        .runner
                        .resume(&self.agent, self.context.clone(), *state);
                    return Box::pin(self.answer(run, reply, controls)).await;
                }
                Err(RunError::ApprovalRequired { state })
            }
            other => other,
        };
        let answer = match &outcome {
            Ok(result) => Answer {
                status: result.status,
                output: Some(Arc::from(result.final_output.to_string())),
                error: None,
            },
            Err(error) => Answer {
                status: RunStatus::of_error(error),
                output: None,
                error: Some(Arc::from(error.to_string())),
            },
        };
        self.events.send(|| AgentEvent::Answered {
            status: answer.status,
            output: answer.output.clone(),
            error: answer.error.clone(),
        });
        // A paused run's asker waits for the resumed run's answer.
        let reply = match (&outcome, reply) {
            (Err(RunError::ApprovalRequired { .. }), reply) => reply,
            (_, Some(reply)) => {
                let _ = reply.send(answer);
                None
            }
            (_, None) => None,
        };
        match outcome {
            Err(RunError::ApprovalRequired { state }) => {
                let pending = state.pending().to_vec();
                self.waiting = Some((*state, reply));
                self.set(AgentState::WaitingForApproval { pending });
            }
            _ => self.set(AgentState::Idle),
        }
        shutting_down
    }

    /// Passes a run event on, and the state it implies.
    fn follow(&self, event: RunEvent) {
        match &event {
            RunEvent::ToolCallStarted { call_id, name, .. } => {
                self.set(AgentState::ExecutingTool {
                    name: name.to_string(),
                    call_id: call_id.to_string(),
                });
            }
            RunEvent::ToolOutput { .. } | RunEvent::TurnStarted { .. } => {
                self.set(AgentState::Processing);
            }
            _ => {}
        }
        self.events.send(|| AgentEvent::Run(event));
    }

    fn set(&self, state: AgentState) {
        let changed = self.state.send_if_modified(|current| {
            let changes = *current != state;
            if changes {
                *current = state.clone();
            }
            changes
        });
        if changed {
            self.events.send(|| AgentEvent::State(state));
        }
    }
}

/// Whether every pending call of `state` has a decision.
fn all_decided(state: &RunState) -> bool {
    state.pending().iter().all(|pending| {
        state.decisions.contains_key(&pending.call_id) || state.always.contains_key(&pending.tool)
    })
}
