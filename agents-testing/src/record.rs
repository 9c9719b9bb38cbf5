//! Record and replay: a real run becomes an offline test.
//!
//! [`RecordingModel`] wraps any model and writes every exchange (request and
//! response, streamed or not) to a pretty-printed JSON file as it happens.
//! [`ReplayModel`] serves a recording back in order, strictly: a request
//! that differs from the recorded one is an error showing a line diff, and
//! [`ReplayModel::assert_complete`] fails on exchanges never replayed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use agents_core::model::{BoxFuture, BoxStream, ModelStreamEvent, ResponseAssembler};
use agents_core::{Model, ModelError, ModelRequest, ModelResponse};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// The recording format version this crate writes and reads.
pub const RECORDING_VERSION: u32 = 1;

/// A recorded conversation with a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// [`RECORDING_VERSION`].
    pub version: u32,
    /// The exchanges, in call order.
    pub exchanges: Vec<Exchange>,
}

/// One model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// What the runner sent.
    pub request: ModelRequest,
    /// Whether the call was streamed.
    #[serde(default)]
    pub streamed: bool,
    /// What came back.
    pub outcome: Outcome,
}

/// How a recorded call ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A response (for a streamed call, the assembled one).
    Response {
        /// The response.
        response: ModelResponse,
    },
    /// An error, by its message.
    Error {
        /// The error's text.
        message: String,
    },
}

/// Why a recording could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordingError {
    /// The file could not be read or written.
    Io(std::io::Error),
    /// The file is not a recording.
    Format(serde_json::Error),
    /// The recording was written by a newer release.
    Version(u32),
}

impl fmt::Display for RecordingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordingError::Io(error) => write!(f, "recording file: {error}"),
            RecordingError::Format(error) => write!(f, "not a recording: {error}"),
            RecordingError::Version(version) => {
                write!(
                    f,
                    "recording version {version} is newer than {RECORDING_VERSION}"
                )
            }
        }
    }
}

impl std::error::Error for RecordingError {}

impl Recording {
    /// Reads a recording file.
    ///
    /// # Errors
    /// [`RecordingError`] when the file cannot be read, is not a recording,
    /// or comes from a newer release.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        let text = std::fs::read_to_string(path).map_err(RecordingError::Io)?;
        let recording: Recording = serde_json::from_str(&text).map_err(RecordingError::Format)?;
        if recording.version > RECORDING_VERSION {
            return Err(RecordingError::Version(recording.version));
        }
        Ok(recording)
    }

    /// Writes the recording as pretty-printed JSON.
    ///
    /// # Errors
    /// [`RecordingError::Io`] when the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), RecordingError> {
        let text = serde_json::to_string_pretty(self).map_err(RecordingError::Format)?;
        std::fs::write(path, text + "\n").map_err(RecordingError::Io)
    }
}

/// Wraps a model and records every exchange to a file, rewritten after each
/// call (a crash keeps what was recorded).
pub struct RecordingModel<M> {
    inner: M,
    path: PathBuf,
    recording: Arc<Mutex<Recording>>,
}

impl<M> fmt::Debug for RecordingModel<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingModel")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<M: Model> RecordingModel<M> {
    /// Records `inner`'s exchanges to `path` (replacing the file).
    pub fn new(inner: M, path: impl Into<PathBuf>) -> Self {
        RecordingModel {
            inner,
            path: path.into(),
            recording: Arc::new(Mutex::new(Recording {
                version: RECORDING_VERSION,
                exchanges: Vec::new(),
            })),
        }
    }

    /// What was recorded so far.
    pub fn recording(&self) -> Recording {
        lock(&self.recording).clone()
    }

    fn record(&self, exchange: Exchange) -> Result<(), ModelError> {
        let mut recording = lock(&self.recording);
        recording.exchanges.push(exchange);
        recording
            .save(&self.path)
            .map_err(|error| ModelError::other(format!("recording model: {error}")))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<M: Model> Model for RecordingModel<M> {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let result = self.inner.call(request.clone()).await;
            let outcome = match &result {
                Ok(response) => Outcome::Response {
                    response: response.clone(),
                },
                Err(error) => Outcome::Error {
                    message: error.to_string(),
                },
            };
            self.record(Exchange {
                request,
                streamed: false,
                outcome,
            })?;
            result
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        let inner = self.inner.stream(request.clone());
        let state = (inner, ResponseAssembler::new(), Some(request));
        Box::pin(futures::stream::unfold(
            state,
            move |(mut inner, mut assembler, mut request)| async move {
                let event = inner.next().await?;
                let Some(pending) = request.as_ref() else {
                    return Some((event, (inner, assembler, request)));
                };
                match &event {
                    Ok(last) if last.ends_stream() => {
                        let _ = assembler.push(last.clone());
                        let assembled = std::mem::take(&mut assembler).finish();
                        let outcome = match assembled {
                            Ok(response) => Outcome::Response { response },
                            Err(error) => Outcome::Error {
                                message: error.to_string(),
                            },
                        };
                        let exchange = Exchange {
                            request: pending.clone(),
                            streamed: true,
                            outcome,
                        };
                        request = None;
                        if let Err(error) = self.record(exchange) {
                            return Some((Err(error), (inner, assembler, request)));
                        }
                    }
                    Ok(other) => {
                        let _ = assembler.push(other.clone());
                    }
                    Err(error) => {
                        let exchange = Exchange {
                            request: pending.clone(),
                            streamed: true,
                            outcome: Outcome::Error {
                                message: error.to_string(),
                            },
                        };
                        request = None;
                        let _ = self.record(exchange);
                    }
                }
                Some((event, (inner, assembler, request)))
            },
        ))
    }
}

