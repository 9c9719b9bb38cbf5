//! `#[tool]` tools inside real runs: every decoding or tool error reaches
//! the model as an error output and the run goes on.

use std::sync::atomic::AtomicU32;

use agents_core::Item;
use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call_named};
use serde_json::json;

use crate::forms::Shop;

/// Refunds part of an order. Amount in cents.
#[tool]
async fn refund(
    ctx: &RunContext<Shop>,
    /// Order id, e.g. "A-1001".
    order_id: String,
    amount_cents: u32,
) -> Result<String, ToolError> {
    // `forms::refund` without `needs_approval`.
    crate::forms::refund(ctx, order_id, amount_cents).await
}

fn billing() -> Agent<Shop> {
    Agent::<Shop>::builder("Billing")
        .tool(refund {})
        .build()
        .unwrap()
}

fn shop() -> Shop {
    Shop {
        refunds: AtomicU32::new(0),
    }
}

fn tool_outputs(model: &MockModel, request: usize) -> Vec<(String, bool)> {
    model.requests()[request]
        .input
        .iter()
        .filter_map(|item| match &**item {
            Item::ToolOutput(o) => Some((o.output.clone(), o.is_error)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn mistyped_arguments_reach_the_model_with_the_field_path() {
    let model = MockModel::script([
        Step::tool_calls([call_named(
            "refund",
            json!({"order_id": "A-1", "amount_cents": "5"}),
        )]),
        Step::text("Let me fix that."),
    ]);
    let result = Runner::new(model.clone())
        .run(&billing(), shop(), "refund 5")
        .await
        .unwrap();
    assert_eq!(result.final_output, "Let me fix that.");
    assert_eq!(
        tool_outputs(&model, 1),
        [(
            "invalid arguments for tool `refund`: amount_cents: invalid type: string \"5\", expected u32"
                .to_owned(),
            true
        )]
    );
}

#[tokio::test]
async fn a_missing_required_field_reaches_the_model() {
    let model = MockModel::script([
        Step::tool_calls([call_named("refund", json!({"order_id": "A-1"}))]),
        Step::tool_calls([call_named(
            "refund",
            json!({"order_id": "A-1", "amount_cents": 5}),
        )]),
        Step::text("Refunded."),
    ]);
    // The runner's path for what a real model may send; the mock would
    // refuse it by default.
    model.allow_unknown_tools();
    let result = Runner::new(model.clone())
        .run(&billing(), shop(), "refund")
        .await
        .unwrap();
    assert_eq!(
        tool_outputs(&model, 1),
        [(
            "invalid arguments for tool `refund`: missing field `amount_cents`".to_owned(),
            true
        )]
    );
    // The corrected call ran.
    assert!(
        tool_outputs(&model, 2)[1]
            .0
            .starts_with("refunded 5 on A-1")
    );
    assert_eq!(result.final_output, "Refunded.");
}

#[tokio::test]
async fn an_err_return_reaches_the_model_as_an_error_output() {
    let model = MockModel::script([
        Step::tool_calls([call_named(
            "refund",
            json!({"order_id": "A-1", "amount_cents": 0}),
        )]),
        Step::text("The amount must be positive."),
    ]);
    let result = Runner::new(model.clone())
        .run(&billing(), shop(), "refund 0")
        .await
        .unwrap();
    assert_eq!(result.final_output, "The amount must be positive.");
    assert_eq!(
        tool_outputs(&model, 1),
        [(
            "tool `refund` failed: amount must be positive".to_owned(),
            true
        )]
    );
}

#[tokio::test]
async fn the_tool_definition_carries_the_strict_schema() {
    let model = MockModel::script([Step::text("ok")]);
    Runner::new(model.clone())
        .run(&billing(), shop(), "hi")
        .await
        .unwrap();
    let tool = &model.requests()[0].tools[0];
    assert_eq!(tool.name, "refund");
    assert!(tool.strict);
    assert_eq!(tool.parameters["additionalProperties"], json!(false));
    assert_eq!(
        tool.parameters["properties"]["order_id"]["description"],
        "Order id, e.g. \"A-1001\"."
    );
}

#[tokio::test]
async fn an_unknown_field_reaches_the_model_as_an_error_for_a_strict_tool() {
    let model = MockModel::script([
        Step::tool_calls([call_named(
            "refund",
            json!({"order_id": "A-1", "amount_cents": 5, "currency": "EUR"}),
        )]),
        Step::text("Let me fix that."),
    ]);
    model.allow_unknown_tools();
    Runner::new(model.clone())
        .run(&billing(), shop(), "refund 5")
        .await
        .unwrap();
    assert_eq!(
        tool_outputs(&model, 1),
        [(
            "invalid arguments for tool `refund`: unknown field `currency`: the tool's parameters do not have it"
                .to_owned(),
            true
        )]
    );
}

#[test]
fn a_scripted_call_with_an_unknown_field_fails_when_the_script_is_built() {
    let built = std::panic::catch_unwind(|| {
        agents_testing::call(
            refund {},
            json!({"order_id": "A-1", "amount_cents": 5, "currency": "EUR"}),
        )
    });
    let message = *built.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("unknown field `currency`"), "{message}");
}
