//! Limits and early stops: each error carries the partial run.

use std::future::IntoFuture;
use std::time::Duration;

use agents_core::model::{BoxFuture, Model, ModelRequest, ModelResponse};
use agents_core::prelude::*;
use agents_core::run::CancellationToken;
use agents_core::{Item, ModelError, RunConfig, RunError};
use agents_testing::{MockModel, Step};
use serde_json::json;

use crate::support::{echo, sleeper};

#[tokio::test]
async fn max_turns_exceeded_is_an_error_holding_the_partial_run() {
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "1"})),
        Step::tool_call("echo", json!({"text": "2"})),
        Step::tool_call("echo", json!({"text": "3"})),
    ]);
    model.allow_unused_steps();
    let agent: Agent<()> = Agent::builder("Looper").tool(echo()).build().unwrap();
    let error = Runner::new(model.clone())
        .run(&agent, (), "loop")
        .max_turns(2)
        .await
        .unwrap_err();

    let RunError::MaxTurnsExceeded { max_turns, partial } = &error else {
        panic!("expected max turns, got {error:?}");
    };
    assert_eq!(*max_turns, 2);
    assert_eq!(partial.turns, 2);
    assert_eq!(partial.new_items.len(), 4, "two calls and two outputs");
    assert_eq!(&*partial.last_agent, "Looper");
    assert_eq!(partial.usage.requests, 2);
    assert_eq!(model.calls(), 2);
    assert_eq!(error.to_string(), "max turns (2) exceeded");
}

#[tokio::test(start_paused = true)]
async fn the_wall_clock_timeout_is_an_error_holding_the_partial_run() {
    let model = MockModel::script([
        Step::tool_call("sleep", json!({"millis": 60_000})),
        Step::text("never reached"),
    ]);
    model.allow_unused_steps();
    let agent: Agent<()> = Agent::builder("Slow").tool(sleeper()).build().unwrap();
    let error = Runner::new(model)
        .run(&agent, (), "go")
        .timeout(Duration::from_secs(5))
        .tool_timeout(Duration::from_secs(600))
        .await
        .unwrap_err();
    let RunError::Timeout { timeout, partial } = &error else {
        panic!("expected a timeout, got {error:?}");
    };
    assert_eq!(*timeout, Duration::from_secs(5));
    // The tool call the model made is kept even though its tool never
    // finished, answered by an interrupted output so the run can go on.
    assert_eq!(partial.new_items.len(), 2);
    assert!(matches!(&*partial.new_items[0].item, Item::ToolCall(c) if c.name == "sleep"));
    assert!(matches!(&*partial.new_items[1].item, Item::ToolOutput(o) if o.interrupted));
}

/// A model that never answers in time.
struct Stalled;

impl Model for Stalled {
    fn call(&self, _request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(ModelResponse::new(vec![Item::assistant("late")]))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_model_call_slower_than_its_timeout_is_a_model_timeout_error() {
    let agent: Agent<()> = Agent::builder("A").build().unwrap();
    let runner = Runner::new(Stalled)
        .with_config(RunConfig::new().model_call_timeout(Duration::from_secs(7)));
    let error = runner.run(&agent, (), "hi").await.unwrap_err();
    let RunError::Model {
        agent,
        source,
        partial,
    } = &error
    else {
        panic!("expected a model error, got {error:?}");
    };
    assert_eq!(agent, "A");
    assert!(matches!(source, ModelError::Timeout(d) if *d == Duration::from_secs(7)));
    assert_eq!(partial.turns, 1);
    assert_eq!(partial.input.len(), 1);
}

#[tokio::test]
async fn a_model_error_ends_the_run_with_the_partial_run() {
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "kept"})),
        Step::error(ModelError::Server {
            status: 503,
            message: "overloaded".into(),
        }),
    ]);
    let agent: Agent<()> = Agent::builder("A").tool(echo()).build().unwrap();
    let error = Runner::new(model).run(&agent, (), "go").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "model call failed for agent `A`: server error (HTTP 503): overloaded"
    );
    let partial = error.into_partial();
    assert_eq!(partial.new_items.len(), 2);
    assert_eq!(partial.to_input_list().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_run_returns_the_partial_run() {
    let model = MockModel::script([
        Step::tool_call("sleep", json!({"millis": 60_000})),
        Step::text("never reached"),
    ]);
    model.allow_unused_steps();
    let agent: Agent<()> = Agent::builder("A").tool(sleeper()).build().unwrap();
    let token = CancellationToken::new();
    let run = Runner::new(model)
        .run(&agent, (), "go")
        .tool_timeout(Duration::from_secs(600))
        .cancellation_token(token.clone());
    let handle = tokio::spawn(run.into_future());
    tokio::time::sleep(Duration::from_secs(1)).await;
    token.cancel();
    let error = handle.await.unwrap().unwrap_err();
    let RunError::Cancelled { partial } = &error else {
        panic!("expected cancellation, got {error:?}");
    };
    // The call and the interrupted output that answers it.
    assert_eq!(partial.new_items.len(), 2);
    assert!(matches!(&*partial.new_items[1].item, Item::ToolOutput(o) if o.interrupted));
}

#[tokio::test]
async fn a_run_overrides_the_runner_configuration_for_itself_only() {
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "1"})),
        Step::text("done"),
        Step::tool_call("echo", json!({"text": "1"})),
    ]);
    let agent: Agent<()> = Agent::builder("A").tool(echo()).build().unwrap();
    let runner = Runner::new(model.clone()).with_config(RunConfig::new().max_turns(1));

    let result = runner.run(&agent, (), "go").max_turns(2).await.unwrap();
    assert_eq!(result.turns, 2);
    // The runner's own limit still applies to the next run.
    let error = runner.run(&agent, (), "go").await.unwrap_err();
    assert!(matches!(
        error,
        RunError::MaxTurnsExceeded { max_turns: 1, .. }
    ));
    model.assert_complete();
}
