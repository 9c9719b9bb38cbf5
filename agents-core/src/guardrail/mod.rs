//! Guardrails: checks that run beside the agents and can stop a run.
//!
//! - [`InputGuardrail`]: on the starting agent's input, in parallel with the
//!   first model call (default) or blocking before it.
//! - [`OutputGuardrail`]: on the final output, typed.
//! - [`ToolGuardrail`]: before a tool runs (on its call) or after (on its
//!   output): allow, reject with a message that becomes the tool output, or
//!   trip.
//!
//! A tripwire ends the run with a typed `RunError` (in `agents_core::run`) that
//! carries the guardrail's output and the partial run. A guardrail is an
//! async function of the run context, so it may run an agent of its own
//! (`RunContext::run_agent`, from the run layer).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::context::RunContext;
use crate::item::{Item, ToolCall};
use crate::model::BoxFuture;

/// What a guardrail concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailOutput {
    /// Whether the run must stop.
    pub tripwire_triggered: bool,
    /// Anything the guardrail wants to report (a reason, a score, a
    /// classifier agent's answer).
    pub info: serde_json::Value,
}

impl GuardrailOutput {
    /// The check passed.
    pub fn pass() -> Self {
        GuardrailOutput {
            tripwire_triggered: false,
            info: serde_json::Value::Null,
        }
    }

    /// The check failed: stop the run, reporting `info`.
    pub fn trip(info: impl Into<serde_json::Value>) -> Self {
        GuardrailOutput {
            tripwire_triggered: true,
            info: info.into(),
        }
    }
}

/// When an input guardrail runs relative to the first model call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuardrailMode {
    /// Concurrently with the first model call (lower latency); a trip
    /// discards the model's answer. Default, as in the OpenAI Agents SDK.
    #[default]
    Parallel,
    /// Before the first model call: a trip means the model is never called.
    Blocking,
}

type InputCheck<Ctx> = Arc<
    dyn for<'a> Fn(&'a RunContext<Ctx>, &'a [Arc<Item>]) -> BoxFuture<'a, GuardrailOutput>
        + Send
        + Sync,
>;

/// A check on the run's input, declared on the starting agent or on a run.
pub struct InputGuardrail<Ctx> {
    pub(crate) name: Arc<str>,
    pub(crate) mode: GuardrailMode,
    pub(crate) check: InputCheck<Ctx>,
}

impl<Ctx> Clone for InputGuardrail<Ctx> {
    fn clone(&self) -> Self {
        InputGuardrail {
            name: Arc::clone(&self.name),
            mode: self.mode,
            check: Arc::clone(&self.check),
        }
    }
}

impl<Ctx> fmt::Debug for InputGuardrail<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputGuardrail")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl<Ctx> InputGuardrail<Ctx> {
    /// A parallel input guardrail called `name` running `check`.
    ///
    /// ```
    /// use agents_core::guardrail::{GuardrailOutput, InputGuardrail};
    ///
    /// let no_homework = InputGuardrail::<()>::new("no_homework", |_ctx, input| {
    ///     Box::pin(async move {
    ///         let asks_homework = input.iter().any(|i| i.message_text().is_some_and(|t| t.contains("homework")));
    ///         if asks_homework { GuardrailOutput::trip("homework request") } else { GuardrailOutput::pass() }
    ///     })
    /// })
    /// .blocking();
    /// ```
    pub fn new(
        name: impl Into<String>,
        check: impl for<'a> Fn(&'a RunContext<Ctx>, &'a [Arc<Item>]) -> BoxFuture<'a, GuardrailOutput>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        InputGuardrail {
            name: Arc::from(name.into()),
            mode: GuardrailMode::Parallel,
            check: Arc::new(check),
        }
    }

    /// Runs before the first model call instead of beside it.
    pub fn blocking(mut self) -> Self {
        self.mode = GuardrailMode::Blocking;
        self
    }

    /// The guardrail's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

type OutputCheck<Ctx, Out> = Arc<
    dyn for<'a> Fn(&'a RunContext<Ctx>, &'a Out) -> BoxFuture<'a, GuardrailOutput> + Send + Sync,
