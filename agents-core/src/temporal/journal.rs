//! The effects of a run inside a workflow: every model call, tool call
//! and timer becomes a request the workflow turns into an activity (or a
//! durable timer); ids and time come from the workflow.
//!
//! The loop's futures are `Send` and the workflow's are not, so the two
//! meet in a [`Journal`]: an effect's future files its request and waits
//! for its outcome slot; the workflow takes the requests, runs them as
//! activities, fills the slots and polls the loop again. The loop is
//! polled only by the workflow, after something it waits for changed, so
//! no waker crosses from one to the other.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use crate::model::{BoxFuture, ModelError, ModelResponse};
use crate::run::{Effects, ModelCall, ToolFailure, ToolInvocation};

use super::types::{StartRun, ToolCallInput};

/// What the loop asks the workflow for.
#[derive(Debug)]
pub(crate) enum Request {
    Model(crate::model::ModelRequest),
    Tool(ToolCallInput),
    Timer(Duration),
}

/// What the workflow answers.
#[derive(Debug)]
pub(crate) enum Outcome {
    Model(Result<ModelResponse, ModelError>),
    Tool(Result<String, ToolFailure>),
    Timer,
}

#[derive(Debug, Default)]
struct Slots {
    next: u64,
    requests: Vec<(u64, Request)>,
    outcomes: HashMap<u64, Outcome>,
    now: Option<SystemTime>,
    states: u32,
}

/// The meeting point of the loop's effects and the workflow.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    slots: Mutex<Slots>,
}

impl Journal {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn file(&self, request: Request) -> u64 {
        let mut slots = self.lock();
        let id = slots.next;
        slots.next += 1;
        slots.requests.push((id, request));
        id
    }

    fn take(&self, id: u64) -> Option<Outcome> {
        self.lock().outcomes.remove(&id)
    }

    /// The requests filed since the last call, in the order filed.
    pub(crate) fn requests(&self) -> Vec<(u64, Request)> {
        std::mem::take(&mut self.lock().requests)
    }

    /// Answers request `id`.
    pub(crate) fn complete(&self, id: u64, outcome: Outcome) {
        self.lock().outcomes.insert(id, outcome);
    }

    /// The workflow's time, given before each poll of the loop.
    pub(crate) fn set_now(&self, now: Option<SystemTime>) {
        self.lock().now = now;
    }
}

/// A future waiting for one request's outcome. It files the request when
/// first polled and is ready once the workflow answered it.
struct Awaiting {
    journal: Arc<Journal>,
    request: Option<Request>,
    id: Option<u64>,
}

impl Future for Awaiting {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Outcome> {
        let this = self.get_mut();
        if let Some(request) = this.request.take() {
            this.id = Some(this.journal.file(request));
        }
        match this.id.and_then(|id| this.journal.take(id)) {
            Some(outcome) => Poll::Ready(outcome),
            // The workflow polls the loop again once it has an answer.
            None => Poll::Pending,
        }
    }
}

/// The [`Effects`] of a run inside the workflow.
#[derive(Debug, Clone)]
pub(crate) struct JournalEffects {
    pub(crate) journal: Arc<Journal>,
    pub(crate) run_id: Arc<str>,
    pub(crate) start: Arc<StartRun>,
}

impl JournalEffects {
    fn ask(&self, request: Request) -> Awaiting {
        Awaiting {
            journal: Arc::clone(&self.journal),
            request: Some(request),
            id: None,
        }
    }
}

impl<Ctx> Effects<Ctx> for JournalEffects {
    fn model_call<'a>(
        &'a self,
        call: ModelCall<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let waiting = self.ask(Request::Model(call.request().clone()));
        Box::pin(async move {
            match waiting.await {
                Outcome::Model(outcome) => outcome,
                other => Err(mismatch(&other)),
            }
        })
    }

    fn tool_call<'a>(
        &'a self,
        call: ToolInvocation<'a, Ctx>,
    ) -> BoxFuture<'a, Result<String, ToolFailure>>
    where
        Ctx: Send + Sync,
    {
        let input = ToolCallInput {
            start: StartRun::clone(&self.start),
            run_id: self.run_id.to_string(),
            agent: call.agent_name().to_owned(),
            turn: call.context().turn,
            call: call.call().clone(),
            timeout: call.timeout(),
        };
        let tool = input.call.name.clone();
        let waiting = self.ask(Request::Tool(input));
        Box::pin(async move {
            match waiting.await {
                Outcome::Tool(outcome) => outcome,
                other => Err(ToolFailure::Failed {
                    tool,
                    message: mismatch(&other).to_string(),
                }),
            }
        })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let waiting = self.ask(Request::Timer(duration));
        Box::pin(async move {
            waiting.await;
        })
    }

    fn run_id(&self) -> Arc<str> {
        Arc::clone(&self.run_id)
    }

    fn state_id(&self) -> Arc<str> {
        let mut slots = self.journal.lock();
        slots.states += 1;
        Arc::from(format!("state_{}_{}", self.run_id, slots.states))
    }

    fn now(&self) -> SystemTime {
        self.journal.lock().now.unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// An answer of the wrong kind: the journal and the loop disagree, which
/// only a bug makes happen; the run fails rather than guessing.
fn mismatch(outcome: &Outcome) -> ModelError {
    ModelError::Other {
        message: format!("journal: an answer of the wrong kind ({outcome:?})"),
    }
}
