use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::output::AnyOutput;
use super::{Agent, AgentCore};
use crate::item::Item;
use crate::tool::ToolDefinition;

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
            .field("target", &self.entry.target.name)
            .finish_non_exhaustive()
    }
}

impl<Ctx, Out: Send + 'static> Handoff<Ctx, Out> {
    /// A handoff to `target`. Its output type must convert into `Out`
    /// (`From`/`Into`; the identity when both are the same type).
    pub fn to<Target: Into<Out> + Send + 'static>(target: &Agent<Ctx, Target>) -> Self {
        let core = Arc::clone(&target.core);
        let description = match &core.handoff_description {
            Some(description) => {
                format!(
                    "Handoff to the {} agent to handle the request. {description}",
                    core.name
                )
            }
            None => format!("Handoff to the {} agent to handle the request.", core.name),
        };
        Handoff {
            entry: HandoffEntry {
                tool_name: handoff_tool_name(&core.name),
                description,
                target_output: target.output_type_id(),
                target: core,
                convert: vec![convert::<Target, Out>],
                input_filter: None,
            },
            _out: PhantomData,
        }
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

/// A handoff as an agent stores it.
pub(crate) struct HandoffEntry<Ctx> {
    pub(crate) tool_name: String,
    pub(crate) description: String,
    pub(crate) target: Arc<AgentCore<Ctx>>,
    pub(crate) target_output: TypeId,
    /// Target output → this agent's output, applied in order.
    pub(crate) convert: Vec<ConvertFn>,
    pub(crate) input_filter: Option<HandoffInputFilter>,
}

impl<Ctx> HandoffEntry<Ctx> {
    pub(crate) fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: self.tool_name.clone(),
            description: self.description.clone(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {},
                "required": [],
                "additionalProperties": false
            }),
            strict: true,
        }
    }
}
