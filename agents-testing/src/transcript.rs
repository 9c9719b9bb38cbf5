//! Readable, stable renderings of runs.

use std::collections::HashMap;
use std::fmt::{Debug, Write};
use std::sync::Arc;

use agents_core::context::ToolExecution;
use agents_core::{Item, PartialRun, RunError, RunItem, RunResult, Usage};

/// What a transcript is made from: a finished run, a failed run, or a
/// partial run.
pub trait RunView {
    /// The input the run started with.
    fn input(&self) -> &[Arc<Item>];
    /// The items the run produced.
    fn new_items(&self) -> &[RunItem];
    /// The last active agent.
    fn last_agent(&self) -> &str;
    /// Usage summed over the run.
    fn usage(&self) -> Usage;
    /// Turns taken.
    fn turns(&self) -> u32;
    /// How the run ended: `final output (...)` or `error: ...`.
    fn outcome(&self) -> String;
    /// The tool calls executed (for the arguments a policy rewrote).
    fn tool_executions(&self) -> &[ToolExecution] {
        &[]
    }
}

impl<Out: Debug> RunView for RunResult<Out> {
    fn input(&self) -> &[Arc<Item>] {
        &self.input
    }
    fn tool_executions(&self) -> &[ToolExecution] {
        &self.tool_executions
    }
    fn new_items(&self) -> &[RunItem] {
        &self.new_items
    }
    fn last_agent(&self) -> &str {
        &self.last_agent
    }
    fn usage(&self) -> Usage {
        self.usage
    }
    fn turns(&self) -> u32 {
        self.turns
    }
    fn outcome(&self) -> String {
        format!(
            "final output ({}): {:#?}",
            self.last_agent, self.final_output
        )
    }
}

impl RunView for PartialRun {
    fn input(&self) -> &[Arc<Item>] {
        &self.input
    }
    fn tool_executions(&self) -> &[ToolExecution] {
        &self.tool_executions
    }
    fn new_items(&self) -> &[RunItem] {
        &self.new_items
    }
    fn last_agent(&self) -> &str {
        &self.last_agent
    }
    fn usage(&self) -> Usage {
        self.usage
    }
    fn turns(&self) -> u32 {
        self.turns
    }
    fn outcome(&self) -> String {
        format!("stopped early ({})", self.last_agent)
    }
}

impl RunView for RunError {
    fn input(&self) -> &[Arc<Item>] {
        &self.partial().input
    }
    fn new_items(&self) -> &[RunItem] {
        &self.partial().new_items
    }
    fn last_agent(&self) -> &str {
        &self.partial().last_agent
    }
    fn usage(&self) -> Usage {
        self.partial().usage
    }
    fn turns(&self) -> u32 {
        self.partial().turns
    }
    fn outcome(&self) -> String {
        format!("error: {self}")
    }
}

impl<T: RunView, E: RunView> RunView for Result<T, E> {
    fn input(&self) -> &[Arc<Item>] {
        match self {
            Ok(run) => run.input(),
            Err(run) => run.input(),
        }
    }
    fn new_items(&self) -> &[RunItem] {
        match self {
            Ok(run) => run.new_items(),
            Err(run) => run.new_items(),
        }
    }
    fn last_agent(&self) -> &str {
        match self {
            Ok(run) => run.last_agent(),
            Err(run) => run.last_agent(),
        }
    }
    fn usage(&self) -> Usage {
        match self {
            Ok(run) => run.usage(),
            Err(run) => run.usage(),
        }
    }
    fn turns(&self) -> u32 {
        match self {
            Ok(run) => run.turns(),
            Err(run) => run.turns(),
        }
    }
    fn outcome(&self) -> String {
        match self {
            Ok(run) => run.outcome(),
            Err(run) => run.outcome(),
        }
    }
}

