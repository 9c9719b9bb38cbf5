use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::checks::{HandoffContext, HandoffOutput};
use super::output::AnyOutput;
use super::{Agent, AgentCore, AgentDef};
use crate::context::RunContext;
use crate::item::Item;
use crate::tool::{ToolDefinition, parse_arguments, parse_strict_arguments};

/// Rewrites the conversation history the next agent receives on a handoff.
pub type HandoffInputFilter = Arc<dyn Fn(Vec<Arc<Item>>) -> Vec<Arc<Item>> + Send + Sync>;

/// Converts the target agent's output into the source agent's output type.
pub(crate) type ConvertFn = fn(AnyOutput) -> Result<AnyOutput, AnyOutput>;

/// The name of the tool that hands off to `agent_name`:
/// `transfer_to_<snake_case_name>` (the OpenAI Agents SDK's convention).
///
/// ```
/// assert_eq!(agents_core::handoff_tool_name("Billing Desk"), "transfer_to_billing_desk");
/// assert_eq!(agents_core::handoff_tool_name("ShippingAgent"), "transfer_to_shipping_agent");
/// ```
pub fn handoff_tool_name(agent_name: &str) -> String {
    let mut out = String::from("transfer_to_");
    let mut prev: Option<char> = None;
    for c in agent_name.chars() {
        if c.is_ascii_alphanumeric() {
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
        prev = Some(c);
    }
    while out.ends_with('_') && out.len() > "transfer_to_".len() {
        out.pop();
    }
    out
}

fn default_description(name: &str, handoff_description: Option<&str>) -> String {
    match handoff_description {
        Some(description) => {
            format!("Handoff to the {name} agent to handle the request. {description}")
        }
        None => format!("Handoff to the {name} agent to handle the request."),
    }
}

/// The handoffs a `#[derive(Handoffs)]` enum declares: one per variant, each
/// to the agent type the variant wraps.
///
/// Implemented for an agent whose context is `Ctx` and whose output type is
/// `Out` only when every target agent has context `Ctx` and an output type
/// that converts into `Out`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the handoffs of an agent with context `{Ctx}` and output `{Out}`",
    label = "not `Handoffs<{Ctx}, {Out}>`",
    note = "every variant must wrap an agent whose context is `{Ctx}` and whose output converts into `{Out}` (`Into`); declare the enum with `#[derive(Handoffs)]`"
)]
pub trait Handoffs<Ctx, Out> {
    /// The handoffs, in variant order.
    fn handoffs() -> Vec<Handoff<Ctx, Out>>;
}

/// A history filter that removes tool calls, tool outputs, handoff calls and
/// handoff outputs, keeping messages and reasoning. Use with
/// [`Handoff::input_filter`] when the next agent should see the conversation
/// but not the previous agent's tool traffic.
pub fn remove_tool_items(items: Vec<Arc<Item>>) -> Vec<Arc<Item>> {
    items
        .into_iter()
        .filter(|item| {
            !matches!(
                **item,
                Item::ToolCall(_)
                    | Item::ToolOutput(_)
                    | Item::HandoffCall(_)
                    | Item::HandoffOutput(_)
            )
        })
        .collect()
}

/// A handoff from an agent with output `Out` to another agent of the same
/// context type whose output converts into `Out`.
///
/// ```
/// use agents_core::prelude::*;
///
/// let billing: Agent<()> = Agent::builder("Billing").build()?;
/// let triage: Agent<()> = Agent::builder("Triage")
///     .handoff(Handoff::to(&billing).input_filter(remove_tool_items))
///     .build()?;
/// assert_eq!(triage.tool_definitions()[0].name, "transfer_to_billing");
/// # Ok::<(), agents_core::AgentError>(())
/// ```
pub struct Handoff<Ctx, Out> {
    pub(crate) entry: HandoffEntry<Ctx>,
    _out: PhantomData<fn() -> Out>,
}

impl<Ctx, Out> fmt::Debug for Handoff<Ctx, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff")
            .field("tool_name", &self.entry.tool_name)
            .field("target", &self.entry.target_name)
            .finish_non_exhaustive()
    }
}

