//! Steering a started run: its status, and the requests a
//! [`RunHandle`](super::RunHandle) makes of the turn loop (pause, resume,
//! stop after the turn). Cancelling at once goes through the run's
//! cancellation token.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

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
#[derive(Debug)]
pub(crate) struct RunControl {
    status: watch::Sender<RunStatus>,
    /// Whether the run should wait at the next turn boundary.
    paused: watch::Sender<bool>,
    /// Whether the run should stop at the next turn boundary.
    stop_after_turn: AtomicBool,
}

impl RunControl {
    pub(crate) fn new() -> Self {
        RunControl {
            status: watch::Sender::new(RunStatus::Queued),
            paused: watch::Sender::new(false),
            stop_after_turn: AtomicBool::new(false),
        }
    }

    pub(crate) fn status(&self) -> RunStatus {
        *self.status.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<RunStatus> {
        self.status.subscribe()
    }

    /// Moves to `status` unless the run has already ended.
    pub(crate) fn set_status(&self, status: RunStatus) {
        self.status.send_if_modified(|current| {
            let changes = !current.is_terminal() && *current != status;
            if changes {
                *current = status;
            }
            changes
        });
    }

    pub(crate) fn pause(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    pub(crate) fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    pub(crate) fn stop_after_turn(&self) {
        self.stop_after_turn.store(true, Ordering::SeqCst);
        // Wakes a paused run so that it stops.
        self.paused.send_modify(|_| {});
    }

    /// The turn boundary: waits while paused (status `Paused`), then says
    /// whether the run must stop here.
    pub(crate) async fn boundary(&self) -> bool {
        // Subscribed only when paused: a boundary that does not wait costs
        // one read.
        if *self.paused.borrow() && !self.stopping() {
            let mut paused = self.paused.subscribe();
            self.set_status(RunStatus::Paused);
            // The sender lives in `self`, so `changed` fails only when the
            // control is gone, which ends the wait too.
            while *paused.borrow_and_update() && !self.stopping() {
                if paused.changed().await.is_err() {
                    break;
                }
            }
            self.set_status(RunStatus::Running);
        }
        self.stopping()
    }

    fn stopping(&self) -> bool {
        self.stop_after_turn.load(Ordering::SeqCst)
    }
}
