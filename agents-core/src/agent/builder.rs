use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::handoff::{HandoffEntry, convert};
use super::output::OutputSpec;
use super::{
    Agent, AgentCore, AgentError, ErasedOutputGuardrail, Handoff, Handoffs, Instructions,
    ToolResult, ToolUseBehavior, ToolUseFn,
};
use crate::context::RunContext;
use crate::guardrail::{GuardrailOutput, InputGuardrail, OutputGuardrail, ToolGuardrail};
use crate::hooks::{DynRunHooks, RunHooks};
use crate::model::{BoxFuture, ModelSettings, ToolChoice};
use crate::policy::{Policy, SharedPolicy};
use crate::tool::{DynTool, OutputFilter, SharedOutputFilter, Tool};

/// Guardrails and hooks being added to an agent.
struct Guards<Ctx> {
    input: Vec<InputGuardrail<Ctx>>,
    output: Vec<ErasedOutputGuardrail<Ctx>>,
    tool: Vec<ToolGuardrail<Ctx>>,
    hooks: Vec<Arc<dyn DynRunHooks<Ctx>>>,
    filters: Vec<(Option<String>, SharedOutputFilter)>,
    policies: Vec<SharedPolicy<Ctx>>,
    tool_use_fn: Option<ToolUseFn<Ctx>>,
}

/// Builds an [`Agent`]. Created by [`Agent::builder`].
///
/// ```
/// use agents_core::prelude::*;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Receipt { order_id: String, refunded_cents: u32 }
///
/// struct Shop { currency: &'static str }
///
/// let billing = Agent::<Shop>::builder("Billing")
///     .instructions_fn(|ctx: &RunContext<Shop>| format!("Amounts are in {}.", ctx.currency))
///     .handoff_description("Refunds and invoices.")
///     .output_type::<Receipt>()
///     .model_settings(ModelSettings::new().temperature(0.2))
///     .build()?;
/// assert!(billing.output_schema().is_some());
/// # Ok::<(), agents_core::AgentError>(())
/// ```
pub struct AgentBuilder<Ctx, Out> {
    name: String,
    handoff_description: Option<String>,
    instructions: Instructions<Ctx>,
    tools: Vec<Arc<dyn DynTool<Ctx>>>,
    handoffs: Vec<HandoffEntry<Ctx>>,
    output: OutputSpec,
    model: Option<Arc<str>>,
    model_settings: ModelSettings,
    tool_use_behavior: ToolUseBehavior,
    reset_tool_choice: bool,
    max_concurrent_tool_calls: Option<usize>,
    guards: Guards<Ctx>,
    errors: Vec<AgentError>,
    _out: PhantomData<fn() -> Out>,
}

impl<Ctx, Out> fmt::Debug for AgentBuilder<Ctx, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<Ctx: Send + Sync + 'static> AgentBuilder<Ctx, String> {
    pub(super) fn new(name: String) -> Self {
        AgentBuilder {
            name,
            handoff_description: None,
            instructions: Instructions::None,
            tools: Vec::new(),
            handoffs: Vec::new(),
            output: OutputSpec::text(),
            model: None,
            model_settings: ModelSettings::default(),
            tool_use_behavior: ToolUseBehavior::default(),
            reset_tool_choice: true,
            max_concurrent_tool_calls: None,
            guards: Guards {
                input: Vec::new(),
                output: Vec::new(),
                tool: Vec::new(),
                hooks: Vec::new(),
                filters: Vec::new(),
                policies: Vec::new(),
                tool_use_fn: None,
            },
            errors: Vec::new(),
            _out: PhantomData,
        }
    }
}

