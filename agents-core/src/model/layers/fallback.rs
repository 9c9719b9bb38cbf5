//! A chain of models tried in order.

use std::sync::Arc;

use futures::StreamExt;

use super::{StreamItem, deferred, prepend};
use crate::model::{
    BoxFuture, BoxStream, Failover, Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse,
    ModelStreamEvent,
};

/// A model that asks the models of a chain in order: when one fails with an
/// error of a kind the chain switches on, the next is asked; any other error,
/// or the last model's, is the call's error.
///
/// Switches by default on [`Server`](ModelErrorKind::Server),
/// [`Connection`](ModelErrorKind::Connection),
/// [`Timeout`](ModelErrorKind::Timeout),
/// [`RateLimited`](ModelErrorKind::RateLimited) and
/// [`CircuitOpen`](ModelErrorKind::CircuitOpen) errors; not on a bad request
/// or failed authentication, which the next provider would most likely
/// answer the same way (change with [`on`](Fallback::on)).
///
/// The response names the model that answered ([`ModelResponse::model`],
/// the chain's name for it) and those that failed first
/// ([`ModelResponse::failovers`]); a run that used a fallback ends
/// `Degraded`, the failovers among its tolerated failures. A stream
/// switches only before its first event: once a model has begun answering,
/// its errors are the stream's.
///
/// The request's model name (an agent's `model`) goes to the first model
/// only; the others answer with the model their client is configured for.
#[derive(Clone)]
pub struct Fallback {
    models: Vec<(String, Arc<dyn Model>)>,
    on: Vec<ModelErrorKind>,
}

impl std::fmt::Debug for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fallback")
            .field(
                "models",
                &self.models.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("on", &self.on)
            .finish()
    }
}

impl Fallback {
    /// A chain whose first model is `model`, named `name` in responses and
    /// traces.
    pub fn new(name: impl Into<String>, model: impl Model + 'static) -> Self {
        Fallback {
            models: vec![(name.into(), Arc::new(model))],
            on: vec![
                ModelErrorKind::Server,
                ModelErrorKind::Connection,
                ModelErrorKind::Timeout,
                ModelErrorKind::RateLimited,
                ModelErrorKind::CircuitOpen,
            ],
        }
    }

    /// Adds `model`, named `name`, at the end of the chain.
    pub fn or(mut self, name: impl Into<String>, model: impl Model + 'static) -> Self {
        self.models.push((name.into(), Arc::new(model)));
        self
    }

    /// Sets the error kinds that move on to the next model.
    pub fn on(mut self, kinds: impl IntoIterator<Item = ModelErrorKind>) -> Self {
        self.on = kinds.into_iter().collect();
        self
    }

    /// The chain's names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|(name, _)| name.as_str())
    }

    /// Whether `error` from model `index` moves on to the next.
    fn switches(&self, index: usize, error: &ModelError) -> bool {
        index + 1 < self.models.len() && self.on.contains(&error.kind())
    }
}

/// What a chain without a model would answer (`new` makes that impossible).
fn empty_chain() -> ModelError {
    ModelError::other("the fallback chain has no model")
}

/// The request for the chain's model `index`.
fn request_for(request: &ModelRequest, index: usize) -> ModelRequest {
    let mut request = request.clone();
    if index > 0 {
        request.model = None;
    }
    request
}

impl Model for Fallback {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let mut failovers = Vec::new();
            for (index, (name, model)) in self.models.iter().enumerate() {
                match model.call(request_for(&request, index)).await {
                    Ok(mut response) => {
                        response.model = Some(name.clone());
                        response.failovers = failovers;
                        return Ok(response);
                    }
                    Err(error) if self.switches(index, &error) => {
                        tracing::warn!(model = %name, %error, "model failed; trying the next");
                        failovers.push(Failover::new(name.clone(), &error));
                    }
                    Err(error) => return Err(error),
                }
            }
            // `new` gives the chain a model, and the last one's answer returns.
            Err(empty_chain())
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, StreamItem> {
        deferred(async move {
            let mut failovers = Vec::new();
            for (index, (name, model)) in self.models.iter().enumerate() {
                let mut stream = model.stream(request_for(&request, index));
                match stream.next().await {
                    Some(Err(error)) if self.switches(index, &error) => {
                        tracing::warn!(model = %name, %error, "model failed; trying the next");
                        failovers.push(Failover::new(name.clone(), &error));
                    }
                    first => {
                        let served = ModelStreamEvent::ServedBy {
                            model: name.clone(),
                            failovers,
                        };
                        let mut head = vec![Ok(served)];
                        head.extend(first);
                        return prepend(head, stream);
                    }
                }
            }
            prepend(vec![Err(empty_chain())], Box::pin(futures::stream::empty()))
        })
    }
}
