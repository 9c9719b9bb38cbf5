use std::fmt;
use std::sync::Arc;

use crate::context::RunContext;
use crate::model::BoxFuture;

/// A function computing instructions from the run context.
pub type InstructionsFn<Ctx> = Arc<dyn Fn(&RunContext<Ctx>) -> BoxFuture<'_, String> + Send + Sync>;

/// An agent's instructions: none, a fixed text, or text computed from the run
/// context at the start of each turn.
pub enum Instructions<Ctx> {
    /// No instructions.
    None,
    /// A fixed text, shared by every request.
    Static(Arc<str>),
    /// Computed from the run context before each model call.
    Dynamic(InstructionsFn<Ctx>),
}

impl<Ctx> Clone for Instructions<Ctx> {
    fn clone(&self) -> Self {
        match self {
            Instructions::None => Instructions::None,
            Instructions::Static(text) => Instructions::Static(Arc::clone(text)),
            Instructions::Dynamic(f) => Instructions::Dynamic(Arc::clone(f)),
        }
    }
}

impl<Ctx> fmt::Debug for Instructions<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Instructions::None => f.write_str("None"),
            Instructions::Static(text) => f.debug_tuple("Static").field(text).finish(),
            Instructions::Dynamic(_) => f.write_str("Dynamic(..)"),
        }
    }
}

impl<Ctx> Instructions<Ctx> {
    /// The text for this turn.
    pub(crate) async fn resolve(&self, ctx: &RunContext<Ctx>) -> Option<Arc<str>> {
        match self {
            Instructions::None => None,
            Instructions::Static(text) => Some(Arc::clone(text)),
            Instructions::Dynamic(f) => Some(Arc::from(f(ctx).await)),
        }
    }
}
