//! Final output, tool turns, usage, continuation, context.

use std::sync::Arc;

use agents_core::prelude::*;
use agents_core::{Item, RunConfig};
use agents_testing::{MockModel, Step, call_named};
use serde_json::json;

use crate::support::{Inspect, Recorder, echo};

#[tokio::test]
async fn text_only_turn_is_the_final_output() {
    let model = MockModel::script([Step::text("Hello there.")]);
    let agent: Agent<()> = Agent::builder("Greeter")
        .instructions("Greet the user.")
        .build()
        .unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "hi")
        .await
        .unwrap();

    assert_eq!(result.final_output, "Hello there.");
    assert_eq!(&*result.last_agent, "Greeter");
    assert_eq!(result.turns, 1);
    assert_eq!(result.new_items.len(), 1);
    assert_eq!(*result.new_items[0].item, Item::assistant("Hello there."));
    assert_eq!(result.raw_responses.len(), 1);
    assert_eq!(
        result.raw_responses[0].response_id.as_deref(),
        Some("resp_1")
    );
    // The raw response and the run's items share one allocation.
    assert!(Arc::ptr_eq(
        &result.raw_responses[0].output[0],
        &result.new_items[0].item
    ));
    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].instructions.as_deref(), Some("Greet the user."));
    assert_eq!(requests[0].input, vec![Arc::new(Item::user("hi"))]);
    model.assert_complete();
}

#[tokio::test]
async fn tool_turn_then_answer_sends_the_tool_output_back() {
    let model = MockModel::script([
        Step::tool_calls([call_named("echo", json!({"text": "pong"}))]),
        Step::text("The tool said pong."),
    ]);
    let agent: Agent<()> = Agent::builder("Echoer").tool(echo()).build().unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "ping")
        .await
        .unwrap();

    assert_eq!(result.final_output, "The tool said pong.");
    assert_eq!(result.turns, 2);
    let second = &model.requests()[1];
    assert_eq!(
        second.input.len(),
        3,
        "user message, tool call, tool output"
    );
    assert_eq!(*second.input[2], Item::tool_output("call_1", "pong"));
    assert_eq!(second.tools[0].name, "echo");
    model.assert_complete();
}

#[tokio::test]
async fn usage_sums_over_turns() {
    let model = MockModel::script([
        Step::tool_calls([call_named("echo", json!({"text": "a"}))])
            .with_usage(Usage::new(100, 10)),
        Step::text("done").with_usage(Usage::new(150, 20)),
    ]);
    let agent: Agent<()> = Agent::builder("A").tool(echo()).build().unwrap();
    let result = Runner::new(model).run(&agent, (), "go").await.unwrap();

    assert_eq!(result.usage.requests, 2);
    assert_eq!(result.usage.input_tokens, 250);
    assert_eq!(result.usage.output_tokens, 30);
    assert_eq!(result.usage.total_tokens, 280);
}

#[tokio::test]
async fn to_input_list_continues_a_conversation() {
    let model = MockModel::script([
        Step::text("Your order is A-1."),
        Step::text("It ships today."),
    ]);
    let agent: Agent<()> = Agent::builder("Desk").build().unwrap();
    let runner = Runner::new(model.clone());

    let first = runner.run(&agent, (), "Which order?").await.unwrap();
    let mut input = first.to_input_list();
    assert_eq!(input.len(), 2);
    input.push(Arc::new(Item::user("When does it ship?")));
    let second = runner.run(&agent, (), input).await.unwrap();

    assert_eq!(second.final_output, "It ships today.");
    let seen = &model.requests()[1].input;
    let texts: Vec<_> = seen.iter().filter_map(|i| i.message_text()).collect();
    assert_eq!(
        texts,
        ["Which order?", "Your order is A-1.", "When does it ship?"]
    );
    // The first run's items are shared with the second run's input, not copied.
    assert!(Arc::ptr_eq(&first.new_items[0].item, &seen[1]));
}

