//! Human approval: pause, store, decide, resume.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use agents_core::prelude::*;
use agents_core::run::{ApprovalDecision, InvalidStateKind, RunState};
use agents_core::{Item, RunError};
use agents_testing::{MockModel, Step, call};
use serde_json::json;

/// The shop: counts refunds actually executed.
#[derive(Default)]
pub(crate) struct Shop {
    pub(crate) refunds: AtomicU32,
}

/// Refund part of an order. Amount in cents.
#[tool(needs_approval)]
fn refund(ctx: &RunContext<Arc<Shop>>, order_id: String, amount_cents: u32) -> String {
    ctx.refunds.fetch_add(1, Ordering::SeqCst);
    format!("refunded {amount_cents} on {order_id}")
}

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: paid 49.80")
}

fn billing() -> Agent<Arc<Shop>> {
    Agent::<Arc<Shop>>::builder("Billing")
        .tool(refund {})
        .tool(lookup_order {})
        .build()
        .unwrap()
}

fn pause(error: RunError) -> RunState {
    match error {
        RunError::ApprovalRequired { state } => *state,
        other => panic!("expected a pause for approval, got {other:?}"),
    }
}

#[tokio::test]
async fn approve_after_a_json_round_trip_runs_the_tool_once_and_finishes() {
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([
        Step::tool_calls([
            call(lookup_order {}, json!({"order_id": "A-1"})),
            call(refund {}, json!({"order_id": "A-1", "amount_cents": 500})),
        ]),
        Step::text("Refunded 5.00."),
    ]);
    let runner = Runner::new(model.clone());
    let state = pause(
        runner
            .run(&billing(), Arc::clone(&shop), "refund A-1")
            .await
            .unwrap_err(),
    );

    assert_eq!(state.pending().len(), 1);
    let pending = &state.pending()[0];
    assert_eq!(
        (
            pending.agent.as_str(),
            pending.tool.as_str(),
            pending.call_id.as_str()
        ),
        ("Billing", "refund", "call_2")
    );
    assert_eq!(
        pending.arguments,
        r#"{"amount_cents":500,"order_id":"A-1"}"#
    );
    // Nothing of the paused turn ran: not even the tool that needs no approval.
    assert_eq!(shop.refunds.load(Ordering::SeqCst), 0);
    assert_eq!(state.run.new_items.len(), 2);

    // Stored as JSON, read back in "another process".
    let stored = serde_json::to_string(&state).unwrap();
    let mut state: RunState = serde_json::from_str(&stored).unwrap();
    state.approve("call_2").unwrap();

    let result = runner
        .resume(&billing(), Arc::clone(&shop), state)
        .await
        .unwrap();
    assert_eq!(result.final_output, "Refunded 5.00.");
    assert_eq!(
        shop.refunds.load(Ordering::SeqCst),
        1,
        "the approved tool ran exactly once"
    );
    // Call items are not duplicated: two calls, two outputs, one answer.
    let kinds: Vec<&str> = result
        .new_items
        .iter()
        .map(|i| match &*i.item {
            Item::ToolCall(_) => "call",
            Item::ToolOutput(_) => "output",
            Item::AssistantMessage { .. } => "message",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["call", "call", "output", "output", "message"]);
    assert_eq!(result.turns, 2);
    assert_eq!(result.usage.requests, 2);
    model.assert_complete();
}

#[tokio::test]
async fn a_rejected_call_sends_the_rejection_to_the_model() {
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([
        Step::tool_calls([call(
            refund {},
            json!({"order_id": "A-1", "amount_cents": 90_000}),
        )]),
        Step::text("I cannot refund that much."),
    ]);
    let runner = Runner::new(model.clone());
    let mut state = pause(
        runner
            .run(&billing(), Arc::clone(&shop), "refund all")
            .await
            .unwrap_err(),
    );
    state
        .reject("call_1", "A manager must approve refunds above 500.00.")
        .unwrap();

    let result = runner
        .resume(&billing(), Arc::clone(&shop), state)
        .await
        .unwrap();
    assert_eq!(result.final_output, "I cannot refund that much.");
    assert_eq!(shop.refunds.load(Ordering::SeqCst), 0);
    let Item::ToolOutput(output) = &*model.requests()[1].input[2] else {
        panic!("expected the rejection as the tool output");
    };
    assert_eq!(
        output.output,
        "A manager must approve refunds above 500.00."
    );
}

#[tokio::test]
async fn always_approve_covers_later_calls_of_the_tool() {
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([
        Step::tool_calls([call(
            refund {},
            json!({"order_id": "A-1", "amount_cents": 100}),
        )]),
        Step::tool_calls([call(
            refund {},
            json!({"order_id": "A-2", "amount_cents": 200}),
        )]),
        Step::text("Both refunded."),
    ]);
    let runner = Runner::new(model.clone());
    let mut state = pause(
        runner
            .run(&billing(), Arc::clone(&shop), "refund both")
            .await
            .unwrap_err(),
    );
    state.approve_always("refund").unwrap();
    assert_eq!(state.always.get("refund"), Some(&ApprovalDecision::Approve));

    let result = runner
        .resume(&billing(), Arc::clone(&shop), state)
        .await
        .unwrap();
    assert_eq!(result.final_output, "Both refunded.");
    assert_eq!(shop.refunds.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_undecided_call_pauses_again() {
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([Step::tool_calls([call(
        refund {},
        json!({"order_id": "A-1", "amount_cents": 1}),
    )])]);
    let runner = Runner::new(model.clone());
    let state = pause(
        runner
            .run(&billing(), Arc::clone(&shop), "refund")
            .await
            .unwrap_err(),
    );
    let again = pause(
        runner
            .resume(&billing(), Arc::clone(&shop), state.clone())
            .await
            .unwrap_err(),
    );
    assert_eq!(again.pending(), state.pending());
    assert_eq!(again.run.new_items.len(), 1);
    assert_eq!(
        model.calls(),
        1,
        "resuming an undecided pause does not call the model"
    );
}

#[tokio::test]
async fn a_run_stopped_by_max_turns_resumes_with_a_higher_limit() {
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-2"}))]),
        Step::text("Both orders are paid."),
    ]);
    let runner = Runner::new(model.clone());
    let error = runner
        .run(&billing(), Arc::clone(&shop), "check")
        .max_turns(1)
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::MaxTurnsExceeded { .. }));
    let state = error.into_state();

    let result = runner
        .resume(&billing(), Arc::clone(&shop), state)
        .max_turns(3)
        .await
        .unwrap();
    assert_eq!(result.final_output, "Both orders are paid.");
    assert_eq!(result.turns, 3);
    assert_eq!(result.new_items.len(), 5);
    model.assert_complete();
}

