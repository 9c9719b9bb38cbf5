//! What tools, instructions, guardrails and hooks see of a run: the
//! [`RunContext`] (the user's context plus the run's id, metadata, usage,
//! current agent and turn) and the [`RunConfig`] a run is started with.
//!
//! This layer sits below tools, agents and the runner, so all of them can
//! name it; it imports only items, usage and models.

mod budget;
mod config;
mod records;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

pub(crate) use budget::Spent;
pub use budget::{Budget, BudgetLimit, ModelPrice, PriceTable};
pub use config::{RunConfig, ToolErrorPolicy};
pub use records::ToolExecution;

use crate::model::Model;
use crate::usage::Usage;

/// Free-form run metadata: string keys, JSON values.
pub type Metadata = BTreeMap<String, serde_json::Value>;

/// What tools, instructions and hooks see of a run: the user's context plus
/// the run's id, metadata, usage so far and current agent.
///
/// Dereferences to the user's context, so `ctx.orders` reads a field of
/// `Ctx` directly.
pub struct RunContext<Ctx> {
    pub(crate) context: Arc<Ctx>,
    pub(crate) run_id: Arc<str>,
    pub(crate) metadata: Arc<Metadata>,
    pub(crate) usage: Usage,
    pub(crate) agent: Arc<str>,
    pub(crate) turn: u32,
    /// What a nested run (an agent used as a tool) needs; `None` outside a
    /// run.
    pub(crate) runtime: Option<Runtime>,
}

/// The model and limits of the run, for nested runs.
#[derive(Clone)]
pub(crate) struct Runtime {
    pub(crate) model: Arc<dyn Model>,
    pub(crate) config: Arc<RunConfig>,
    /// 0 for a top-level run, 1 for an agent run as a tool, ...
    pub(crate) depth: u32,
    /// The agents enclosing this run, outermost first (empty at the top).
    pub(crate) path: Arc<[Arc<str>]>,
    /// What the top-level run shares with its nested runs.
    pub(crate) tree: Arc<RunTree>,
}

/// What a top-level run and its nested runs (agents used as tools) share:
/// one allocation per top-level run.
#[derive(Debug)]
pub(crate) struct RunTree {
    /// What they have spent of the budget.
    pub(crate) spent: Spent,
    /// Where nested runs leave their tool executions for the top-level run.
    pub(crate) executions: Mutex<Vec<ToolExecution>>,
}

impl RunTree {
    pub(crate) fn new() -> Self {
        RunTree {
            spent: Spent::new(),
            executions: Mutex::new(Vec::new()),
        }
    }
}

/// The path of a top-level run: no enclosing agents. Shared, so a run
/// does not allocate it.
pub(crate) fn top_level_path() -> Arc<[Arc<str>]> {
    static EMPTY: std::sync::OnceLock<Arc<[Arc<str>]>> = std::sync::OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::from([])))
}

impl<Ctx> RunContext<Ctx> {
    /// A context outside any run, for calling tools directly in unit tests:
    /// run id `"test"`, no metadata, zero usage, agent `"test"`, turn 0.
    pub fn new(context: Ctx) -> Self {
        RunContext {
            context: Arc::new(context),
            run_id: Arc::from("test"),
            metadata: Arc::default(),
            usage: Usage::default(),
            agent: Arc::from("test"),
            turn: 0,
            runtime: None,
        }
    }

    /// The user's context.
    pub fn context(&self) -> &Ctx {
        &self.context
    }

    /// The run's id (given in the run configuration, or generated).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Usage summed over the model calls made so far.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// Name of the agent currently running.
    pub fn agent_name(&self) -> &str {
        &self.agent
    }

    /// The current turn, counting from 1 (0 before the first model call).
    pub fn turn(&self) -> u32 {
        self.turn
    }

    /// The user's context as the run shares it (with nested runs of agents
    /// used as tools).
    pub fn shared_context(&self) -> &Arc<Ctx> {
        &self.context
    }

    /// How deeply this run is nested: 0 for a run started by a runner, 1
    /// inside an agent used as a tool, and so on.
    pub fn depth(&self) -> u32 {
        self.runtime.as_ref().map_or(0, |r| r.depth)
    }
}

/// A second handle on the same run: the user's context and the run's
/// shared parts are `Arc`s, so this is cheap (a `#[tool(blocking)]`
/// function gets one on its thread).
impl<Ctx> Clone for RunContext<Ctx> {
    fn clone(&self) -> Self {
        RunContext {
            context: Arc::clone(&self.context),
            run_id: Arc::clone(&self.run_id),
            metadata: Arc::clone(&self.metadata),
            usage: self.usage,
            agent: Arc::clone(&self.agent),
            turn: self.turn,
            runtime: self.runtime.clone(),
        }
    }
}

impl<Ctx> Deref for RunContext<Ctx> {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.context
    }
}

impl<Ctx: fmt::Debug> fmt::Debug for RunContext<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("context", &self.context)
            .field("run_id", &self.run_id)
            .field("agent", &self.agent)
            .field("turn", &self.turn)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}
