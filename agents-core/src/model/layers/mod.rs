//! Layers around any [`Model`]: behaviour that cuts across providers,
//! composed like tower layers.
//!
//! Each layer implements [`tower_layer::Layer`] (re-exported as [`Layer`]):
//! `layer.layer(model)` wraps a model in it, [`ModelExt::with`] says the
//! same from the model's side, and `tower::ServiceBuilder` stacks several
//! (`ServiceBuilder::new().layer(a).layer(b).service(model)`: `a` is the
//! outermost). A layer holds its state behind an `Arc`: clones share it, so
//! one layer wrapped around the models of many runners, or one model shared
//! by many runs, is one limit, one breaker, one cache.
//!
//! | Layer | Wraps a model in | Does |
//! |---|---|---|
//! | `RateLimitLayer` (feature `rate-limit`) | `RateLimit` | requests and tokens per minute shared by every run; waits for capacity; a 429 pauses everyone |
//! | [`ConcurrencyLimitLayer`] | [`ConcurrencyLimit`] | at most N calls in flight |
//! | [`CircuitBreakerLayer`] | [`CircuitBreaker`] | fails fast after N consecutive failures, probes after a cool-down |
//! | [`ResponseCacheLayer`] | [`ResponseCache`] | answers identical requests from memory (off unless added) |
//!
//! [`Fallback`] is a model of its own: a chain of models tried in order on
//! the error kinds the application names. Responses say which model
//! answered ([`ModelResponse::model`](super::ModelResponse::model)) and which failed first
//! ([`ModelResponse::failovers`](super::ModelResponse::failovers)); a run with a failover is `Degraded`.
//!
//! ```
//! use std::time::Duration;
//! use agents_core::model::layers::{CircuitBreakerLayer, ConcurrencyLimitLayer, Fallback, ModelExt};
//! use agents_testing::MockModel;
//!
//! let breaker = CircuitBreakerLayer::new(5, Duration::from_secs(30));
//! let primary = MockModel::script([]).with(breaker.clone()).with(ConcurrencyLimitLayer::new(8));
//! let model = Fallback::new("primary", primary).or("backup", MockModel::script([]));
//! # let _ = model;
//! ```

mod breaker;
mod cache;
mod concurrency;
mod fallback;
#[cfg(feature = "rate-limit")]
mod rate_limit;

pub use breaker::{CircuitBreaker, CircuitBreakerLayer, CircuitState, CircuitStats};
pub use cache::{ResponseCache, ResponseCacheLayer};
pub use concurrency::{ConcurrencyLimit, ConcurrencyLimitLayer};
pub use fallback::Fallback;
#[cfg(feature = "rate-limit")]
pub use rate_limit::{RateLimit, RateLimitLayer, RateLimitStats, RateLimits};
pub use tower_layer::Layer;

use futures::StreamExt;

use super::{BoxStream, Model, ModelError, ModelStreamEvent};

/// Wraps a model in a [`Layer`] from the model's side:
/// `model.with(layer)` is `layer.layer(model)`.
pub trait ModelExt: Model + Sized {
    /// This model inside `layer`.
    fn with<L: Layer<Self>>(self, layer: L) -> L::Service {
        layer.layer(self)
    }
}

impl<M: Model + Sized> ModelExt for M {}

/// An item of a model stream.
type StreamItem = Result<ModelStreamEvent, ModelError>;

/// `first`, then the rest of `stream`.
fn prepend<'a>(
    first: Vec<StreamItem>,
    stream: BoxStream<'a, StreamItem>,
) -> BoxStream<'a, StreamItem> {
    Box::pin(futures::stream::iter(first).chain(stream))
}

/// The stream `start` makes, once it is ready: a layer's stream that must
/// wait (for capacity, for a first event) before it has one.
fn deferred<'a>(
    start: impl Future<Output = BoxStream<'a, StreamItem>> + Send + 'a,
) -> BoxStream<'a, StreamItem> {
    Box::pin(futures::stream::once(start).flatten())
}
