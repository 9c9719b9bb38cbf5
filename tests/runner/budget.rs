//! Budgets: model calls, tool calls, tokens and cost, nested runs counted
//! toward the outer run.

use std::sync::atomic::{AtomicU32, Ordering};

use agents_core::context::{BudgetLimit, ModelPrice, PriceTable};
use agents_core::prelude::*;
use agents_core::{Budget, RunError};
use agents_testing::{MockModel, Step, call, call_named};
use serde_json::json;

static LOOKUPS: AtomicU32 = AtomicU32::new(0);

/// Looks an order up (counted).
#[tool]
fn lookup_order(order_id: String) -> String {
    LOOKUPS.fetch_add(1, Ordering::SeqCst);
    format!("{order_id}: paid")
}

/// Says hello (not counted).
#[tool]
fn greet() -> String {
    "hello".to_owned()
}

fn agent(model: &str) -> Agent<()> {
    Agent::<()>::builder("Clerk")
        .model(model)
        .tool(lookup_order {})
        .tool(greet {})
        .build()
        .unwrap()
}

fn exceeded(error: RunError) -> (BudgetLimit, agents_core::PartialRun) {
    match error {
        RunError::BudgetExceeded { limit, partial } => (limit, *partial),
        other => panic!("expected a budget error, got {other:?}"),
    }
}

fn greeting_turns(turns: usize, usage: Usage) -> MockModel {
    let mut steps: Vec<Step> = (0..turns)
        .map(|_| Step::tool_calls([call(greet {}, json!({}))]).with_usage(usage))
        .collect();
    steps.push(Step::text("done").with_usage(usage));
    let model = MockModel::script(steps);
    model.allow_unused_steps();
    model
}

#[tokio::test]
async fn the_model_call_count_is_checked_before_the_call() {
    let model = greeting_turns(2, Usage::default());
    let error = Runner::new(model.clone())
        .run(&agent("m"), (), "hi")
        .budget(Budget::new().max_model_calls(1))
        .await
        .unwrap_err();
    let (limit, partial) = exceeded(error);
    assert_eq!(limit, BudgetLimit::ModelCalls { max: 1, reached: 2 });
    assert_eq!(model.calls(), 1);
    assert_eq!(partial.new_items.len(), 2, "the first turn is kept");
}

#[tokio::test]
async fn a_budget_of_zero_stops_before_the_first_call() {
    let model = greeting_turns(0, Usage::default());
    let error = Runner::new(model.clone())
        .run(&agent("m"), (), "hi")
        .budget(Budget::new().max_model_calls(0))
        .await
        .unwrap_err();
    assert_eq!(
        exceeded(error).0,
        BudgetLimit::ModelCalls { max: 0, reached: 1 }
    );
    assert_eq!(model.calls(), 0);
}

#[tokio::test]
async fn tool_calls_over_the_count_do_not_run() {
    let before = LOOKUPS.load(Ordering::SeqCst);
    let model = MockModel::script([Step::tool_calls([
        call(lookup_order {}, json!({"order_id": "A-1"})),
        call(lookup_order {}, json!({"order_id": "A-2"})),
    ])]);
    let error = Runner::new(model)
        .run(&agent("m"), (), "hi")
        .budget(Budget::new().max_tool_calls(1))
        .await
        .unwrap_err();
    assert_eq!(
        exceeded(error).0,
        BudgetLimit::ToolCalls { max: 1, reached: 2 }
    );
    assert_eq!(LOOKUPS.load(Ordering::SeqCst), before, "no call ran");
}

#[tokio::test]
async fn input_tokens_are_checked_after_each_call() {
    let model = greeting_turns(3, Usage::new(100, 10));
    let error = Runner::new(model.clone())
        .run(&agent("m"), (), "hi")
        .budget(Budget::new().max_input_tokens(150))
        .await
        .unwrap_err();
    let (limit, partial) = exceeded(error);
    assert_eq!(
        limit,
        BudgetLimit::InputTokens {
            max: 150,
            reached: 200
        }
    );
    assert_eq!(partial.usage.input_tokens, 200, "the call's usage is kept");
    assert_eq!(model.calls(), 2);
}

#[tokio::test]
async fn output_tokens_have_their_own_limit() {
    let model = greeting_turns(3, Usage::new(1, 40));
    let error = Runner::new(model)
        .run(&agent("m"), (), "hi")
        .budget(Budget::new().max_output_tokens(100))
        .await
        .unwrap_err();
    assert_eq!(
        exceeded(error).0,
        BudgetLimit::OutputTokens {
            max: 100,
            reached: 120
        }
    );
}