/// A response with neither a message nor a call ends the run with an empty
/// answer (the OpenAI Agents SDK's rule for text agents), not another call.
#[tokio::test]
async fn a_response_without_message_or_calls_ends_with_an_empty_answer() {
    let model = MockModel::script([Step::items([Item::Reasoning {
        text: "thinking".into(),
    }])]);
    let agent: Agent<()> = Agent::builder("Thinker").build().unwrap();
    let result = Runner::new(model.clone())
        .run(&agent, (), "q")
        .await
        .unwrap();
    assert_eq!(result.final_output, "");
    assert_eq!(result.turns, 1);
    model.assert_complete();
}

/// For a structured agent the empty answer is an output error, typed.
#[tokio::test]
async fn an_empty_response_is_an_output_error_for_a_structured_agent() {
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code, reason = "only parsed")]
    struct Verdict {
        refund: bool,
    }
    let model = MockModel::script([Step::items([Item::Reasoning {
        text: "thinking".into(),
    }])]);
    let agent = Agent::<()>::builder("Judge")
        .output_type::<Verdict>()
        .build()
        .unwrap();
    let error = Runner::new(model.clone())
        .run(&agent, (), "q")
        .await
        .unwrap_err();
    let RunError::OutputParse { output, .. } = &error else {
        panic!("expected an output error, got {error:?}");
    };
    assert_eq!(output, "");
    assert_eq!(error.partial().turns, 1);
}

#[tokio::test]
async fn dynamic_instructions_read_the_context_each_turn() {
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "x"})),
        Step::text("ok"),
    ]);
    let agent = Agent::<&'static str>::builder("Dyn")
        .instructions_fn(|ctx: &RunContext<&'static str>| {
            format!("Customer {} (turn {})", ctx.context(), ctx.turn())
        })
        .tool(FunctionTool::new(
            "echo",
            "echo",
            |a: crate::support::EchoArgs| async move { Ok::<_, String>(a.text) },
        ))
        .build()
        .unwrap();
    Runner::new(model.clone())
        .run(&agent, "Ada", "hi")
        .await
        .unwrap();
    let instructions: Vec<_> = model
        .requests()
        .iter()
        .map(|r| r.instructions.as_deref().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        instructions,
        ["Customer Ada (turn 1)", "Customer Ada (turn 2)"]
    );
}

#[tokio::test]
async fn tools_see_run_id_metadata_agent_turn_and_usage() {
    let model = MockModel::script([
        Step::text("warm-up").with_usage(Usage::new(5, 5)),
        Step::tool_call("inspect", json!({})),
        Step::text("done"),
    ]);
    let recorder = Arc::new(Recorder::default());
    let agent = Agent::<Arc<Recorder>>::builder("Inspector")
        .tool(Inspect)
        .build()
        .unwrap();
    let runner =
        Runner::new(model.clone()).with_config(RunConfig::new().metadata("tenant", "acme"));

    // A first run uses the warm-up step; its usage must not leak into the next run.
    runner
        .run(&agent, Arc::clone(&recorder), "go")
        .await
        .unwrap();
    let result = runner
        .run(&agent, Arc::clone(&recorder), "go")
        .run_id("run-42")
        .await
        .unwrap();

    assert_eq!(&*result.run_id, "run-42");
    assert_eq!(
        recorder.events(),
        ["run_id=run-42 agent=Inspector turn=1 requests=1 tenant=\"acme\""]
    );
    model.assert_complete();
}

#[tokio::test]
async fn generated_run_ids_are_distinct() {
    let model = MockModel::script([Step::text("a"), Step::text("b")]);
    let agent: Agent<()> = Agent::builder("A").build().unwrap();
    let runner = Runner::new(model);
    let first = runner.run(&agent, (), "x").await.unwrap();
    let second = runner.run(&agent, (), "y").await.unwrap();
    for id in [&first.run_id, &second.run_id] {
        let digits = id.strip_prefix("run_").expect("run_ and 16 hex digits");
        assert_eq!(digits.len(), 16, "{id}");
        assert!(
            digits
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{id}"
        );
    }
    assert_ne!(first.run_id, second.run_id);
}
