//! Running agents: the [`Runner`], the [`Run`] it starts, and what a run
//! returns.
//!
//! # How a run is built
//!
//! A run is a loop of turns (`turn_loop.rs`); one turn is one model call.
//! Inside a turn the order is fixed: build the request → call the model →
//! record its items → resolve a handoff (the first handoff call wins, later
//! ones get an error output) → run the tool calls concurrently, recording
//! their outputs in call order → decide the next step: the final output
//! (when the model answered without tool calls), another turn, a handoff, a
//! pause for approval, or a stop. Limits (turns, wall-clock, per model call,
//! per tool) always apply. Policies decide each call first (`policing.rs`);
//! one function tool call, from its approval to its output guardrails, is
//! `tool_call.rs`.
//!
//! Each step is a function in a file of its own; the loop reads them top to
//! bottom in one screen. How a run ends (a result, or an error carrying the
//! partial run) is decided in one place, `ending.rs`.
//!
//! Everything observable a step does is emitted once, as one internal event,
//! to a fan-out that feeds the hooks, the `tracing` spans and the events of a
//! streamed run (`events.rs`; a streamed model call's deltas, `deltas.rs`;
//! a started run's subscribers read them from `fanout/`).
//! Everything a step does to the world (model calls, tool calls, the
//! wall-clock timer, run ids and state ids, the time, session reads and
//! writes) goes through the [`Effects`] seam, so the loop is deterministic
//! given the effects' results and can run as a durable workflow.

mod blocking;
mod budget;
mod builder;
mod calls;
mod checkpoint;
mod control;
mod deltas;
mod drive;
pub mod effects;
mod ending;
mod error;
mod events;
mod execute;
mod fanout;
mod finalize;
mod handle;
mod handoff;
mod input;
mod live;
mod model_call;
mod nested;
mod policing;
mod request;
mod result;
mod runner;
mod seal;
mod setup;
mod start;
mod state;
mod stream;
mod tool_call;
mod tools;
mod trace;
mod turn_loop;

/// Re-exported from [`context`](crate::context), the layer below tools and
/// agents where they live.
pub use crate::context::{Metadata, RunConfig, RunContext, ToolErrorPolicy};
pub use builder::Run;
pub use control::RunStatus;
pub use deltas::DeltaSink;
pub use effects::{Effects, InProcess, ModelCall, SessionHistory, ToolInvocation};
pub use ending::{FallbackOutput, MaxTurnsFallback};
pub use error::{InvalidStateKind, RunError, ToolFailure};
pub use fanout::{RecvError, RunEvents, TryRecvError};
pub use handle::{ControlError, EVENT_BUFFER, RunControls, RunHandle};
pub use input::RunInput;
pub use nested::{NestedResult, NestedRunError};
pub use result::{GuardrailKind, GuardrailResult, PartialRun, RunResult, ToleratedFailure};
pub use runner::Runner;
pub use seal::{StateKey, StateKeyError};
pub use state::{
    ApprovalDecision, ApprovalError, PendingApproval, RUN_STATE_SCHEMA_VERSION, RunState,
};
pub use stream::{RunEvent, RunStream};
/// Cancels a run from another task; see [`Run::cancellation_token`].
pub use tokio_util::sync::CancellationToken;
#[cfg(feature = "temporal")]
pub(crate) use tools::run_tool_call;
