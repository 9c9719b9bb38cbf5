//! The durable tests' agents, shared by the test binary and the worker
//! process (`durable-test-worker`): a front desk hands a refund to
//! billing, which looks the order up, then refunds it after a person's
//! approval. Every model and tool call is written to a log file (one line
//! each, outside the worker), so a test counts what ran.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use agents_core::model::{BoxFuture, BoxStream, ModelStreamEvent};
use agents_core::prelude::*;
use agents_core::{Item, Model, ModelError, ModelRequest, ModelResponse};
use agents_testing::{MockModel, Step, call};
use serde_json::json;

/// The run context: where calls are logged, and the tool call's
/// idempotency key when built for a tool activity.
#[derive(Clone)]
pub(crate) struct Desk {
    pub(crate) log: Option<Arc<PathBuf>>,
    pub(crate) key: Option<String>,
}

impl Desk {
    fn note(&self, line: &str) {
        if let Some(path) = &self.log {
            append(path, line);
        }
    }
}

/// Appends one line to the log (each write is one `write` call).
pub(crate) fn append(path: &std::path::Path, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the durable test log opens");
    file.write_all(format!("{line}\n").as_bytes())
        .expect("the durable test log takes a line");
}

/// Look up an order.
#[tool]
pub(crate) fn lookup_order(desk: &Desk, order_id: String) -> String {
    desk.note(&format!(
        "tool lookup_order {}",
        desk.key.as_deref().unwrap_or("-")
    ));
    format!("{order_id}: espresso machine, charged twice")
}

/// Refund an order, in cents.
#[tool(needs_approval)]
pub(crate) fn refund(desk: &Desk, order_id: String, amount_cents: u32) -> String {
    desk.note(&format!(
        "tool refund {}",
        desk.key.as_deref().unwrap_or("-")
    ));
    format!("refunded {amount_cents} cents on {order_id}")
}

#[agent(
    context = Desk,
    instructions = "Look the order up, then refund the duplicate charge.",
    tools = [lookup_order, refund],
    handoff_description = "Refunds."
)]
pub(crate) struct Billing;

#[derive(Handoffs)]
pub(crate) enum Route {
    Billing(Billing),
}

#[agent(
    context = Desk,
    instructions = "Hand refunds to Billing.",
    handoffs = Route
)]
pub(crate) struct Triage;

/// The model: answers from the request (which agent, what the last item
/// is), so a replayed or restarted run gets the same answers; logs each
/// call's start and its end with the request's length.
pub(crate) struct ScriptedDesk {
    mock: MockModel,
    log: Option<Arc<PathBuf>>,
}

impl ScriptedDesk {
    pub(crate) fn new(log: Option<Arc<PathBuf>>) -> Self {
        ScriptedDesk {
            mock: MockModel::script([]),
            log,
        }
    }
}

fn answer(request: &ModelRequest) -> Step {
    let last = request.input.last().map(|item| &**item);
    match (&*request.agent, last) {
        ("Triage", _) => Step::handoff_via::<Route, Billing>(),
        ("Billing", Some(Item::ToolOutput(output))) if output.output.starts_with("refunded") => {
            Step::text(format!("Done: {}.", output.output))
        }
        ("Billing", Some(Item::ToolOutput(output))) if output.is_error => {
            Step::text(format!("No refund: {}", output.output))
        }
        ("Billing", Some(Item::ToolOutput(_))) => Step::tool_calls([call(
            refund {},
            json!({"order_id": "A-1001", "amount_cents": 24900}),
        )]),
        _ => Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1001"}))]),
    }
}

impl Model for ScriptedDesk {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        let line = format!("model {} {}", request.agent, request.input.len());
        if let Some(path) = &self.log {
            append(path, &format!("{line} start"));
        }
        self.mock.push([Step::respond(answer)]);
        let call = self.mock.call(request);
        Box::pin(async move {
            let response = call.await;
            if let Some(path) = &self.log {
                append(path, &format!("{line} done"));
            }
            response
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        self.mock.push([Step::respond(answer)]);
        self.mock.stream(request)
    }
}

/// The worker's agents: the runner on the scripted model, the context
/// built from the seed's log path and the call's idempotency key.
pub(crate) fn durable_agents(log: Option<PathBuf>) -> agents_core::temporal::DurableAgents<Desk> {
    durable_agents_with(log, |config| config)
}

/// [`durable_agents`] with the run configuration changed by `change`.
pub(crate) fn durable_agents_with(
    log: Option<PathBuf>,
    change: impl FnOnce(RunConfig) -> RunConfig,
) -> agents_core::temporal::DurableAgents<Desk> {
    use agents_core::temporal::DurableAgents;
    let log = log.map(Arc::new);
    let config = RunConfig::new()
        .model_call_timeout(std::time::Duration::from_secs(5))
        .tool_timeout(std::time::Duration::from_secs(5));
    let runner = Runner::new(ScriptedDesk::new(log.clone())).with_config(change(config));
    DurableAgents::new(runner, move |seed| Desk {
        log: log.clone(),
        key: seed.call.as_ref().map(|c| c.idempotency_key.clone()),
    })
    .agent(&Triage::agent())
}
