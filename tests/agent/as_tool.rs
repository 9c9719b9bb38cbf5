//! Agents used as tools by other agents.

use agents_core::prelude::*;
use agents_core::{AgentDef, Item, RunConfig};
use agents_testing::{MockModel, Step, call_named};
use serde_json::json;

/// Translates text.
#[agent(instructions = "Translate to French.")]
struct Translator;

fn orchestrator() -> Agent<()> {
    Agent::<()>::builder("Orchestrator")
        .tool(
            Translator::agent()
                .as_tool("translate", "Translate text to French.")
                .max_turns(2),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_nested_agents_final_output_is_the_tool_output() {
    let model = MockModel::script([
        Step::tool_calls([call_named("translate", json!({"input": "good morning"}))]),
        // The nested run's only turn.
        Step::text("bonjour"),
        Step::text("In French: bonjour."),
    ]);
    let result = Runner::new(model.clone())
        .run(&orchestrator(), (), "Say good morning in French")
        .await
        .unwrap();
    assert_eq!(result.final_output, "In French: bonjour.");
    let requests = model.requests();
    assert_eq!(&*requests[1].agent, "Translator");
    assert_eq!(
        requests[1].input.len(),
        1,
        "the nested run starts from the tool input"
    );
    assert_eq!(*requests[1].input[0], Item::user("good morning"));
    assert_eq!(
        *requests[2].input[2],
        Item::tool_output("call_1", "bonjour")
    );
    // The nested run's items stay inside it.
    assert_eq!(result.new_items.len(), 3);
}

#[tokio::test]
async fn nesting_is_limited() {
    let model = MockModel::script([
        Step::tool_calls([call_named("translate", json!({"input": "hi"}))]),
        Step::text("could not translate"),
    ]);
    let result = Runner::new(model.clone())
        .with_config(RunConfig::new().max_nesting_depth(0))
        .run(&orchestrator(), (), "translate hi")
        .await
        .unwrap();
    let Item::ToolOutput(output) = &*result.new_items[1].item else {
        panic!("expected a tool output");
    };
    assert!(output.is_error);
    assert_eq!(
        output.output,
        "tool `translate` failed: agent `Translator` not run: agents used as tools may nest at most 0 deep"
    );
}

#[tokio::test]
async fn a_failing_nested_run_is_a_tool_error_and_the_outer_run_goes_on() {
    let model = MockModel::script([
        Step::tool_calls([call_named("translate", json!({"input": "hi"}))]),
        // The nested run loops past its two turns.
        Step::tool_call("missing", json!({})),
        Step::tool_call("missing", json!({})),
        Step::text("the translator is stuck"),
    ]);
    // The nested agent calls a tool it lacks, on purpose.
    model.allow_unknown_tools();
    let result = Runner::new(model)
        .run(&orchestrator(), (), "translate hi")
        .await
        .unwrap();
    assert_eq!(result.final_output, "the translator is stuck");
    let Item::ToolOutput(output) = &*result.new_items[1].item else {
        panic!("expected a tool output");
    };
    assert_eq!(
        output.output,
        "tool `translate` failed: agent `Translator` failed: max turns (2) exceeded"
    );
}