>;

/// A check on the final output of type `Out`, declared on an agent (its own
/// output, when it answers last) or on a run (the run's output).
pub struct OutputGuardrail<Ctx, Out> {
    pub(crate) name: Arc<str>,
    pub(crate) check: OutputCheck<Ctx, Out>,
}

impl<Ctx, Out> Clone for OutputGuardrail<Ctx, Out> {
    fn clone(&self) -> Self {
        OutputGuardrail {
            name: Arc::clone(&self.name),
            check: Arc::clone(&self.check),
        }
    }
}

impl<Ctx, Out> fmt::Debug for OutputGuardrail<Ctx, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputGuardrail")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<Ctx, Out> OutputGuardrail<Ctx, Out> {
    /// An output guardrail called `name` running `check`.
    pub fn new(
        name: impl Into<String>,
        check: impl for<'a> Fn(&'a RunContext<Ctx>, &'a Out) -> BoxFuture<'a, GuardrailOutput>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        OutputGuardrail {
            name: Arc::from(name.into()),
            check: Arc::new(check),
        }
    }

    /// The guardrail's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a tool guardrail decided.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolGuardrailDecision {
    /// Go on.
    Allow,
    /// Do not run the tool (input guardrail) or do not show its output
    /// (output guardrail); the model receives this message as the tool
    /// output instead.
    Reject(String),
    /// Stop the run.
    Trip(serde_json::Value),
}

type ToolInputCheck<Ctx> = Arc<
    dyn for<'a> Fn(&'a RunContext<Ctx>, &'a ToolCall) -> BoxFuture<'a, ToolGuardrailDecision>
        + Send
        + Sync,
>;
type ToolOutputCheck<Ctx> = Arc<
    dyn for<'a> Fn(
            &'a RunContext<Ctx>,
            &'a ToolCall,
            &'a str,
        ) -> BoxFuture<'a, ToolGuardrailDecision>
        + Send
        + Sync,
>;

pub(crate) enum ToolCheck<Ctx> {
    Input(ToolInputCheck<Ctx>),
    Output(ToolOutputCheck<Ctx>),
}

/// A check on tool calls (before the tool runs) or tool outputs (before the
/// model sees them), declared on an agent or on a run.
pub struct ToolGuardrail<Ctx> {
    pub(crate) name: Arc<str>,
    pub(crate) check: ToolCheck<Ctx>,
}

impl<Ctx> Clone for ToolGuardrail<Ctx> {
    fn clone(&self) -> Self {
        ToolGuardrail {
            name: Arc::clone(&self.name),
            check: match &self.check {
                ToolCheck::Input(f) => ToolCheck::Input(Arc::clone(f)),
                ToolCheck::Output(f) => ToolCheck::Output(Arc::clone(f)),
            },
        }
    }
}

impl<Ctx> fmt::Debug for ToolGuardrail<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.check {
            ToolCheck::Input(_) => "input",
            ToolCheck::Output(_) => "output",
        };
        f.debug_struct("ToolGuardrail")
            .field("name", &self.name)
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl<Ctx> ToolGuardrail<Ctx> {
    /// A guardrail on tool calls, run before the tool.
    pub fn input(
        name: impl Into<String>,
        check: impl for<'a> Fn(
            &'a RunContext<Ctx>,
            &'a ToolCall,
        ) -> BoxFuture<'a, ToolGuardrailDecision>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        ToolGuardrail {
            name: Arc::from(name.into()),
            check: ToolCheck::Input(Arc::new(check)),
        }
    }

    /// A guardrail on tool outputs, run before the model sees them.
    pub fn output(
        name: impl Into<String>,
        check: impl for<'a> Fn(
            &'a RunContext<Ctx>,
            &'a ToolCall,
            &'a str,
        ) -> BoxFuture<'a, ToolGuardrailDecision>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        ToolGuardrail {
            name: Arc::from(name.into()),
            check: ToolCheck::Output(Arc::new(check)),
        }
    }

    /// The guardrail's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
