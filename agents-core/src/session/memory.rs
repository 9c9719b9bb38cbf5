use std::sync::{Arc, Mutex, MutexGuard};

use super::{Session, SessionError};
use crate::item::Item;
use crate::model::BoxFuture;

#[derive(Debug, Default)]
struct Store {
    items: Vec<Arc<Item>>,
    last_agent: Option<String>,
}

/// A session kept in memory: for tests and single-process programs. Clones
/// share the same history.
#[derive(Debug, Clone)]
pub struct MemorySession {
    id: Arc<str>,
    store: Arc<Mutex<Store>>,
}

impl MemorySession {
    /// An empty session called `session_id`.
    pub fn new(session_id: impl Into<String>) -> Self {
        MemorySession {
            id: Arc::from(session_id.into()),
            store: Arc::default(),
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic elsewhere while holding the lock leaves a consistent Vec.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Session for MemorySession {
    fn session_id(&self) -> &str {
        &self.id
    }

    fn items(&self, limit: Option<usize>) -> BoxFuture<'_, Result<Vec<Arc<Item>>, SessionError>> {
        let store = self.store();
        let skip = limit.map_or(0, |limit| store.items.len().saturating_sub(limit));
        let items = store.items[skip..].to_vec();
        Box::pin(std::future::ready(Ok(items)))
    }

    fn add_items(
        &self,
        items: Vec<Arc<Item>>,
        agent: Option<String>,
    ) -> BoxFuture<'_, Result<(), SessionError>> {
        let mut store = self.store();
        store.items.extend(items);
        if agent.is_some() {
            store.last_agent = agent;
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn pop_item(&self) -> BoxFuture<'_, Result<Option<Item>, SessionError>> {
        let item = self.store().items.pop().map(|item| (*item).clone());
        Box::pin(std::future::ready(Ok(item)))
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), SessionError>> {
        *self.store() = Store::default();
        Box::pin(std::future::ready(Ok(())))
    }

    fn last_agent(&self) -> BoxFuture<'_, Result<Option<String>, SessionError>> {
        let agent = self.store().last_agent.clone();
        Box::pin(std::future::ready(Ok(agent)))
    }

    fn replace_items(&self, items: Vec<Arc<Item>>) -> BoxFuture<'_, Result<(), SessionError>> {
        self.store().items = items;
        Box::pin(std::future::ready(Ok(())))
    }
}