#[tokio::test]
async fn total_tokens_add_input_and_output() {
    let model = greeting_turns(3, Usage::new(30, 30));
    let error = Runner::new(model)
        .run(&agent("m"), (), "hi")
        .budget(Budget::new().max_total_tokens(100))
        .await
        .unwrap_err();
    assert_eq!(
        exceeded(error).0,
        BudgetLimit::TotalTokens {
            max: 100,
            reached: 120
        }
    );
}

fn prices() -> PriceTable {
    PriceTable::new().price("gpt-4o-mini", ModelPrice::new(0.15, 0.075, 0.60))
}

#[tokio::test]
async fn cost_comes_from_the_price_table() {
    // 400,000 input and 100,000 output tokens a call: 0.06 + 0.06 = $0.12.
    let model = greeting_turns(3, Usage::new(400_000, 100_000));
    let error = Runner::new(model.clone())
        .run(&agent("gpt-4o-mini"), (), "hi")
        .budget(Budget::new().max_cost(0.20, prices()))
        .await
        .unwrap_err();
    let BudgetLimit::Cost {
        max,
        reached: Some(reached),
        unpriced_model: None,
    } = exceeded(error).0
    else {
        panic!("expected a cost over the budget");
    };
    assert_eq!(max, 0.20);
    assert!((reached - 0.24).abs() < 1e-9, "{reached}");
    assert_eq!(model.calls(), 2);
}

#[tokio::test]
async fn under_a_cost_budget_an_unpriced_model_is_not_free() {
    let model = greeting_turns(1, Usage::new(10, 10));
    let error = Runner::new(model)
        .run(&agent("mystery-model"), (), "hi")
        .budget(Budget::new().max_cost(100.0, prices()))
        .await
        .unwrap_err();
    let (limit, _) = exceeded(error);
    assert_eq!(
        limit,
        BudgetLimit::Cost {
            max: 100.0,
            reached: None,
            unpriced_model: Some("mystery-model".to_owned())
        }
    );
    assert!(limit.to_string().contains("unknown"), "{limit}");
}

#[tokio::test]
async fn a_run_within_its_budget_completes() {
    let model = greeting_turns(1, Usage::new(10, 10));
    let result = Runner::new(model)
        .run(&agent("gpt-4o-mini"), (), "hi")
        .budget(
            Budget::new()
                .max_model_calls(2)
                .max_tool_calls(1)
                .max_total_tokens(40)
                .max_cost(1.0, prices()),
        )
        .await
        .unwrap();
    assert_eq!(result.final_output, "done");
}

#[tokio::test]
async fn nested_runs_count_toward_the_outer_runs_budget() {
    let inner = Agent::<()>::builder("Researcher")
        .tool(greet {})
        .build()
        .unwrap();
    let outer = Agent::<()>::builder("Desk")
        .tool(inner.as_tool("research", "Research."))
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call_named("research", json!({"input": "A-1"}))]),
        // The nested run: calls 2 and 3.
        Step::tool_calls([call(greet {}, json!({}))]),
        Step::text("researched"),
        Step::text("done"),
    ]);
    model.allow_unused_steps();
    let error = Runner::new(model.clone())
        .run(&outer, (), "hi")
        .budget(Budget::new().max_model_calls(3))
        .await
        .unwrap_err();
    assert_eq!(
        exceeded(error).0,
        BudgetLimit::ModelCalls { max: 3, reached: 4 }
    );
    assert_eq!(model.calls(), 3);
}

#[tokio::test]
async fn a_resumed_run_goes_on_from_what_it_spent() {
    // Three turns of greetings, stopped by max turns after two model calls;
    // resumed under a budget of three model calls, it gets one more, not
    // three.
    let model = greeting_turns(3, Usage::new(100, 10));
    let runner = Runner::new(model.clone());
    let error = runner
        .run(&agent("m"), (), "hi")
        .max_turns(2)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RunError::MaxTurnsExceeded { .. }),
        "{error:?}"
    );
    let state = error.into_state();
    let error = runner
        .resume(&agent("m"), (), state)
        .max_turns(10)
        .budget(Budget::new().max_model_calls(3).max_input_tokens(1_000))
        .await
        .unwrap_err();
    let (limit, partial) = exceeded(error);
    assert_eq!(limit, BudgetLimit::ModelCalls { max: 3, reached: 4 });
    assert_eq!(model.calls(), 3);
    assert_eq!(
        partial.tool_executions.len(),
        3,
        "the calls before the stop count too"
    );
}
