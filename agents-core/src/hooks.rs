//! Lifecycle hooks: observe a run (agent start/end, model calls, tool calls,
//! handoffs) and veto tool calls.
//!
//! Implement [`RunHooks<Ctx>`] with `async fn`s for the events you need;
//! every method has a no-op default. Hooks given to a run see every agent;
//! hooks given to an agent see that agent's events only. Run hooks are
//! called first.

use std::future::Future;

use crate::context::RunContext;
use crate::item::{ToolCall, ToolOutput};
use crate::model::{BoxFuture, ModelRequest, ModelResponse};

/// Whether a tool call may run, as decided by
/// [`RunHooks::on_tool_start`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ToolStartDecision {
    /// Run the tool.
    #[default]
    Allow,
    /// Do not run it; the model receives this message as an error output.
    Deny(String),
}

/// Callbacks at each step of a run whose context is `Ctx`.
///
/// ```
/// use agents_core::hooks::RunHooks;
/// use agents_core::prelude::*;
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct Log(Mutex<Vec<String>>);
///
/// impl RunHooks<()> for Log {
///     async fn on_agent_start(&self, _ctx: &RunContext<()>, agent: &str) {
///         self.0.lock().unwrap().push(format!("start {agent}"));
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a hook for runs whose context is `{Ctx}`",
    note = "implement `agents_core::hooks::RunHooks<{Ctx}>`"
)]
pub trait RunHooks<Ctx>: Send + Sync + 'static {
    /// An agent starts: at the start of the run, and after each handoff.
    fn on_agent_start(
        &self,
        ctx: &RunContext<Ctx>,
        agent: &str,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, agent);
        async {}
    }

    /// The agent that answers last produced the final output (as the model
    /// wrote it).
    fn on_agent_end(
        &self,
        ctx: &RunContext<Ctx>,
        agent: &str,
        output: &str,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, agent, output);
        async {}
    }

    /// A model call is about to be made.
    fn on_model_start(
        &self,
        ctx: &RunContext<Ctx>,
        agent: &str,
        request: &ModelRequest,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, agent, request);
        async {}
    }

    /// A model call returned.
    fn on_model_end(
        &self,
        ctx: &RunContext<Ctx>,
        agent: &str,
        response: &ModelResponse,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, agent, response);
        async {}
    }

    /// A tool is about to run; return [`ToolStartDecision::Deny`] to stop it.
    fn on_tool_start(
        &self,
        ctx: &RunContext<Ctx>,
        agent: &str,
        call: &ToolCall,
    ) -> impl Future<Output = ToolStartDecision> + Send {
        let _ = (ctx, agent, call);
        async { ToolStartDecision::Allow }
    }

    /// A tool call produced its output (or error output).
    fn on_tool_end(
        &self,
        ctx: &RunContext<Ctx>,
        agent: &str,
        call: &ToolCall,
        output: &ToolOutput,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, agent, call, output);
        async {}
    }

    /// The conversation is handed from `from` to `to`. Run-level hooks see
    /// every handoff; an agent's own hooks see the handoffs *to* that agent
    /// (as the OpenAI Agents SDK's `AgentHooks.on_handoff`).
    fn on_handoff(
        &self,
        ctx: &RunContext<Ctx>,
        from: &str,
        to: &str,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, from, to);
        async {}
    }
}

/// The object-safe form of [`RunHooks`] that runs and agents store.
pub trait DynRunHooks<Ctx>: Send + Sync {
    /// See [`RunHooks::on_agent_start`].
    fn agent_start<'a>(&'a self, ctx: &'a RunContext<Ctx>, agent: &'a str) -> BoxFuture<'a, ()>;
    /// See [`RunHooks::on_agent_end`].
    fn agent_end<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        output: &'a str,
    ) -> BoxFuture<'a, ()>;
    /// See [`RunHooks::on_model_start`].
    fn model_start<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, ()>;
    /// See [`RunHooks::on_model_end`].
    fn model_end<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        response: &'a ModelResponse,
    ) -> BoxFuture<'a, ()>;
    /// See [`RunHooks::on_tool_start`].
    fn tool_start<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        call: &'a ToolCall,
    ) -> BoxFuture<'a, ToolStartDecision>;
    /// See [`RunHooks::on_tool_end`].
    fn tool_end<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        call: &'a ToolCall,
        output: &'a ToolOutput,
    ) -> BoxFuture<'a, ()>;
    /// See [`RunHooks::on_handoff`].
    fn handoff<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, ()>;
}

impl<Ctx, H: RunHooks<Ctx>> DynRunHooks<Ctx> for H {
    fn agent_start<'a>(&'a self, ctx: &'a RunContext<Ctx>, agent: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.on_agent_start(ctx, agent))
    }
    fn agent_end<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        output: &'a str,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.on_agent_end(ctx, agent, output))
    }
    fn model_start<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.on_model_start(ctx, agent, request))
    }
    fn model_end<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        response: &'a ModelResponse,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.on_model_end(ctx, agent, response))
    }
    fn tool_start<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        call: &'a ToolCall,
    ) -> BoxFuture<'a, ToolStartDecision> {
        Box::pin(self.on_tool_start(ctx, agent, call))
    }
    fn tool_end<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        agent: &'a str,
        call: &'a ToolCall,
        output: &'a ToolOutput,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.on_tool_end(ctx, agent, call, output))
    }
    fn handoff<'a>(
        &'a self,
        ctx: &'a RunContext<Ctx>,
        from: &'a str,
        to: &'a str,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.on_handoff(ctx, from, to))
    }
}
