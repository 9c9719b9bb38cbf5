//! The mock model's strictness, recording, closures and streams.

use std::panic::AssertUnwindSafe;

use agents_core::model::{Model, ModelRequest, ModelStreamEvent, ResponseAssembler};
use agents_core::prelude::*;
use agents_core::{Item, RunError};
use agents_testing::{MockModel, Step};
use futures::StreamExt;

use crate::support::echo;

#[tokio::test]
async fn a_call_after_the_script_ends_is_an_error_naming_the_call() {
    let model = MockModel::script([Step::tool_call("missing", serde_json::json!({}))]);
    model.allow_unknown_tools();
    let agent: Agent<()> = Agent::builder("Greedy").build().unwrap();
    let error = Runner::new(model.clone())
        .run(&agent, (), "hi")
        .await
        .unwrap_err();
    let RunError::Model {
        source, partial, ..
    } = &error
    else {
        panic!("expected a model error, got {error:?}");
    };
    let message = source.to_string();
    assert!(
        message.starts_with("mock model: unexpected call #2 (agent `Greedy`, 3 input items"),
        "{message}"
    );
    assert!(
        message.ends_with("the script had 1 steps and all were used"),
        "{message}"
    );
    assert_eq!(partial.turns, 2);
    assert_eq!(model.calls(), 2, "the unexpected call is recorded too");
    // Typed: matched without reading the message.
    let unexpected = source
        .downcast_ref::<agents_testing::UnexpectedCall>()
        .expect("an UnexpectedCall");
    assert_eq!(unexpected.number, 2);
    assert_eq!(unexpected.script_steps, 1);
    assert_eq!(&*unexpected.request.agent, "Greedy");
}

#[test]
fn assert_complete_fails_on_unused_steps() {
    let model = MockModel::script([Step::text("one"), Step::text("two")]);
    model.allow_unused_steps();
    let panic = std::panic::catch_unwind(AssertUnwindSafe(|| model.assert_complete())).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("2 of 2 scripted steps were never used"),
        "{message}"
    );
    assert!(message.contains("step 2: text \"two\""), "{message}");
}

#[test]
fn dropping_a_model_with_unused_steps_fails_the_test() {
    let panic = std::panic::catch_unwind(|| {
        let model = MockModel::script([Step::text("unused")]);
        drop(model);
    })
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("1 of 1 scripted steps were never used"),
        "{message}"
    );
}

#[tokio::test]
async fn a_respond_step_answers_from_the_recorded_request() {
    let model = MockModel::script([Step::respond(|request: &ModelRequest| {
        let last = request
            .input
            .last()
            .and_then(|i| i.message_text())
            .unwrap_or_default();
        Step::text(format!("you said {last}"))
    })]);
    let agent: Agent<()> = Agent::builder("Echo").build().unwrap();
    let result = Runner::new(model).run(&agent, (), "hello").await.unwrap();
    assert_eq!(result.final_output, "you said hello");
}

fn chunks() -> Vec<ModelStreamEvent> {
    vec![
        ModelStreamEvent::TextDelta("Checking ".into()),
        ModelStreamEvent::TextDelta("now.".into()),
        ModelStreamEvent::ToolCallStarted {
            index: 0,
            call_id: "call_x".into(),
            name: "echo".into(),
        },
        ModelStreamEvent::ToolCallArgumentsDelta {
            index: 0,
            delta: "{\"text\":".into(),
        },
        ModelStreamEvent::ToolCallArgumentsDelta {
            index: 0,
            delta: "\"hi\"}".into(),
        },
        ModelStreamEvent::Usage(Usage::new(10, 4)),
        ModelStreamEvent::Completed {
            response_id: Some("r1".into()),
        },
    ]
}

#[tokio::test]
async fn a_stream_step_streams_its_chunks_and_calls_assemble_them() {
    let model = MockModel::script([Step::stream(chunks()), Step::stream(chunks())]);
    let request = ModelRequest::new("A", vec![]);

    let streamed: Vec<_> = model
        .stream(request.clone())
        .map(|event| event.unwrap())
        .collect()
        .await;
    assert_eq!(streamed, chunks());

    let response = model.call(request).await.unwrap();
    let output: Vec<Item> = response.output.iter().map(|i| (**i).clone()).collect();
    assert_eq!(
        output,
        [
            Item::assistant("Checking now."),
            Item::tool_call("call_x", "echo", "{\"text\":\"hi\"}")
        ]
    );
    assert_eq!(response.usage, Usage::new(10, 4));
    assert_eq!(response.response_id.as_deref(), Some("r1"));
}

