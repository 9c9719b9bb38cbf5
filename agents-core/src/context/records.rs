//! Execution records: what each tool call of a run did, and when.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::item::{Item, ToolCall, ToolOutput};

/// One tool call as a run executed it: which tool, for which agent, with
/// which arguments, how it ended, when it started and how long it took.
///
/// Listed by `RunResult::tool_executions` and `PartialRun::tool_executions`
/// (in `agents_core::run`),
/// nested runs of agents used as tools included. Times are observations of
/// this process (wall clock and a monotonic duration), not inputs of the
/// run: a replayed run records its own.
///
/// Serialized with a run's state; a record whose call is not a tool call
/// or whose output is not a tool output is refused when read (it could not
/// have been written by the runner).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Record")]
pub struct ToolExecution {
    /// The agent whose tool ran.
    pub agent: Arc<str>,
    /// The agents enclosing the run that made the call, outermost first:
    /// empty for a call of the top-level run; `["Triage"]` for a call made
    /// inside an agent that Triage used as a tool.
    pub path: Arc<[Arc<str>]>,
    /// When the call started.
    pub started_at: SystemTime,
    /// How long the call took, its approval, hooks and guardrails included.
    pub duration: Duration,
    call: Arc<Item>,
    output: Arc<Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    original_arguments: Option<String>,
}

/// A [`ToolExecution`] as read, before its items are checked.
#[derive(serde::Deserialize)]
struct Record {
    agent: Arc<str>,
    path: Arc<[Arc<str>]>,
    started_at: SystemTime,
    duration: Duration,
    call: Arc<Item>,
    output: Arc<Item>,
    #[serde(default)]
    original_arguments: Option<String>,
}

impl TryFrom<Record> for ToolExecution {
    type Error = String;

    fn try_from(record: Record) -> Result<Self, String> {
        match (&*record.call, &*record.output) {
            (Item::ToolCall(call), Item::ToolOutput(output)) if call.call_id == output.call_id => {
                Ok(ToolExecution {
                    agent: record.agent,
                    path: record.path,
                    started_at: record.started_at,
                    duration: record.duration,
                    call: record.call,
                    output: record.output,
                    original_arguments: record.original_arguments,
                })
            }
            _ => {
                Err("a tool execution record pairs a tool call with its own tool output".to_owned())
            }
        }
    }
}

impl ToolExecution {
    /// A record of `call` (an [`Item::ToolCall`]) ending with `output` (an
    /// [`Item::ToolOutput`]).
    pub(crate) fn new(
        agent: Arc<str>,
        path: Arc<[Arc<str>]>,
        call: Arc<Item>,
        output: Arc<Item>,
        started_at: SystemTime,
        duration: Duration,
    ) -> Self {
        ToolExecution {
            agent,
            path,
            started_at,
            duration,
            call,
            output,
            original_arguments: None,
        }
    }

    /// The record of a call a policy rewrote: `original` is what the model
    /// wrote.
    pub(crate) fn rewritten_from(mut self, original: Option<String>) -> Self {
        self.original_arguments = original;
        self
    }

    /// The arguments the model wrote, when a policy rewrote them (then
    /// [`call`](Self::call) holds the arguments that ran).
    pub fn original_arguments(&self) -> Option<&str> {
        self.original_arguments.as_deref()
    }

    /// The call: tool name, call id, and the arguments it ran with (as the
    /// model wrote them, or as a policy rewrote them).
    pub fn call(&self) -> &ToolCall {
        match &*self.call {
            Item::ToolCall(call) => call,
            _ => unreachable!("a tool execution's call is a tool call item"),
        }
    }

    /// The output the model received (an error output when the call
    /// failed, was rejected or denied).
    pub fn output(&self) -> &ToolOutput {
        match &*self.output {
            Item::ToolOutput(output) => output,
            _ => unreachable!("a tool execution's output is a tool output item"),
        }
    }

    /// Whether the call produced a normal output.
    pub fn succeeded(&self) -> bool {
        !self.output().is_error
    }
}