/// Serves a [`Recording`] back, in order, checking each request against the
/// recorded one.
#[derive(Clone)]
pub struct ReplayModel {
    recording: Arc<Recording>,
    next: Arc<Mutex<usize>>,
}

impl fmt::Debug for ReplayModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayModel")
            .field("exchanges", &self.recording.exchanges.len())
            .field("next", &*lock(&self.next))
            .finish()
    }
}

impl ReplayModel {
    /// A model replaying `recording`.
    pub fn new(recording: Recording) -> Self {
        ReplayModel {
            recording: Arc::new(recording),
            next: Arc::default(),
        }
    }

    /// A model replaying the recording at `path`.
    ///
    /// # Errors
    /// As [`Recording::load`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        Ok(Self::new(Recording::load(path)?))
    }

    /// Panics, naming them, if some exchanges were never replayed.
    #[track_caller]
    pub fn assert_complete(&self) {
        let next = *lock(&self.next);
        let total = self.recording.exchanges.len();
        assert!(
            next == total,
            "replay: {} of {total} recorded exchanges were never replayed (the run made {next} calls)",
            total - next
        );
    }

    /// The next exchange, if `request` is the one recorded.
    fn take(&self, request: &ModelRequest) -> Result<Exchange, ModelError> {
        let mut next = lock(&self.next);
        let number = *next + 1;
        let Some(exchange) = self.recording.exchanges.get(*next) else {
            return Err(ModelError::other(format!(
                "replay: unexpected call #{number} (agent `{}`): the recording has {} exchanges",
                request.agent,
                self.recording.exchanges.len()
            )));
        };
        if exchange.request != *request {
            return Err(ModelError::other(format!(
                "replay: call #{number} (agent `{}`) differs from the recording:\n{}",
                request.agent,
                request_diff(&exchange.request, request)
            )));
        }
        *next += 1;
        Ok(exchange.clone())
    }
}

/// A unified line diff of two requests' pretty JSON: `-` recorded, `+` now.
pub fn request_diff(recorded: &ModelRequest, actual: &ModelRequest) -> String {
    let pretty = |r: &ModelRequest| serde_json::to_string_pretty(r).unwrap_or_default();
    let (recorded, actual) = (pretty(recorded), pretty(actual));
    similar::TextDiff::from_lines(&recorded, &actual)
        .unified_diff()
        .context_radius(2)
        .header("recorded", "actual")
        .to_string()
}

fn outcome(exchange: Exchange) -> Result<ModelResponse, ModelError> {
    match exchange.outcome {
        Outcome::Response { response } => Ok(response),
        Outcome::Error { message } => Err(ModelError::other(format!("replayed error: {message}"))),
    }
}

impl Model for ReplayModel {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        let result = self.take(&request).and_then(outcome);
        Box::pin(std::future::ready(result))
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        let events: Vec<Result<ModelStreamEvent, ModelError>> =
            match self.take(&request).and_then(outcome) {
                Ok(response) => ModelStreamEvent::from_response(response)
                    .into_iter()
                    .map(Ok)
                    .collect(),
                Err(error) => vec![Err(error)],
            };
        Box::pin(futures::stream::iter(events))
    }
}
