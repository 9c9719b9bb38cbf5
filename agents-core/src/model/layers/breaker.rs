//! A circuit breaker: fail fast while a model keeps failing.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use super::{Layer, StreamItem, deferred, prepend};
use crate::model::{
    BoxFuture, BoxStream, Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse,
    ModelStreamEvent,
};

/// Where a [`CircuitBreakerLayer`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CircuitState {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls fail at once with [`ModelError::CircuitOpen`] until the
    /// cool-down ends.
    Open,
    /// The cool-down ended: one probe call goes through; its success closes
    /// the circuit, its failure opens it again.
    HalfOpen,
}

/// A breaker's state and counters, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitStats {
    /// The state now.
    pub state: CircuitState,
    /// Failures in a row, of the kinds the breaker counts.
    pub consecutive_failures: u32,
    /// Times the circuit opened.
    pub opened: u64,
    /// Calls refused while it was open.
    pub rejected: u64,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open {
        until: Instant,
    },
    /// A probe started at `since`; a probe that never reports (its caller
    /// dropped it) is replaced after a cool-down.
    HalfOpen {
        since: Instant,
    },
}

/// What a breaker counts, besides its phase.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    consecutive_failures: u32,
    opened: u64,
    rejected: u64,
}

#[derive(Debug)]
struct Breaker {
    threshold: u32,
    cool_down: Duration,
    counts: Vec<ModelErrorKind>,
    state: Mutex<(Phase, Counters)>,
}

/// Opens after `threshold` consecutive failures of the counted kinds
/// (default: [`Server`](ModelErrorKind::Server),
/// [`Connection`](ModelErrorKind::Connection),
/// [`Timeout`](ModelErrorKind::Timeout)), refuses calls for `cool_down`
/// with [`ModelError::CircuitOpen`], then lets one probe through. Any
/// answer, or an error of another kind (a 400 is the server answering),
/// counts as a success. Clones share the breaker: wrap every model of one
/// provider in clones of one layer to break for all of them at once.
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    breaker: Arc<Breaker>,
}

impl CircuitBreakerLayer {
    /// A breaker opening after `threshold` consecutive failures (0 counts as
    /// 1) for `cool_down`.
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        let counts = vec![
            ModelErrorKind::Server,
            ModelErrorKind::Connection,
            ModelErrorKind::Timeout,
        ];
        CircuitBreakerLayer {
            breaker: Arc::new(Breaker::new(threshold.max(1), cool_down, counts)),
        }
    }

    /// A breaker like this one, counting `kinds` as failures. It is a new
    /// breaker: clones made before do not share its state.
    pub fn counting(self, kinds: impl IntoIterator<Item = ModelErrorKind>) -> Self {
        let breaker = Breaker::new(
            self.breaker.threshold,
            self.breaker.cool_down,
            kinds.into_iter().collect(),
        );
        CircuitBreakerLayer {
            breaker: Arc::new(breaker),
        }
    }

    /// The state and counters now.
    pub fn stats(&self) -> CircuitStats {
        self.breaker.stats()
    }
}

impl Breaker {
    fn new(threshold: u32, cool_down: Duration, counts: Vec<ModelErrorKind>) -> Self {
        Breaker {
            threshold,
            cool_down,
            counts,
            state: Mutex::new((Phase::Closed, Counters::default())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Phase, Counters)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stats(&self) -> CircuitStats {
        let (phase, counters) = &*self.lock();
        let state = match phase {
            Phase::Closed => CircuitState::Closed,
            // Past its cool-down, an open circuit is half open to the next
            // call.
            Phase::Open { until } if Instant::now() >= *until => CircuitState::HalfOpen,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        };
        CircuitStats {
            state,
            consecutive_failures: counters.consecutive_failures,
            opened: counters.opened,
            rejected: counters.rejected,
        }
    }

    /// Whether a call may go; the error to fail it with otherwise.
    fn admit(&self) -> Result<(), ModelError> {
        let now = Instant::now();
        let mut state = self.lock();
        let (phase, counters) = &mut *state;
        let wait = match *phase {
            Phase::Closed => return Ok(()),
            Phase::Open { until } if now >= until => None,
            Phase::Open { until } => Some(until - now),
            Phase::HalfOpen { since } if now >= since + self.cool_down => None,
            Phase::HalfOpen { since } => Some(since + self.cool_down - now),
        };
        match wait {
            None => {
                *phase = Phase::HalfOpen { since: now };
                Ok(())
            }
            Some(retry_in) => {
                counters.rejected += 1;
                Err(ModelError::CircuitOpen { retry_in })
            }
        }
    }

    /// Records a call's outcome: `None` for a success.
    fn record(&self, failure: Option<ModelErrorKind>) {
        let failed = failure.is_some_and(|kind| self.counts.contains(&kind));
        let mut state = self.lock();
        let (phase, counters) = &mut *state;
        if !failed {
            *phase = Phase::Closed;
            counters.consecutive_failures = 0;
            return;
        }
        counters.consecutive_failures = counters.consecutive_failures.saturating_add(1);
        let open = match phase {
            Phase::Closed => counters.consecutive_failures >= self.threshold,
            Phase::HalfOpen { .. } => true,
            // A call admitted before the circuit opened.
            Phase::Open { .. } => false,
        };
        if open {
            *phase = Phase::Open {
                until: Instant::now() + self.cool_down,
            };
            counters.opened += 1;
        }
    }
}

impl<M> Layer<M> for CircuitBreakerLayer {
    type Service = CircuitBreaker<M>;

    fn layer(&self, inner: M) -> CircuitBreaker<M> {
        CircuitBreaker {
            inner,
            breaker: Arc::clone(&self.breaker),
        }
    }
}

/// A model behind a [`CircuitBreakerLayer`].
#[derive(Debug, Clone)]
pub struct CircuitBreaker<M> {
    inner: M,
    breaker: Arc<Breaker>,
}

impl<M> CircuitBreaker<M> {
    /// The breaker's state and counters now.
    pub fn stats(&self) -> CircuitStats {
        self.breaker.stats()
    }
}

impl<M: Model> Model for CircuitBreaker<M> {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            self.breaker.admit()?;
            let outcome = self.inner.call(request).await;
            self.breaker
                .record(outcome.as_ref().err().map(ModelError::kind));
            outcome
        })
    }

    /// The stream's first event decides: an error is a failure, anything
    /// else the server answering.
    fn stream(&self, request: ModelRequest) -> BoxStream<'_, StreamItem> {
        deferred(async move {
            if let Err(error) = self.breaker.admit() {
                return prepend(vec![Err(error)], Box::pin(futures::stream::empty()));
            }
            let mut stream = self.inner.stream(request);
            let first = stream.next().await;
            let failure = match &first {
                Some(Err(error)) => Some(error.kind()),
                Some(Ok(_)) => None,
                None => Some(ModelErrorKind::Decode),
            };
            self.breaker.record(failure);
            let first: Option<Result<ModelStreamEvent, ModelError>> = first;
            prepend(first.into_iter().collect(), stream)
        })
    }
}
