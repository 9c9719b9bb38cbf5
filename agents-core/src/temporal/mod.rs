//! Durable runs on Temporal (feature `temporal`): runs that survive a
//! crash, a deploy or a wait of days for a person, and continue where
//! they stopped without calling the model or a tool again.
//!
//! ```no_run
//! use agents_core::prelude::*;
//! use agents_core::temporal::{DurableAgents, DurableClient, DurableWorker, StartRun};
//!
//! #[agent(instructions = "Answer briefly.")]
//! struct Helper;
//!
//! # async fn demo(model: impl agents_core::Model + 'static) -> Result<(), Box<dyn std::error::Error>> {
//! // A worker process: the agents, their runner, how to build a context.
//! let agents = DurableAgents::new(Runner::new(model), |_seed| ()).agent(&Helper::agent());
//! let mut worker = DurableWorker::connect("127.0.0.1:7233", "default", "agents", agents).await?;
//! # let _ = &mut worker;
//! // worker.run().await?;  (until shut down)
//!
//! // Any process: start a run, follow it, decide its approvals, read its result.
//! let client = DurableClient::connect("127.0.0.1:7233", "default", "agents").await?;
//! let run = client.start("run-42", StartRun::new("Helper", "Hello")).await?;
//! let answer: String = run.result().await?;
//! # Ok(()) }
//! ```
//!
//! ## How a run maps onto Temporal
//!
//! A durable run is a workflow (`agents.run`, its id the run's id) that
//! runs this crate's own turn loop, a [`Runner`](crate::Runner) run,
//! with its effects (the [`run::Effects`](crate::run::Effects) seam)
//! journaled:
//!
//! | in the loop | in Temporal | journaled payloads (JSON) |
//! |---|---|---|
//! | a model call | activity `agents.model_call` | the [`ModelRequest`](crate::ModelRequest), the [`ModelResponse`](crate::ModelResponse) |
//! | a tool call | activity `agents.tool_call` | a [`ToolCallInput`] (the call, its agent, turn, time limit), a [`ToolOutcome`] |
//! | the run's time limit | a durable timer | its duration |
//! | a pause for approval | a durable wait on the workflow's state | each [`Decision`], an update `agents.decide` |
//! | status, events | queries `agents.status`, `agents.events` | — |
//! | run id, state ids, the clock | the workflow id, counters, workflow time | — |
//!
//! Everything else the loop does (build requests, record items, decide
//! the next step, hand off, ask the policies for approvals) is computed
//! from those payloads, so after a crash a new worker replays the history
//! and reaches the same state without calling the model or any tool
//! again: only the call that was in flight when the worker died is made
//! again.
//!
//! ## Determinism rules
//!
//! The loop obeys them by construction; user code that runs in the loop
//! (not in an activity) must obey them too:
//!
//! - dynamic instructions, guardrails, hooks, policies and approval
//!   rules, handoff callbacks and input filters give the same answer for
//!   the same input: no clock, no randomness, no I/O (use a tool for I/O);
//! - the context factory ([`DurableAgents::new`]) builds the same context
//!   from the same [`ContextSeed`];
//! - a change to the agents (their tools, handoffs, instructions) or to
//!   the run configuration changes what the loop asks for: runs started
//!   before the change fail to replay ([`replay`] against a kept history
//!   tells before a deploy; the test suite keeps one).
//!
//! ## What a tool must do
//!
//! A tool call runs in an activity: at least once. It is retried only
//! when its activity failed (the worker died, or the call outlived its
//! time limit), up to [`DurableOptions::tool_attempts`]; a tool that
//! returns an error is an outcome (the model is told), never retried. A
//! tool with an effect that must happen once (a payment, an e-mail)
//! passes its call's [`CallKey::idempotency_key`] (`run_id/turn/call_id`,
//! the same on every attempt) to the system it calls; the context
//! factory receives it in [`ContextSeed::call`].
//!
//! Compared with the OpenAI Agents SDK's Temporal integration: the same
//! shape (the loop as the workflow, model calls as activities), with tool
//! calls as activities too, approvals as durable waits, and a replay of
//! a kept history as a test.

mod client;
mod engine;
mod journal;
mod types;
mod worker;
mod workflow;

pub use client::{DurableClient, DurableError, DurableRun};
pub use engine::{DurableAgents, DurableOptions};
pub use types::{
    CallKey, ContextSeed, Decision, DurableEvent, DurableOutcome, DurableStatus, StartRun,
    ToolCallInput, ToolOutcome,
};
pub use worker::{DurableWorker, replay};
pub use workflow::{AgentActivities, AgentWorkflow};
