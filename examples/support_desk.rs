//! The support desk: Triage looks up the order and hands the customer to
//! Billing (refunds, answered with a structured receipt) or Shipping
//! (parcels). Every agent's answer converts into the desk's `Reply`.
//!
//! Runs offline on a scripted model:
//! `cargo run --example support_desk -- "I was charged twice for A-1001"`.

use std::collections::HashMap;
use std::sync::Mutex;

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call, transcript};
use serde_json::json;

/// The shop the desk works for: the run context every tool reads.
struct Shop {
    orders: Mutex<HashMap<String, Order>>,
}

#[derive(Clone, serde::Serialize)]
struct Order {
    id: String,
    item: String,
    paid_cents: u32,
    refunded_cents: u32,
    parcel: String,
}

/// Look up an order by its id.
#[tool]
fn lookup_order(
    shop: &Shop,
    /// Order id, e.g. "A-1001".
    order_id: String,
) -> Result<Order, ToolError> {
    let orders = shop
        .orders
        .lock()
        .map_err(|_| ToolError::new("order store unavailable"))?;
    orders
        .get(&order_id)
        .cloned()
        .ok_or_else(|| ToolError::new(format!("no order {order_id}")))
}

/// Refund part of an order. Amount in cents.
#[tool]
fn refund(
    shop: &Shop,
    /// Order id, e.g. "A-1001".
    order_id: String,
    /// Amount to refund, in cents.
    amount_cents: u32,
) -> Result<String, ToolError> {
    let mut orders = shop
        .orders
        .lock()
        .map_err(|_| ToolError::new("order store unavailable"))?;
    let order = orders
        .get_mut(&order_id)
        .ok_or_else(|| ToolError::new(format!("no order {order_id}")))?;
    if order.refunded_cents + amount_cents > order.paid_cents {
        return Err(ToolError::new("refund exceeds the amount paid"));
    }
    order.refunded_cents += amount_cents;
    Ok(format!("refunded {amount_cents} cents on {order_id}"))
}

/// Track a parcel by its tracking number.
#[tool]
async fn track_parcel(
    /// Tracking number, e.g. "PX-77".
    parcel: String,
) -> String {
    format!("{parcel}: out for delivery")
}

/// Billing's structured answer.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    /// The refunded order.
    order_id: String,
    /// Amount refunded, in cents.
    refunded_cents: u32,
    /// One sentence for the customer.
    message: String,
}

/// The desk's reply, whichever agent answers.
#[derive(Debug)]
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

#[agent(
    context = Shop,
    output = Receipt,
    instructions = "Handle refunds and charges. Amounts are in cents. Answer with a receipt.",
    tools = [lookup_order, refund],
    handoff_description = "Refunds, double charges, invoices."
)]
struct Billing;

#[agent(
    context = Shop,
    convert_output = Reply,
    instructions = "Answer delivery questions.",
    tools = [lookup_order, track_parcel],
    handoff_description = "Delivery status and tracking."
)]
struct Shipping;

#[derive(Handoffs)]
enum TriageRoute {
    Billing(Billing),
    Shipping(Shipping),
}

#[agent(
    context = Shop,
    convert_output = Reply,
    instructions = "Find the order, then hand the customer to the right desk.",
    tools = [lookup_order],
    handoffs = TriageRoute
)]
struct Triage;

fn shop() -> Shop {
    let order = Order {
        id: "A-1001".into(),
        item: "Espresso machine".into(),
        paid_cents: 2 * 24_900,
        refunded_cents: 0,
        parcel: "PX-77".into(),
    };
    Shop {
        orders: Mutex::new(HashMap::from([(order.id.clone(), order)])),
    }
}

/// The turns a model takes on a double charge.
fn offline_model() -> MockModel {
    MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1001"}))])
            .with_usage(Usage::new(182, 21)),
        Step::handoff::<Billing>().with_usage(Usage::new(260, 12)),
        Step::tool_calls([call(refund {}, refund::args("A-1001".into(), 24_900))])
            .with_usage(Usage::new(301, 25)),
        Step::json(json!({
            "order_id": "A-1001",
            "refunded_cents": 24_900,
            "message": "I refunded the duplicate charge of 249.00."
        }))
        .with_usage(Usage::new(344, 19)),
    ])
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "I was charged twice for A-1001".to_owned());

    println!("{}", Triage::agent().graph().to_mermaid());
    let model = offline_model();
    let result = Runner::new(model.clone())
        .run(&Triage, shop(), question)
        .await?;
    println!("{}", transcript(&result));
    match &result.final_output {
        Reply::Receipt(receipt) => println!(
            "\nreceipt: {} refunded {} cents: {}",
            receipt.order_id, receipt.refunded_cents, receipt.message
        ),
        Reply::Text(text) => println!("\nreply: {text}"),
    }
    model.assert_complete();
    Ok(())
}
