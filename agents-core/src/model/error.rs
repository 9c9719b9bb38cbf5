use std::time::Duration;

/// Why a model call failed.
///
/// One variant per thing a caller handles differently: fix credentials, back
/// off, fix the request, retry later, raise a timeout, report a provider bug.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The provider rejected the credentials (HTTP 401/403).
    #[error("authentication failed: {message}")]
    Auth {
        /// The provider's message.
        message: String,
    },
    /// The provider is rate limiting (HTTP 429).
    #[error("rate limited: {message}")]
    RateLimited {
        /// The provider's message.
        message: String,
        /// How long the provider asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
    /// The provider rejected the request as malformed (HTTP 400, 404, 422).
    #[error("bad request (HTTP {status}): {message}")]
    BadRequest {
        /// HTTP status code.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The provider failed (HTTP 5xx).
    #[error("server error (HTTP {status}): {message}")]
    Server {
        /// HTTP status code.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// The connection failed before a response arrived.
    #[error("connection failed: {message}")]
    Connection {
        /// What failed.
        message: String,
    },
    /// The call took longer than its timeout.
    #[error("model call timed out after {0:?}")]
    Timeout(Duration),
    /// The response could not be decoded: malformed JSON, a truncated
    /// stream, an item of an unknown shape.
    #[error("undecodable model response: {message}")]
    Decode {
        /// What was wrong with the response.
        message: String,
    },
    /// A response was larger than a size limit allows (a whole body, one
    /// server-sent event); nothing of it is used. The OpenAI client's limits
    /// are its `ResponseLimits` (in `agents_core::openai`).
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was too large, e.g. `the response body`.
        what: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A circuit breaker is open after repeated failures: the call was not
    /// made. See `CircuitBreaker` (in [`layers`](super::layers)).
    #[error("circuit open after repeated failures; next attempt in {retry_in:?}")]
    CircuitOpen {
        /// Time until the breaker lets a probe call through.
        retry_in: Duration,
    },
    /// Any other failure, described in words.
    #[error("{message}")]
    Other {
        /// What happened.
        message: String,
    },
    /// A failure specific to one [`Model`](super::Model) implementation,
    /// kept typed: match it with [`downcast_ref`](ModelError::downcast_ref)
    /// (e.g. `agents_testing::UnexpectedCall`, a call past the end of a
    /// mock model's script).
    #[error("{source}")]
    Custom {
        /// The implementation's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The kind of a [`ModelError`], without its details: what a fallback
/// chain, a circuit breaker or a retry rule matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelErrorKind {
    /// [`ModelError::Auth`].
    Auth,
    /// [`ModelError::RateLimited`].
    RateLimited,
    /// [`ModelError::BadRequest`].
    BadRequest,
    /// [`ModelError::Server`].
    Server,
    /// [`ModelError::Connection`].
    Connection,
    /// [`ModelError::Timeout`].
    Timeout,
    /// [`ModelError::Decode`].
    Decode,
    /// [`ModelError::TooLarge`].
    TooLarge,
    /// [`ModelError::CircuitOpen`].
    CircuitOpen,
    /// [`ModelError::Other`].
    Other,
    /// [`ModelError::Custom`].
    Custom,
}

impl ModelError {
    /// The error's kind.
    pub fn kind(&self) -> ModelErrorKind {
        match self {
            ModelError::Auth { .. } => ModelErrorKind::Auth,
            ModelError::RateLimited { .. } => ModelErrorKind::RateLimited,
            ModelError::BadRequest { .. } => ModelErrorKind::BadRequest,
            ModelError::Server { .. } => ModelErrorKind::Server,
            ModelError::Connection { .. } => ModelErrorKind::Connection,
            ModelError::Timeout(_) => ModelErrorKind::Timeout,
            ModelError::Decode { .. } => ModelErrorKind::Decode,
            ModelError::TooLarge { .. } => ModelErrorKind::TooLarge,
            ModelError::CircuitOpen { .. } => ModelErrorKind::CircuitOpen,
            ModelError::Other { .. } => ModelErrorKind::Other,
            ModelError::Custom { .. } => ModelErrorKind::Custom,
        }
    }

    /// An [`Other`](ModelError::Other) error with the given message.
    pub fn other(message: impl Into<String>) -> Self {
        ModelError::Other {
            message: message.into(),
        }
    }

    /// A [`Custom`](ModelError::Custom) error holding `error`.
    pub fn custom(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ModelError::Custom {
            source: Box::new(error),
        }
    }

    /// The error of a [`Custom`](ModelError::Custom) failure as a `T`, if
    /// it is one.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        match self {
            ModelError::Custom { source } => source.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// A [`TooLarge`](ModelError::TooLarge) error: `what` exceeded `limit`
    /// bytes.
    pub fn too_large(what: impl Into<String>, limit: usize) -> Self {
        ModelError::TooLarge {
            what: what.into(),
            limit,
        }
    }

    /// A [`Decode`](ModelError::Decode) error with the given message.
    pub fn decode(message: impl Into<String>) -> Self {
        ModelError::Decode {
            message: message.into(),
        }
    }
}
