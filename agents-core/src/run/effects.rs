//! The effect seam: the only way the turn loop touches the world.
//!
//! Model calls, tool calls, timers, run ids and session reads and writes all
//! go through one [`Effects`] implementation. Everything else the loop does
//! (choosing the next step, building requests, recording items, handoffs,
//! approvals) is a pure function of what those effects returned, so given
//! the same effect results a run produces the same transcript. That is what
//! lets a durable engine run the loop as a workflow and each model and tool
//! call as a journaled activity, replaying results after a crash instead of
//! calling again.
//!
//! [`InProcess`] is the default: it makes every call directly. An
//! implementation overrides only what it journals; every method has the
//! in-process behaviour as its default.
//!
//! User code that runs inside the loop rather than as an effect (dynamic
//! instructions, guardrails, hooks, approval rules, handoff callbacks and
//! input filters) must itself be deterministic for a replay to match.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::deltas::DeltaSink;
use super::error::ToolFailure;
use super::tools::run_tool_call;
use crate::agent::AgentCore;
use crate::context::RunContext;
use crate::item::{Item, ToolCall};
use crate::model::{BoxFuture, Model, ModelError, ModelRequest, ModelResponse, ResponseAssembler};
use crate::session::{Session, SessionError};

/// The side effects of a run, supplied from outside the turn loop.
///
/// Every method defaults to the in-process behaviour ([`InProcess`]).
/// Override a method to journal its result (a durable engine), to replay
/// recorded results (a test), or to add a policy around it.
///
/// # Determinism
/// The loop calls these methods in an order fixed by its inputs and by the
/// results returned, except that the tool calls of one turn run
/// concurrently: key a journal of tool results by
/// [`ToolInvocation::call`]'s `call_id`, not by arrival order.
pub trait Effects<Ctx>: Send + Sync {
    /// Makes one model call. The default runs it ([`ModelCall::run`]).
    ///
    /// # Errors
    /// The [`ModelError`] of the call; a call slower than
    /// [`ModelCall::timeout`] is [`ModelError::Timeout`].
    fn model_call<'a>(
        &'a self,
        call: ModelCall<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(call.run())
    }

    /// Runs one function tool call. The default runs it
    /// ([`ToolInvocation::run`]). Called only for calls that passed their
    /// approval, hooks and input guardrails.
    ///
    /// # Errors
    /// The [`ToolFailure`] the call ended with: an unknown tool, arguments
    /// that do not decode, a failure, a panic or a timeout.
    fn tool_call<'a>(
        &'a self,
        call: ToolInvocation<'a, Ctx>,
    ) -> BoxFuture<'a, Result<String, ToolFailure>>
    where
        Ctx: Send + Sync,
    {
        Box::pin(call.run())
    }

    /// Completes after `duration`: the run's wall-clock limit.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    /// A fresh run id, for a run not given one in its
    /// [`RunConfig`](crate::RunConfig). The default is `run_` and 16
    /// random hex digits.
    fn run_id(&self) -> Arc<str> {
        random_run_id()
    }

    /// A fresh id for the state of a run that pauses for approval (what the
    /// resume ledger records). The default is `state_` and 32 hex digits
    /// from the operating system's random generator.
    fn state_id(&self) -> Arc<str> {
        super::seal::random_state_id()
    }

    /// The wall-clock time: when a run paused, and how old its approvals
    /// are on resume. The default is the system clock.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// Reads a session's history (the last `limit` items, or all) and the
    /// agent that answered last on it.
    ///
    /// # Errors
    /// The store's [`SessionError`].
    fn load_session<'a>(
        &'a self,
        session: &'a dyn Session,
        limit: Option<usize>,
    ) -> BoxFuture<'a, Result<SessionHistory, SessionError>> {
        Box::pin(async move {
            let items = session.items(limit).await?;
            let last_agent = session.last_agent().await?;
            Ok(SessionHistory { items, last_agent })
        })
    }

    /// Appends one batch of items (a turn, or the new input) to a session,
    /// with the agent that now holds the conversation.
    ///
    /// # Errors
    /// The store's [`SessionError`].
    fn save_session<'a>(
        &'a self,
        session: &'a dyn Session,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        session.add_items(items, agent)
    }
}

/// The effects of an ordinary in-process run: every call is made directly.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl<Ctx> Effects<Ctx> for InProcess {}