impl<Ctx, Out: Send + 'static> Handoff<Ctx, Out> {
    /// A handoff to `target`. Its output type must convert into `Out`
    /// (`From`/`Into`; the identity when both are the same type).
    pub fn to<Target: Into<Out> + Send + 'static>(target: &Agent<Ctx, Target>) -> Self {
        let core = Arc::clone(&target.core);
        Handoff {
            entry: HandoffEntry {
                tool_name: handoff_tool_name(&core.name),
                description: default_description(&core.name, core.handoff_description.as_deref()),
                target_name: Arc::clone(&core.name),
                target_output: target.output_type_id(),
                target: HandoffTarget::Ready(core),
                parameters: None,
                on_handoff: None,
                convert: vec![convert::<Target, Out>],
                input_filter: None,
                enabled: None,
            },
            _out: PhantomData,
        }
    }

    /// A handoff to the agent declared by the type `A` (`#[agent]`), built on
    /// first use, so agent graphs may have cycles.
    pub fn to_def<A>() -> Self
    where
        A: HandoffContext<Ctx> + HandoffOutput<Out>,
        Ctx: Send + Sync + 'static,
    {
        Handoff {
            entry: HandoffEntry {
                tool_name: handoff_tool_name(A::NAME),
                description: default_description(A::NAME, A::HANDOFF_DESCRIPTION),
                target_name: Arc::from(A::NAME),
                target_output: TypeId::of::<A::Output>(),
                target: HandoffTarget::Lazy(|| A::agent().core),
                parameters: None,
                on_handoff: None,
                convert: vec![convert_target::<A, Out>],
                input_filter: None,
                enabled: None,
            },
            _out: PhantomData,
        }
    }

    /// Runs `f` when the model takes this handoff, before the next agent
    /// starts.
    pub fn on_handoff(mut self, f: impl Fn(&RunContext<Ctx>) + Send + Sync + 'static) -> Self {
        self.entry.on_handoff = Some(Arc::new(move |ctx, _arguments| {
            f(ctx);
            Ok(())
        }));
        self
    }

    /// The model passes an input of type `T` with the handoff (its JSON
    /// schema becomes the handoff tool's parameters, strict when possible),
    /// and `f` receives it parsed. Input that does not parse refuses the
    /// handoff with an error output naming the field, so the model can retry.
    pub fn on_handoff_with_input<T>(
        mut self,
        f: impl Fn(&RunContext<Ctx>, T) + Send + Sync + 'static,
    ) -> Self
    where
        T: DeserializeOwned + JsonSchema + 'static,
    {
        let (parameters, strict) = crate::schema::schema_for_mode::<T>(true);
        self.entry.parameters = Some((parameters, strict));
        self.entry.on_handoff = Some(Arc::new(move |ctx, arguments| {
            let parsed = if strict {
                parse_strict_arguments::<T>(arguments)
            } else {
                parse_arguments::<T>(arguments)
            };
            let input = parsed.map_err(|error| error.to_string())?;
            f(ctx, input);
            Ok(())
        }));
        self
    }

    /// Replaces the tool name the model calls (default
    /// `transfer_to_<snake_case_name>`).
    pub fn tool_name(mut self, name: impl Into<String>) -> Self {
        self.entry.tool_name = name.into();
        self
    }

    /// Replaces the tool description the model sees.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.entry.description = description.into();
        self
    }

    /// Offers the handoff only on turns where `predicate` holds for the run
    /// context (evaluated before each model call): the model does not see
    /// it otherwise, and a call to it anyway is an unknown-tool error
    /// output. The OpenAI Agents SDK's `is_enabled`.
    pub fn enabled_when(
        mut self,
        predicate: impl Fn(&RunContext<Ctx>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.entry.enabled = Some(Arc::new(predicate));
        self
    }

    /// Rewrites the history the target agent receives, e.g.
    /// [`remove_tool_items`]. The run's items keep everything; only what the
    /// next model call sees changes.
    pub fn input_filter(
        mut self,
        filter: impl Fn(Vec<Arc<Item>>) -> Vec<Arc<Item>> + Send + Sync + 'static,
    ) -> Self {
        self.entry.input_filter = Some(Arc::new(filter));
        self
    }
}

impl<Ctx, Out: Send + 'static, Target: Into<Out> + Send + 'static> From<&Agent<Ctx, Target>>
    for Handoff<Ctx, Out>
{
    fn from(target: &Agent<Ctx, Target>) -> Self {
        Handoff::to(target)
    }
}

pub(crate) fn convert<From: Into<To> + Send + 'static, To: Send + 'static>(
    value: AnyOutput,
) -> Result<AnyOutput, AnyOutput> {
    let value = value.downcast::<From>()?;
    Ok(Box::new((*value).into()))
}

/// [`convert`] for the output of the agent type `A`.
fn convert_target<A: HandoffOutput<To>, To: Send + 'static>(
    value: AnyOutput,
) -> Result<AnyOutput, AnyOutput> {
    let value = value.downcast::<A::Output>()?;
    Ok(Box::new(A::into_handoff_output(*value)))
}

