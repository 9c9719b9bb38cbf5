//! `tracing` spans of a run, named and attributed after the OpenTelemetry
//! semantic conventions for generative AI (`gen_ai.*`); run-specific
//! attributes use the `agents.*` prefix.
//!
//! Tree: `agents.run` → `invoke_agent` (one per agent, in handoff order) →
//! `agents.turn` → `chat` (the model call) / `execute_tool` / `agents.handoff`
//! / `agents.guardrail`. Inputs, outputs and arguments are recorded only when
//! [`RunConfig::trace_sensitive_data`](super::RunConfig::trace_sensitive_data)
//! is on.

use tracing::field::Empty;
use tracing::{Span, info_span};

use crate::agent::AgentCore;
use crate::item::{ToolCall, ToolOutput};
use crate::model::{ModelRequest, ModelResponse};
use crate::usage::Usage;

/// The spans a run keeps open.
#[derive(Debug, Clone)]
pub(super) struct Spans {
    pub(super) run: Span,
    pub(super) agent: Span,
    pub(super) agent_name: Option<std::sync::Arc<str>>,
    pub(super) turn: Span,
}

impl Spans {
    pub(super) fn new(run: Span) -> Self {
        Spans {
            run,
            agent: Span::none(),
            agent_name: None,
            turn: Span::none(),
        }
    }
}

/// How a run's traces are grouped: a workflow name, a group id (e.g. a
/// conversation), and metadata.
pub(super) struct TraceGroup<'a> {
    pub(super) workflow: Option<&'a str>,
    pub(super) group_id: Option<&'a str>,
    pub(super) metadata: &'a crate::context::Metadata,
}

