//! Agents: instructions, tools, handoffs and an output type.
//!
//! [`Agent<Ctx, Out>`] is a cheap handle (one `Arc`) built with
//! [`Agent::builder`]. `Ctx` is the run context type every tool and handoff
//! target shares; `Out` is the type of the run's final output.

mod builder;
mod checks;
mod def;
mod graph;
pub(crate) mod handoff;
mod instructions;
#[doc(hidden)]
pub(crate) mod names;
pub(crate) mod output;
mod tool;

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

pub use builder::AgentBuilder;
pub use checks::{HandoffContext, HandoffOutput, SyncInstructions};
pub use def::AgentDef;
pub use graph::{AgentGraph, GraphAgent};
pub use handoff::{
    Handoff, HandoffInputFilter, HandoffTo, Handoffs, NoInput, handoff_tool_name, remove_tool_items,
};
pub use instructions::{Instructions, InstructionsFn};
pub use tool::AgentTool;
pub(crate) use tool::AgentToolArgs;

pub(crate) use handoff::HandoffEntry;
pub(crate) use output::OutputSpec;

use crate::context::RunContext;
use crate::guardrail::{GuardrailOutput, InputGuardrail, ToolGuardrail};
use crate::hooks::DynRunHooks;
use crate::model::{BoxFuture, ModelSettings, OutputSchema};
use crate::policy::SharedPolicy;
use crate::tool::{DynTool, SharedOutputFilter, Tool, ToolDefinition};

/// What the runner does after the agent's tools ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolUseBehavior {
    /// Send the tool outputs to the model and call it again (default).
    #[default]
    RunLlmAgain,
    /// The output of the first tool called in a turn is the final output
    /// (when that call succeeded; a failed call goes back to the model).
    StopOnFirstTool,
    /// If a tool with one of these names is called and succeeds, its output
    /// is the final output; other tools go back to the model.
    StopAtTools(Vec<String>),
}

/// One tool call's result of a turn, as a tool-use function sees it
/// ([`AgentBuilder::tool_use_behavior_fn`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ToolResult<'a> {
    /// The tool's name.
    pub tool: &'a str,
    /// The call's id.
    pub call_id: &'a str,
    /// The output the model would see (the error text for a failed call).
    pub output: &'a str,
    /// Whether the call failed (or was rejected or denied).
    pub is_error: bool,
}

/// Decides from the context and a turn's tool results whether they end the
/// run: `Some(text)` is the final output (parsed as the agent's output
/// type), `None` calls the model again. The OpenAI Agents SDK's
/// `ToolsToFinalOutputFunction`.
pub type ToolUseFn<Ctx> =
    Arc<dyn Fn(&RunContext<Ctx>, &[ToolResult<'_>]) -> Option<String> + Send + Sync>;

/// Why an agent could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// An output guardrail was added before
    /// [`AgentBuilder::output_type`] changed the output type.
    #[error(
        "agent `{agent}`: output guardrail `{guardrail}` was added before `output_type` changed the output type; call `output_type` first"
    )]
    GuardrailBeforeOutputType {
        /// The agent's name.
        agent: String,
        /// The guardrail's name.
        guardrail: String,
    },
    /// Two tools or handoffs of the agent share a name; the model could not
    /// tell them apart.
    #[error("agent `{agent}` has two tools named `{name}`; rename one of them")]
    DuplicateToolName {
        /// The agent's name.
        agent: String,
        /// The shared name.
        name: String,
    },
    /// A handoff was added before [`AgentBuilder::output_type`] changed the
    /// output type, and the target's output type is not the new one.
    #[error(
        "agent `{agent}`: the handoff to `{target}` was added before `output_type` changed the output type; call `output_type` before adding handoffs"
    )]
    HandoffBeforeOutputType {
        /// The agent's name.
        agent: String,
        /// The handoff target's name.
        target: String,
    },
    /// The agent's name is empty.
    #[error("an agent's name must not be empty")]
    EmptyName,
    /// A tool name the agent does not have, in its `tool_choice` or its
    /// `StopAtTools` behaviour.
    #[error(
        "agent `{agent}` names `{tool}` in its {setting}, which is not one of its tools or handoffs; available: {available}"
    )]
    UnknownToolName {
        /// The agent.
        agent: String,
        /// Where the name is: `tool_choice` or `tool_use_behavior`.
        setting: &'static str,
        /// The name.
        tool: String,
        /// The agent's tool and handoff names, comma-separated.
        available: String,
    },
    /// An output filter names a tool the agent does not have.
    #[error("agent `{agent}` has an output filter for `{tool}`, which is not one of its tools")]
    FilterForUnknownTool {
        /// The agent.
        agent: String,
        /// The tool the filter names.
        tool: String,
    },
}

