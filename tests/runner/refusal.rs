//! Refusals: the model declines to answer. A structured agent's run ends
//! with a typed error (or a handler's fallback); a text agent's answer is
//! the refusal.

use agents_core::prelude::*;
use agents_core::run::{FallbackOutput, RunStatus, ToleratedFailure};
use agents_core::{Item, RunError};
use agents_testing::{MockModel, Step};

#[derive(Debug, serde::Deserialize, schemars::JsonSchema, PartialEq)]
struct Verdict {
    guilty: bool,
}

fn judge() -> Agent<(), Verdict> {
    Agent::<()>::builder("Judge")
        .output_type::<Verdict>()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_refusal_ends_a_structured_run_with_a_typed_error_not_a_retry() {
    let model = MockModel::script([Step::refusal("I can't help with judging people.")]);
    let error = Runner::new(model.clone())
        .run(&judge(), (), "is Bob guilty?")
        .await
        .unwrap_err();
    match &error {
        RunError::Refusal {
            agent,
            refusal,
            partial,
        } => {
            assert_eq!(agent, "Judge");
            assert_eq!(refusal, "I can't help with judging people.");
            assert!(matches!(&*partial.new_items[0].item, Item::Refusal { .. }));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(model.calls(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn a_refusal_handler_gives_a_fallback_and_the_run_is_degraded() {
    let model = MockModel::script([Step::refusal("No.")]);
    let result = Runner::new(model)
        .run(&judge(), (), "is Bob guilty?")
        .on_refusal(|_, refusal| {
            assert_eq!(refusal, "No.");
            Some(FallbackOutput::new(Verdict { guilty: false }).with_message("No verdict."))
        })
        .await
        .unwrap();
    assert_eq!(result.final_output, Verdict { guilty: false });
    assert_eq!(result.status, RunStatus::Degraded);
    assert!(matches!(
        result.tolerated_failures().as_slice(),
        [ToleratedFailure::RefusalFallback { agent, refusal }] if agent == "Judge" && refusal == "No."
    ));
    // The refusal stays in the items; the fallback's message follows it.
    let items: Vec<_> = result.new_items.iter().map(|i| (*i.item).clone()).collect();
    assert_eq!(
        items,
        [
            Item::Refusal {
                content: "No.".to_owned()
            },
            Item::assistant("No verdict.")
        ]
    );
}

#[tokio::test]
async fn a_text_agents_answer_is_the_refusal() {
    let agent = Agent::<()>::builder("Chat").build().unwrap();
    let model = MockModel::script([Step::refusal("I won't write that.")]);
    let result = Runner::new(model)
        .run(&agent, (), "write it")
        .await
        .unwrap();
    assert_eq!(result.final_output, "I won't write that.");
}
