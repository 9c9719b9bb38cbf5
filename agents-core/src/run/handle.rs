//! [`RunHandle`]: a run on a task of its own, watched and steered.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::watch;

use super::builder::Run;
use super::control::{Halt, RunControl, RunStatus};
use super::drive::{self, Driven};
use super::error::RunError;
use super::execute::{Nesting, execute};
use super::fanout::{Fanout, RunEvents};
use super::result::RunResult;
use super::stream::EventSender;

/// How many events a subscriber may fall behind before it loses the oldest.
pub const EVENT_BUFFER: usize = 256;

/// Why a [`RunHandle`] request was not carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The run has ended (its status is terminal): there is nothing to
    /// pause or resume.
    #[error("the run has ended ({0:?})")]
    Ended(RunStatus),
    /// [`resume`](RunHandle::resume) of a run that is not paused.
    #[error("the run is not paused")]
    NotPaused,
}

/// A run proceeding on a task of its own, made by
/// [`Run::start`](super::Run::start): watch its status and events, pause,
/// resume or cancel it, and await its result.
///
/// Dropping the handle does not stop the run (it is detached, like a
/// dropped [`JoinHandle`](tokio::task::JoinHandle)); call [`cancel`](Self::cancel) first to stop it,
/// or [`abort_on_drop`](Self::abort_on_drop) to make dropping cancel it.
///
/// ```
/// use agents_core::prelude::*;
/// use agents_core::run::RunStatus;
/// use agents_testing::{MockModel, Step};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let agent: Agent<()> = Agent::builder("Greeter").build()?;
/// let runner = Runner::new(MockModel::script([Step::text("Hello!")]));
/// let handle = runner.run(&agent, (), "hi").start();
/// let mut events = handle.events();
/// let result = handle.result().await?;
/// assert_eq!(result.final_output, "Hello!");
/// assert_eq!(result.status, RunStatus::Completed);
/// assert!(matches!(events.recv().await?, agents_core::run::RunEvent::TurnStarted { .. }));
/// # Ok(()) }
/// ```
pub struct RunHandle<Out> {
    controls: RunControls,
    events: Arc<Fanout>,
    run: Option<Driven<Result<RunResult<Out>, RunError>>>,
    abort_on_drop: bool,
}

impl<Out> fmt::Debug for RunHandle<Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunHandle")
            .field("status", &self.controls.status())
            .finish_non_exhaustive()
    }
}

impl<Ctx, Out> Run<Ctx, Out>
where
    Ctx: Send + Sync + 'static,
    Out: Send + 'static,
{
    /// Starts the run on a task of its own (`tokio::spawn`) and returns its
    /// handle. Once [`RunHandle::result`] is awaited, the awaiting task
    /// drives the run instead (see there). While the handle has event subscribers, model calls are made
    /// in streaming mode, so they see the same [`RunEvent`](super::RunEvent)s a
    /// [streamed](Self::stream) run yields; without subscribers no event is
    /// built.
    ///
    /// # Panics
    /// Outside a tokio runtime, as `tokio::spawn` does.
    pub fn start(self) -> RunHandle<Out> {
        self.start_inner(Arc::default())
    }

    /// [`start`](Self::start), with a subscriber made before the run's
    /// task starts: it receives every event of the run, the first
    /// `TurnStarted` included ([`RunHandle::events`] receives the events
    /// from the moment it is called).
    ///
    /// # Panics
    /// Outside a tokio runtime, as `tokio::spawn` does.
    pub fn start_with_events(self) -> (RunHandle<Out>, RunEvents) {
        let events = Arc::new(Fanout::default());
        let first = events.subscribe();
        (self.start_inner(events), first)
    }

    fn start_inner(mut self, events: Arc<Fanout>) -> RunHandle<Out> {
        let control = Arc::new(RunControl::new());
        self.extras.events = Some(EventSender::Handle(Arc::clone(&events)));
        self.extras.control = Some(Arc::clone(&control));
        let run = Started {
            run: execute(self, Nesting::top()),
            control: Arc::clone(&control),
            events: Arc::clone(&events),
            polled: false,
        };
        let run = drive::spawn(Box::pin(run));
        RunHandle {
            controls: RunControls { control },
            events,
            run: Some(run),
            abort_on_drop: false,
        }
    }
}

pin_project_lite::pin_project! {
    /// A started run's future (one box with it): its status set around it,
    /// its events published as each of its polls ends, closed when it ends
    /// or is dropped.
    struct Started<F> {
        #[pin]
        run: F,
        control: Arc<RunControl>,
        events: Arc<Fanout>,
        polled: bool,
    }

    impl<F> PinnedDrop for Started<F> {
        fn drop(this: Pin<&mut Self>) {
            this.events.publish(true);
        }
    }
}

impl<F, Out> Future for Started<F>
where
    F: Future<Output = Result<RunResult<Out>, RunError>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if !*this.polled {
            *this.polled = true;
            this.control.set_status(RunStatus::Running);
        }
        let polled = this.run.poll(cx);
        if let Poll::Ready(outcome) = &polled {
            this.control.set_status(match outcome {
                Ok(result) => result.status,
                Err(error) => RunStatus::of_error(error),
            });
        }
        this.events.publish(polled.is_ready());
        polled
    }
}

impl<Out> RunHandle<Out> {
    /// The run's status now.
    pub fn status(&self) -> RunStatus {
        self.controls.status()
    }

