//! One long-lived agent's task: messages in order, control first.

use std::fmt::Display;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt as _;
use tokio::sync::{broadcast, mpsc, watch};

use super::{AgentEvent, AgentState, INPUT_QUEUE};
use crate::agent::Agent;
use crate::run::{EVENT_BUFFER, RunError, RunEvent, RunInput, RunStatus, Runner};
use crate::session::Session;

/// What a handle asks of the task, never queued behind input.
#[derive(Debug, Clone, Copy)]
pub(super) enum Control {
    Interrupt,
    Shutdown,
}

/// The channels of a spawned agent.
pub(super) struct Spawned {
    pub(super) input: mpsc::Sender<RunInput>,
    pub(super) control: mpsc::UnboundedSender<Control>,
    pub(super) state: watch::Receiver<AgentState>,
    pub(super) events: broadcast::Sender<AgentEvent>,
}

/// Starts the task of one agent.
pub(super) fn spawn<Ctx, Out>(
    runner: Runner<Ctx>,
    agent: Agent<Ctx, Out>,
    context: Ctx,
    session: Arc<dyn Session>,
    on_end: Box<dyn FnOnce() + Send>,
) -> Spawned
where
    Ctx: Clone + Send + Sync + 'static,
    Out: Display + Send + 'static,
{
    let (input, inputs) = mpsc::channel(INPUT_QUEUE);
    let (control, controls) = mpsc::unbounded_channel();
    let (state_tx, state) = watch::channel(AgentState::Idle);
    let (events, _) = broadcast::channel(EVENT_BUFFER);
    let task = AgentTask {
        runner,
        agent,
        context,
        session,
        state: state_tx,
        events: events.clone(),
    };
    tokio::spawn(async move {
        // Leaves the registry however the loop ends (a panic included).
        let guard = OnEnd(Some(on_end));
        let state = task.state.clone();
        let outcome = AssertUnwindSafe(task.run(inputs, controls))
            .catch_unwind()
            .await;
        if let Err(panic) = outcome {
            let error = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "the agent's task panicked".to_owned());
            state.send_replace(AgentState::Failed { error });
        }
        drop(guard);
    });
    Spawned {
        input,
        control,
        state,
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
    state: watch::Sender<AgentState>,
    events: broadcast::Sender<AgentEvent>,
}

impl<Ctx, Out> AgentTask<Ctx, Out>
where
    Ctx: Clone + Send + Sync + 'static,
    Out: Display + Send + 'static,
{
    async fn run(
        self,
        mut inputs: mpsc::Receiver<RunInput>,
        mut controls: mpsc::UnboundedReceiver<Control>,
    ) {
        loop {
            let input = tokio::select! {
                biased;
                control = controls.recv() => match control {
                    // Nothing runs: an interrupt has nothing to stop.
                    Some(Control::Interrupt) => continue,
                    Some(Control::Shutdown) | None => break,
                },
                input = inputs.recv() => match input {
                    Some(input) => input,
                    None => break,
                },
            };
            if self.answer(input, &mut controls).await {
                break;
            }
        }
        self.set(AgentState::Done);
    }

    /// Answers one message; whether a shutdown came meanwhile.
    async fn answer(
        &self,
        input: RunInput,
        controls: &mut mpsc::UnboundedReceiver<Control>,
    ) -> bool {
        self.set(AgentState::Processing);
        let run = self
            .runner
            .run(&self.agent, self.context.clone(), input)
            .session(Arc::clone(&self.session));
        let (handle, mut run_events) = run.start_with_events();
        let steer = handle.controls();
        let mut result = std::pin::pin!(handle.result());
        let mut shutting_down = false;
        let mut events_open = true;
        let outcome = loop {
            tokio::select! {
                biased;
                control = controls.recv(), if !shutting_down => match control {
                    Some(Control::Interrupt) => steer.interrupt(),
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
        let answered = match &outcome {
            Ok(result) => AgentEvent::Answered {
                status: result.status,
                output: Some(Arc::from(result.final_output.to_string())),
                error: None,
            },
            Err(error) => AgentEvent::Answered {
                status: RunStatus::of_error(error),
                output: None,
                error: Some(Arc::from(error.to_string())),
            },
        };
        let _ = self.events.send(answered);
        match outcome {
            Err(RunError::ApprovalRequired { state }) => {
                let pending = state.pending().iter().map(|p| p.call_id.clone()).collect();
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
                    name: name.clone(),
                    call_id: call_id.clone(),
                });
            }
            RunEvent::ToolOutput { .. } | RunEvent::TurnStarted { .. } => {
                self.set(AgentState::Processing);
            }
            _ => {}
        }
        let _ = self.events.send(AgentEvent::Run(event));
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
            let _ = self.events.send(AgentEvent::State(state));
        }
    }
}