/// What [`Effects::load_session`] reads.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionHistory {
    /// The stored items, oldest first.
    pub items: Vec<Arc<Item>>,
    /// The agent that answered last, if the store knows it.
    pub last_agent: Option<String>,
}

impl SessionHistory {
    /// A history of `items` whose last agent is `last_agent`.
    pub fn new(items: Vec<Arc<Item>>, last_agent: Option<String>) -> Self {
        SessionHistory { items, last_agent }
    }
}

/// One model call the loop asks for: the request, the model, its time
/// limit, and (in a streamed run) where deltas go.
pub struct ModelCall<'a> {
    pub(super) model: &'a dyn Model,
    pub(super) request: ModelRequest,
    pub(super) timeout: Duration,
    pub(super) deltas: Option<DeltaSink<'a>>,
}

impl std::fmt::Debug for ModelCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelCall")
            .field("request", &self.request)
            .field("timeout", &self.timeout)
            .field("streamed", &self.deltas.is_some())
            .finish_non_exhaustive()
    }
}

impl ModelCall<'_> {
    /// The request to send.
    pub fn request(&self) -> &ModelRequest {
        &self.request
    }

    /// The limit of this call ([`RunConfig::model_call_timeout`](crate::RunConfig::model_call_timeout)).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the run is streamed: [`run`](Self::run) then calls the model
    /// in streaming mode and reports every delta.
    pub fn is_streamed(&self) -> bool {
        self.deltas.is_some()
    }

    /// Makes the call in this process under its time limit; in a streamed
    /// run, streams it, reports each delta and assembles the same response
    /// a plain call gives.
    ///
    /// # Errors
    /// The model's [`ModelError`], or [`ModelError::Timeout`].
    pub async fn run(self) -> Result<ModelResponse, ModelError> {
        let ModelCall {
            model,
            request,
            timeout,
            deltas,
        } = self;
        let response = async move {
            match deltas {
                Some(mut deltas) => {
                    use futures::StreamExt;
                    let mut stream = model.stream(request);
                    let mut assembler = ResponseAssembler::new();
                    while let Some(event) = stream.next().await {
                        let event = event?;
                        deltas.push(&event);
                        assembler.push(event)?;
                    }
                    assembler.finish()
                }
                None => model.call(request).await,
            }
        };
        match tokio::time::timeout(timeout, response).await {
            Ok(outcome) => outcome,
            Err(_elapsed) => Err(ModelError::Timeout(timeout)),
        }
    }
}

/// One function tool call the loop asks for, after its approval, hooks and
/// input guardrails allowed it.
pub struct ToolInvocation<'a, Ctx> {
    pub(super) agent: &'a AgentCore<Ctx>,
    pub(super) ctx: &'a RunContext<Ctx>,
    pub(super) call: &'a ToolCall,
    pub(super) timeout: Duration,
}

impl<Ctx> std::fmt::Debug for ToolInvocation<'_, Ctx> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolInvocation")
            .field("agent", &self.agent.name)
            .field("call", &self.call)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<'a, Ctx: Send + Sync> ToolInvocation<'a, Ctx> {
    /// The call as the model made it.
    pub fn call(&self) -> &'a ToolCall {
        self.call
    }

    /// The agent whose tool is called.
    pub fn agent_name(&self) -> &'a str {
        &self.agent.name
    }

    /// The run context the tool sees.
    pub fn context(&self) -> &'a RunContext<Ctx> {
        self.ctx
    }

    /// The limit of this call ([`RunConfig::tool_timeout`](crate::RunConfig::tool_timeout)).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs the tool in this process: looks it up, runs it under its time
    /// limit, and turns a panic into a [`ToolFailure::Panicked`].
    ///
    /// # Errors
    /// The [`ToolFailure`] the call ended with.
    pub async fn run(self) -> Result<String, ToolFailure> {
        run_tool_call(self.agent, self.ctx, self.call, self.timeout).await
    }
}

/// `run_` and 16 hex digits from the standard library's randomly keyed
/// hasher (no global state, no extra dependency).
fn random_run_id() -> Arc<str> {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(u64::from(
        tokio::time::Instant::now().elapsed().subsec_nanos(),
    ));
    // Written in place: one allocation, the `Arc` itself.
    let mut id = *b"run_0000000000000000";
    // 8 bytes fill the 16 digits exactly: this cannot fail.
    let _ = hex::encode_to_slice(hasher.finish().to_be_bytes(), &mut id[4..]);
    std::str::from_utf8(&id).map_or_else(|_| Arc::from("run_"), Arc::from)
}
