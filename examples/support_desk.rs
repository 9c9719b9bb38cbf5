//! The support desk: a Triage agent looks up the order and hands the
//! customer to Billing (refunds) or Shipping (parcels).
//!
//! Runs offline on a scripted model:
//! `cargo run --example support_desk -- "I was charged twice for A-1001"`.

use std::collections::HashMap;
use std::sync::Mutex;

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call_named, transcript};
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "I was charged twice for A-1001".to_owned());

    let billing = Agent::<Shop>::builder("Billing")
        .instructions("Handle refunds and charges. Amounts are in cents.")
        .handoff_description("Refunds, double charges, invoices.")
        .tool(lookup_order {})
        .tool(refund {})
        .build()?;
    let shipping = Agent::<Shop>::builder("Shipping")
        .instructions("Answer delivery questions.")
        .handoff_description("Delivery status and tracking.")
        .tool(lookup_order {})
        .tool(track_parcel {})
        .build()?;
    let triage = Agent::<Shop>::builder("Triage")
        .instructions("Find the order, then hand the customer to the right desk.")
        .tool(lookup_order {})
        .handoff(&billing)
        .handoff(&shipping)
        .build()?;

    // The offline model: the turns a model takes on a double charge.
    let model = MockModel::script([
        Step::tool_calls([call_named("lookup_order", json!({"order_id": "A-1001"}))])
            .with_usage(Usage::new(182, 21)),
        Step::handoff_to("Billing").with_usage(Usage::new(260, 12)),
        Step::tool_calls([call_named(
            "refund",
            json!({"order_id": "A-1001", "amount_cents": 24_900}),
        )])
        .with_usage(Usage::new(301, 25)),
        Step::text("I refunded the duplicate charge of 249.00 on order A-1001.")
            .with_usage(Usage::new(344, 19)),
    ]);

    let runner = Runner::new(model.clone());
    let result = runner.run(&triage, shop(), question).await?;
    println!("{}", transcript(&result));
    model.assert_complete();
    Ok(())
}
