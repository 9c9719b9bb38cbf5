//! Streaming runs: typed events as the run happens, then the same
//! [`RunResult`] as an awaited run.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{FutureExt, Stream};
use tokio::sync::mpsc;

use super::error::RunError;
use super::fanout::Fanout;
use super::result::RunResult;
use crate::item::{Item, SharedToolOutput};
use crate::model::{BoxFuture, ModelStreamEvent};
use crate::usage::Usage;

/// Something that happened in a streamed run, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RunEvent {
    /// A turn (one model call) starts.
    TurnStarted {
        /// The agent making the call.
        agent: Arc<str>,
        /// The turn number, from 1.
        turn: u32,
    },
    /// A piece of the model's message text.
    TextDelta {
        /// The agent.
        agent: Arc<str>,
        /// The text (shared: every subscriber's copy is the same string).
        delta: Arc<str>,
    },
    /// The model started a tool (or handoff) call.
    ToolCallStarted {
        /// The agent.
        agent: Arc<str>,
        /// The call's id.
        call_id: Arc<str>,
        /// The tool's name.
        name: Arc<str>,
    },
    /// A piece of a tool call's arguments, as the model writes them.
    ToolCallArgumentsDelta {
        /// The agent.
        agent: Arc<str>,
        /// The call's id.
        call_id: Arc<str>,
        /// The next characters.
        delta: Arc<str>,
    },
    /// A tool call produced its output (or error output).
    ToolOutput {
        /// The agent.
        agent: Arc<str>,
        /// The output: the run's item itself, shared.
        output: SharedToolOutput,
    },
    /// A handoff happened (the model asked for it in an earlier
    /// [`ItemCreated`](RunEvent::ItemCreated) of an `Item::HandoffCall`).
    /// The OpenAI Agents SDK's `handoff_occured`.
    HandoffOccurred {
        /// The agent asking.
        from: Arc<str>,
        /// The target agent.
        to: Arc<str>,
    },
    /// The conversation is now with another agent.
    AgentSwitched {
        /// The previous agent.
        from: Arc<str>,
        /// The new agent.
        to: Arc<str>,
    },
    /// An item of a model response is complete: a message, a tool call
    /// with its whole arguments, a handoff call (the model asks to hand
    /// off: the SDK's `handoff_requested`), reasoning, a refusal. Sent for
    /// every output item, in order, once the response has completed (after
    /// its deltas and its [`Usage`](RunEvent::Usage)). The OpenAI Agents
    /// SDK's `run_item_stream_event` (`message_output_created`,
    /// `tool_called`, `reasoning_item_created`, `handoff_requested`).
    ItemCreated {
        /// The agent whose model produced it.
        agent: Arc<str>,
        /// The item.
        item: Arc<Item>,
    },
    /// A model stream event as the model sent it, for runs that ask for
    /// them ([`Run::raw_model_events`](super::Run::raw_model_events)). The
    /// OpenAI Agents SDK's `raw_response_event`.
    RawModelEvent {
        /// The agent whose model call it is.
        agent: Arc<str>,
        /// The event (shared: it is larger than the other events).
        event: Arc<ModelStreamEvent>,
    },
    /// Token usage of a model call.
    Usage {
        /// The agent.
        agent: Arc<str>,
        /// The call's usage.
        usage: Usage,
    },
    /// The run ended (successfully or not); the result follows from
    /// [`RunStream::result`].
    RunFinished {
        /// The last agent.
        last_agent: Arc<str>,
        /// Turns taken.
        turns: u32,
        /// Usage over the run.
        usage: Usage,
    },
}

/// Where a run's [`RunEvent`]s go: a [`RunStream`]'s queue, or a
/// [`RunHandle`](super::RunHandle)'s subscribers.
#[derive(Debug, Clone)]
pub(crate) enum EventSender {
    Stream(mpsc::UnboundedSender<RunEvent>),
    Handle(Arc<Fanout>),
}

impl EventSender {
    /// Whether anyone receives events now: a stream always; a handle once
    /// it has a subscriber. Events nobody receives are not even built.
    pub(crate) fn is_listened(&self) -> bool {
        match self {
            EventSender::Stream(_) => true,
            EventSender::Handle(fanout) => fanout.is_listened(),
        }
    }