/// The untyped part of an agent, shared by every handle and handoff.
pub(crate) struct AgentCore<Ctx> {
    pub(crate) name: Arc<str>,
    pub(crate) handoff_description: Option<String>,
    pub(crate) instructions: Instructions<Ctx>,
    pub(crate) tools: Vec<Arc<dyn DynTool<Ctx>>>,
    pub(crate) handoffs: Vec<HandoffEntry<Ctx>>,
    /// Function tools first, then handoff tools, in the order added.
    pub(crate) tool_definitions: Arc<[ToolDefinition]>,
    pub(crate) output: OutputSpec,
    pub(crate) model: Option<Arc<str>>,
    pub(crate) model_settings: ModelSettings,
    pub(crate) tool_use_behavior: ToolUseBehavior,
    /// Whether a forced tool choice is dropped once the agent ran tools.
    pub(crate) reset_tool_choice: bool,
    /// How many tool calls of one response run at once (`None`: all).
    pub(crate) max_concurrent_tool_calls: Option<usize>,
    pub(crate) input_guardrails: Vec<InputGuardrail<Ctx>>,
    pub(crate) output_guardrails: Vec<ErasedOutputGuardrail<Ctx>>,
    pub(crate) tool_guardrails: Vec<ToolGuardrail<Ctx>>,
    pub(crate) hooks: Vec<Arc<dyn DynRunHooks<Ctx>>>,
    /// Output filters: for one tool (its name), or for all (`None`).
    pub(crate) output_filters: Vec<(Option<String>, SharedOutputFilter)>,
    /// Policies on this agent's actions.
    pub(crate) policies: Vec<SharedPolicy<Ctx>>,
    /// A function deciding whether a turn's tool results are the final
    /// output (then `tool_use_behavior` is not used).
    pub(crate) tool_use_fn: Option<ToolUseFn<Ctx>>,
}

impl<Ctx> Clone for AgentCore<Ctx> {
    fn clone(&self) -> Self {
        AgentCore {
            name: Arc::clone(&self.name),
            handoff_description: self.handoff_description.clone(),
            instructions: self.instructions.clone(),
            tools: self.tools.clone(),
            handoffs: self.handoffs.clone(),
            tool_definitions: Arc::clone(&self.tool_definitions),
            output: self.output.clone(),
            model: self.model.clone(),
            model_settings: self.model_settings.clone(),
            tool_use_behavior: self.tool_use_behavior.clone(),
            reset_tool_choice: self.reset_tool_choice,
            max_concurrent_tool_calls: self.max_concurrent_tool_calls,
            input_guardrails: self.input_guardrails.clone(),
            output_guardrails: self.output_guardrails.clone(),
            tool_guardrails: self.tool_guardrails.clone(),
            hooks: self.hooks.clone(),
            output_filters: self.output_filters.clone(),
            policies: self.policies.clone(),
            tool_use_fn: self.tool_use_fn.clone(),
        }
    }
}

impl<Ctx> Clone for ErasedOutputGuardrail<Ctx> {
    fn clone(&self) -> Self {
        ErasedOutputGuardrail {
            name: Arc::clone(&self.name),
            stage: self.stage,
            check: Arc::clone(&self.check),
        }
    }
}

/// An agent's output guardrail, checked on its output at the conversion
/// stage it was added for (`convert_output` adds stages).
pub(crate) struct ErasedOutputGuardrail<Ctx> {
    pub(crate) name: Arc<str>,
    pub(crate) stage: usize,
    pub(crate) check: ErasedOutputCheck<Ctx>,
}

pub(crate) type ErasedOutputCheck<Ctx> = Arc<
    dyn for<'a> Fn(
            &'a RunContext<Ctx>,
            &'a (dyn std::any::Any + Send),
        ) -> BoxFuture<'a, GuardrailOutput>
        + Send
        + Sync,
>;

impl<Ctx> AgentCore<Ctx> {
    pub(crate) fn tool(&self, name: &str) -> Option<&Arc<dyn DynTool<Ctx>>> {
        self.tool_definitions
            .iter()
            .take(self.tools.len())
            .position(|definition| definition.name == name)
            .map(|index| &self.tools[index])
    }

    pub(crate) fn handoff(&self, name: &str) -> Option<&HandoffEntry<Ctx>> {
        self.handoffs.iter().find(|h| h.tool_name == name)
    }

    /// The tool `name`, if it is offered on this turn.
    pub(crate) fn enabled_tool(
        &self,
        ctx: &RunContext<Ctx>,
        name: &str,
    ) -> Option<&Arc<dyn DynTool<Ctx>>> {
        self.tool(name).filter(|tool| tool.dyn_is_enabled(ctx))
    }

    /// The handoff `name`, if it is offered on this turn.
    pub(crate) fn enabled_handoff(
        &self,
        ctx: &RunContext<Ctx>,
        name: &str,
    ) -> Option<&HandoffEntry<Ctx>> {
        self.handoff(name).filter(|handoff| handoff.is_enabled(ctx))
    }

    /// The definitions offered on this turn, tools then handoffs: the
    /// shared list itself when everything is enabled (no allocation).
    pub(crate) fn offered_definitions(&self, ctx: &RunContext<Ctx>) -> Arc<[ToolDefinition]> {
        let enabled = |index: usize| match self.tools.get(index) {
            Some(tool) => tool.dyn_is_enabled(ctx),
            None => self
                .handoffs
                .get(index - self.tools.len())
                .is_none_or(|handoff| handoff.is_enabled(ctx)),
        };
        if (0..self.tool_definitions.len()).all(enabled) {
            return Arc::clone(&self.tool_definitions);
        }
        self.tool_definitions
            .iter()
            .enumerate()
            .filter(|(index, _)| enabled(*index))
            .map(|(_, definition)| definition.clone())
            .collect()
    }
}

