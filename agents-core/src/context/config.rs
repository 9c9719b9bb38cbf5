use std::sync::Arc;
use std::time::Duration;

use super::Metadata;
use super::budget::Budget;
use crate::model::ModelSettings;

/// What the runner does when a tool call cannot produce an output: the tool
/// is unknown, its arguments do not decode, it fails, panics or times out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolErrorPolicy {
    /// Send an error output to the model and go on (default), so the model
    /// can correct itself.
    #[default]
    SendToModel,
    /// End the run with `RunError::Tool` (in `agents_core::run`).
    FailRun,
}

/// Limits and options of a run.
///
/// A `Runner` (in `agents_core::run`) holds one; each run starts from it and
/// may override any field (the `Run` setters). Every limit always
/// applies: there is no "unlimited".
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunConfig {
    /// Maximum number of turns (model calls). Default 10.
    pub max_turns: u32,
    /// Wall-clock limit for the whole run. Default 10 minutes.
    pub timeout: Duration,
    /// Limit for one model call. Default 2 minutes.
    pub model_call_timeout: Duration,
    /// Limit for one tool call. Default 1 minute.
    pub tool_timeout: Duration,
    /// What a failing tool call does. Default: tell the model.
    pub tool_error_policy: ToolErrorPolicy,
    /// The run id; `None` generates a fresh one per run (`run_` + 16 hex
    /// digits).
    pub run_id: Option<Arc<str>>,
    /// Free-form metadata, visible to tools through the run context.
    pub metadata: Arc<Metadata>,
    /// Model settings that override every agent's, field by field.
    pub model_settings: ModelSettings,
    /// How deeply agents used as tools may nest (an agent tool calling an
    /// agent tool ...). Default 3; a call past it is a tool error.
    pub max_nesting_depth: u32,
    /// Whether trace spans record inputs, outputs, instructions and tool
    /// arguments and results. Off by default: they may hold personal data.
    pub trace_sensitive_data: bool,
    /// What the run may spend (model calls, tool calls, tokens, cost).
    /// No limit by default.
    pub budget: Budget,
    /// How many tool calls of one model response run at once; the others
    /// wait for a slot, outputs still in call order. `None` (default): all
    /// at once. `Some(0)` counts as 1. An agent may set a lower cap.
    pub max_concurrent_tool_calls: Option<usize>,
    /// The largest tool output kept, in bytes of UTF-8. A larger output is
    /// a tool error (`ToolFailure::OutputTooLarge`, in `agents_core::run`),
    /// handled by the [`tool_error_policy`](Self::tool_error_policy).
    /// Default 1 MiB.
    pub max_tool_output_bytes: usize,
    /// The workflow this run belongs to, on its trace's run span
    /// (`agents.workflow.name`). The OpenAI Agents SDK's `workflow_name`.
    pub workflow_name: Option<String>,
    /// Groups the traces of related runs, e.g. a conversation id
    /// (`agents.group.id`). The OpenAI Agents SDK's `group_id`.
    pub group_id: Option<String>,
    /// Metadata on the run span (`agents.trace.metadata`, as JSON); unlike
    /// [`metadata`](Self::metadata), not visible to tools.
    pub trace_metadata: Arc<Metadata>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            max_turns: 10,
            timeout: Duration::from_secs(600),
            model_call_timeout: Duration::from_secs(120),
            tool_timeout: Duration::from_secs(60),
            tool_error_policy: ToolErrorPolicy::SendToModel,
            run_id: None,
            metadata: Arc::default(),
            model_settings: ModelSettings::default(),
            max_nesting_depth: 3,
            trace_sensitive_data: false,
            budget: Budget::default(),
            max_concurrent_tool_calls: None,
            max_tool_output_bytes: 1 << 20,
            workflow_name: None,
            group_id: None,
            trace_metadata: Arc::default(),
        }
    }
}

impl RunConfig {
    /// The defaults: 10 turns, 10 minutes, 2 minutes per model call, 1
    /// minute per tool call, tool errors sent to the model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the maximum number of turns.
    pub fn max_turns(mut self, max_turns: u32) -> Self {
        self.max_turns = max_turns;
        self
    }

    /// Sets the wall-clock limit of the run.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the limit of one model call.
    pub fn model_call_timeout(mut self, timeout: Duration) -> Self {
        self.model_call_timeout = timeout;
        self
    }

    /// Sets the limit of one tool call.
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.tool_timeout = timeout;
        self
    }

    /// Sets the tool error policy.
    pub fn tool_error_policy(mut self, policy: ToolErrorPolicy) -> Self {
        self.tool_error_policy = policy;
        self
    }

    /// Sets the run id.
    pub fn run_id(mut self, run_id: impl Into<Arc<str>>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        Arc::make_mut(&mut self.metadata).insert(key.into(), value.into());
        self
    }

    /// Sets how deeply agents used as tools may nest.
    pub fn max_nesting_depth(mut self, depth: u32) -> Self {
        self.max_nesting_depth = depth;
        self
    }

    /// Sets whether trace spans record inputs, outputs and tool arguments.
    pub fn trace_sensitive_data(mut self, enabled: bool) -> Self {
        self.trace_sensitive_data = enabled;
        self
    }

    /// Sets the workflow name on the run's trace.
    pub fn workflow_name(mut self, name: impl Into<String>) -> Self {
        self.workflow_name = Some(name.into());
        self
    }

    /// Sets the group id on the run's trace.
    pub fn group_id(mut self, id: impl Into<String>) -> Self {
        self.group_id = Some(id.into());
        self
    }

    /// Adds one entry of trace metadata.
    pub fn trace_metadata(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        Arc::make_mut(&mut self.trace_metadata).insert(key.into(), value.into());
        self
    }

    /// Sets how many tool calls of one response run at once.
    pub fn max_concurrent_tool_calls(mut self, calls: usize) -> Self {
        self.max_concurrent_tool_calls = Some(calls);
        self
    }

    /// Sets the largest tool output kept, in bytes.
    pub fn max_tool_output_bytes(mut self, bytes: usize) -> Self {
        self.max_tool_output_bytes = bytes;
        self
    }

    /// Sets what each run may spend.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// Sets the model settings that override every agent's.
    pub fn model_settings(mut self, settings: ModelSettings) -> Self {
        self.model_settings = settings;
        self
    }
}
