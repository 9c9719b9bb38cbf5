//! Starting durable runs and talking to them: status, events, decisions,
//! cancellation, the result.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, Url, WorkflowCancelOptions,
    WorkflowExecuteUpdateOptions, WorkflowFetchHistoryOptions, WorkflowGetResultOptions,
    WorkflowHandle, WorkflowQueryOptions, WorkflowStartOptions,
};

use crate::run::RunStatus;

use super::types::{Decision, DurableEvent, DurableOutcome, DurableStatus, StartRun};
use super::workflow::AgentWorkflow;

/// What went wrong talking to Temporal, or how a run ended instead of
/// giving its output. Messages carry the server's words, never
/// credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DurableError {
    /// The server could not be reached, or the address is not a URL.
    #[error("cannot connect to Temporal at {address}: {message}")]
    Connect {
        /// The address given.
        address: String,
        /// What failed.
        message: String,
    },
    /// The worker could not be made or stopped with an error.
    #[error("durable worker: {0}")]
    Worker(String),
    /// The run could not be started (e.g. a run with this id exists).
    #[error("cannot start durable run `{id}`: {message}")]
    Start {
        /// The run id.
        id: String,
        /// What failed.
        message: String,
    },
    /// A query, an update or a cancellation failed (an unknown run, a
    /// decision the run refused: no such pending call, decided already).
    #[error("durable run `{id}`: {message}")]
    Request {
        /// The run id.
        id: String,
        /// What failed.
        message: String,
    },
    /// The run ended without an output: failed, cancelled, or its
    /// workflow was terminated or timed out.
    #[error("durable run `{id}` ended {status:?}: {message}")]
    Ended {
        /// The run id.
        id: String,
        /// How it ended.
        status: RunStatus,
        /// The error.
        message: String,
    },
    /// The output does not decode as the type asked for.
    #[error("durable run `{id}`: the output does not decode: {message}")]
    Decode {
        /// The run id.
        id: String,
        /// The decoding error.
        message: String,
    },
    /// A workflow history could not be read or replayed.
    #[error("replay: {0}")]
    Replay(String),
}

/// Connects to a Temporal server: `address` is `host:port` (plain HTTP/2,
/// e.g. a dev server on loopback) or a URL.
pub(crate) async fn connect(address: &str, namespace: &str) -> Result<Client, DurableError> {
    let failed = |message: String| DurableError::Connect {
        address: address.to_owned(),
        message,
    };
    let url = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let url = Url::from_str(&url).map_err(|e| failed(e.to_string()))?;
    let connection = Connection::connect(ConnectionOptions::new(url).build())
        .await
        .map_err(|e| failed(e.to_string()))?;
    Client::new(connection, ClientOptions::new(namespace).build())
        .map_err(|e| failed(e.to_string()))
}

/// Starts durable runs on a task queue and finds them again by id.
#[derive(Clone)]
pub struct DurableClient {
    client: Client,
    task_queue: String,
}

impl std::fmt::Debug for DurableClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableClient")
            .field("task_queue", &self.task_queue)
            .finish_non_exhaustive()
    }
}

impl DurableClient {
    /// Connects to the server at `address` (`host:port` or a URL) in
    /// `namespace`; runs go to the workers of `task_queue`.
    ///
    /// # Errors
    /// [`DurableError::Connect`].
    pub async fn connect(
        address: &str,
        namespace: &str,
        task_queue: impl Into<String>,
    ) -> Result<Self, DurableError> {
        Ok(DurableClient {
            client: connect(address, namespace).await?,
            task_queue: task_queue.into(),
        })
    }

    /// A client on an existing Temporal client (TLS, API keys, other
    /// options: see `temporalio_client`).
    pub fn from_client(client: Client, task_queue: impl Into<String>) -> Self {
        DurableClient {
            client,
            task_queue: task_queue.into(),
        }
    }

    /// Starts the run `run_id` (its workflow id: one run per id at a time).
    ///
    /// # Errors
    /// [`DurableError::Start`].
    pub async fn start(
        &self,
        run_id: impl Into<String>,
        start: StartRun,
    ) -> Result<DurableRun, DurableError> {
        let id = run_id.into();
        let options = WorkflowStartOptions::new(self.task_queue.clone(), id.clone()).build();
        let handle = self
            .client
            .start_workflow(AgentWorkflow::run, start, options)
            .await
            .map_err(|e| DurableError::Start {
                id: id.clone(),
                message: e.to_string(),
            })?;
        Ok(DurableRun { id, handle })
    }

    /// The run `run_id`, started earlier (by this process or another).
    pub fn run(&self, run_id: impl Into<String>) -> DurableRun {
        let id = run_id.into();
        let handle = self.client.get_workflow_handle::<RunDefinition>(id.clone());
        DurableRun { id, handle }
    }
}