pub(super) fn run(agent: &str, run_id: &str, group: &TraceGroup<'_>) -> Span {
    let span = info_span!(
        "agents.run",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = agent,
        agents.run.id = run_id,
        agents.workflow.name = group.workflow,
        agents.group.id = group.group_id,
        agents.trace.metadata = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        agents.turns = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if !group.metadata.is_empty() {
        span.record("agents.trace.metadata", json(group.metadata).as_str());
    }
    span
}

pub(super) fn record_run_end(span: &Span, usage: Usage, turns: u32) {
    span.record("gen_ai.usage.input_tokens", int(usage.input_tokens));
    span.record("gen_ai.usage.output_tokens", int(usage.output_tokens));
    span.record("agents.turns", i64::from(turns));
}

/// Token counts as `i64`, the integer type OpenTelemetry attributes carry.
fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// An agent's span, listing what the agent offers: its tools, its
/// handoffs (by target) and its output type.
pub(super) fn agent<Ctx>(parent: &Span, agent: &AgentCore<Ctx>) -> Span {
    let span = info_span!(
        parent: parent,
        "invoke_agent",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = &*agent.name,
        agents.agent.tools = Empty,
        agents.agent.handoffs = Empty,
        agents.agent.output_type = agent.output.type_name,
        error.type = Empty,
        otel.status_code = Empty,
    );
    // The name lists are joined only for a span someone records.
    if !span.is_disabled() {
        let names = |names: &mut dyn Iterator<Item = &str>| names.collect::<Vec<_>>().join(",");
        let tools = names(
            &mut agent
                .tool_definitions
                .iter()
                .take(agent.tools.len())
                .map(|definition| definition.name.as_str()),
        );
        let handoffs = names(&mut agent.handoffs.iter().map(|h| &*h.target_name));
        span.record("agents.agent.tools", tools.as_str());
        span.record("agents.agent.handoffs", handoffs.as_str());
    }
    span
}

pub(super) fn turn(parent: &Span, turn: u32) -> Span {
    info_span!(parent: parent, "agents.turn", agents.turn = turn)
}

pub(super) fn model_call(parent: &Span, request: &ModelRequest, sensitive: bool) -> Span {
    let span = info_span!(
        parent: parent,
        "chat",
        gen_ai.operation.name = "chat",
        gen_ai.agent.name = &*request.agent,
        gen_ai.request.model = Empty,
        gen_ai.request.temperature = Empty,
        gen_ai.request.max_tokens = Empty,
        gen_ai.response.id = Empty,
        gen_ai.response.model = Empty,
        agents.model.failovers = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.input.messages = Empty,
        gen_ai.system_instructions = Empty,
        gen_ai.output.messages = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if let Some(model) = &request.model {
        span.record("gen_ai.request.model", &**model);
    }
    if let Some(temperature) = request.settings.temperature {
        span.record("gen_ai.request.temperature", f64::from(temperature));
    }
    if let Some(max_tokens) = request.settings.max_tokens {
        span.record("gen_ai.request.max_tokens", i64::from(max_tokens));
    }
    // Serialised only for a span someone records.
    if sensitive && !span.is_disabled() {
        span.record("gen_ai.input.messages", json(&request.input).as_str());
        if let Some(instructions) = &request.instructions {
            span.record("gen_ai.system_instructions", &**instructions);
        }
    }
    span
}

pub(super) fn record_model_end(span: &Span, response: &ModelResponse, sensitive: bool) {
    if let Some(id) = &response.response_id {
        span.record("gen_ai.response.id", id.as_str());
    }
    if let Some(model) = &response.model {
        span.record("gen_ai.response.model", model.as_str());
    }
    if !response.failovers.is_empty() {
        // The models that failed first, e.g. `primary (server)`.
        let failed: Vec<String> = response
            .failovers
            .iter()
            .map(|failover| {
                format!(
                    "{} ({})",
                    failover.model,
                    json(&failover.kind).trim_matches('"')
                )
            })
            .collect();
        span.record("agents.model.failovers", failed.join(", ").as_str());
    }
    span.record(
        "gen_ai.usage.input_tokens",
        int(response.usage.input_tokens),
    );
    span.record(
        "gen_ai.usage.output_tokens",
        int(response.usage.output_tokens),
    );
    if sensitive && !span.is_disabled() {
        span.record("gen_ai.output.messages", json(&response.output).as_str());
    }
}

/// Marks `span` failed: `error.type`, and the OpenTelemetry status
/// `ERROR` (`otel.status_code`, the field `tracing-opentelemetry` maps to
/// the span status).
pub(super) fn record_error(span: &Span, kind: &str) {
    span.record("error.type", kind);
    span.record("otel.status_code", "ERROR");
}

pub(super) fn tool(parent: &Span, call: &ToolCall, sensitive: bool) -> Span {
    let span = info_span!(
        parent: parent,
        "execute_tool",
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = call.name.as_str(),
        gen_ai.tool.call.id = call.call_id.as_str(),
        gen_ai.tool.type = "function",
        gen_ai.tool.call.arguments = Empty,
        gen_ai.tool.call.result = Empty,
        error.type = Empty,
    );
    if sensitive {
        span.record("gen_ai.tool.call.arguments", call.arguments.as_str());
    }
    span
}

pub(super) fn record_tool_end(span: &Span, output: &ToolOutput, sensitive: bool) {
    if output.is_error {
        span.record("error.type", "tool_error");
    }
    if sensitive {
        span.record("gen_ai.tool.call.result", output.output.as_str());
    }
}

pub(super) fn handoff(parent: &Span, from: &str, to: &str) -> Span {
    info_span!(parent: parent, "agents.handoff", agents.handoff.from = from, agents.handoff.to = to)
}

pub(super) fn guardrail(parent: &Span, name: &str, kind: &'static str) -> Span {
    info_span!(
        parent: parent,
        "agents.guardrail",
        agents.guardrail.name = name,
        agents.guardrail.kind = kind,
        agents.guardrail.triggered = Empty,
    )
}

pub(super) fn record_guardrail(span: &Span, triggered: bool) {
    span.record("agents.guardrail.triggered", triggered);
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
