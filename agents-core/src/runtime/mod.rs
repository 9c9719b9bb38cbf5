//! Long-lived agents: a runtime of agents that stay alive between
//! messages, each a task registered by its session id and driven through
//! a handle.
//!
//! ```
//! use agents_core::prelude::*;
//! use agents_core::runtime::{AgentRuntime, AgentState};
//! use agents_testing::{MockModel, Step};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let agent: Agent<()> = Agent::builder("Greeter").build()?;
//! let runtime = AgentRuntime::new(Runner::new(MockModel::script([
//!     Step::text("Hello!"),
//!     Step::text("Still here."),
//! ])));
//! let greeter = runtime.spawn("customer-1", &agent, ())?;
//! let mut events = greeter.subscribe();
//! greeter.send("hi")?;
//! greeter.send("are you there?")?;
//! # let mut answers = 0;
//! # while answers < 2 {
//! #     if let agents_core::runtime::AgentEvent::Answered { .. } = events.recv().await? { answers += 1; }
//! # }
//! assert_eq!(runtime.count(), 1);
//! runtime.shutdown("customer-1").await;
//! assert!(!runtime.is_running("customer-1"));
//! assert_eq!(*greeter.state().borrow(), AgentState::Done);
//! # Ok(()) }
//! ```
//!
//! Each agent answers its messages one at a time, in order, each as a run
//! of the runtime's [`Runner`] on the agent's session: the session is its
//! memory, so an agent spawned again with the same id (in this runtime, or
//! in a new one on the same session store) continues the conversation
//! with the agent that answered last. Sessions are in memory (kept by the
//! runtime across re-spawns) unless [`AgentRuntime::with_sessions`] gives
//! a store.
//!
//! Input waits in a queue of [`INPUT_QUEUE`] messages per agent; a full
//! queue refuses the message ([`SendError::Full`], with the message back),
//! it never blocks the sender. Control (interrupt, shutdown) never waits
//! behind input.
//!
//! Compared with the runners this one is measured against: the
//! shadow-agent-sdk's runtime of long-lived agents (handles, a registry,
//! states); the OpenAI Agents SDK has no such runtime.

mod handle;
mod spawn;
mod state;
mod task;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};

use handle::Parent;
pub use handle::{AgentHandle, DecideError, SendError};
pub use spawn::{SpawnError, SpawnOptions};
pub use state::{AgentEvent, AgentState, Answer};
use task::Control;

use crate::agent::Agent;
use crate::run::Runner;
use crate::session::{MemorySession, Session};

/// How many messages wait for an agent at most.
pub const INPUT_QUEUE: usize = 32;

type SessionFactory = dyn Fn(&str) -> Arc<dyn Session> + Send + Sync;

/// A runtime of long-lived agents sharing one [`Runner`]: cloneable, shared
/// across threads (see the [module docs](self)).
pub struct AgentRuntime<Ctx> {
    inner: Arc<Inner<Ctx>>,
}

struct Inner<Ctx> {
    runner: Runner<Ctx>,
    sessions: Box<SessionFactory>,
    agents: Mutex<HashMap<String, Entry>>,
}

/// A running agent in the registry.
struct Entry {
    control: mpsc::UnboundedSender<Control>,
    done: watch::Receiver<AgentState>,
    /// What a sub-agent's handle needs of this agent.
    link: Parent,
    /// The agent that spawned this one as its sub-agent.
    parent: Option<String>,
}