#[tokio::test]
async fn a_truncated_stream_is_an_error_not_a_partial_item() {
    let mut events = chunks();
    events.pop();
    let model = MockModel::script([Step::stream(events)]);
    let error = model
        .call(ModelRequest::new("A", vec![]))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "undecodable model response: stream ended before the response completed"
    );
}

#[tokio::test]
async fn the_default_stream_replays_a_response_that_assembles_back_unchanged() {
    let model = MockModel::script([Step::text("a")
        .and(Step::text("b"))
        .and(Step::tool_call("t", serde_json::json!({"x": 1})))]);
    let expected = {
        let copy = MockModel::script([Step::text("a")
            .and(Step::text("b"))
            .and(Step::tool_call("t", serde_json::json!({"x": 1})))]);
        copy.allow_unknown_tools();
        copy.call(ModelRequest::new("A", vec![])).await.unwrap()
    };
    model.allow_unknown_tools();
    let mut assembler = ResponseAssembler::new();
    let mut stream = model.stream(ModelRequest::new("A", vec![]));
    while let Some(event) = stream.next().await {
        assembler.push(event.unwrap()).unwrap();
    }
    assert_eq!(assembler.finish().unwrap(), expected);
}

#[tokio::test]
async fn every_request_is_recorded_with_tools_and_instructions() {
    let model = MockModel::script([Step::text("ok")]);
    let agent: Agent<()> = Agent::builder("A")
        .instructions("Be brief.")
        .tool(crate::support::echo())
        .build()
        .unwrap();
    Runner::new(model.clone())
        .run(&agent, (), "hi")
        .await
        .unwrap();
    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].instructions.as_deref(), Some("Be brief."));
    assert_eq!(requests[0].tools[0].name, "echo");
    assert_eq!(requests[0].tools[0].parameters["required"][0], "text");
}

#[tokio::test]
async fn a_scripted_call_the_agent_does_not_offer_fails_the_test_not_the_tool() {
    // The script was written for another agent: without the check it would
    // come back as an "unknown tool" output and the run would pass.
    let model = MockModel::script([
        Step::tool_call("refund", serde_json::json!({"order_id": "A-1"})),
        Step::text("done"),
    ]);
    model.allow_unused_steps();
    let agent: Agent<()> = Agent::builder("Shipping").tool(echo()).build().unwrap();
    let error = Runner::new(model).run(&agent, (), "hi").await.unwrap_err();
    let RunError::Model { source, .. } = &error else {
        panic!("expected a model error, got {error:?}");
    };
    let not_offered = source
        .downcast_ref::<agents_testing::NotOffered>()
        .expect("a NotOffered error");
    assert_eq!(not_offered.tool, "refund");
    assert_eq!(not_offered.agent, "Shipping");
    assert_eq!(not_offered.offered, ["echo"]);
    assert!(error.to_string().contains("allow_unknown_tools"), "{error}");
}

#[test]
fn and_with_a_step_that_is_not_an_output_fails_when_the_script_is_built() {
    let combined = std::panic::catch_unwind(|| {
        Step::text("partial").and(Step::error(agents_core::ModelError::other("boom")))
    });
    let message = *combined.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("cannot combine `text \"partial\"` with `error (boom)`"),
        "{message}"
    );
}

/// Look an order up (a strict `#[tool]`: no field beyond its own).
#[tool]
fn lookup(order_id: String) -> String {
    order_id
}

#[tokio::test]
async fn scripted_arguments_that_do_not_fit_the_offered_tool_fail_the_call() {
    use agents_testing::ArgumentsDoNotFit;
    // A field a strict tool does not have; a missing required field.
    let strict: Agent<()> = Agent::builder("Clerk").tool(lookup {}).build().unwrap();
    let typed: Agent<()> = Agent::builder("Clerk")
        .tool(crate::support::refund())
        .build()
        .unwrap();
    let cases = [
        (
            &strict,
            "lookup",
            serde_json::json!({"order_id": "A-1", "note": "extra"}),
            "`note`",
        ),
        (
            &typed,
            "refund",
            serde_json::json!({"order_id": "A-1"}),
            "`amount_cents`",
        ),
    ];
    for (agent, tool, arguments, field) in cases {
        let model = MockModel::script([Step::tool_call(tool, arguments)]);
        let error = Runner::new(model).run(agent, (), "hi").await.unwrap_err();
        let RunError::Model { source, .. } = &error else {
            panic!("expected a model error, got {error:?}");
        };
        let misfit = source
            .downcast_ref::<ArgumentsDoNotFit>()
            .unwrap_or_else(|| panic!("expected ArgumentsDoNotFit, got {error}"));
        assert_eq!(misfit.tool, tool);
        assert!(misfit.problem.contains(field), "{misfit}");
    }
}
