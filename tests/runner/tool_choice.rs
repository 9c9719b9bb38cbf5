//! A forced tool choice is dropped once the agent has run tools, so the
//! model can answer (the OpenAI Agents SDK's `reset_tool_choice`).

use agents_core::RunError;
use agents_core::model::ToolChoice;
use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call};
use serde_json::json;

/// Refunds part of an order; always fails here (the support desk's
/// refund on an order without a duplicate charge).
#[tool]
fn refund(order_id: String, amount_cents: u32) -> Result<String, ToolError> {
    Err(ToolError::new(format!(
        "cannot refund {amount_cents} cents on {order_id}: nothing charged twice"
    )))
}

fn billing(reset: bool) -> Agent<()> {
    Agent::<()>::builder("Billing")
        .tool(refund {})
        .model_settings(ModelSettings::new().tool_choice(ToolChoice::Tool("refund".into())))
        .reset_tool_choice(reset)
        .build()
        .unwrap()
}

fn refund_call() -> Step {
    Step::tool_calls([call(
        refund {},
        json!({"order_id": "A-1002", "amount_cents": 500}),
    )])
}

#[tokio::test]
async fn after_tools_ran_the_next_call_is_not_forced_and_the_model_answers() {
    let model = MockModel::script([
        refund_call(),
        Step::text("I cannot refund A-1002: it was not charged twice."),
    ]);
    let result = Runner::new(model.clone())
        .run(
            &billing(true),
            (),
            "Can I get a refund of 5 euros on A-1002?",
        )
        .await
        .unwrap();
    assert_eq!(result.turns, 2);
    let requests = model.requests();
    assert_eq!(
        requests[0].settings.tool_choice,
        Some(ToolChoice::Tool("refund".into()))
    );
    assert_eq!(
        requests[1].settings.tool_choice, None,
        "reset to the default (auto)"
    );
}

#[tokio::test]
async fn an_agent_that_opts_out_keeps_forcing_until_the_turn_limit() {
    // The support desk's forced-tool loop: the same failing tool each turn.
    let model = MockModel::script((0..3).map(|_| refund_call()));
    let error = Runner::new(model.clone())
        .run(
            &billing(false),
            (),
            "Can I get a refund of 5 euros on A-1002?",
        )
        .max_turns(3)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RunError::MaxTurnsExceeded { .. }),
        "{error:?}"
    );
    assert!(
        model
            .requests()
            .iter()
            .all(|r| r.settings.tool_choice == Some(ToolChoice::Tool("refund".into())))
    );
}

#[tokio::test]
async fn required_is_reset_too_and_a_new_agent_starts_forced() {
    let billing = Agent::<()>::builder("Billing")
        .tool(refund {})
        .build()
        .unwrap();
    let triage = Agent::<()>::builder("Triage")
        .tool(refund {})
        .handoff(&billing)
        .build()
        .unwrap();
    let model = MockModel::script([
        refund_call(),
        Step::handoff_to("Billing"),
        Step::text("done"),
    ]);
    Runner::new(model.clone())
        .run(&triage, (), "refund")
        .model_settings(ModelSettings::new().tool_choice(ToolChoice::Required))
        .await
        .unwrap();
    let choices: Vec<Option<ToolChoice>> = model
        .requests()
        .iter()
        .map(|r| r.settings.tool_choice.clone())
        .collect();
    // Triage ran a tool: its next call is free; Billing has run none yet.
    assert_eq!(
        choices,
        [Some(ToolChoice::Required), None, Some(ToolChoice::Required)]
    );
}

#[test]
fn a_forced_tool_or_a_stop_tool_the_agent_lacks_fails_the_build() {
    let error = Agent::<()>::builder("Billing")
        .tool(refund {})
        .model_settings(ModelSettings::new().tool_choice(ToolChoice::Tool("refnud".into())))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "agent `Billing` names `refnud` in its tool_choice, which is not one of its tools or handoffs; available: refund"
    );
    let error = Agent::<()>::builder("Billing")
        .tool(refund {})
        .tool_use_behavior(ToolUseBehavior::StopAtTools(vec!["lookup".into()]))
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, agents_core::AgentError::UnknownToolName { setting: "tool_use_behavior", tool, .. } if tool == "lookup"),
        "{error}"
    );
}
