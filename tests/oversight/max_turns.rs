//! The max-turns handler.

use agents_core::prelude::*;
use agents_core::run::MaxTurnsFallback;
use agents_testing::{MockModel, Step};
use serde_json::json;

fn looper() -> (Agent<()>, MockModel) {
    /// Checks again.
    #[tool]
    fn check() -> String {
        "still pending".to_owned()
    }
    let agent = Agent::<()>::builder("Looper")
        .tool(check {})
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_call("check", json!({})),
        Step::tool_call("check", json!({})),
    ]);
    (agent, model)
}

#[tokio::test]
async fn a_fallback_replaces_the_max_turns_error_and_stays_out_of_history() {
    let (agent, model) = looper();
    let result = Runner::new(model)
        .run(&agent, (), "is it done?")
        .max_turns(2)
        .on_max_turns(|partial| {
            assert_eq!(partial.turns, 2);
            Some(MaxTurnsFallback::new(
                "Still pending; I will check later.".to_owned(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(result.final_output, "Still pending; I will check later.");
    assert_eq!(
        result.new_items.len(),
        4,
        "two calls and two outputs, no fallback message"
    );
}

#[tokio::test]
async fn a_fallback_with_a_message_is_recorded() {
    let (agent, model) = looper();
    let result = Runner::new(model)
        .run(&agent, (), "is it done?")
        .max_turns(2)
        .on_max_turns(|_| {
            Some(MaxTurnsFallback::new("later".to_owned()).with_message("I will check later."))
        })
        .await
        .unwrap();
    assert_eq!(result.new_items.len(), 5);
    assert_eq!(
        result.to_input_list().last().unwrap().message_text(),
        Some("I will check later.")
    );
}

#[tokio::test]
async fn a_handler_returning_none_keeps_the_error() {
    let (agent, model) = looper();
    let error = Runner::new(model)
        .run(&agent, (), "is it done?")
        .max_turns(2)
        .on_max_turns(|_| None)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RunError::MaxTurnsExceeded { max_turns: 2, .. }
    ));
}