/// Renders a run as text: who said what, each tool call with its arguments
/// and output, each handoff, then the outcome, turns and usage.
///
/// Stable by construction: call ids are replaced by `call#1`, `call#2`, ...
/// in order of appearance, JSON arguments are re-serialized with sorted
/// keys, and run ids, response ids and timings are left out.
///
/// ```text
/// input:
///   user: I was charged twice
/// [Triage]
///   tool call [call#1] lookup_order {"order_id":"A-1001"}
///   tool output [call#1]: {"status":"charged twice"}
///   handoff call [call#2] transfer_to_billing
///   handoff [call#2]: Triage -> Billing
/// [Billing]
///   assistant: Refunded.
/// final output (Billing): "Refunded."
/// turns: 3, usage: 3 requests, 0 input tokens, 0 output tokens
/// ```
pub fn transcript(run: &impl RunView) -> String {
    let mut ids = CallIds::default();
    let mut out = String::from("input:\n");
    for item in run.input() {
        render_item(&mut out, item, &mut ids);
    }
    let mut agent: Option<&str> = None;
    for run_item in run.new_items() {
        if agent != Some(&*run_item.agent) {
            agent = Some(&run_item.agent);
            let _ = writeln!(out, "[{}]", run_item.agent);
        }
        render_item(&mut out, &run_item.item, &mut ids);
        if let Item::ToolCall(call) = &*run_item.item {
            let original = run
                .tool_executions()
                .iter()
                .find(|record| record.call().call_id == call.call_id)
                .and_then(|record| record.original_arguments());
            if let Some(original) = original {
                let _ = writeln!(
                    out,
                    "    (rewritten by a policy; the model wrote {})",
                    normalize_json(original)
                );
            }
        }
    }
    let usage = run.usage();
    let _ = writeln!(out, "{}", run.outcome());
    let _ = write!(
        out,
        "turns: {}, usage: {} requests, {} input tokens, {} output tokens",
        run.turns(),
        usage.requests,
        usage.input_tokens,
        usage.output_tokens
    );
    out
}

#[derive(Default)]
struct CallIds(HashMap<String, usize>);

impl CallIds {
    fn get(&mut self, id: &str) -> String {
        let next = self.0.len() + 1;
        let n = *self.0.entry(id.to_owned()).or_insert(next);
        format!("call#{n}")
    }
}

fn render_item(out: &mut String, item: &Item, ids: &mut CallIds) {
    let _ = match item {
        Item::UserMessage { content } => writeln!(out, "  user: {}", indent(content)),
        Item::AssistantMessage { content } => writeln!(out, "  assistant: {}", indent(content)),
        Item::ToolCall(call) => writeln!(
            out,
            "  tool call [{}] {} {}",
            ids.get(&call.call_id),
            call.name,
            normalize_json(&call.arguments)
        ),
        Item::ToolOutput(output) => writeln!(
            out,
            "  tool {} [{}]: {}",
            if output.is_error { "error" } else { "output" },
            ids.get(&output.call_id),
            indent(&output.output)
        ),
        Item::HandoffCall(call) => {
            let arguments = normalize_json(&call.arguments);
            if arguments == "{}" || call.arguments.trim().is_empty() {
                writeln!(
                    out,
                    "  handoff call [{}] {}",
                    ids.get(&call.call_id),
                    call.name
                )
            } else {
                writeln!(
                    out,
                    "  handoff call [{}] {} {arguments}",
                    ids.get(&call.call_id),
                    call.name
                )
            }
        }
        Item::HandoffOutput(output) => match &output.to_agent {
            Some(to) => writeln!(
                out,
                "  handoff [{}]: {} -> {}",
                ids.get(&output.call_id),
                output.from_agent,
                to
            ),
            None => writeln!(
                out,
                "  handoff refused [{}]: {}",
                ids.get(&output.call_id),
                indent(&output.output)
            ),
        },
        Item::Reasoning { text } => writeln!(out, "  reasoning: {}", indent(text)),
        Item::Refusal { content } => writeln!(out, "  refusal: {}", indent(content)),
        Item::Summary {
            text,
            replaced_items,
        } => writeln!(out, "  summary of {replaced_items} items: {}", indent(text)),
        other => writeln!(out, "  {other:?}"),
    };
}

fn normalize_json(raw: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(value) => value.to_string(),
        Err(_) => format!("{raw} (not JSON)"),
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n    ")
}
