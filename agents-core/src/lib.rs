//! # agents
//!
//! A framework for LLM agents in which the wiring is checked by the compiler.
//! Plain Rust functions become tools, agents carry their tools, handoffs and
//! output type in their types, and a [`Runner`] drives the model ↔ tool loop
//! with a typed context. Every run is testable offline with the scripted
//! mock model of `agents-testing`.
//!
//! ```
//! use agents_core::prelude::*;
//! use agents_testing::{MockModel, Step, call};
//! use serde_json::json;
//!
//! /// The shop the agents work for: the run context.
//! struct Shop { refunds_allowed: bool }
//!
//! /// Look up an order by its id.
//! #[tool]
//! fn lookup_order(
//!     /// Order id, e.g. "A-1001".
//!     order_id: String,
//! ) -> String {
//!     format!("order {order_id} was charged twice")
//! }
//!
//! fn billing_instructions(ctx: &RunContext<Shop>) -> String {
//!     format!("Refunds allowed: {}", ctx.refunds_allowed)
//! }
//!
//! #[agent(context = Shop, instructions = billing_instructions)]
//! struct Billing;
//!
//! #[derive(Handoffs)]
//! enum Route {
//!     /// Refunds and double charges.
//!     Billing(Billing),
//! }
//!
//! #[agent(context = Shop, instructions = "Route the customer.", tools = [lookup_order], handoffs = Route)]
//! struct Triage;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Script the model: a tool call, a handoff, an answer. Typed: a misspelt
//! // tool or agent does not compile.
//! let model = MockModel::script([
//!     Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1001"}))]),
//!     Step::handoff::<Billing>(),
//!     Step::text("Refunded the duplicate charge on A-1001."),
//! ]);
//! let runner = Runner::new(model.clone());
//! let result = runner.run(&Triage, Shop { refunds_allowed: true }, "I was charged twice").await?;
//!
//! assert_eq!(result.final_output, "Refunded the duplicate charge on A-1001.");
//! assert_eq!(&*result.last_agent, "Billing");
//! model.assert_complete();
//! # Ok(()) }
//! ```
//!
//! Agents built at run time use [`Agent::builder`] instead of `#[agent]`,
//! and scripts name their tools and agents by string
//! (`agents_testing::call_named`, `Step::handoff_to`).
//!
//! ## Map of the crate
//!
//! Layers, bottom to top; a module names only modules of the layers below
//! it (a unit test, `layers_test.rs`, keeps this true):
//!
//! | layer | modules | what lives there |
//! |---|---|---|
//! | 0 | [`item`], [`usage`], [`schema`] | conversation items ([`Item`], shared by `Arc`), token usage, JSON schemas from Rust types and OpenAI's strict mode |
//! | 1 | [`model`] | the [`Model`] trait, requests with their [`ToolDefinition`]s, responses, streaming events, [`ModelSettings`] |
//! | 2 | `openai` (feature `openai`) | OpenAI and OpenAI-compatible models, beside `model` |
//! | 3 | [`context`] | [`RunContext`] (what tools, instructions, guardrails and hooks see of a run) and [`RunConfig`] |
//! | 4 | [`tool`](mod@tool), [`guardrail`], [`hooks`], [`session`] | what an agent is made of and what watches it: the [`Tool`] trait and [`FunctionTool`] (the [`#[tool]`](macro@tool) macro writes `Tool` impls), input/output/tool guardrails, lifecycle hooks, conversation history (memory, SQLite) |
//! | 5 | [`agent`](mod@agent) | [`Agent`], its builder, [`Handoff`]s, agent graphs; the [`#[agent]`](macro@agent) and [`#[derive(Handoffs)]`](derive@Handoffs) macros |
//! | 6 | [`run`] | [`Runner`], [`Run`], [`RunResult`], [`RunError`], streamed runs, resumable [`run::RunState`], the effect seam |
//! | 7 | [`runtime`], `temporal` (feature `temporal`) | what runs on top of runs: long-lived agents with handles and a registry; durable runs on Temporal (the loop as a workflow, its effects as activities) |
//!
//! The one place a lower layer needs a higher one, an agent used as a tool
//! starting a nested run, is closed by where the code sits: [`AgentTool`]
//! (layer 5) holds only data, and its `Tool` implementation is in the run
//! layer.
//!
//! ## How a run works
//!
//! The turn loop (`run/turn_loop.rs`) reads in one screen: build the request
//! → call the model → record its items → decide the next step (final
//! output, run again, handoff, needs approval, stop) → act on it. Each step
//! is a function in its own file under `run/`, and every way a run ends is
//! turned into a [`RunResult`] or [`RunError`] in one place.
//!
//! Everything observable a step does (agent started, turn started, model
//! call started and ended, tool started and ended, guardrail result,
//! handoff, run ended) is emitted once, as one internal event, and fanned
//! out to the hooks, the `tracing` spans and a streamed run's
//! [`run::RunEvent`]s. A new observer subscribes there; the loop does not
//! change.
//!
//! The loop touches the world only through [`run::Effects`]: model calls,
//! tool calls, the wall-clock timer, run ids, session reads and writes.
//! Given the same effect results it produces the same run, so an
//! implementation can journal each model and tool call (a durable engine)
//! or replay them (a test); [`run::InProcess`] is the default.
//!
//! Features: `macros` (on by default: re-exports the macros), `openai`
//! (OpenAI and OpenAI-compatible models over HTTPS), `rate-limit`, `mcp`
//! (tools from Model Context Protocol servers), `sqlite` (the embedded
//! session store), `postgres` (the PostgreSQL session store) and
//! `temporal` (durable runs on Temporal). The default build pulls none of
//! TLS, MCP, SQLite, PostgreSQL or Temporal.