/// An agent whose tools and handoffs run with context `Ctx` and whose final
/// output is an `Out`.
///
/// Cloning is one reference count. Built with [`Agent::builder`].
pub struct Agent<Ctx, Out = String> {
    pub(crate) core: Arc<AgentCore<Ctx>>,
    _out: PhantomData<fn() -> Out>,
}

impl<Ctx, Out> Clone for Agent<Ctx, Out> {
    fn clone(&self) -> Self {
        Agent {
            core: Arc::clone(&self.core),
            _out: PhantomData,
        }
    }
}

impl<Ctx, Out> fmt::Debug for Agent<Ctx, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.core.name)
            .field(
                "tools",
                &self
                    .core
                    .tool_definitions
                    .iter()
                    .map(|t| &t.name)
                    .collect::<Vec<_>>(),
            )
            .field("output", &self.core.output.type_name)
            .finish_non_exhaustive()
    }
}

impl<Ctx: Send + Sync + 'static> Agent<Ctx, String> {
    /// A builder for an agent called `name` with plain text output.
    /// [`AgentBuilder::output_type`] switches to structured output.
    pub fn builder(name: impl Into<String>) -> AgentBuilder<Ctx, String> {
        AgentBuilder::new(name.into())
    }
}

impl<Ctx, Out> Agent<Ctx, Out> {
    /// This agent with `tools` added (e.g. an MCP server's, for one run:
    /// `runner.run(&agent.with_tools(server.tools().await?)?, ..)`); the
    /// agent itself is unchanged. The OpenAI Agents SDK's
    /// `agent.clone(tools=...)`.
    ///
    /// # Errors
    /// [`AgentError::DuplicateToolName`] when an added tool's name is
    /// taken (by a tool, a handoff or another added tool).
    pub fn with_tools<T: Tool<Ctx>>(
        &self,
        tools: impl IntoIterator<Item = T>,
    ) -> Result<Self, AgentError> {
        let mut core = AgentCore::clone(&self.core);
        let mut definitions: Vec<ToolDefinition> = core.tool_definitions.to_vec();
        let first_handoff = core.tools.len();
        let mut added = Vec::new();
        for tool in tools {
            let definition = Tool::definition(&tool);
            if definitions.iter().any(|d| d.name == definition.name) {
                return Err(AgentError::DuplicateToolName {
                    agent: core.name.to_string(),
                    name: definition.name,
                });
            }
            // Function tools come before the handoff tools.
            definitions.insert(first_handoff + added.len(), definition);
            added.push(Arc::new(tool) as Arc<dyn DynTool<Ctx>>);
        }
        core.tools.extend(added);
        core.tool_definitions = definitions.into();
        Ok(Agent::from_core(Arc::new(core)))
    }

    pub(crate) fn from_core(core: Arc<AgentCore<Ctx>>) -> Self {
        Agent {
            core,
            _out: PhantomData,
        }
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// The description other agents' models see for a handoff to this agent.
    pub fn handoff_description(&self) -> Option<&str> {
        self.core.handoff_description.as_deref()
    }

    /// Every tool definition the model sees: function tools, then handoffs.
    pub fn tool_definitions(&self) -> &[ToolDefinition] {
        &self.core.tool_definitions
    }

    /// The JSON schema of the structured output, or `None` for text output.
    pub fn output_schema(&self) -> Option<&OutputSchema> {
        self.core.output.schema.as_deref()
    }

    /// The model the agent asks for, if it names one.
    pub fn model(&self) -> Option<&str> {
        self.core.model.as_deref()
    }

    /// The agent's model settings.
    pub fn model_settings(&self) -> &ModelSettings {
        &self.core.model_settings
    }

    /// The agent's tool-use behaviour.
    pub fn tool_use_behavior(&self) -> &ToolUseBehavior {
        &self.core.tool_use_behavior
    }

    pub(crate) fn output_type_id(&self) -> TypeId {
        self.core.output.out_type_id
    }
}

/// Anything the runner can run as an agent: an [`Agent`] value, or a type
/// declared with `#[agent]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an agent for context `{Ctx}`",
    label = "not an agent with context `{Ctx}`",
    note = "a `Runner<{Ctx}>` runs the agents of context `{Ctx}`: an agent of another context runs on a runner of its own (`Runner::from_shared(runner.model().clone())` shares the model)",
    note = "an agent is built with `Agent::builder`, or declared on a struct with `#[agent(context = ...)]`"
)]
pub trait AsAgent<Ctx> {
    /// The agent's final output type.
    type Output;

    /// The agent value (a cheap handle).
    fn as_agent(&self) -> Agent<Ctx, Self::Output>;
}

impl<Ctx, Out> AsAgent<Ctx> for Agent<Ctx, Out> {
    type Output = Out;

    fn as_agent(&self) -> Agent<Ctx, Out> {
        self.clone()
    }
}
