//! Per-variant handoff options: input filters and typed handoff input.

use agents_core::Item;
use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call};
use serde_json::json;

use crate::desk::{
    BackToTriage, Billing, Escalation, Reply, Shipping, Shop, Triage, TriageRoute, lookup_order,
};

#[tokio::test]
async fn an_input_filter_drops_tool_items_from_what_the_next_agent_sees() {
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))]),
        Step::text("Sending you to shipping.").and(Step::handoff::<Shipping>()),
        Step::text("It arrives tomorrow."),
    ]);
    let result = Runner::new(model.clone())
        .run(&Triage, Shop::for_customer("Di"), "Where is A-1?")
        .await
        .unwrap();
    assert_eq!(
        result.final_output,
        Reply::Text("It arrives tomorrow.".into())
    );

    let seen = &model.requests()[2].input;
    assert!(
        seen.iter().all(|i| matches!(
            **i,
            Item::UserMessage { .. } | Item::AssistantMessage { .. }
        )),
        "{seen:?}"
    );
    assert_eq!(seen.len(), 2);
    // The run itself keeps everything.
    assert_eq!(result.new_items.len(), 6);
}

#[tokio::test]
async fn a_typed_handoff_input_reaches_on_handoff() {
    // The declared graph: the handoff carries its typed input and Billing answers.
    let model = MockModel::script([
        Step::handoff_with::<Billing>(json!({"reason": "charged twice"})),
        Step::json(json!({"order_id": "A-1", "refunded_cents": 100})),
    ]);
    let result = Runner::new(model)
        .run(&Triage, Shop::for_customer("Ed"), "refund")
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Billing");

    // What `on_handoff` received, observed from the next agent's instructions.
    let model = MockModel::script([
        Step::handoff_with::<Billing>(json!({"reason": "charged twice"})),
        Step::json(json!({"order_id": "A-1", "refunded_cents": 100})),
    ]);
    assert_eq!(observe_escalations(model).await, ["charged twice"]);
}

#[tokio::test]
async fn a_handoff_input_that_does_not_parse_is_refused_and_the_model_told() {
    let model = MockModel::script([
        Step::handoff_with::<Billing>(json!({"why": "no reason field"})),
        Step::text("Let me try again."),
    ]);
    // The mock would refuse input that does not fit; here it is the test.
    model.allow_unknown_tools();
    let result = Runner::new(model.clone())
        .run(&Triage, Shop::for_customer("Fay"), "refund")
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Triage");
    let Item::HandoffOutput(output) = &*result.new_items[1].item else {
        panic!("expected a handoff output");
    };
    assert_eq!(output.to_agent, None);
    assert_eq!(
        output.output,
        "error: invalid handoff input for `transfer_to_billing`: invalid arguments: missing field `reason`"
    );
}

/// Runs Triage with a context the test keeps a handle on, through a tool
/// that reads the escalations back.
async fn observe_escalations(model: MockModel) -> Vec<String> {
    use std::sync::{Arc, Mutex};

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let probe = {
        let seen = Arc::clone(&seen);
        move |ctx: &RunContext<Shop>| -> String {
            seen.lock()
                .unwrap()
                .extend(ctx.escalations.lock().unwrap().iter().cloned());
            String::new()
        }
    };
    // Billing built at run time with the same handoff, plus a probe in its
    // dynamic instructions that copies what `on_handoff` recorded.
    let billing = Agent::<Shop>::builder("Billing")
        .instructions_fn(probe)
        .output_type::<crate::desk::Receipt>()
        .build()
        .unwrap();
    let triage = Agent::<Shop>::builder("Triage")
        .output_type::<crate::desk::Receipt>()
        .handoff(Handoff::to(&billing).on_handoff_with_input(crate::desk::record_escalation))
        .build()
        .unwrap();
    Runner::new(model)
        .run(&triage, Shop::for_customer("Gus"), "refund")
        .await
        .unwrap();
    seen.lock().unwrap().clone()
}

/// Where Shipping hands back, under a name of its own.
#[derive(Handoffs)]
enum Renamed {
    #[handoff(tool_name = "back_to_the_front_desk")]
    Triage(Triage),
}

#[tokio::test]
async fn a_typed_handoff_step_uses_the_handoffs_own_name_and_typed_input() {
    // Through the route: the typed input is the variant's input type.
    let step = Step::handoff_via_with::<TriageRoute, Billing>(Escalation {
        reason: "charged twice".into(),
    });
    let model = MockModel::script([
        step,
        Step::json(json!({"order_id": "A-1", "refunded_cents": 100})),
    ]);
    assert_eq!(observe_escalations(model).await, ["charged twice"]);

    // A custom tool name is what the typed step calls.
    let shipping = Agent::<Shop>::builder("Shipping")
        .convert_output::<Reply>()
        .handoffs::<Renamed>()
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::handoff_via::<Renamed, Triage>(),
        Step::text("Back at the desk."),
    ]);
    let result = Runner::new(model.clone())
        .run(
            &shipping,
            Shop::for_customer("Flo"),
            "not a parcel question",
        )
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Triage");
    let offered: Vec<String> = model.requests()[0]
        .tools
        .iter()
        .map(|tool| tool.name.clone())
        .collect();
    assert!(
        offered.contains(&"back_to_the_front_desk".to_owned()),
        "{offered:?}"
    );
    // The default name, through the other route, as before.
    let _ = Step::handoff_via::<BackToTriage, Triage>();
}
