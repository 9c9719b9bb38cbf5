//! Steering a started run: its status, and the requests a
//! [`RunHandle`](super::RunHandle) makes of it: at the turn boundary
//! (pause, resume, stop after the turn) and at once (cancel, interrupt:
//! a [`Halt`], which the run watches beside the cancellation token it may
//! have been given).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, watch};

use super::error::RunError;

/// Where a run stands.
///
/// A run started with [`Run::start`](super::Run::start) is `Queued` until
/// its task first runs, then `Running`; `Paused` between turns while
/// paused. It ends in one of the terminal states ([`is_terminal`](Self::is_terminal)).
///
/// How a run's outcome maps to its terminal status:
///
/// | outcome | status |
/// |---|---|
/// | `Ok` with no failure on the way | `Completed` |
/// | `Ok` after tool calls that failed and went back to the model as error outputs, a model call a fallback chain answered with another model, or with a fallback output | `Degraded` |
/// | [`RunError::ApprovalRequired`] | `WaitingForApproval` (resume its state to go on) |
/// | [`RunError::Cancelled`] | `Cancelled` |
/// | [`RunError::Interrupted`] | `Interrupted` |
/// | every other [`RunError`] | `Failed` |
///
/// Serialized in snake case (`"waiting_for_approval"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunStatus {
    /// Started, its task not running yet.
    Queued,
    /// Calling the model or running tools.
    Running,
    /// Paused at a turn boundary: no model call and no tool in flight.
    Paused,
    /// Ended with calls waiting for a person's decision.
    WaitingForApproval,
    /// Ended with its final output.
    Completed,
    /// Ended with its final output after tolerating failures.
    Degraded,
    /// Ended with an error.
    Failed,
    /// Cancelled (at once, or after a turn).
    Cancelled,
    /// Interrupted: the model call or tools in flight were stopped and the
    /// conversation left ready to continue.
    Interrupted,
}

impl RunStatus {
    /// Whether the run has ended (`WaitingForApproval` included: that run
    /// ended, and a resumed one is a new run).
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            RunStatus::Queued | RunStatus::Running | RunStatus::Paused
        )
    }

    /// The terminal status of a run that ended with `error`.
    pub fn of_error(error: &RunError) -> Self {
        match error {
            RunError::ApprovalRequired { .. } => RunStatus::WaitingForApproval,
            RunError::Cancelled { .. } => RunStatus::Cancelled,
            RunError::Interrupted { .. } => RunStatus::Interrupted,
            _ => RunStatus::Failed,
        }
    }
}

/// What a handle asks of its run; shared by the handle and the loop.
///
/// The status `watch` is made when someone first asks for it
/// ([`subscribe`](Self::subscribe)): a change sent on a `watch` notifies
/// its waiters through eight `Notify`s, a cost a run whose status nobody
/// watches need not pay twice per run. Pausing is a flag and a `Notify`
/// for the same reason.
#[derive(Debug)]
pub(crate) struct RunControl {
    status: Mutex<Status>,
    /// Whether the run should wait at the next turn boundary.
    paused: AtomicBool,
    /// Wakes a run waiting at a turn boundary (resumed, or told to stop).
    unpaused: Notify,
    /// Whether the run should stop at the next turn boundary.
    stop_after_turn: AtomicBool,
    /// The strongest [`Halt`] asked so far (0: none).
    halt: AtomicU8,
    /// Wakes the run's wait for a halt.
    halted: Notify,
}

/// A stop asked from outside the run, taking effect at once: a cancel
/// outranks an interrupt asked before the run saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Halt {
    /// End with `RunError::Interrupted`.
    Interrupt = 1,
    /// End with `RunError::Cancelled`.
    Cancel = 2,
}

/// The status now, and its watchers' channel once someone watches.
#[derive(Debug)]
struct Status {
    now: RunStatus,
    watch: Option<watch::Sender<RunStatus>>,
}

impl RunControl {
    pub(crate) fn new() -> Self {
        RunControl {
            status: Mutex::new(Status {
                now: RunStatus::Queued,
                watch: None,
            }),
            paused: AtomicBool::new(false),
            unpaused: Notify::new(),
            stop_after_turn: AtomicBool::new(false),
            halt: AtomicU8::new(0),
            halted: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Status> {
        // Nothing panics while the lock is held; a poisoned lock still
        // holds a valid status.
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn status(&self) -> RunStatus {
        self.lock().now
    }

    /// A receiver of every status change from now on.
    pub(crate) fn subscribe(&self) -> watch::Receiver<RunStatus> {
        let mut status = self.lock();
        let now = status.now;
        status
            .watch
            .get_or_insert_with(|| watch::Sender::new(now))
            .subscribe()
    }

    /// Moves to `status` unless the run has already ended.
    pub(crate) fn set_status(&self, status: RunStatus) {
        let mut current = self.lock();
        if current.now.is_terminal() || current.now == status {
            return;
        }
        current.now = status;
        if let Some(watch) = &current.watch {
            watch.send_replace(status);
        }
    }

    pub(crate) fn pause(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        if !paused {
            self.unpaused.notify_waiters();
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn stop_after_turn(&self) {
        self.stop_after_turn.store(true, Ordering::SeqCst);
        // Wakes a paused run so that it stops.
        self.unpaused.notify_waiters();
    }

    /// The turn boundary: waits while paused (status `Paused`), then says
    /// whether the run must stop here.
    pub(crate) async fn boundary(&self) -> bool {
        // A boundary that does not wait costs one read.
        if self.is_paused() && !self.stopping() {
            self.set_status(RunStatus::Paused);
            loop {
                // Registered before the flags are read again: a resume or
                // stop after the read wakes it.
                let unpaused = self.unpaused.notified();
                let mut unpaused = std::pin::pin!(unpaused);
                unpaused.as_mut().enable();
                if !self.is_paused() || self.stopping() {
                    break;
                }
                unpaused.await;
            }
            self.set_status(RunStatus::Running);
        }
        self.stopping()
    }

    /// Asks the run to stop now with `halt`.
    pub(crate) fn halt(&self, halt: Halt) {
        self.halt.fetch_max(halt as u8, Ordering::SeqCst);
        self.halted.notify_waiters();
    }

    fn halt_asked(&self) -> Option<Halt> {
        match self.halt.load(Ordering::SeqCst) {
            0 => None,
            1 => Some(Halt::Interrupt),
            _ => Some(Halt::Cancel),
        }
    }

    /// Completes once a halt is asked, with the strongest asked.
    pub(crate) async fn halted(&self) -> Halt {
        loop {
            // Registered before the flag is read: a halt after the read
            // wakes it.
            let halted = self.halted.notified();
            let mut halted = std::pin::pin!(halted);
            halted.as_mut().enable();
            if let Some(halt) = self.halt_asked() {
                return halt;
            }
            halted.await;
        }
    }

    fn stopping(&self) -> bool {
        self.stop_after_turn.load(Ordering::SeqCst)
    }
}
