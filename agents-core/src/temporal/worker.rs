//! A worker that runs durable runs of a set of agents, and the replay of
//! a recorded history against them.

use std::sync::Arc;

use temporalio_client::{Client, WorkflowHistory};
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};

use super::client::{DurableError, connect};
use super::engine::{DurableAgents, Engine};
use super::workflow::{AgentActivities, AgentWorkflow};

/// A Temporal worker for durable runs: it polls a task queue and runs
/// their workflows (the turn loop) and activities (model and tool calls)
/// on the agents it was given.
pub struct DurableWorker {
    worker: Worker,
    task_queue: String,
    _runtime: Runtime,
}

impl std::fmt::Debug for DurableWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableWorker")
            .field("task_queue", &self.task_queue)
            .finish_non_exhaustive()
    }
}

impl DurableWorker {
    /// Connects to the server at `address` (`host:port` or a URL) in
    /// `namespace` and makes a worker of `task_queue` for `agents`.
    ///
    /// # Errors
    /// [`DurableError::Connect`], [`DurableError::Worker`].
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn connect<Ctx: Send + Sync + 'static>(
        address: &str,
        namespace: &str,
        task_queue: impl Into<String>,
        agents: DurableAgents<Ctx>,
    ) -> Result<Self, DurableError> {
        let client = connect(address, namespace).await?;
        Self::new(client, task_queue, agents)
    }

    /// A worker of `task_queue` for `agents` on an existing client.
    ///
    /// # Errors
    /// [`DurableError::Worker`] (e.g. outside a tokio runtime).
    pub fn new<Ctx: Send + Sync + 'static>(
        client: Client,
        task_queue: impl Into<String>,
        agents: DurableAgents<Ctx>,
    ) -> Result<Self, DurableError> {
        let task_queue = task_queue.into();
        let failed = |e: &dyn std::fmt::Display| DurableError::Worker(e.to_string());
        let runtime = Runtime::from_current_tokio(Default::default()).map_err(|e| failed(&e))?;
        let engine: Arc<dyn Engine> = Arc::new(agents);
        let workflows = Arc::clone(&engine);
        let options = WorkerOptions::new(task_queue.clone())
            .register_activities(AgentActivities { engine })
            .register_workflow_with_factory::<AgentWorkflow, _>(move || {
                AgentWorkflow::new(Arc::clone(&workflows))
            })
            .map_err(|e| failed(&e))?
            .build();
        let worker = Worker::new(&runtime, client, options).map_err(|e| failed(&e))?;
        Ok(DurableWorker {
            worker,
            task_queue,
            _runtime: runtime,
        })
    }

    /// Polls the task queue and runs what it gets until shut down (by a
    /// [`shutdown_handle`](Self::shutdown_handle)). The future is not
    /// `Send` (Temporal runs workflows on a single-threaded executor): run
    /// it in `main`, in a `tokio::task::LocalSet`, or `join!` it with other
    /// work of the same task.
    ///
    /// # Errors
    /// [`DurableError::Worker`] when the worker stops with an error.
    pub async fn run(&mut self) -> Result<(), DurableError> {
        self.worker
            .run()
            .await
            .map_err(|e| DurableError::Worker(e.to_string()))
    }

    /// A function that asks the worker to stop: it finishes the tasks in
    /// hand, then [`run`](Self::run) returns.
    pub fn shutdown_handle(&self) -> impl Fn() + Send + Sync + 'static {
        self.worker.shutdown_handle()
    }
}

/// Replays a recorded workflow history (JSON, as
/// [`DurableRun::history_json`](super::DurableRun::history_json) gives it)
/// against `agents`, without a server, a model or any tool: it succeeds
/// when today's loop makes the same calls in the same order as the loop
/// that recorded it, and fails with the first difference.
///
/// # Errors
/// [`DurableError::Replay`]: the history does not decode, or the loop no
/// longer matches it (nondeterminism).
///
/// # Panics
/// Outside a tokio runtime.
pub async fn replay<Ctx: Send + Sync + 'static>(
    agents: DurableAgents<Ctx>,
    history_json: &[u8],
) -> Result<(), DurableError> {
    let failed = |e: &dyn std::fmt::Display| DurableError::Replay(e.to_string());
    let history = WorkflowHistory::from_json(history_json).map_err(|e| failed(&e))?;
    let engine: Arc<dyn Engine> = Arc::new(agents);
    let options = WorkflowReplayerOptions::new()
        .build()
        .register_workflow_with_factory::<AgentWorkflow, _>(move || {
            AgentWorkflow::new(Arc::clone(&engine))
        })
        .map_err(|e| failed(&e))?
        .clone();
    let replayer = WorkflowReplayer::new(options).map_err(|e| failed(&e))?;
    replayer
        .replay_workflow(history)
        .await
        .map(drop)
        .map_err(|e| failed(&e))
}