    /// A receiver of every status change (`tokio::sync::watch`): `changed`
    /// waits for the next one; it ends once the run has ended and the
    /// handle is gone.
    pub fn status_changes(&self) -> watch::Receiver<RunStatus> {
        self.controls.control.subscribe()
    }

    /// A new subscriber to the run's events from now on; any number may
    /// subscribe.
    ///
    /// A slow subscriber never blocks the run: one that falls more than
    /// [`EVENT_BUFFER`] events behind loses the oldest, and its next `recv`
    /// returns `RecvError::Lagged(n)` with how many it lost, then goes on
    /// with the oldest kept. Once the run has ended and its events are
    /// read, `recv` returns `RecvError::Closed`; a subscriber made after
    /// the end receives nothing.
    ///
    /// Waiting subscribers are woken once per poll of the run that sent
    /// events, when that poll ends, not once per event: a run's events come
    /// in bursts, and a wake per event would cost a trip through the
    /// scheduler (often to the other worker thread) for each. An event
    /// reaches its subscribers no later than the run next waits for
    /// something (the model's next bytes, a tool, an approval, a pause).
    pub fn events(&self) -> RunEvents {
        self.events.subscribe()
    }

    /// Pauses the run at its next turn boundary (after the current turn's
    /// model call and tools): status `Paused`, no model call and no tool in
    /// flight. Pausing a paused run does nothing.
    ///
    /// # Errors
    /// [`ControlError::Ended`] once the run has ended.
    pub fn pause(&self) -> Result<(), ControlError> {
        self.live()?;
        self.controls.control.pause(true);
        Ok(())
    }

    /// Lets a paused run go on (or withdraws a pause not reached yet).
    ///
    /// # Errors
    /// [`ControlError::Ended`] once the run has ended;
    /// [`ControlError::NotPaused`] when no pause was asked.
    pub fn resume(&self) -> Result<(), ControlError> {
        self.live()?;
        if !self.controls.control.is_paused() {
            return Err(ControlError::NotPaused);
        }
        self.controls.control.pause(false);
        Ok(())
    }

    /// Stops the run now, dropping its in-flight model call and tools: it
    /// ends with [`RunError::Cancelled`] and the partial run. Cancelling an
    /// ended or cancelled run does nothing.
    pub fn cancel(&self) {
        self.controls.cancel();
    }

    /// Stops the model call or the tool calls in flight and ends the run
    /// with [`RunError::Interrupted`] (status `Interrupted`): every call
    /// left without an output gets an
    /// [interrupted](crate::ToolOutput::interrupted) one, so the partial
    /// run continues with new input (`partial.to_input_list()` plus a
    /// message). Does nothing once the run has ended; a
    /// [`cancel`](Self::cancel) asked before the run stops outranks it.
    pub fn interrupt(&self) {
        self.controls.interrupt();
    }

    /// Lets the current turn finish (its model call and tools), then stops
    /// the run with [`RunError::Cancelled`]; a paused run stops at once.
    /// Does nothing once the run has ended.
    pub fn cancel_after_turn(&self) {
        self.controls.cancel_after_turn();
    }

    /// A cloneable controller of this run: its status, cancel and
    /// interrupt, for code that steers the run while another part awaits
    /// [`result`](Self::result) (which takes the handle).
    pub fn controls(&self) -> RunControls {
        self.controls.clone()
    }

    /// Makes dropping this handle cancel the run (off by default: a dropped
    /// handle leaves the run going).
    #[must_use]
    pub fn abort_on_drop(mut self, abort: bool) -> Self {
        self.abort_on_drop = abort;
        self
    }

    /// Waits for the run to end: the same outcome awaiting the run gives.
    ///
    /// From the first poll on, the run is driven by the task awaiting this
    /// future, not by its own task (which leaves): the handle then costs
    /// what a plain awaited run costs, with no hop between threads each
    /// time the two tasks would wake each other. Dropping this future
    /// before the end hands the run back to a task of its own.
    ///
    /// # Errors
    /// The run's [`RunError`].
    ///
    /// # Panics
    /// If the run panicked (the panic is resumed here).
    pub async fn result(mut self) -> Result<RunResult<Out>, RunError>
    where
        Out: Send + 'static,
    {
        let run = self.run.take().expect("the run is taken only here");
        run.outcome().await
    }

    fn live(&self) -> Result<(), ControlError> {
        match self.controls.status() {
            status if status.is_terminal() => Err(ControlError::Ended(status)),
            _ => Ok(()),
        }
    }
}

impl<Out> Drop for RunHandle<Out> {
    fn drop(&mut self) {
        if self.abort_on_drop {
            self.controls.cancel();
        }
    }
}

/// Steers a started run from anywhere: made by [`RunHandle::controls`],
/// cloneable; each method does what the handle's method of the same name
/// does.
#[derive(Clone)]
pub struct RunControls {
    control: Arc<RunControl>,
}

impl fmt::Debug for RunControls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunControls")
            .field("status", &self.control.status())
            .finish_non_exhaustive()
    }
}

impl RunControls {
    /// See [`RunHandle::status`].
    pub fn status(&self) -> RunStatus {
        self.control.status()
    }

    /// See [`RunHandle::cancel`].
    pub fn cancel(&self) {
        self.control.halt(Halt::Cancel);
    }

    /// See [`RunHandle::interrupt`].
    pub fn interrupt(&self) {
        self.control.halt(Halt::Interrupt);
    }

    /// See [`RunHandle::cancel_after_turn`].
    pub fn cancel_after_turn(&self) {
        self.control.stop_after_turn();
    }
}