/// Where a handoff leads: an agent built already, or one built on first
/// use (agents declared with `#[agent]`, whose graphs may have cycles).
pub(crate) enum HandoffTarget<Ctx> {
    Ready(Arc<AgentCore<Ctx>>),
    Lazy(fn() -> Arc<AgentCore<Ctx>>),
}

impl<Ctx> Clone for HandoffTarget<Ctx> {
    fn clone(&self) -> Self {
        match self {
            HandoffTarget::Ready(core) => HandoffTarget::Ready(Arc::clone(core)),
            HandoffTarget::Lazy(make) => HandoffTarget::Lazy(*make),
        }
    }
}

impl<Ctx> HandoffTarget<Ctx> {
    pub(crate) fn resolve(&self) -> Arc<AgentCore<Ctx>> {
        match self {
            HandoffTarget::Ready(core) => Arc::clone(core),
            HandoffTarget::Lazy(build) => build(),
        }
    }
}

/// Runs when a handoff is taken, with the raw JSON arguments of the handoff
/// call; an `Err` refuses the handoff and goes to the model.
pub(crate) type OnHandoffFn<Ctx> =
    Arc<dyn Fn(&RunContext<Ctx>, &str) -> Result<(), String> + Send + Sync>;

/// Decides from the run context whether a handoff is offered on a turn.
pub(crate) type EnabledFn<Ctx> = Arc<dyn Fn(&RunContext<Ctx>) -> bool + Send + Sync>;

/// A handoff as an agent stores it.
pub(crate) struct HandoffEntry<Ctx> {
    pub(crate) tool_name: String,
    pub(crate) description: String,
    pub(crate) target_name: Arc<str>,
    pub(crate) target: HandoffTarget<Ctx>,
    pub(crate) target_output: TypeId,
    /// JSON schema of the handoff input and whether it is strict, when the
    /// handoff takes an input.
    pub(crate) parameters: Option<(serde_json::Value, bool)>,
    pub(crate) on_handoff: Option<OnHandoffFn<Ctx>>,
    /// Target output → this agent's output, applied in order.
    pub(crate) convert: Vec<ConvertFn>,
    pub(crate) input_filter: Option<HandoffInputFilter>,
    /// Whether the handoff is offered on a turn; `None`: always.
    pub(crate) enabled: Option<EnabledFn<Ctx>>,
}

impl<Ctx> Clone for HandoffEntry<Ctx> {
    fn clone(&self) -> Self {
        HandoffEntry {
            tool_name: self.tool_name.clone(),
            description: self.description.clone(),
            target_name: Arc::clone(&self.target_name),
            target: self.target.clone(),
            target_output: self.target_output,
            parameters: self.parameters.clone(),
            on_handoff: self.on_handoff.clone(),
            convert: self.convert.clone(),
            input_filter: self.input_filter.clone(),
            enabled: self.enabled.clone(),
        }
    }
}

impl<Ctx> HandoffEntry<Ctx> {
    /// Whether the handoff is offered on this turn.
    pub(crate) fn is_enabled(&self, ctx: &RunContext<Ctx>) -> bool {
        self.enabled.as_ref().is_none_or(|enabled| enabled(ctx))
    }

    pub(crate) fn definition(&self) -> ToolDefinition {
        let (parameters, strict) = match &self.parameters {
            Some((parameters, strict)) => (parameters.clone(), *strict),
            None => (
                serde_json::json!({
                    "type": "object",
                    "properties": {},
                    "required": [],
                    "additionalProperties": false
                }),
                true,
            ),
        };
        ToolDefinition {
            name: self.tool_name.clone(),
            description: self.description.clone(),
            parameters,
            strict,
        }
    }
}

/// The handoff of a `#[derive(Handoffs)]` enum to the agent type `A`:
/// what a typed test step needs to call it as the model would. Implemented
/// by the derive for every agent the enum hands off to exactly once
/// (`Step::handoff_via::<Route, Billing>()` in `agents-testing`: a
/// compile error when `Route` does not hand off to `Billing`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not hand off to `{A}`",
    label = "no variant of `{Self}` wraps `{A}`",
    note = "add a variant `{A}({A})` to the `#[derive(Handoffs)]` enum, or script the handoff of the enum that has it"
)]
pub trait HandoffTo<A: AgentDef> {
    /// What the model passes: [`NoInput`], or the variant's
    /// `#[handoff(input = T)]` type.
    type Input;

    /// The handoff's tool name: its `#[handoff(tool_name = "...")]`, or
    /// [`handoff_tool_name`] of the agent's name.
    fn tool_name() -> String;
}

/// The input of a handoff that takes none: the model sends `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct NoInput {}
