//! A started run's future, driven by whoever waits for it: its own task
//! while nobody awaits [`RunHandle::result`](super::RunHandle::result), the
//! awaiting task from the moment it does.
//!
//! A run on a task awaited through a join handle crosses threads whenever
//! the two tasks wake each other on a multi-threaded runtime (tokio stops
//! running a woken task in place after a few polls in a row and another
//! worker steals it). Polling the run where it is awaited costs what a
//! plain awaited run costs; the task stays for runs nobody awaits (and
//! comes back if the awaiting future is dropped before the end).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use tokio::runtime::Handle;

use crate::model::BoxFuture;

/// Where the run's future is.
enum Stage<T> {
    /// Not being polled; the driver may take it.
    Idle(BoxFuture<'static, T>),
    /// Taken by the task or the awaiter for one poll.
    Polling,
    /// Ended with this outcome, not yet taken.
    Done(T),
    /// The future panicked; the payload is resumed in the awaiter.
    Panicked(Box<dyn Any + Send>),
    /// The outcome was taken.
    Taken,
}

/// The driving task, as far as the awaiter needs to know.
enum Task {
    /// Gone (it saw an awaiter take over, or the run ended).
    Gone,
    /// Alive; its waker once it has polled.
    Alive(Option<Waker>),
}

struct State<T> {
    stage: Stage<T>,
    /// Whether an awaiter drives the run (the task then leaves).
    awaited: bool,
    /// The awaiter's waker while it waits for the task to finish a poll.
    awaiter: Option<Waker>,
    task: Task,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    runtime: Handle,
}

impl<T: Send + 'static> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while the lock is held (it is released around the
        // future's poll), so a poisoned lock still holds a valid state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Polls the future once outside the lock and puts back what the poll
    /// left; a panic is kept as the outcome. Wakes an awaiter that came
    /// meanwhile.
    fn poll_once(&self, mut future: BoxFuture<'static, T>, cx: &mut Context<'_>) {
        let polled = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)));
        let mut state = self.lock();
        state.stage = match polled {
            Ok(Poll::Pending) => Stage::Idle(future),
            Ok(Poll::Ready(outcome)) => Stage::Done(outcome),
            Err(payload) => Stage::Panicked(payload),
        };
        if let Some(awaiter) = state.awaiter.take() {
            awaiter.wake();
        }
    }

    /// One poll of the driving task: it drives the run until an awaiter
    /// takes over or the run ends.
    fn poll_task(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if state.awaited || !matches!(state.stage, Stage::Idle(_)) {
            state.task = Task::Gone;
            return Poll::Ready(());
        }
        let Stage::Idle(future) = std::mem::replace(&mut state.stage, Stage::Polling) else {
            unreachable!("checked idle above");
        };
        match &mut state.task {
            Task::Alive(Some(waker)) if waker.will_wake(cx.waker()) => {}
            task => *task = Task::Alive(Some(cx.waker().clone())),
        }
        drop(state);
        self.poll_once(future, cx);
        let mut state = self.lock();
        if matches!(state.stage, Stage::Idle(_)) {
            Poll::Pending
        } else {
            state.task = Task::Gone;
            Poll::Ready(())
        }
    }
}

/// Spawns `future` on a task of its own and returns the way to await it.
///
/// # Panics
/// Outside a tokio runtime, as `tokio::spawn` does.
pub(super) fn spawn<T: Send + 'static>(future: BoxFuture<'static, T>) -> Driven<T> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            stage: Stage::Idle(future),
            awaited: false,
            awaiter: None,
            task: Task::Alive(None),
        }),
        runtime: Handle::current(),
    });
    spawn_task(&shared);
    Driven { shared }
}

/// A run as its driving task sees it, whatever its output type.
trait Drive: Send + Sync {
    /// One poll of the driving task.
    fn poll_task(&self, cx: &mut Context<'_>) -> Poll<()>;
    /// Lets the task go when the run no longer needs it (awaited, or
    /// ended); says whether it did.
    fn release(&self) -> bool;
}

impl<T: Send + 'static> Drive for Shared<T> {
    fn poll_task(&self, cx: &mut Context<'_>) -> Poll<()> {
        Shared::poll_task(self, cx)
    }

    fn release(&self) -> bool {
        let mut state = self.lock();
        let needed = !state.awaited && matches!(state.stage, Stage::Idle(_) | Stage::Polling);
        if !needed {
            state.task = Task::Gone;
        }
        !needed
    }
}

