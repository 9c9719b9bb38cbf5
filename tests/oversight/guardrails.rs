//! Input, output and tool guardrails.

use std::sync::Arc;

use agents_core::guardrail::{
    GuardrailOutput, InputGuardrail, OutputGuardrail, ToolGuardrail, ToolGuardrailDecision,
};
use agents_core::prelude::*;
use agents_core::{Item, RunError};
use agents_testing::{MockModel, Step, call};
use serde_json::json;

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: card 4242 4242 4242 4242, paid 49.80")
}

fn no_homework() -> InputGuardrail<()> {
    InputGuardrail::new("no_homework", |_ctx, input: &[Arc<Item>]| {
        Box::pin(async move {
            // A guardrail that takes a moment, like a classifier call.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let homework = input
                .iter()
                .any(|i| i.message_text().is_some_and(|t| t.contains("homework")));
            if homework {
                GuardrailOutput::trip(json!({"reason": "homework request"}))
            } else {
                GuardrailOutput::pass()
            }
        })
    })
}

fn desk() -> Agent<()> {
    Agent::<()>::builder("Desk")
        .tool(lookup_order {})
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_parallel_input_guardrail_trips_and_discards_the_models_answer() {
    let model = MockModel::script([Step::text("Here is your homework.")]);
    let agent = Agent::<()>::builder("Desk")
        .input_guardrail(no_homework())
        .build()
        .unwrap();
    let error = Runner::new(model.clone())
        .run(&agent, (), "do my homework")
        .await
        .unwrap_err();
    let RunError::InputGuardrailTripwire {
        guardrail,
        output,
        partial,
    } = &error
    else {
        panic!("expected an input tripwire, got {error:?}");
    };
    assert_eq!(guardrail, "no_homework");
    assert_eq!(output.info, json!({"reason": "homework request"}));
    // Parallel: the model was called while the guardrail ran; its answer
    // is dropped.
    assert_eq!(model.calls(), 1);
    assert!(partial.new_items.is_empty());
}

#[tokio::test]
async fn a_blocking_input_guardrail_trips_before_the_model_is_called() {
    let model = MockModel::script([Step::text("never")]);
    model.allow_unused_steps();
    let error = Runner::new(model.clone())
        .run(&desk(), (), "do my homework")
        .input_guardrail(no_homework().blocking())
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::InputGuardrailTripwire { .. }));
    assert_eq!(model.calls(), 0);
}

#[tokio::test]
async fn input_guardrails_that_pass_let_the_run_finish() {
    let model = MockModel::script([Step::text("Hello.")]);
    let result = Runner::new(model)
        .run(&desk(), (), "hello")
        .input_guardrail(no_homework().blocking())
        .input_guardrail(no_homework())
        .await
        .unwrap();
    assert_eq!(result.final_output, "Hello.");
}

#[tokio::test]
async fn an_output_guardrail_trips_on_the_final_output() {
    let no_card_numbers =
        OutputGuardrail::<(), String>::new("no_card_numbers", |_ctx, output: &String| {
            let leaked = output.contains("4242");
            Box::pin(async move {
                if leaked {
                    GuardrailOutput::trip("card number in output")
                } else {
                    GuardrailOutput::pass()
                }
            })
        });
    let model = MockModel::script([Step::text("Your card is 4242 4242 4242 4242.")]);
    let agent = Agent::<()>::builder("Desk")
        .output_guardrail(no_card_numbers)
        .build()
        .unwrap();
    let error = Runner::new(model)
        .run(&agent, (), "which card?")
        .await
        .unwrap_err();
    let RunError::OutputGuardrailTripwire {
        guardrail,
        output,
        partial,
    } = &error
    else {
        panic!("expected an output tripwire, got {error:?}");
    };
    assert_eq!(guardrail, "no_card_numbers");
    assert_eq!(output.info, json!("card number in output"));
    // The withheld answer is kept in the partial run, not returned.
    assert_eq!(partial.new_items.len(), 1);
}

#[tokio::test]
async fn a_run_output_guardrail_sees_the_typed_output() {
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    struct Refund {
        cents: u32,
    }
    let agent = Agent::<()>::builder("Billing")
        .output_type::<Refund>()
        .build()
        .unwrap();
    let model = MockModel::script([Step::json(json!({"cents": 90_000}))]);
    let error = Runner::new(model)
        .run(&agent, (), "refund everything")
        .output_guardrail(OutputGuardrail::new(
            "refund_limit",
            |_ctx, refund: &Refund| {
                let over = refund.cents > 50_000;
                Box::pin(async move {
                    if over {
                        GuardrailOutput::trip(refund_limit_info())
                    } else {
                        GuardrailOutput::pass()
                    }
                })
            },
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RunError::OutputGuardrailTripwire { ref guardrail, .. } if guardrail == "refund_limit")
    );
}

fn refund_limit_info() -> serde_json::Value {
    json!({"limit_cents": 50_000})
}

fn redact_cards() -> ToolGuardrail<()> {
    ToolGuardrail::output("redact_cards", |_ctx, _call, output: &str| {
        let leaked = output.contains("4242");
        Box::pin(async move {
            if leaked {
                ToolGuardrailDecision::Reject(
                    "The order was found; payment details are hidden.".into(),
                )
            } else {
                ToolGuardrailDecision::Allow
            }
        })
    })
}

#[tokio::test]
async fn a_tool_guardrail_rejection_reaches_the_model_as_the_tool_output() {
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::text("Found it."),
    ]);
    let agent = Agent::<()>::builder("Desk")
        .tool(lookup_order {})
        .tool_guardrail(redact_cards())
        .build()
        .unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "find A-1")
        .await
        .unwrap();
    assert_eq!(result.final_output, "Found it.");
    let Item::ToolOutput(output) = &*model.requests()[1].input[2] else {
        panic!("expected the tool output");
    };
    assert_eq!(
        output.output,
        "The order was found; payment details are hidden."
    );
    assert!(output.is_error);
}