impl<Ctx: Send + Sync + 'static, Out: Send + 'static> AgentBuilder<Ctx, Out> {
    /// Fixed instructions (the system/developer message).
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Instructions::Static(Arc::from(instructions.into()));
        self
    }

    /// Instructions computed from the run context before each model call.
    pub fn instructions_fn(
        mut self,
        f: impl Fn(&RunContext<Ctx>) -> String + Send + Sync + 'static,
    ) -> Self {
        self.instructions = Instructions::Dynamic(Arc::new(move |ctx| {
            let text = f(ctx);
            Box::pin(async move { text })
        }));
        self
    }

    /// Instructions computed asynchronously from the run context before each
    /// model call.
    pub fn instructions_async(
        mut self,
        f: impl for<'a> Fn(&'a RunContext<Ctx>) -> BoxFuture<'a, String> + Send + Sync + 'static,
    ) -> Self {
        self.instructions = Instructions::Dynamic(Arc::new(f));
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: impl Tool<Ctx>) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds every tool of `tools` (e.g. an MCP server's,
    /// `server.tools().await?`).
    pub fn tools<T: Tool<Ctx>>(mut self, tools: impl IntoIterator<Item = T>) -> Self {
        for tool in tools {
            self.tools.push(Arc::new(tool));
        }
        self
    }

    /// Adds an already shared tool.
    pub fn tool_arc(mut self, tool: Arc<dyn DynTool<Ctx>>) -> Self {
        self.tools.push(tool);
        self
    }

    /// Adds a handoff: an `&Agent` whose output converts into `Out`, or a
    /// configured [`Handoff`].
    pub fn handoff(mut self, handoff: impl Into<Handoff<Ctx, Out>>) -> Self {
        self.handoffs.push(handoff.into().entry);
        self
    }

    /// Adds every handoff of a `#[derive(Handoffs)]` enum.
    pub fn handoffs<H: Handoffs<Ctx, Out>>(mut self) -> Self {
        self.handoffs
            .extend(H::handoffs().into_iter().map(|h| h.entry));
        self
    }

    /// Adds an input guardrail, checked when this agent starts a run.
    pub fn input_guardrail(mut self, guardrail: InputGuardrail<Ctx>) -> Self {
        self.guards.input.push(guardrail);
        self
    }

    /// Adds an output guardrail, checked on this agent's output when it
    /// answers last.
    pub fn output_guardrail(mut self, guardrail: OutputGuardrail<Ctx, Out>) -> Self {
        let stage = self.output.conversions.len();
        let check = Arc::clone(&guardrail.check);
        self.guards.output.push(ErasedOutputGuardrail {
            name: Arc::clone(&guardrail.name),
            stage,
            check: Arc::new(move |ctx, value| match value.downcast_ref::<Out>() {
                Some(output) => check(ctx, output),
                None => Box::pin(std::future::ready(GuardrailOutput::pass())),
            }),
        });
        self
    }

    /// Adds a tool guardrail, checked on this agent's tool calls or outputs.
    pub fn tool_guardrail(mut self, guardrail: ToolGuardrail<Ctx>) -> Self {
        self.guards.tool.push(guardrail);
        self
    }

    /// Filters the output of every tool of this agent (see
    /// [`OutputFilter`]); after the tool's own filters.
    pub fn output_filter(mut self, filter: impl OutputFilter + 'static) -> Self {
        self.guards.filters.push((None, Arc::new(filter)));
        self
    }

    /// Filters the output of this agent's tool `tool` (see
    /// [`OutputFilter`]). [`build`](Self::build) fails with
    /// [`AgentError::FilterForUnknownTool`] if the agent has no such tool.
    pub fn tool_output_filter(
        mut self,
        tool: impl Into<String>,
        filter: impl OutputFilter + 'static,
    ) -> Self {
        self.guards
            .filters
            .push((Some(tool.into()), Arc::new(filter)));
        self
    }

    /// Adds a policy on this agent's tool calls and model calls (see
    /// [`crate::policy`]); asked after the runner's, before the run's.
    pub fn policy(mut self, policy: impl Policy<Ctx> + 'static) -> Self {
        self.guards.policies.push(Arc::new(policy));
        self
    }

    /// Adds hooks called on this agent's events.
    pub fn hooks(mut self, hooks: impl RunHooks<Ctx>) -> Self {
        self.guards.hooks.push(Arc::new(hooks));
        self
    }

    /// The description other agents' models see for a handoff to this agent.
    pub fn handoff_description(mut self, description: impl Into<String>) -> Self {
        self.handoff_description = Some(description.into());
        self
    }

    /// The model this agent asks for (e.g. `"gpt-4o-mini"`); without it the
    /// model client's default is used.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(Arc::from(model.into()));
        self
    }

    /// Model settings for this agent's calls; a run's settings override them
    /// field by field.
    pub fn model_settings(mut self, settings: ModelSettings) -> Self {
        self.model_settings = settings;
        self
    }

    /// Whether a forced tool choice ([`ToolChoice::Required`] or a named
    /// tool) is dropped for this agent's model calls once it has run tools
    /// in the run, so the model can answer (default `true`: forcing a tool
    /// on every call would loop until the turn limit). The OpenAI Agents
    /// SDK's `reset_tool_choice`.
    ///
    /// [`ToolChoice::Required`]: crate::model::ToolChoice::Required
    pub fn reset_tool_choice(mut self, reset: bool) -> Self {
        self.reset_tool_choice = reset;
        self
    }

    /// How many of this agent's tool calls of one response run at once (the
    /// lower of this and the run's
    /// [`max_concurrent_tool_calls`](crate::RunConfig::max_concurrent_tool_calls));
    /// the others wait, outputs still in call order. `0` counts as 1.
    pub fn max_concurrent_tool_calls(mut self, calls: usize) -> Self {
        self.max_concurrent_tool_calls = Some(calls);
        self
    }

    /// Decides after each turn with tool calls, from the context and the
    /// turn's results in call order, whether they are the final output:
    /// `Some(text)` ends the run with `text` as the final output (parsed as
    /// the output type), `None` calls the model again. Replaces
    /// [`tool_use_behavior`](Self::tool_use_behavior). The OpenAI Agents
    /// SDK's `tool_use_behavior` given a function.
    pub fn tool_use_behavior_fn(
        mut self,
        decide: impl Fn(&RunContext<Ctx>, &[ToolResult<'_>]) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.guards.tool_use_fn = Some(Arc::new(decide));
        self
    }

    /// What happens after tools ran; default [`ToolUseBehavior::RunLlmAgain`].
    pub fn tool_use_behavior(mut self, behavior: ToolUseBehavior) -> Self {
        self.tool_use_behavior = behavior;
        self
    }

    /// Structured output: the model answers with JSON following `T`'s schema
    /// and the final output is parsed into `T`. `String` means plain text.
    ///
    /// Call it before adding handoffs: a handoff's output conversion is
    /// checked against the output type in force when it was added, and
    /// [`build`](Self::build) fails with
    /// [`AgentError::HandoffBeforeOutputType`] otherwise.
    pub fn output_type<T: DeserializeOwned + JsonSchema + Send + 'static>(
        self,
    ) -> AgentBuilder<Ctx, T> {
        let mut errors = self.errors;
        for guardrail in &self.guards.output {
            errors.push(AgentError::GuardrailBeforeOutputType {
                agent: self.name.clone(),
                guardrail: guardrail.name.to_string(),
            });
        }
        let mut handoffs = self.handoffs;
        for handoff in &mut handoffs {
            if handoff.target_output == TypeId::of::<T>() {
                handoff.convert.clear();
            } else {
                errors.push(AgentError::HandoffBeforeOutputType {
                    agent: self.name.clone(),
                    target: handoff.target_name.to_string(),
                });
            }
        }
        AgentBuilder {
            name: self.name,
            handoff_description: self.handoff_description,
            instructions: self.instructions,
            tools: self.tools,
            handoffs,
            output: OutputSpec::structured::<T>(),
            model: self.model,
            model_settings: self.model_settings,
            tool_use_behavior: self.tool_use_behavior,
            reset_tool_choice: self.reset_tool_choice,
            max_concurrent_tool_calls: self.max_concurrent_tool_calls,
            guards: self.guards,
            errors,
            _out: PhantomData,
        }
    }

    /// Converts the agent's final output into `O2` with `Into`, so it can be
    /// the target of a handoff from an agent whose output type is `O2` (for
    /// example a text agent in a desk whose reply type is an enum with
    /// `From<String>`). The model still answers in the agent's own output
    /// type; handoffs added earlier are converted too.
    pub fn convert_output<O2: Send + 'static>(self) -> AgentBuilder<Ctx, O2>
    where
        Out: Into<O2>,
    {
        let mut handoffs = self.handoffs;
        for handoff in &mut handoffs {
            handoff.convert.push(convert::<Out, O2>);
        }
        let mut output = self.output;
        output.conversions.push(convert::<Out, O2>);
        output.out_type_id = TypeId::of::<O2>();
        AgentBuilder {
            name: self.name,
            handoff_description: self.handoff_description,
            instructions: self.instructions,
            tools: self.tools,
            handoffs,
            output,
            model: self.model,
            model_settings: self.model_settings,
            tool_use_behavior: self.tool_use_behavior,
            reset_tool_choice: self.reset_tool_choice,
            max_concurrent_tool_calls: self.max_concurrent_tool_calls,
            guards: self.guards,
            errors: self.errors,
            _out: PhantomData,
        }
    }

    /// The agent.
    ///
    /// # Errors
    /// [`AgentError::EmptyName`], [`AgentError::DuplicateToolName`] when two
    /// tools or handoffs share a name, [`AgentError::HandoffBeforeOutputType`].
    pub fn build(mut self) -> Result<Agent<Ctx, Out>, AgentError> {
        if self.name.trim().is_empty() {
            return Err(AgentError::EmptyName);
        }
        if !self.errors.is_empty() {
            return Err(self.errors.swap_remove(0));
        }
        let mut definitions: Vec<_> = self.tools.iter().map(|t| t.dyn_definition()).collect();
        definitions.extend(self.handoffs.iter().map(HandoffEntry::definition));
        for (i, definition) in definitions.iter().enumerate() {
            if definitions[..i].iter().any(|d| d.name == definition.name) {
                return Err(AgentError::DuplicateToolName {
                    agent: self.name,
                    name: definition.name.clone(),
                });
            }
        }
        let known = |name: &str| definitions.iter().any(|d| d.name == name);
        let forced = match &self.model_settings.tool_choice {
            Some(ToolChoice::Tool(name)) if !known(name) => Some(("tool_choice", name.clone())),
            _ => None,
        };
        let stop_at = match &self.tool_use_behavior {
            ToolUseBehavior::StopAtTools(names) => names
                .iter()
                .find(|name| !known(name))
                .map(|name| ("tool_use_behavior", name.clone())),
            _ => None,
        };
        if let Some((setting, tool)) = forced.or(stop_at) {
            let available: Vec<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
            return Err(AgentError::UnknownToolName {
                agent: self.name,
                setting,
                tool,
                available: available.join(", "),
            });
        }
        let unknown = self.guards.filters.iter().find_map(|(tool, _)| {
            tool.as_ref()
                .filter(|tool| !definitions.iter().any(|d| d.name == tool.as_str()))
        });
        if let Some(tool) = unknown {
            return Err(AgentError::FilterForUnknownTool {
                agent: self.name,
                tool: tool.clone(),
            });
        }
        // The filters for one tool come before the agent-wide ones.
        let mut output_filters = self.guards.filters;
        output_filters.sort_by_key(|(tool, _)| tool.is_none());
        Ok(Agent::from_core(Arc::new(AgentCore {
            name: Arc::from(self.name),
            handoff_description: self.handoff_description,
            instructions: self.instructions,
            tools: self.tools,
            handoffs: self.handoffs,
            tool_definitions: definitions.into(),
            output: self.output,
            model: self.model,
            model_settings: self.model_settings,
            tool_use_behavior: self.tool_use_behavior,
            reset_tool_choice: self.reset_tool_choice,
            max_concurrent_tool_calls: self.max_concurrent_tool_calls,
            input_guardrails: self.guards.input,
            output_guardrails: self.guards.output,
            tool_guardrails: self.guards.tool,
            hooks: self.guards.hooks,
            output_filters,
            policies: self.guards.policies,
            tool_use_fn: self.guards.tool_use_fn,
        })))
    }
}
