//! Execution records: one per tool call, nested runs included.

use std::time::Duration;

use agents_core::prelude::*;
use agents_core::run::RunStatus;
use agents_testing::{MockModel, Step, call, call_named};
use serde_json::json;

/// Looks an order up, slowly.
#[tool]
async fn lookup_order(order_id: String) -> String {
    tokio::time::sleep(Duration::from_millis(30)).await;
    format!("{order_id}: paid")
}

/// Always fails.
#[tool]
fn broken() -> Result<String, ToolError> {
    Err(ToolError::new("store down"))
}

#[tokio::test]
async fn every_tool_call_has_a_record_in_call_order() {
    let agent = Agent::<()>::builder("Clerk")
        .tool(lookup_order {})
        .tool(broken {})
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([
            call(lookup_order {}, json!({"order_id": "A-1"})),
            call(broken {}, json!({})),
        ]),
        Step::text("A-1 is paid."),
    ]);
    let result = Runner::new(model).run(&agent, (), "A-1?").await.unwrap();
    assert_eq!(result.status, RunStatus::Degraded);
    let records = &result.tool_executions;
    assert_eq!(records.len(), 2);
    let lookup = &records[0];
    assert_eq!(
        (
            &*lookup.agent,
            lookup.call().name.as_str(),
            lookup.call().call_id.as_str()
        ),
        ("Clerk", "lookup_order", "call_1")
    );
    assert_eq!(lookup.call().arguments, r#"{"order_id":"A-1"}"#);
    assert!(lookup.succeeded());
    assert_eq!(lookup.output().output, "A-1: paid");
    assert!(
        lookup.duration >= Duration::from_millis(30),
        "{:?}",
        lookup.duration
    );
    assert!(lookup.path.is_empty());
    let failed = &records[1];
    assert_eq!(failed.call().name, "broken");
    assert!(!failed.succeeded());
    assert_eq!(failed.output().output, "tool `broken` failed: store down");
    // Parallel calls start together.
    let apart = failed
        .started_at
        .duration_since(lookup.started_at)
        .unwrap_or_default();
    assert!(apart < Duration::from_millis(30), "{apart:?}");
}

#[tokio::test]
async fn a_nested_runs_calls_are_listed_with_their_path() {
    let inner = Agent::<()>::builder("Researcher")
        .tool(lookup_order {})
        .build()
        .unwrap();
    let outer = Agent::<()>::builder("Desk")
        .tool(inner.as_tool("research", "Research an order."))
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call_named("research", json!({"input": "A-1"}))]),
        // The nested run: a lookup, then its answer.
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::text("A-1 is paid"),
        Step::text("Your order is paid."),
    ]);
    let result = Runner::new(model).run(&outer, (), "A-1?").await.unwrap();
    let listed: Vec<(&str, &str, Vec<&str>)> = result
        .tool_executions
        .iter()
        .map(|record| {
            (
                &*record.agent,
                record.call().name.as_str(),
                record.path.iter().map(|agent| &**agent).collect(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("Desk", "research", vec![]),
            ("Researcher", "lookup_order", vec!["Desk"]),
        ]
    );
    let research = &result.tool_executions[0];
    assert_eq!(research.output().output, "A-1 is paid");
    assert!(research.duration >= result.tool_executions[1].duration);
}

#[tokio::test]
async fn a_partial_run_keeps_the_records_of_finished_calls() {
    let agent = Agent::<()>::builder("Clerk")
        .tool(lookup_order {})
        .build()
        .unwrap();
    let model = MockModel::script([Step::tool_calls([call(
        lookup_order {},
        json!({"order_id": "A-1"}),
    )])]);
    let error = Runner::new(model)
        .run(&agent, (), "A-1?")
        .max_turns(1)
        .await
        .unwrap_err();
    let partial = error.partial();
    assert_eq!(partial.tool_executions.len(), 1);
    assert!(partial.tool_executions[0].succeeded());
}
