//! What a spawn is given beyond its id, agent and context, and why it
//! can be refused.

use std::fmt;
use std::sync::Arc;

use crate::policy::{Policy, SharedPolicy};

/// Why an agent was not spawned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// An agent with this id is running: shut it down first.
    #[error("an agent is already running as `{0}`")]
    AlreadyRunning(String),
    /// The parent of a sub-agent is not running.
    #[error("no agent is running as `{0}` to be the parent")]
    NoParent(String),
}

/// How an agent is spawned beyond its id, agent and context.
pub struct SpawnOptions<Ctx> {
    pub(super) policies: Vec<SharedPolicy<Ctx>>,
}

impl<Ctx> Default for SpawnOptions<Ctx> {
    fn default() -> Self {
        SpawnOptions {
            policies: Vec::new(),
        }
    }
}

impl<Ctx> fmt::Debug for SpawnOptions<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnOptions")
            .field("policies", &self.policies.len())
            .finish()
    }
}

impl<Ctx> SpawnOptions<Ctx> {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy for this agent only (local), asked after the runtime's
    /// (global: its runner's policies, `Runner::policy`) and the agent's
    /// own (see [`crate::policy`]).
    #[must_use]
    pub fn policy(mut self, policy: impl Policy<Ctx> + 'static) -> Self {
        self.policies.push(Arc::new(policy));
        self
    }
}