/// The workflow's run method, as the client names it.
type RunDefinition = <AgentWorkflow as temporalio_workflow::workflows::WorkflowImplementation>::Run;

/// A durable run, by id: what a client can ask of it.
pub struct DurableRun {
    id: String,
    handle: WorkflowHandle<Client, RunDefinition>,
}

impl std::fmt::Debug for DurableRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableRun")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DurableRun {
    /// The run's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn request_error(&self, error: impl std::fmt::Display) -> DurableError {
        DurableError::Request {
            id: self.id.clone(),
            message: error.to_string(),
        }
    }

    /// Where it stands (a query: answered by a worker from the run's
    /// state, even while it waits for approval).
    ///
    /// # Errors
    /// [`DurableError::Request`].
    pub async fn status(&self) -> Result<DurableStatus, DurableError> {
        self.handle
            .query(AgentWorkflow::status, (), WorkflowQueryOptions::default())
            .await
            .map_err(|e| self.request_error(e))
    }

    /// Its events from index `since` on (0: all); follow a run by asking
    /// again from the count read so far.
    ///
    /// # Errors
    /// [`DurableError::Request`].
    pub async fn events(&self, since: usize) -> Result<Vec<DurableEvent>, DurableError> {
        self.handle
            .query(
                AgentWorkflow::events,
                since,
                WorkflowQueryOptions::default(),
            )
            .await
            .map_err(|e| self.request_error(e))
    }

    /// Decides one pending call (an update: refused unless the run waits
    /// and the call is pending and undecided). Returns how many pending
    /// calls are still undecided; at 0 the run goes on.
    ///
    /// # Errors
    /// [`DurableError::Request`] with the run's reason.
    pub async fn decide(&self, decision: Decision) -> Result<usize, DurableError> {
        self.handle
            .execute_update(
                AgentWorkflow::decide,
                decision,
                WorkflowExecuteUpdateOptions::default(),
            )
            .await
            .map_err(|e| self.request_error(e))
    }

    /// Approves the pending call `call_id`.
    ///
    /// # Errors
    /// As [`decide`](Self::decide).
    pub async fn approve(&self, call_id: impl Into<String>) -> Result<usize, DurableError> {
        self.decide(Decision::approve(call_id)).await
    }

    /// Rejects the pending call `call_id`; the model is told `message`.
    ///
    /// # Errors
    /// As [`decide`](Self::decide).
    pub async fn reject(
        &self,
        call_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<usize, DurableError> {
        self.decide(Decision::reject(call_id, message)).await
    }

    /// Asks Temporal to cancel the run: activities in flight are
    /// cancelled and the run ends `Cancelled`.
    ///
    /// # Errors
    /// [`DurableError::Request`].
    pub async fn cancel(&self) -> Result<(), DurableError> {
        self.handle
            .cancel(WorkflowCancelOptions::default())
            .await
            .map_err(|e| self.request_error(e))
    }

    /// Waits for the run to end; how it ended.
    ///
    /// # Errors
    /// [`DurableError::Ended`] when its workflow failed, was terminated
    /// or timed out (a run that fails inside the loop is an outcome with
    /// status `Failed`, not an error).
    pub async fn outcome(&self) -> Result<DurableOutcome, DurableError> {
        self.handle
            .get_result(WorkflowGetResultOptions::default())
            .await
            .map_err(|e| DurableError::Ended {
                id: self.id.clone(),
                status: RunStatus::Failed,
                message: e.to_string(),
            })
    }

    /// Waits for the run to end and decodes its final output as `Out`.
    ///
    /// # Errors
    /// [`DurableError::Ended`] when it ended without an output,
    /// [`DurableError::Decode`] when the output is not an `Out`.
    pub async fn result<Out: DeserializeOwned>(&self) -> Result<Out, DurableError> {
        let outcome = self.outcome().await?;
        let Some(output) = outcome.output else {
            return Err(DurableError::Ended {
                id: self.id.clone(),
                status: outcome.status,
                message: outcome.error.unwrap_or_default(),
            });
        };
        serde_json::from_value(output).map_err(|e| DurableError::Decode {
            id: self.id.clone(),
            message: e.to_string(),
        })
    }

    /// The run's workflow history as JSON (what
    /// [`replay`](super::replay) takes): to keep a run's journal as a
    /// test fixture.
    ///
    /// # Errors
    /// [`DurableError::Request`].
    pub async fn history_json(&self) -> Result<Vec<u8>, DurableError> {
        self.handle
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .to_json()
            .await
            .map_err(|e| self.request_error(e))
    }
}