/// A spawned driving task and the run it will drive.
struct Driver {
    state: Mutex<DriverState>,
}

struct DriverState {
    /// Whether the task has been polled (then it keeps its run).
    started: bool,
    run: Arc<dyn Drive>,
}

thread_local! {
    /// The driving task spawned last on this thread, with its runtime.
    static SPARE: std::cell::RefCell<Option<(tokio::runtime::Id, Weak<Driver>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Gives `shared` a driving task: the one spawned last on this thread when
/// it has not been polled yet and its run no longer needs it (the common
/// case of a handle awaited at once: its run is driven by the awaiter), a
/// new one otherwise. A spawned task that is not polled yet sits in the
/// worker's LIFO slot; spawning another would push it to the queue and
/// wake an idle worker to steal it, a cost paid per run.
fn spawn_task<T: Send + 'static>(shared: &Arc<Shared<T>>) {
    let runtime = shared.runtime.id();
    let run: Arc<dyn Drive> = Arc::clone(shared) as Arc<dyn Drive>;
    let spare = SPARE.with_borrow(|spare| match spare {
        Some((id, driver)) if *id == runtime => driver.upgrade(),
        _ => None,
    });
    if let Some(driver) = spare {
        let mut state = driver.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.started && state.run.release() {
            state.run = run;
            return;
        }
    }
    let driver = Arc::new(Driver {
        state: Mutex::new(DriverState {
            started: false,
            run,
        }),
    });
    SPARE.set(Some((runtime, Arc::downgrade(&driver))));
    drop(shared.runtime.spawn(std::future::poll_fn(move |cx| {
        let run = {
            let mut state = driver.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.started = true;
            Arc::clone(&state.run)
        };
        run.poll_task(cx)
    })));
}

/// The awaitable side of a spawned run: see the module docs.
pub(super) struct Driven<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> Driven<T> {
    /// Waits for the outcome, polling the run from here from now on. A
    /// panic of the run is resumed here.
    pub(super) async fn outcome(self) -> T {
        {
            let mut state = self.shared.lock();
            state.awaited = true;
            // A task waiting on the run's wakers leaves now: the awaiter's
            // first poll takes the wakers over.
            if let Task::Alive(Some(waker)) = &state.task {
                waker.wake_by_ref();
            }
        }
        let awaiting = Awaiting(self);
        std::future::poll_fn(|cx| awaiting.poll(cx)).await
    }
}

/// An awaiter in progress; dropped before the end, it hands the run back
/// to its task.
struct Awaiting<T: Send + 'static>(Driven<T>);

impl<T: Send + 'static> Awaiting<T> {
    fn poll(&self, cx: &mut Context<'_>) -> Poll<T> {
        let shared = &self.0.shared;
        let mut state = shared.lock();
        match std::mem::replace(&mut state.stage, Stage::Polling) {
            Stage::Idle(future) => {
                drop(state);
                shared.poll_once(future, cx);
                state = shared.lock();
            }
            other => state.stage = other,
        }
        match std::mem::replace(&mut state.stage, Stage::Taken) {
            Stage::Done(outcome) => Poll::Ready(outcome),
            Stage::Panicked(payload) => {
                drop(state);
                resume_unwind(payload)
            }
            stage @ (Stage::Idle(_) | Stage::Polling) => {
                // Polling: the task is in a poll; it wakes us after.
                if matches!(stage, Stage::Polling) {
                    state.awaiter = Some(cx.waker().clone());
                }
                state.stage = stage;
                Poll::Pending
            }
            Stage::Taken => unreachable!("the outcome is taken once, by the awaiter"),
        }
    }
}

impl<T: Send + 'static> Drop for Awaiting<T> {
    fn drop(&mut self) {
        let shared = &self.0.shared;
        let mut state = shared.lock();
        state.awaited = false;
        state.awaiter = None;
        if !matches!(state.stage, Stage::Idle(_) | Stage::Polling) {
            return;
        }
        // The run's wakers are this awaiter's: the task polls once to take
        // them over (a new task if the old one left).
        match &state.task {
            Task::Alive(Some(waker)) => waker.wake_by_ref(),
            // Spawned and not polled yet: it will be.
            Task::Alive(None) => {}
            Task::Gone => {
                state.task = Task::Alive(None);
                drop(state);
                spawn_task(shared);
            }
        }
    }
}
