//! Identical requests answered from memory.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;

use super::{Layer, StreamItem};
use crate::model::{
    BoxFuture, BoxStream, Model, ModelError, ModelRequest, ModelResponse, ModelStreamEvent,
    ResponseAssembler,
};

#[derive(Debug)]
struct Cache {
    capacity: usize,
    entries: Mutex<(HashMap<String, ModelResponse>, VecDeque<String>)>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Cache {
    fn get(&self, key: &str) -> Option<ModelResponse> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let found = entries.0.get(key).cloned();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn insert(&self, key: String, response: ModelResponse) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (map, order) = &mut *entries;
        if map.insert(key.clone(), response).is_none() {
            order.push_back(key);
        }
        while map.len() > self.capacity {
            let Some(oldest) = order.pop_front() else {
                break;
            };
            map.remove(&oldest);
        }
    }
}

/// Answers a request identical to one answered before from memory, without
/// calling the model: for tests and evaluation, where the same prompts run
/// again and again. Off unless added; clones share the cache.
///
/// **The key** is the whole request as JSON: agent name, model name,
/// instructions, every input item, tool definitions, output schema and
/// settings. Any difference is a miss. Only successful, complete responses
/// are kept, at most `capacity` (the oldest goes first). A hit returns the
/// stored response as it was, usage included: a budget counts it again.
#[derive(Debug, Clone)]
pub struct ResponseCacheLayer {
    cache: Arc<Cache>,
}

impl ResponseCacheLayer {
    /// A cache keeping at most `capacity` responses.
    pub fn new(capacity: usize) -> Self {
        ResponseCacheLayer {
            cache: Arc::new(Cache {
                capacity,
                entries: Mutex::default(),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
        }
    }

    /// Requests answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.cache.hits.load(Ordering::Relaxed)
    }

    /// Requests passed on to the model so far.
    pub fn misses(&self) -> u64 {
        self.cache.misses.load(Ordering::Relaxed)
    }
}

impl<M> Layer<M> for ResponseCacheLayer {
    type Service = ResponseCache<M>;

    fn layer(&self, inner: M) -> ResponseCache<M> {
        ResponseCache {
            inner,
            cache: Arc::clone(&self.cache),
        }
    }
}

/// A model behind a [`ResponseCacheLayer`].
#[derive(Debug, Clone)]
pub struct ResponseCache<M> {
    inner: M,
    cache: Arc<Cache>,
}

/// The cache key of `request`; `None` (no caching) if it does not
/// serialize.
fn key(request: &ModelRequest) -> Option<String> {
    serde_json::to_string(request).ok()
}

impl<M: Model> Model for ResponseCache<M> {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let Some(key) = key(&request) else {
                return self.inner.call(request).await;
            };
            if let Some(response) = self.cache.get(&key) {
                return Ok(response);
            }
            let response = self.inner.call(request).await?;
            self.cache.insert(key, response.clone());
            Ok(response)
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, StreamItem> {
        let Some(key) = key(&request) else {
            return self.inner.stream(request);
        };
        if let Some(response) = self.cache.get(&key) {
            let events = ModelStreamEvent::from_response(response);
            return Box::pin(futures::stream::iter(events.into_iter().map(Ok)));
        }
        // A miss: pass the events on, and keep the response once complete.
        let cache = Arc::clone(&self.cache);
        let mut assembler = Some(ResponseAssembler::new());
        Box::pin(self.inner.stream(request).map(move |event| {
            match &event {
                Ok(event) => {
                    let complete = event.ends_stream();
                    let pushed = assembler
                        .as_mut()
                        .is_some_and(|assembler| assembler.push(event.clone()).is_ok());
                    if !pushed {
                        assembler = None;
                    } else if complete {
                        if let Some(Ok(response)) = assembler.take().map(ResponseAssembler::finish)
                        {
                            cache.insert(key.clone(), response);
                        }
                    }
                }
                Err(_) => assembler = None,
            }
            event
        }))
    }
}