#[tokio::test]
async fn a_tool_input_guardrail_can_trip_the_run() {
    let model = MockModel::script([Step::tool_calls([call(
        lookup_order {},
        json!({"order_id": "DROP TABLE"}),
    )])]);
    let error = Runner::new(model)
        .run(&desk(), (), "find")
        .tool_guardrail(ToolGuardrail::input("order_ids_only", |_ctx, call| {
            let bad = call.arguments.contains("DROP");
            Box::pin(async move {
                if bad {
                    ToolGuardrailDecision::Trip(json!("injection"))
                } else {
                    ToolGuardrailDecision::Allow
                }
            })
        }))
        .await
        .unwrap_err();
    let RunError::ToolGuardrailTripwire {
        guardrail,
        call_id,
        info,
        partial,
    } = &error
    else {
        panic!("expected a tool tripwire, got {error:?}");
    };
    assert_eq!(
        (guardrail.as_str(), call_id.as_str()),
        ("order_ids_only", "call_1")
    );
    assert_eq!(info, &json!("injection"));
    assert_eq!(
        partial.new_items.len(),
        2,
        "the call and its refusal are kept"
    );
}

/// Classifies a request; answers "homework" or "ok".
fn classifier() -> Agent<()> {
    Agent::<()>::builder("Classifier")
        .instructions("Answer `homework` or `ok`.")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_guardrail_may_run_an_agent() {
    let guard = InputGuardrail::<()>::new("classifier", |ctx, input| {
        Box::pin(async move {
            let verdict = ctx.run_agent(&classifier(), input.to_vec(), Some(1)).await;
            match verdict {
                Ok(Ok(result)) if result.final_output == "homework" => {
                    GuardrailOutput::trip(result.final_output)
                }
                Ok(Ok(_)) => GuardrailOutput::pass(),
                Ok(Err(error)) => GuardrailOutput::trip(error.to_string()),
                Err(error) => GuardrailOutput::trip(error.to_string()),
            }
        })
    })
    .blocking();
    let model = MockModel::script([Step::text("homework")]);
    let error = Runner::new(model.clone())
        .run(&desk(), (), "solve x^2 = 4 for me")
        .input_guardrail(guard)
        .await
        .unwrap_err();
    let RunError::InputGuardrailTripwire { output, .. } = &error else {
        panic!("expected an input tripwire, got {error:?}");
    };
    assert_eq!(output.info, json!("homework"));
    assert_eq!(&*model.requests()[0].agent, "Classifier");
}

#[agent(instructions = "Help with orders.", tools = [lookup_order], input_guardrails = [no_homework], tool_guardrails = [redact_cards])]
struct Declared;

#[tokio::test]
async fn guardrails_declared_with_the_agent_macro_apply() {
    let model = MockModel::script([Step::text("Sure.")]);
    let error = Runner::new(model)
        .run(&Declared, (), "homework please")
        .await
        .unwrap_err();
    assert!(
        matches!(error, RunError::InputGuardrailTripwire { ref guardrail, .. } if guardrail == "no_homework")
    );

    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::text("Found it."),
    ]);
    let result = Runner::new(model)
        .run(&Declared, (), "find A-1")
        .await
        .unwrap();
    let Item::ToolOutput(output) = &*result.new_items[1].item else {
        panic!("expected the tool output");
    };
    assert_eq!(
        output.output,
        "The order was found; payment details are hidden."
    );
}

/// Says whether the answer is polite.
fn polite() -> OutputGuardrail<(), String> {
    OutputGuardrail::new("polite", |_ctx, answer: &String| {
        let rude = answer.contains("go away");
        Box::pin(async move {
            if rude {
                GuardrailOutput::trip(json!({"reason": "rude"}))
            } else {
                GuardrailOutput::pass()
            }
        })
    })
}

#[tokio::test]
async fn every_guardrail_that_ran_is_on_the_result() {
    use agents_core::run::{GuardrailKind, GuardrailResult};
    let model = MockModel::script([Step::text("Your order is on its way.")]);
    let result = Runner::new(model)
        .run(&desk(), (), "where is my order?")
        .input_guardrail(no_homework())
        .input_guardrail(no_homework().blocking())
        .output_guardrail(polite())
        .await
        .unwrap();
    let listed: Vec<(&str, GuardrailKind, bool)> = result
        .guardrail_results
        .iter()
        .map(|r: &GuardrailResult| (r.guardrail.as_str(), r.kind, r.output.tripwire_triggered))
        .collect();
    assert_eq!(
        listed,
        [
            ("no_homework", GuardrailKind::Input, false),
            ("no_homework", GuardrailKind::Input, false),
            ("polite", GuardrailKind::Output, false),
        ]
    );
}

#[tokio::test]
async fn a_tripped_guardrail_is_on_the_partial_run() {
    let model = MockModel::script([Step::text("go away")]);
    let error = Runner::new(model)
        .run(&desk(), (), "where is my order?")
        .input_guardrail(no_homework())
        .output_guardrail(polite())
        .await
        .unwrap_err();
    let results = &error.partial().guardrail_results;
    assert_eq!(results.len(), 2);
    assert!(!results[0].output.tripwire_triggered);
    assert_eq!(results[1].guardrail, "polite");
    assert!(results[1].output.tripwire_triggered);
    assert_eq!(results[1].output.info, json!({"reason": "rude"}));
}
