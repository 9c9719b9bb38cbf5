//! Handoffs: switching agents, first wins, input filters, typed outputs.

use agents_core::prelude::*;
use agents_core::{AgentError, Item, handoff_tool_name};
use agents_testing::{MockModel, Step};
use serde_json::json;

use crate::support::echo;

fn billing() -> Agent<()> {
    Agent::builder("Billing")
        .instructions("Handle refunds.")
        .handoff_description("Refunds and invoices.")
        .build()
        .unwrap()
}

fn shipping() -> Agent<()> {
    Agent::builder("Shipping")
        .instructions("Track parcels.")
        .build()
        .unwrap()
}

fn triage() -> Agent<()> {
    Agent::builder("Triage")
        .instructions("Route the customer.")
        .tool(echo())
        .handoff(&billing())
        .handoff(&shipping())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_handoff_switches_the_agent_and_its_answer_is_final() {
    let model = MockModel::script([Step::handoff_to("Billing"), Step::text("Refund issued.")]);
    let result = Runner::new(model.clone())
        .run(&triage(), (), "refund me")
        .await
        .unwrap();

    assert_eq!(result.final_output, "Refund issued.");
    assert_eq!(&*result.last_agent, "Billing");
    let requests = model.requests();
    assert_eq!(&*requests[0].agent, "Triage");
    let names: Vec<_> = requests[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["echo", "transfer_to_billing", "transfer_to_shipping"]
    );
    assert!(
        requests[0].tools[1]
            .description
            .contains("Refunds and invoices.")
    );
    assert_eq!(&*requests[1].agent, "Billing");
    assert_eq!(requests[1].instructions.as_deref(), Some("Handle refunds."));
    // Billing sees the conversation, including the handoff call and output.
    assert!(
        matches!(&*requests[1].input[1], Item::HandoffCall(c) if c.name == "transfer_to_billing")
    );
    assert!(
        matches!(&*requests[1].input[2], Item::HandoffOutput(o) if o.output == r#"{"assistant":"Billing"}"#)
    );
    let agents: Vec<_> = result.new_items.iter().map(|i| &*i.agent).collect();
    assert_eq!(agents, ["Triage", "Triage", "Billing"]);
}

#[tokio::test]
async fn with_two_handoffs_in_one_response_the_first_wins() {
    let model = MockModel::script([
        Step::handoff_to("Shipping").and(Step::handoff_to("Billing")),
        Step::text("Tracking number 123."),
    ]);
    let result = Runner::new(model.clone())
        .run(&triage(), (), "where?")
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Shipping");
    let outputs: Vec<_> = result
        .new_items
        .iter()
        .filter_map(|i| match &*i.item {
            Item::HandoffOutput(o) => Some((o.call_id.as_str(), o.to_agent.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(outputs, [("call_1", Some("Shipping")), ("call_2", None)]);
    let Item::HandoffOutput(refused) = &*result.new_items[3].item else {
        panic!("expected the refused handoff's output");
    };
    assert!(
        refused
            .output
            .contains("only the first (`transfer_to_shipping`)")
    );
    model.assert_complete();
}

#[tokio::test]
async fn a_handoff_plus_text_in_one_response_the_handoff_wins() {
    let model = MockModel::script([
        Step::text("Let me check.").and(Step::handoff_to("Billing")),
        Step::text("Billing here."),
    ]);
    let result = Runner::new(model)
        .run(&triage(), (), "refund")
        .await
        .unwrap();
    assert_eq!(result.final_output, "Billing here.");
    assert_eq!(&*result.last_agent, "Billing");
}

#[tokio::test]
async fn tool_calls_beside_a_handoff_still_run() {
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "noted"})).and(Step::handoff_to("Billing")),
        Step::text("done"),
    ]);
    let result = Runner::new(model).run(&triage(), (), "x").await.unwrap();
    assert!(
        result
            .new_items
            .iter()
            .any(|i| *i.item == Item::tool_output("call_1", "noted"))
    );
    assert_eq!(&*result.last_agent, "Billing");
}

#[tokio::test]
async fn an_input_filter_rewrites_what_the_next_agent_sees_but_keeps_the_items() {
    let billing = billing();
    let triage: Agent<()> = Agent::builder("Triage")
        .tool(echo())
        .handoff(Handoff::to(&billing).input_filter(remove_tool_items))
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_call("echo", json!({"text": "A-1"})),
        Step::text("Passing you to billing.").and(Step::handoff_to("Billing")),
        Step::text("Refunded."),
    ]);
    let result = Runner::new(model.clone())
        .run(&triage, (), "refund A-1")
        .await
        .unwrap();

    let seen = &model.requests()[2].input;
    let texts: Vec<_> = seen.iter().map(|i| i.message_text()).collect();
    assert_eq!(texts, [Some("refund A-1"), Some("Passing you to billing.")]);
    // Nothing is lost from the run itself.
    assert_eq!(result.new_items.len(), 6);
}

#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    order_id: String,
    refunded_cents: u32,
}

/// The desk's reply: every agent's output converts into it.
#[derive(Debug, PartialEq)]
enum Reply {
    Text(String),
    Receipt(Receipt),
}

impl From<String> for Reply {
    fn from(text: String) -> Self {
        Reply::Text(text)
    }
}

impl From<Receipt> for Reply {
    fn from(receipt: Receipt) -> Self {
        Reply::Receipt(receipt)
    }
}

#[tokio::test]
async fn the_last_agents_output_converts_into_the_run_output_type() {
    let billing = Agent::<()>::builder("Billing")
        .output_type::<Receipt>()
        .build()
        .unwrap();
    // Triage answers in text, converted into `Reply`; Billing's `Receipt`
    // converts too, so the run's output is a `Reply` whoever answers.
    let triage: Agent<(), Reply> = Agent::builder("Triage")
        .convert_output::<Reply>()
        .handoff(&billing)
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::handoff_to("Billing"),
        Step::json(json!({"order_id": "A-1", "refunded_cents": 500})),
    ]);
    let result = Runner::new(model).run(&triage, (), "refund").await.unwrap();
    assert_eq!(
        result.final_output,
        Reply::Receipt(Receipt {
            order_id: "A-1".into(),
            refunded_cents: 500
        })
    );

    let model = MockModel::script([Step::text("Nothing to refund.")]);
    let result = Runner::new(model).run(&triage, (), "hello").await.unwrap();
    assert_eq!(
        result.final_output,
        Reply::Text("Nothing to refund.".into())
    );
}

#[test]
fn two_tools_with_one_name_do_not_build() {
    let error = Agent::<()>::builder("A")
        .tool(echo())
        .tool(echo())
        .build()
        .unwrap_err();
    assert_eq!(
        error,
        AgentError::DuplicateToolName {
            agent: "A".into(),
            name: "echo".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "agent `A` has two tools named `echo`; rename one of them"
    );
}

#[test]
fn handoff_tool_names_are_snake_case() {
    assert_eq!(handoff_tool_name("Billing"), "transfer_to_billing");
    assert_eq!(
        handoff_tool_name("Order Status"),
        "transfer_to_order_status"
    );
    assert_eq!(handoff_tool_name("FAQAgent2"), "transfer_to_faqagent2");
}