    /// Delivers `event`. Nobody listening (a dropped stream, a handle
    /// without subscribers) is not an error: the run goes on.
    pub(crate) fn send(&self, event: RunEvent) {
        match self {
            EventSender::Stream(sender) => drop(sender.send(event)),
            EventSender::Handle(fanout) => fanout.send(event),
        }
    }
}

/// A run in progress as a [`Stream`] of [`RunEvent`]s. Made by
/// [`Run::stream`](super::Run::stream) or
/// [`Runner::run_streamed`](super::Runner::run_streamed).
///
/// The run advances as the stream is polled; there is no background task.
/// Dropping the stream stops the run at once (nothing keeps running);
/// cancelling through the run's cancellation token ends it with
/// [`RunError::Cancelled`] and the partial run.
///
/// ```
/// use agents_core::prelude::*;
/// use agents_core::run::RunEvent;
/// use agents_testing::{MockModel, Step};
/// use futures::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let agent: Agent<()> = Agent::builder("Greeter").build()?;
/// let runner = Runner::new(MockModel::script([Step::text("Hello!")]));
/// let mut stream = runner.run_streamed(&agent, (), "hi");
/// while let Some(event) = stream.next().await {
///     if let RunEvent::TextDelta { delta, .. } = event {
///         print!("{delta}");
///     }
/// }
/// let result = stream.result().await?;
/// assert_eq!(result.final_output, "Hello!");
/// # Ok(()) }
/// ```
#[must_use = "a streamed run does nothing until polled"]
pub struct RunStream<Out> {
    progress: Progress<Out>,
    events: mpsc::UnboundedReceiver<RunEvent>,
}

/// Where the run stands: running, or ended with its outcome.
enum Progress<Out> {
    Running(BoxFuture<'static, Result<RunResult<Out>, RunError>>),
    /// Boxed: a result is large, a running stream holds only a pointer.
    Ended(Box<Result<RunResult<Out>, RunError>>),
}

impl<Out> std::fmt::Debug for RunStream<Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStream")
            .field("running", &matches!(self.progress, Progress::Running(_)))
            .finish_non_exhaustive()
    }
}

impl<Out> RunStream<Out> {
    pub(crate) fn new(
        run: BoxFuture<'static, Result<RunResult<Out>, RunError>>,
        events: mpsc::UnboundedReceiver<RunEvent>,
    ) -> Self {
        RunStream {
            progress: Progress::Running(run),
            events,
        }
    }

    /// Runs to the end (skipping the events not read yet) and returns what
    /// [`Run`](super::Run) would have returned.
    ///
    /// # Errors
    /// The run's [`RunError`].
    pub async fn result(self) -> Result<RunResult<Out>, RunError> {
        match self.progress {
            Progress::Running(run) => run.await,
            Progress::Ended(outcome) => *outcome,
        }
    }
}

// The stream never pins its fields in place: the run future is boxed and
// the outcome is only moved.
impl<Out> Unpin for RunStream<Out> {}

impl<Out> Stream for RunStream<Out> {
    type Item = RunEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RunEvent>> {
        let this = self.get_mut();
        // The run sends its events while this stream polls it, so the queue
        // is read without registering a waker: an event sent would
        // otherwise wake this very task, which the runtime then schedules
        // again (and tells an idle worker about) once per event.
        loop {
            if let Ok(event) = this.events.try_recv() {
                return Poll::Ready(Some(event));
            }
            match &mut this.progress {
                Progress::Running(run) => match run.poll_unpin(cx) {
                    // Deliver what the run sent before it ended, then end.
                    Poll::Ready(outcome) => this.progress = Progress::Ended(Box::new(outcome)),
                    // What this poll of the run sent, if anything; otherwise
                    // the run's own wakers bring the next poll.
                    Poll::Pending => {
                        return match this.events.try_recv() {
                            Ok(event) => Poll::Ready(Some(event)),
                            Err(_) => Poll::Pending,
                        };
                    }
                },
                Progress::Ended(_) => {
                    return match this.events.try_recv() {
                        Ok(event) => Poll::Ready(Some(event)),
                        Err(_) => Poll::Ready(None),
                    };
                }
            }
        }
    }
}
