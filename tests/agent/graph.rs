//! The desk graph end to end on the mock model.

use agents_core::AgentDef;
use agents_core::prelude::*;
use agents_testing::{MockModel, Step, assert_run_snapshot, call};
use serde_json::json;

use crate::desk::{
    Billing, Receipt, Reply, Shipping, Shop, Triage, lookup_order, refund, track_parcel,
};

#[tokio::test]
async fn triage_hands_off_to_billing_which_answers_with_a_receipt() {
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1001"}))]),
        Step::handoff_with::<Billing>(json!({"reason": "double charge"})),
        Step::tool_calls([call(refund {}, refund::args("A-1001".into(), 24_900))]),
        Step::json(json!({"order_id": "A-1001", "refunded_cents": 24_900})),
    ]);
    let shop = Shop::for_customer("Ada");
    let result = Runner::new(model.clone())
        .run(&Triage, shop, "I was charged twice for A-1001")
        .await
        .unwrap();

    assert_eq!(
        result.final_output,
        Reply::Receipt(Receipt {
            order_id: "A-1001".into(),
            refunded_cents: 24_900
        })
    );
    assert_eq!(&*result.last_agent, "Billing");
    let requests = model.requests();
    // Dynamic instructions read the context.
    assert_eq!(
        requests[0].instructions.as_deref(),
        Some("You triage requests for Ada. Look up the order first.")
    );
    assert_eq!(requests[0].settings.temperature, Some(0.2));
    // Billing's own declaration reaches its requests.
    assert_eq!(requests[2].model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(requests[2].settings.max_tokens, Some(300));
    assert_eq!(requests[2].output_schema.as_ref().unwrap().name, "Receipt");
    assert_run_snapshot!(result);
    model.assert_complete();
}

#[tokio::test]
async fn shipping_answers_in_text_converted_into_the_reply() {
    let model = MockModel::script([
        Step::handoff::<Shipping>(),
        Step::tool_calls([call(track_parcel {}, json!({"parcel": "PX-77"}))]),
        Step::text("Your parcel is out for delivery."),
    ]);
    let result = Runner::new(model.clone())
        .run(&Triage, Shop::for_customer("Bo"), "Where is my parcel?")
        .await
        .unwrap();
    assert_eq!(
        result.final_output,
        Reply::Text("Your parcel is out for delivery.".into())
    );
    assert_eq!(&*result.last_agent, "Shipping");
    model.assert_complete();
}

#[tokio::test]
async fn a_cycle_in_the_graph_is_followed() {
    let model = MockModel::script([
        Step::handoff::<Shipping>(),
        Step::handoff::<Triage>(),
        Step::text("Back at the front desk."),
    ]);
    let result = Runner::new(model.clone())
        .run(&Triage, Shop::for_customer("Cy"), "hello")
        .await
        .unwrap();
    assert_eq!(
        result.final_output,
        Reply::Text("Back at the front desk.".into())
    );
    assert_eq!(&*result.last_agent, "Triage");
    let agents: Vec<_> = model
        .requests()
        .iter()
        .map(|r| r.agent.to_string())
        .collect();
    assert_eq!(agents, ["Triage", "Shipping", "Triage"]);
}

#[test]
fn the_declared_graph_renders_as_mermaid() {
    let graph = Triage::agent().graph();
    let names: Vec<_> = graph.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Triage", "Billing", "Shipping"]);
    insta::assert_snapshot!(graph.to_mermaid());
}

#[test]
fn declarations_carry_names_descriptions_and_tools() {
    assert_eq!(Billing::NAME, "Billing");
    assert_eq!(Billing::HANDOFF_DESCRIPTION, Some("Refunds and charges."));
    let triage = Triage::agent();
    let tools: Vec<_> = triage
        .tool_definitions()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        tools,
        [
            "lookup_order",
            "transfer_to_billing",
            "transfer_to_shipping"
        ]
    );
    // The variant's doc comment describes the handoff.
    assert_eq!(
        triage.tool_definitions()[1].description,
        "Handoff to the Billing agent to handle the request. Refunds, double charges, invoices."
    );
    // The typed handoff input is the handoff tool's schema.
    assert_eq!(
        triage.tool_definitions()[1].parameters["required"],
        json!(["reason"])
    );
}