#[tokio::test]
async fn a_committed_version_1_state_resumes_only_where_unsealed_states_are_accepted() {
    // A paused run written by schema version 1 (before states were sealed);
    // see fixtures/run_state_v1.json.
    let stored = include_str!("fixtures/run_state_v1.json");
    let mut state: RunState = serde_json::from_str(stored).unwrap();
    assert_eq!(state.schema_version, 1);
    assert_eq!(state.pending()[0].call_id, "call_7");
    state.approve("call_7").unwrap();

    let shop = Arc::new(Shop::default());
    let model = MockModel::script([Step::text("Done.")]);
    let refused = Runner::new(model.clone())
        .resume(&billing(), Arc::clone(&shop), state.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            RunError::InvalidState {
                kind: InvalidStateKind::Unsealed,
                ..
            }
        ),
        "{refused:?}"
    );
    let result = Runner::new(model.clone())
        .accept_unsealed_states(true)
        .resume(&billing(), Arc::clone(&shop), state)
        .await
        .unwrap();
    assert_eq!(result.final_output, "Done.");
    assert_eq!(shop.refunds.load(Ordering::SeqCst), 1);
    assert_eq!(&*result.run_id, "run_sample");
    assert_eq!(
        *model.requests()[0].input[2],
        Item::tool_output("call_7", "refunded 250 on A-9")
    );
}

#[tokio::test]
async fn a_state_from_a_newer_release_is_refused() {
    let mut state: RunState =
        serde_json::from_str(include_str!("fixtures/run_state_v1.json")).unwrap();
    state.schema_version = 99;
    let model = MockModel::script([]);
    let error = Runner::new(model)
        .resume(&billing(), Arc::new(Shop::default()), state)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot resume (Version): the state has schema version 99, this release reads up to 2"
    );
}

#[tokio::test]
async fn an_approval_rule_decides_from_the_arguments() {
    /// Refund part of an order. Amount in cents.
    #[tool]
    fn quick_refund(ctx: &RunContext<Arc<Shop>>, order_id: String, amount_cents: u32) -> String {
        ctx.refunds.fetch_add(1, Ordering::SeqCst);
        format!("refunded {amount_cents} on {order_id}")
    }
    // Refunds above 100.00 need a person.
    let guarded = agents_core::tool::with_approval(
        quick_refund {},
        |_ctx: &RunContext<Arc<Shop>>, arguments: &str| {
            serde_json::from_str::<serde_json::Value>(arguments)
                .ok()
                .and_then(|v| v["amount_cents"].as_u64())
                .is_none_or(|cents| cents > 10_000)
        },
    );
    let agent = Agent::<Arc<Shop>>::builder("Billing")
        .tool(guarded)
        .build()
        .unwrap();
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([
        Step::tool_calls([call(
            quick_refund {},
            json!({"order_id": "A-1", "amount_cents": 500}),
        )]),
        Step::tool_calls([call(
            quick_refund {},
            json!({"order_id": "A-2", "amount_cents": 50_000}),
        )]),
    ]);
    let runner = Runner::new(model.clone());
    let state = pause(
        runner
            .run(&agent, Arc::clone(&shop), "refund")
            .await
            .unwrap_err(),
    );
    // The small refund ran without asking; the large one waits.
    assert_eq!(shop.refunds.load(Ordering::SeqCst), 1);
    assert_eq!(state.pending().len(), 1);
    assert_eq!(
        state.pending()[0].arguments,
        r#"{"amount_cents":50000,"order_id":"A-2"}"#
    );
    model.assert_complete();
}
