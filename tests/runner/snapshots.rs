//! Full transcripts, snapshot-tested.

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, assert_run_snapshot, call_named};
use serde_json::json;

use crate::support::{echo, failing, panicking, refund};

#[tokio::test]
async fn triage_hands_off_to_billing_which_refunds() {
    let billing: Agent<()> = Agent::builder("Billing")
        .instructions("Handle refunds.")
        .tool(refund())
        .build()
        .unwrap();
    let triage: Agent<()> = Agent::builder("Triage")
        .instructions("Route the customer.")
        .tool(echo())
        .handoff(&billing)
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call_named("echo", json!({"text": "order A-1001"}))])
            .with_usage(Usage::new(120, 15)),
        Step::text("Billing will help.")
            .and(Step::handoff_to("Billing"))
            .with_usage(Usage::new(160, 9)),
        Step::tool_calls([call_named(
            "refund",
            json!({"order_id": "A-1001", "amount_cents": 2500}),
        )])
        .with_usage(Usage::new(200, 20)),
        Step::text("I refunded 25.00 on A-1001.").with_usage(Usage::new(240, 11)),
    ]);
    let result = Runner::new(model.clone())
        .run(&triage, (), "I was charged twice for A-1001")
        .await
        .unwrap();
    assert_run_snapshot!(result);
    model.assert_complete();
}

#[tokio::test]
async fn tool_errors_go_back_to_the_model() {
    let agent: Agent<()> = Agent::builder("Clerk")
        .tool(refund())
        .tool(failing())
        .tool(panicking())
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([
            call_named("refund", json!({"order_id": "A-1", "amount_cents": "5"})),
            call_named("fail", json!({})),
            call_named("explode", json!({})),
            call_named("lookup", json!({"id": 1})),
        ]),
        Step::text("Something went wrong on our side."),
    ]);
    // `lookup` is not one of the clerk's tools, on purpose.
    model.allow_unknown_tools();
    let result = Runner::new(model)
        .run(&agent, (), "refund 5 cents")
        .await
        .unwrap();
    assert_run_snapshot!(result);
}

#[tokio::test]
async fn max_turns_transcript_keeps_the_partial_run() {
    let agent: Agent<()> = Agent::builder("Looper").tool(echo()).build().unwrap();
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "again"})),
        Step::tool_call("echo", json!({"text": "and again"})),
    ]);
    let error = Runner::new(model)
        .run(&agent, (), "loop")
        .max_turns(2)
        .await
        .unwrap_err();
    assert_run_snapshot!(error);
}