impl<Ctx> Clone for AgentRuntime<Ctx> {
    fn clone(&self) -> Self {
        AgentRuntime {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<Ctx> fmt::Debug for AgentRuntime<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentRuntime")
            .field("agents", &self.inner.agents.lock().map(|a| a.len()).ok())
            .finish_non_exhaustive()
    }
}

impl<Ctx> AgentRuntime<Ctx>
where
    Ctx: Clone + Send + Sync + 'static,
{
    /// A runtime running its agents' messages with `runner`, sessions in
    /// memory (kept across re-spawns of an id).
    pub fn new(runner: Runner<Ctx>) -> Self {
        let memory: Mutex<HashMap<String, MemorySession>> = Mutex::default();
        Self::with_sessions(runner, move |id| {
            let mut memory = memory.lock().unwrap_or_else(PoisonError::into_inner);
            let session = memory
                .entry(id.to_owned())
                .or_insert_with(|| MemorySession::new(id))
                .clone();
            Arc::new(session) as Arc<dyn Session>
        })
    }

    /// A runtime whose agents keep their sessions where `open` says: it is
    /// called with the agent's id at each spawn (e.g. a `SqliteSession` or
    /// `PostgresSession` of that id).
    pub fn with_sessions(
        runner: Runner<Ctx>,
        open: impl Fn(&str) -> Arc<dyn Session> + Send + Sync + 'static,
    ) -> Self {
        AgentRuntime {
            inner: Arc::new(Inner {
                runner,
                sessions: Box::new(open),
                agents: Mutex::default(),
            }),
        }
    }

    /// Starts `agent` as the long-lived agent `id` with `context` (cloned
    /// for each message's run).
    ///
    /// # Errors
    /// [`SpawnError::AlreadyRunning`] when `id` is running (never replaced
    /// silently).
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn<Out>(
        &self,
        id: impl Into<String>,
        agent: &Agent<Ctx, Out>,
        context: Ctx,
    ) -> Result<AgentHandle, SpawnError>
    where
        Out: fmt::Display + Send + 'static,
    {
        self.spawn_with(id, agent, context, SpawnOptions::new())
    }

    /// [`spawn`](Self::spawn) with `options` (policies for this agent).
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn).
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn_with<Out>(
        &self,
        id: impl Into<String>,
        agent: &Agent<Ctx, Out>,
        context: Ctx,
        options: SpawnOptions<Ctx>,
    ) -> Result<AgentHandle, SpawnError>
    where
        Out: fmt::Display + Send + 'static,
    {
        self.start(id.into(), None, agent, context, options)
    }

    /// Starts `agent` as the sub-agent `id` of the running agent `parent`
    /// (typically from a tool of the parent, which then
    /// [`ask`](AgentHandle::ask)s it; the parent's state is
    /// `WaitingForSubAgent` meanwhile). [`shutdown`](Self::shutdown) of the
    /// parent shuts its sub-agents down first, then the parent; a parent
    /// that ends otherwise (its own handle's `shutdown`) asks its
    /// sub-agents to shut down as it leaves.
    ///
    /// # Errors
    /// [`SpawnError::NoParent`], [`SpawnError::AlreadyRunning`].
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn_child<Out>(
        &self,
        parent: &str,
        id: impl Into<String>,
        agent: &Agent<Ctx, Out>,
        context: Ctx,
    ) -> Result<AgentHandle, SpawnError>
    where
        Out: fmt::Display + Send + 'static,
    {
        self.start(id.into(), Some(parent), agent, context, SpawnOptions::new())
    }

    fn start<Out>(
        &self,
        id: String,
        parent: Option<&str>,
        agent: &Agent<Ctx, Out>,
        context: Ctx,
        options: SpawnOptions<Ctx>,
    ) -> Result<AgentHandle, SpawnError>
    where
        Out: fmt::Display + Send + 'static,
    {
        let mut agents = self.agents();
        if agents.contains_key(&id) {
            return Err(SpawnError::AlreadyRunning(id));
        }
        let link = match parent {
            Some(parent) => match agents.get(parent) {
                Some(entry) => Some(entry.link.clone()),
                None => return Err(SpawnError::NoParent(parent.to_owned())),
            },
            None => None,
        };
        let session = (self.inner.sessions)(&id);
        let spawned = task::spawn(
            self.inner.runner.clone(),
            agent.clone(),
            context,
            session,
            options.policies,
            self.registry_cleanup(&id),
        );
        agents.insert(
            id.clone(),
            Entry {
                control: spawned.control.clone(),
                done: spawned.state.clone(),
                link: Parent {
                    state: Arc::clone(&spawned.state_tx),
                    events: spawned.events.clone(),
                },
                parent: parent.map(str::to_owned),
            },
        );
        Ok(AgentHandle::new(id, spawned, link))
    }