pub mod agent;
pub mod context;
pub mod guardrail;
pub mod hooks;
pub mod item;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod model;
#[cfg(feature = "openai")]
pub mod openai;
pub mod policy;
pub mod run;
pub mod runtime;
pub mod schema;
pub mod session;
#[cfg(feature = "temporal")]
pub mod temporal;
pub mod tool;
pub mod usage;

pub use agent::{
    Agent, AgentBuilder, AgentDef, AgentError, AgentGraph, AgentTool, AsAgent, Handoff, Handoffs,
    ToolResult, ToolUseBehavior, handoff_tool_name, remove_tool_items,
};
pub use context::{Budget, RunConfig, RunContext, ToolErrorPolicy};
pub use item::{HandoffOutput, Item, RunItem, SharedToolOutput, ToolCall, ToolOutput};
pub use model::{Model, ModelError, ModelRequest, ModelResponse, ModelSettings, ToolChoice};
pub use run::{PartialRun, Run, RunError, RunInput, RunResult, Runner, ToolFailure};
pub use tool::{FunctionTool, Tool, ToolDefinition, ToolError, TypedArgs, TypedTool};
pub use usage::Usage;

#[cfg(feature = "macros")]
pub use agents_macros::{Handoffs, agent, tool};

/// The names most programs need: `use agents_core::prelude::*;`.
pub mod prelude {
    pub use crate::agent::{
        Agent, AgentBuilder, AgentDef, AsAgent, Handoff, Handoffs, ToolUseBehavior,
        remove_tool_items,
    };
    pub use crate::context::{RunConfig, RunContext, ToolErrorPolicy};
    pub use crate::item::Item;
    pub use crate::model::{Model, ModelSettings, ToolChoice};
    pub use crate::run::{RunError, RunResult, RunState, Runner};
    pub use crate::tool::{FunctionTool, Tool, ToolError};
    pub use crate::usage::Usage;
    #[cfg(feature = "macros")]
    pub use agents_macros::{Handoffs, agent, tool};
}

/// Paths the macros' generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
    pub use serde_json;

    pub use crate::tool::{
        ToolOutputResult, ToolOutputValue, ToolReturn, output_to_string, parse_arguments,
        parse_strict_arguments, result_to_string,
    };

    pub use crate::schema::schema_for_mode as tool_parameters;

    /// Asserts that a `#[tool]` function's future is `Send`.
    #[diagnostic::on_unimplemented(
        message = "the future returned by this tool function is not `Send`",
        label = "this tool's future is not `Send`",
        note = "the runner may move tool calls between threads: do not hold a non-`Send` value (`Rc`, `RefCell` borrow, `MutexGuard` of std) across an `.await`"
    )]
    pub trait SendToolFuture: core::future::Future + Send {}
    impl<F: core::future::Future + Send> SendToolFuture for F {}

    /// Runs a `#[tool(blocking)]` function on tokio's blocking pool; a
    /// panic in it resumes here, where the runner turns it into a tool
    /// error.
    pub async fn run_blocking_tool<F, T>(function: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match tokio::task::spawn_blocking(function).await {
            Ok(value) => value,
            Err(error) => match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only when the runtime shuts down under the run.
                Err(error) => std::panic::panic_any(format!("blocking tool stopped: {error}")),
            },
        }
    }

    pub use crate::agent::names::{
        HandoffName, HandoffNames, agent_name, handoff_name_is, handoff_names_equal, names_equal,
        tool_name,
    };

    /// An `instructions = f` function, checked with a clear error (an
    /// `async fn` needs `instructions = async f`).
    /// (Boxed once per agent: an opaque return type would repeat the
    /// error at the call.)
    #[allow(clippy::type_complexity)]
    pub fn sync_instructions<Ctx, F: crate::agent::SyncInstructions<Ctx>>(
        f: F,
    ) -> Box<dyn Fn(&crate::RunContext<Ctx>) -> String + Send + Sync + 'static> {
        Box::new(move |ctx| f.instructions(ctx))
    }

    /// `hooks = [x]`: `x` a function returning hooks (called), or a unit
    /// struct's value that is hooks itself. Method resolution on
    /// `(&&HooksSource::new(x)).hooks_value()` picks the function form
    /// first.
    pub struct HooksSource<T>(std::cell::Cell<Option<T>>);

    impl<T> HooksSource<T> {
        /// Wraps the key's value.
        pub fn new(value: T) -> Self {
            HooksSource(std::cell::Cell::new(Some(value)))
        }

        fn take(&self) -> T {
            self.0
                .take()
                .unwrap_or_else(|| unreachable!("a hooks source is read once"))
        }
    }

    /// The function form of [`HooksSource`].
    pub trait HooksFromFunction {
        /// The hooks.
        type Hooks;
        /// Calls the function.
        fn hooks_value(&self) -> Self::Hooks;
    }

    impl<F: FnOnce() -> H, H> HooksFromFunction for &HooksSource<F> {
        type Hooks = H;
        fn hooks_value(&self) -> H {
            (self.take())()
        }
    }

    /// The value form of [`HooksSource`].
    pub trait HooksFromValue {
        /// The hooks.
        type Hooks;
        /// The value.
        fn hooks_value(&self) -> Self::Hooks;
    }

    impl<H> HooksFromValue for HooksSource<H> {
        type Hooks = H;
        fn hooks_value(&self) -> H {
            self.take()
        }
    }

    /// Identity that checks [`SendToolFuture`].
    pub fn send_tool_future<F: SendToolFuture>(future: F) -> F {
        future
    }
}

#[cfg(test)]
mod layers_test;

/// The workspace README's Rust blocks, compiled and run as doc tests.
#[cfg(all(
    doctest,
    feature = "macros",
    feature = "openai",
    feature = "rate-limit",
    feature = "mcp"
))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
