//! [`AgentHandle`]: what drives one long-lived agent.

use std::fmt;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::task::{Control, Decision, Events, Message, Spawned};
use super::{AgentEvent, AgentState, Answer, wait_done};
use crate::run::{ApprovalDecision, ApprovalError, RunInput};

/// Why a message was not queued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The agent's queue holds [`INPUT_QUEUE`](super::INPUT_QUEUE) messages; the message is
    /// given back.
    #[error("the agent's input queue is full")]
    Full(RunInput),
    /// The agent has shut down.
    #[error("the agent has shut down")]
    Closed(RunInput),
    /// The agent shut down before answering ([`AgentHandle::ask`]).
    #[error("the agent shut down before answering")]
    Unanswered,
}

/// Why a decision on a pending call was not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecideError {
    /// The agent is not waiting for a decision.
    #[error("the agent is not waiting for an approval")]
    NotWaiting,
    /// The decision does not fit the pending calls.
    #[error(transparent)]
    Approval(ApprovalError),
    /// The agent has shut down.
    #[error("the agent has shut down")]
    Ended,
}

/// Drives one long-lived agent: send it messages, watch it, interrupt it,
/// shut it down. Cloneable; dropping every handle does not stop the agent
/// (the runtime holds it until [`AgentRuntime::shutdown`](super::AgentRuntime::shutdown)).
#[derive(Clone)]
pub struct AgentHandle {
    id: Arc<str>,
    input: mpsc::Sender<Message>,
    control: mpsc::UnboundedSender<Control>,
    state: watch::Receiver<AgentState>,
    events: Events,
    /// The parent of a sub-agent: its state shows when it waits on this
    /// one.
    parent: Option<Parent>,
}

/// What a sub-agent's handle knows of its parent.
#[derive(Clone)]
pub(super) struct Parent {
    pub(super) state: Arc<watch::Sender<AgentState>>,
    pub(super) events: Events,
}

impl fmt::Debug for AgentHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentHandle")
            .field("id", &self.id)
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

impl AgentHandle {
    pub(super) fn new(id: String, spawned: Spawned, parent: Option<Parent>) -> Self {
        AgentHandle {
            parent,
            id: Arc::from(id),
            input: spawned.input,
            control: spawned.control,
            state: spawned.state,
            events: spawned.events,
        }
    }

    /// The agent's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Queues a message; the agent answers it after the ones before it.
    ///
    /// # Errors
    /// [`SendError::Full`] when [`INPUT_QUEUE`](super::INPUT_QUEUE) messages wait already,
    /// [`SendError::Closed`] once the agent has shut down; both give the
    /// message back.
    pub fn send(&self, input: impl Into<RunInput>) -> Result<(), SendError> {
        self.queue(input.into(), None)
    }

    /// Queues a message and waits for its answer. On a sub-agent (see
    /// [`AgentRuntime::spawn_child`](super::AgentRuntime::spawn_child)),
    /// its parent's state is `WaitingForSubAgent` meanwhile (a parent's
    /// tool asking its child).
    ///
    /// # Errors
    /// As [`send`](Self::send); [`SendError::Unanswered`] when the agent
    /// shuts down first.
    pub async fn ask(&self, input: impl Into<RunInput>) -> Result<Answer, SendError> {
        let (reply, answer) = oneshot::channel();
        self.queue(input.into(), Some(reply))?;
        let waiting = AgentState::WaitingForSubAgent {
            id: self.id.to_string(),
        };
        let previous = self.parent.as_ref().map(|parent| {
            let previous = parent.state.send_replace(waiting.clone());
            parent.events.send(|| AgentEvent::State(waiting.clone()));
            (parent, previous)
        });
        let answer = answer.await.map_err(|_| SendError::Unanswered);
        if let Some((parent, previous)) = previous {
            // Back to what the parent was doing, unless it moved on.
            let restored = parent.state.send_if_modified(|state| {
                let ours = *state == waiting;
                if ours {
                    *state = previous.clone();
                }
                ours
            });
            if restored {
                parent.events.send(|| AgentEvent::State(previous));
            }
        }
        answer
    }

