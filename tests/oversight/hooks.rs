//! Lifecycle hooks: the exact call order, and a tool-start veto.

use std::sync::{Arc, Mutex};

use agents_core::hooks::{RunHooks, ToolStartDecision};
use agents_core::item::{ToolCall, ToolOutput};
use agents_core::model::{ModelRequest, ModelResponse};
use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call};
use serde_json::json;

/// Records every event as a line.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }

    fn lines(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

/// Hooks that log with a prefix (`run` or `agent`).
struct Recorder {
    prefix: &'static str,
    log: Log,
}

impl RunHooks<()> for Recorder {
    async fn on_agent_start(&self, ctx: &RunContext<()>, agent: &str) {
        self.log.push(format!(
            "{} agent_start {agent} (turn {})",
            self.prefix,
            ctx.turn()
        ));
    }
    async fn on_agent_end(&self, _ctx: &RunContext<()>, agent: &str, output: &str) {
        self.log
            .push(format!("{} agent_end {agent}: {output}", self.prefix));
    }
    async fn on_model_start(&self, _ctx: &RunContext<()>, agent: &str, request: &ModelRequest) {
        self.log.push(format!(
            "{} model_start {agent} ({} items)",
            self.prefix,
            request.input.len()
        ));
    }
    async fn on_model_end(&self, _ctx: &RunContext<()>, agent: &str, response: &ModelResponse) {
        self.log.push(format!(
            "{} model_end {agent} ({} items)",
            self.prefix,
            response.output.len()
        ));
    }
    async fn on_tool_start(
        &self,
        _ctx: &RunContext<()>,
        agent: &str,
        call: &ToolCall,
    ) -> ToolStartDecision {
        self.log
            .push(format!("{} tool_start {agent} {}", self.prefix, call.name));
        ToolStartDecision::Allow
    }
    async fn on_tool_end(
        &self,
        _ctx: &RunContext<()>,
        agent: &str,
        call: &ToolCall,
        output: &ToolOutput,
    ) {
        self.log.push(format!(
            "{} tool_end {agent} {}: {}",
            self.prefix, call.name, output.output
        ));
    }
    async fn on_handoff(&self, _ctx: &RunContext<()>, from: &str, to: &str) {
        self.log
            .push(format!("{} handoff {from} -> {to}", self.prefix));
    }
}

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: paid")
}

#[tokio::test]
async fn hooks_fire_in_order_for_a_run_with_a_tool_call_and_a_handoff() {
    let log = Log::default();
    let billing = Agent::<()>::builder("Billing")
        .hooks(Recorder {
            prefix: "agent",
            log: log.clone(),
        })
        .build()
        .unwrap();
    let triage = Agent::<()>::builder("Triage")
        .tool(lookup_order {})
        .handoff(&billing)
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::handoff_to("Billing"),
        Step::text("Refunded."),
    ]);
    Runner::new(model)
        .run(&triage, (), "refund A-1")
        .hooks(Recorder {
            prefix: "run",
            log: log.clone(),
        })
        .await
        .unwrap();
    insta::assert_snapshot!(log.lines());
}

/// Denies every refund.
struct NoRefunds;

impl RunHooks<()> for NoRefunds {
    async fn on_tool_start(
        &self,
        _ctx: &RunContext<()>,
        _agent: &str,
        call: &ToolCall,
    ) -> ToolStartDecision {
        if call.name == "lookup_order" {
            ToolStartDecision::Deny("lookups are paused for maintenance".into())
        } else {
            ToolStartDecision::Allow
        }
    }
}

#[tokio::test]
async fn a_tool_start_hook_can_deny_a_call() {
    let agent = Agent::<()>::builder("Desk")
        .tool(lookup_order {})
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::text("Lookups are paused."),
    ]);
    let result = Runner::new(model.clone())
        .run(&agent, (), "find A-1")
        .hooks(NoRefunds)
        .await
        .unwrap();
    assert_eq!(result.final_output, "Lookups are paused.");
    let agents_core::Item::ToolOutput(output) = &*model.requests()[1].input[2] else {
        panic!("expected the denial as the tool output");
    };
    assert_eq!(
        output.output,
        "tool `lookup_order` was not run: lookups are paused for maintenance"
    );
    assert!(output.is_error);
}