    /// The ids of the running agents, sorted.
    pub fn list(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.agents().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// How many agents are running.
    pub fn count(&self) -> usize {
        self.agents().len()
    }

    /// Whether `id` is running.
    pub fn is_running(&self, id: &str) -> bool {
        self.agents().contains_key(id)
    }

    /// Shuts `id` down (see [`AgentHandle::shutdown`]) and waits until it
    /// has; `None` when no agent runs as `id`.
    pub async fn shutdown(&self, id: &str) -> Option<AgentState> {
        // Sub-agents first, deepest first.
        for child in self.children(id) {
            Box::pin(self.shutdown(&child)).await;
        }
        let (control, mut done) = {
            let agents = self.agents();
            let entry = agents.get(id)?;
            (entry.control.clone(), entry.done.clone())
        };
        let _ = control.send(Control::Shutdown);
        Some(wait_done(&mut done).await)
    }

    /// The running sub-agents of `id`, sorted.
    pub fn children(&self, id: &str) -> Vec<String> {
        let mut children: Vec<String> = self
            .agents()
            .iter()
            .filter(|(_, entry)| entry.parent.as_deref() == Some(id))
            .map(|(child, _)| child.clone())
            .collect();
        children.sort();
        children
    }

    /// Shuts every agent down, all at once, and waits for them; how each
    /// ended, by id.
    pub async fn shutdown_all(&self) -> Vec<(String, AgentState)> {
        let entries: Vec<(
            String,
            mpsc::UnboundedSender<Control>,
            watch::Receiver<AgentState>,
        )> = self
            .agents()
            .iter()
            .map(|(id, e)| (id.clone(), e.control.clone(), e.done.clone()))
            .collect();
        for (_, control, _) in &entries {
            let _ = control.send(Control::Shutdown);
        }
        let mut ended = Vec::new();
        for (id, _, mut done) in entries {
            ended.push((id, wait_done(&mut done).await));
        }
        ended.sort_by(|a, b| a.0.cmp(&b.0));
        ended
    }

    /// Waits until `id` has ended (shut down, or failed); `None` when no
    /// agent runs as `id`.
    pub async fn wait_for(&self, id: &str) -> Option<AgentState> {
        let mut done = self.agents().get(id)?.done.clone();
        Some(wait_done(&mut done).await)
    }

    fn agents(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.inner
            .agents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// What the agent's task calls as it ends: it leaves the registry.
    fn registry_cleanup(&self, id: &str) -> Box<dyn FnOnce() + Send> {
        let inner = Arc::downgrade(&self.inner);
        let id = id.to_owned();
        Box::new(move || {
            if let Some(inner) = inner.upgrade() {
                let mut agents = inner.agents.lock().unwrap_or_else(PoisonError::into_inner);
                agents.remove(&id);
                // Its sub-agents go with it.
                for entry in agents.values() {
                    if entry.parent.as_deref() == Some(id.as_str()) {
                        let _ = entry.control.send(Control::Shutdown);
                    }
                }
            }
        })
    }
}

/// Waits for a terminal state.
pub(super) async fn wait_done(state: &mut watch::Receiver<AgentState>) -> AgentState {
    let ended = state
        .wait_for(|s| matches!(s, AgentState::Done | AgentState::Failed { .. }))
        .await
        .map(|s| s.clone());
    // The sender is gone only once the task has ended.
    ended.unwrap_or(AgentState::Done)
}
