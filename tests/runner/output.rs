//! Structured output and model settings.

use agents_core::prelude::*;
use agents_core::{RunConfig, RunError};
use agents_testing::{MockModel, Step};
use serde_json::json;

#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    /// The order refunded.
    order_id: String,
    /// Amount refunded, in cents.
    refunded_cents: u32,
}

fn billing() -> Agent<(), Receipt> {
    Agent::<()>::builder("Billing")
        .instructions("Refund, then answer with a receipt.")
        .output_type::<Receipt>()
        .build()
        .unwrap()
}

#[tokio::test]
async fn structured_output_parses_into_the_output_type() {
    let model = MockModel::script([Step::json(
        json!({"order_id": "A-1001", "refunded_cents": 2500}),
    )]);
    let result = Runner::new(model.clone())
        .run(&billing(), (), "refund")
        .await
        .unwrap();
    assert_eq!(
        result.final_output,
        Receipt {
            order_id: "A-1001".into(),
            refunded_cents: 2500
        }
    );
    // The request carried the schema derived from the type.
    let schema = model.requests()[0].output_schema.clone().unwrap();
    assert_eq!(schema.name, "Receipt");
    assert_eq!(
        schema.schema["properties"]["refunded_cents"]["type"],
        "integer"
    );
    assert_eq!(
        schema.schema["properties"]["order_id"]["description"],
        "The order refunded."
    );
}

#[tokio::test]
async fn output_that_does_not_parse_is_a_typed_error() {
    let model = MockModel::script([Step::json(
        json!({"order_id": "A-1001", "refunded_cents": "lots"}),
    )]);
    let error = Runner::new(model)
        .run(&billing(), (), "refund")
        .await
        .unwrap_err();
    let RunError::OutputParse {
        agent,
        output_type,
        output,
        source,
        partial,
    } = &error
    else {
        panic!("expected an output parse error, got {error:?}");
    };
    assert_eq!(agent, "Billing");
    assert!(output_type.ends_with("Receipt"), "{output_type}");
    assert_eq!(output, r#"{"order_id":"A-1001","refunded_cents":"lots"}"#);
    assert!(
        source
            .to_string()
            .starts_with("invalid type: string \"lots\", expected u32")
    );
    assert_eq!(partial.new_items.len(), 1, "the unparsable message is kept");
    assert!(
        error
            .to_string()
            .starts_with("agent `Billing` produced output that does not parse as")
    );
}

#[tokio::test]
async fn model_settings_merge_run_over_agent_field_by_field() {
    let agent: Agent<()> = Agent::builder("A")
        .model_settings(
            ModelSettings::new()
                .temperature(0.2)
                .top_p(0.9)
                .tool_choice(ToolChoice::Auto),
        )
        .build()
        .unwrap();
    let model = MockModel::script([Step::text("a"), Step::text("b")]);
    let runner = Runner::new(model.clone()).with_config(
        RunConfig::new().model_settings(ModelSettings::new().temperature(0.7).max_tokens(64)),
    );
    runner.run(&agent, (), "x").await.unwrap();
    runner
        .run(&agent, (), "y")
        .model_settings(ModelSettings::new().tool_choice(ToolChoice::Tool("lookup".into())))
        .await
        .unwrap();

    let requests = model.requests();
    assert_eq!(
        requests[0].settings,
        ModelSettings::new()
            .temperature(0.7)
            .top_p(0.9)
            .max_tokens(64)
            .tool_choice(ToolChoice::Auto)
    );
    // A run's own settings replace the runner's, then merge over the agent's.
    assert_eq!(
        requests[1].settings,
        ModelSettings::new()
            .temperature(0.2)
            .top_p(0.9)
            .tool_choice(ToolChoice::Tool("lookup".into()))
    );
}

fn receipts() -> Agent<(), Receipt> {
    billing()
}

impl Receipt {
    /// What the desk answers when the model's receipt does not parse.
    fn fallback() -> Self {
        Receipt {
            order_id: "unknown".to_owned(),
            refunded_cents: 0,
        }
    }
}

#[tokio::test]
async fn an_output_parse_handler_gives_a_degraded_fallback() {
    use agents_core::run::{MaxTurnsFallback, RunStatus, ToleratedFailure};
    let model = MockModel::script([Step::text("refunded, I think")]);
    let result = Runner::new(model)
        .run(&receipts(), (), "refund")
        .on_output_parse_error(|partial, output| {
            assert_eq!(output, "refunded, I think");
            assert_eq!(partial.turns, 1);
            Some(MaxTurnsFallback::new(Receipt::fallback()))
        })
        .await
        .unwrap();
    assert_eq!(result.final_output, Receipt::fallback());
    assert_eq!(result.status, RunStatus::Degraded);
    let failures = result.tolerated_failures();
    assert!(
        matches!(&failures[..], [ToleratedFailure::OutputParseFallback { agent, output, .. }]
            if agent == "Billing" && output == "refunded, I think"),
        "{failures:?}"
    );
}

#[tokio::test]
async fn an_output_parse_handler_may_keep_the_error() {
    let model = MockModel::script([Step::text("refunded, I think")]);
    let error = Runner::new(model)
        .run(&receipts(), (), "refund")
        .on_output_parse_error(|_, _| None)
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::OutputParse { .. }), "{error:?}");
}

#[tokio::test]
async fn a_primitive_output_is_wrapped_in_an_object_and_unwrapped() {
    let agent = Agent::<()>::builder("Counter")
        .output_type::<u32>()
        .build()
        .unwrap();
    let model = MockModel::script([Step::json(serde_json::json!({"response": 42}))]);
    let result = Runner::new(model.clone())
        .run(&agent, (), "count")
        .await
        .unwrap();
    assert_eq!(result.final_output, 42);
    let schema = model.requests()[0]
        .output_schema
        .as_ref()
        .unwrap()
        .schema
        .clone();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], serde_json::json!(["response"]));
    assert_eq!(schema["properties"]["response"]["type"], "integer");
}

#[tokio::test]
async fn a_list_of_structs_is_wrapped_and_unwrapped() {
    #[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
    struct Line {
        sku: String,
    }
    let agent = Agent::<()>::builder("Lister")
        .output_type::<Vec<Line>>()
        .build()
        .unwrap();
    let model = MockModel::script([Step::json(
        serde_json::json!({"response": [{"sku": "A"}, {"sku": "B"}]}),
    )]);
    let result = Runner::new(model.clone())
        .run(&agent, (), "list")
        .await
        .unwrap();
    assert_eq!(
        result.final_output,
        vec![Line { sku: "A".into() }, Line { sku: "B".into() }]
    );
    let schema = model.requests()[0]
        .output_schema
        .as_ref()
        .unwrap()
        .schema
        .clone();
    let items = &schema["properties"]["response"]["items"];
    assert_eq!(items["properties"]["sku"]["type"], "string", "{schema}");
    assert_eq!(schema["additionalProperties"], false);
}
