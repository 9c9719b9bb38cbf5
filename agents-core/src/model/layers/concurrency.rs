//! At most N model calls in flight.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::Semaphore;

use super::{Layer, StreamItem, deferred};
use crate::model::{BoxFuture, BoxStream, Model, ModelError, ModelRequest, ModelResponse};

/// Lets at most `max` calls through the models it wraps at once; the others
/// wait their turn (first come, first served). Clones share the limit.
///
/// A streamed call holds its slot until its stream ends or is dropped.
/// `max` 0 counts as 1.
#[derive(Debug, Clone)]
pub struct ConcurrencyLimitLayer {
    slots: Arc<Semaphore>,
}

impl ConcurrencyLimitLayer {
    /// A limit of `max` calls in flight.
    pub fn new(max: usize) -> Self {
        ConcurrencyLimitLayer {
            slots: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
        }
    }

    /// Slots free now.
    pub fn available(&self) -> usize {
        self.slots.available_permits()
    }
}

impl<M> Layer<M> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<M>;

    fn layer(&self, inner: M) -> ConcurrencyLimit<M> {
        ConcurrencyLimit {
            inner,
            slots: Arc::clone(&self.slots),
        }
    }
}

/// A model behind a [`ConcurrencyLimitLayer`].
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit<M> {
    inner: M,
    slots: Arc<Semaphore>,
}

impl<M> ConcurrencyLimit<M> {
    /// The wrapped model.
    pub fn get_ref(&self) -> &M {
        &self.inner
    }
}

/// The semaphore is never closed: acquiring only waits.
async fn slot(slots: &Arc<Semaphore>) -> Option<tokio::sync::OwnedSemaphorePermit> {
    Arc::clone(slots).acquire_owned().await.ok()
}

impl<M: Model> Model for ConcurrencyLimit<M> {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let _slot = slot(&self.slots).await;
            self.inner.call(request).await
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, StreamItem> {
        deferred(async move {
            let slot = slot(&self.slots).await;
            let stream = self.inner.stream(request).map(move |event| {
                // Held until the stream is dropped.
                let _ = &slot;
                event
            });
            Box::pin(stream) as BoxStream<'_, StreamItem>
        })
    }
}
