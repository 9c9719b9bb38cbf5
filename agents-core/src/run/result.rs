use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::control::RunStatus;
use crate::context::ToolExecution;
use crate::guardrail::GuardrailOutput;
use crate::item::{Item, RunItem};
use crate::model::{Failover, ModelResponse};
use crate::usage::Usage;

/// Which guardrails a [`GuardrailResult`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GuardrailKind {
    /// An input guardrail (first turn).
    Input,
    /// An output guardrail (the final output).
    Output,
}

/// What one input or output guardrail concluded in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GuardrailResult {
    /// The guardrail's name.
    pub guardrail: String,
    /// Input or output.
    pub kind: GuardrailKind,
    /// Its output: tripped or not, and its info.
    pub output: GuardrailOutput,
}

/// A failure a run went on after (its result is then
/// [`RunStatus::Degraded`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToleratedFailure {
    /// A tool call failed; its error output went back to the model.
    ToolError {
        /// The agent whose tool failed.
        agent: String,
        /// The call's id.
        call_id: String,
        /// The error output the model received.
        message: String,
    },
    /// The run used up its turns and a max-turns handler gave the final
    /// output.
    MaxTurnsFallback {
        /// Turns taken.
        turns: u32,
    },
    /// The final output did not parse and an output-parse handler gave the
    /// final output.
    OutputParseFallback {
        /// The agent whose output did not parse.
        agent: String,
        /// The text the model wrote.
        output: String,
        /// Why it did not parse.
        error: String,
    },
    /// A structured agent's model refused and a refusal handler gave the
    /// final output.
    RefusalFallback {
        /// The agent.
        agent: String,
        /// The model's explanation.
        refusal: String,
    },
    /// A model failed and the next model of a fallback chain answered
    /// (`Fallback`, in `agents_core::model::layers`).
    ModelFailover {
        /// The turn (1-based) whose model call failed over.
        turn: u32,
        /// The model that failed, its error kind and message.
        failover: Failover,
        /// The model that answered in the end.
        answered_by: Option<String>,
    },
}

/// A finished run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunResult<Out> {
    /// The final output, produced by `last_agent` and converted into `Out`.
    pub final_output: Out,
    /// The run's id.
    pub run_id: Arc<str>,
    /// The input the run started with.
    pub input: Vec<Arc<Item>>,
    /// Every item the run produced, in order, with the agent that produced it.
    pub new_items: Vec<RunItem>,
    /// Name of the agent that produced the final output.
    pub last_agent: Arc<str>,
    /// Usage summed over every model call.
    pub usage: Usage,
    /// Usage per agent name.
    pub usage_by_agent: BTreeMap<String, Usage>,
    /// Every model response, in order.
    pub raw_responses: Vec<ModelResponse>,
    /// Number of turns (model calls) taken.
    pub turns: u32,
    /// [`RunStatus::Completed`], or [`RunStatus::Degraded`] when the run
    /// tolerated failures on the way (see
    /// [`tolerated_failures`](Self::tolerated_failures)).
    pub status: RunStatus,
    /// Every tool call the run executed (those of nested runs of agents
    /// used as tools included, see [`ToolExecution::path`]), by start
    /// time. The model calls made are [`raw_responses`](Self::raw_responses).
    pub tool_executions: Vec<ToolExecution>,
    /// Every input and output guardrail that ran, in the order they
    /// finished checking (tripped or not).
    pub guardrail_results: Vec<GuardrailResult>,
    /// The failure a fallback output replaced, if a handler gave one.
    pub(crate) fallback: Option<ToleratedFailure>,
}

impl<Out> RunResult<Out> {
    /// The failures the run went on after: tool calls that failed and went
    /// back to the model as error outputs, and a fallback output. Empty
    /// for a [`RunStatus::Completed`] run.
    pub fn tolerated_failures(&self) -> Vec<ToleratedFailure> {
        let mut failures: Vec<ToleratedFailure> = self
            .new_items
            .iter()
            .filter_map(|item| match &*item.item {
                Item::ToolOutput(output) if output.is_error => Some(ToleratedFailure::ToolError {
                    agent: item.agent.to_string(),
                    call_id: output.call_id.clone(),
                    message: output.output.clone(),
                }),
                _ => None,
            })
            .collect();
        for (turn, response) in (1u32..).zip(&self.raw_responses) {
            failures.extend(response.failovers.iter().map(|failover| {
                ToleratedFailure::ModelFailover {
                    turn,
                    failover: failover.clone(),
                    answered_by: response.model.clone(),
                }
            }));
        }
        failures.extend(self.fallback.clone());
        failures
    }

    /// The input followed by every new item: pass it (plus a new user message)
    /// as the next run's input to continue the conversation.
    pub fn to_input_list(&self) -> Vec<Arc<Item>> {
        to_input_list(&self.input, &self.new_items)
    }
}

/// What a run had produced when it stopped early. Carried by every
/// [`RunError`](super::RunError).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PartialRun {
    /// The run's id.
    pub run_id: Arc<str>,
    /// Name of the agent the run started with.
    pub starting_agent: Arc<str>,
    /// The input the run started with.
    pub input: Vec<Arc<Item>>,
    /// What the next model call would see: the input and new items, as
    /// handoff input filters left them.
    pub history: Vec<Arc<Item>>,
    /// Every item produced before the run stopped.
    pub new_items: Vec<RunItem>,
    /// Name of the agent that was active.
    pub last_agent: Arc<str>,
    /// The handoff tools called, in order, from the starting agent to the
    /// last one.
    pub handoff_path: Vec<String>,
    /// Usage summed over the model calls that completed.
    pub usage: Usage,
    /// Usage per agent name.
    #[serde(default)]
    pub usage_by_agent: BTreeMap<String, Usage>,
    /// Every model response received.
    pub raw_responses: Vec<ModelResponse>,
    /// Number of turns started.
    pub turns: u32,
    /// Every tool call the run executed, as in
    /// [`RunResult::tool_executions`]; kept by a serialized
    /// [`RunState`](super::RunState), so a resumed run lists the calls
    /// made before the pause too.
    #[serde(default)]
    pub tool_executions: Vec<ToolExecution>,
    /// Every input and output guardrail that ran, as in
    /// [`RunResult::guardrail_results`]; kept by a serialized state too.
    #[serde(default)]
    pub guardrail_results: Vec<GuardrailResult>,
}

impl PartialRun {
    /// The input followed by every new item.
    pub fn to_input_list(&self) -> Vec<Arc<Item>> {
        to_input_list(&self.input, &self.new_items)
    }
}

fn to_input_list(input: &[Arc<Item>], new_items: &[RunItem]) -> Vec<Arc<Item>> {
    let mut list = Vec::with_capacity(input.len() + new_items.len());
    list.extend(input.iter().cloned());
    list.extend(new_items.iter().map(|i| Arc::clone(&i.item)));
    list
}