    fn queue(
        &self,
        input: RunInput,
        reply: Option<oneshot::Sender<Answer>>,
    ) -> Result<(), SendError> {
        self.input
            .try_send(Message { input, reply })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(message) => SendError::Full(message.input),
                mpsc::error::TrySendError::Closed(message) => SendError::Closed(message.input),
            })
    }

    /// The agent's state, and its changes (`changed().await`).
    pub fn state(&self) -> watch::Receiver<AgentState> {
        self.state.clone()
    }

    /// The agent's events from now on: state changes, the events of each
    /// message's run, and each message's ending. A subscriber more than
    /// [`EVENT_BUFFER`](crate::run::EVENT_BUFFER) events behind loses the
    /// oldest (`RecvError::Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<AgentEvent> {
        self.events.subscribe()
    }

    /// Stops the current message's model call or tools (the run ends
    /// `Interrupted`, its interrupted turn not stored in the session, so
    /// the session stays consistent); the agent stays alive and takes the
    /// next message. Does nothing while idle.
    pub fn interrupt(&self) {
        let _ = self.control.send(Control::Interrupt);
    }

    /// Shuts the agent down: the current message's turn finishes (its
    /// model call and tools, then stored), queued messages are dropped,
    /// and the agent leaves the registry; waits until it has. The session
    /// keeps everything stored, for a later spawn of the same id.
    pub async fn shutdown(&self) -> AgentState {
        let _ = self.control.send(Control::Shutdown);
        let mut state = self.state.clone();
        wait_done(&mut state).await
    }

    /// Approves the pending call `call_id` of the agent's paused run; once
    /// every pending call is decided, the run goes on.
    ///
    /// # Errors
    /// [`DecideError::NotWaiting`] when no run waits, [`DecideError::Approval`]
    /// for an id that is not pending, [`DecideError::Ended`] after shutdown.
    pub async fn approve(&self, call_id: impl Into<String>) -> Result<(), DecideError> {
        self.decide(Decision::Approve(call_id.into())).await
    }

    /// Rejects the pending call `call_id`; the model is told `message`.
    ///
    /// # Errors
    /// As [`approve`](Self::approve).
    pub async fn reject(
        &self,
        call_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<(), DecideError> {
        self.decide(Decision::Reject(call_id.into(), message.into()))
            .await
    }

    /// Approves the pending calls of `tool`, and every later call of it
    /// for the rest of the agent's life (until it shuts down).
    ///
    /// # Errors
    /// As [`approve`](Self::approve); [`DecideError::Approval`] when no
    /// pending call is of `tool`.
    pub async fn approve_always(&self, tool: impl Into<String>) -> Result<(), DecideError> {
        self.decide(Decision::Always(tool.into(), ApprovalDecision::Approve))
            .await
    }

    /// Rejects the pending calls of `tool`, and every later call of it for
    /// the rest of the agent's life; the model is told `message`.
    ///
    /// # Errors
    /// As [`approve_always`](Self::approve_always).
    pub async fn reject_always(
        &self,
        tool: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<(), DecideError> {
        let decision = ApprovalDecision::Reject {
            message: message.into(),
        };
        self.decide(Decision::Always(tool.into(), decision)).await
    }

    async fn decide(&self, decision: Decision) -> Result<(), DecideError> {
        let (reply, answer) = oneshot::channel();
        self.control
            .send(Control::Decide(decision, reply))
            .map_err(|_| DecideError::Ended)?;
        answer.await.unwrap_or(Err(DecideError::Ended))
    }

    /// Asks for the shutdown without waiting for it.
    pub fn request_shutdown(&self) {
        let _ = self.control.send(Control::Shutdown);
    }
}
