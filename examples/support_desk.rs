//! The support desk: a Triage agent that looks up orders and hands billing
//! questions to a Billing agent, which refunds.
//!
//! Runs offline on a scripted model: `cargo run --example support_desk -- "I was charged twice for A-1001"`.

use std::collections::HashMap;
use std::sync::Mutex;

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call, transcript};
use serde_json::json;

/// The shop the desk works for: the run context shared by every tool.
struct Shop {
    orders: Mutex<HashMap<String, Order>>,
}

#[derive(Clone, serde::Serialize)]
struct Order {
    id: String,
    item: String,
    paid_cents: u32,
    refunded_cents: u32,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct OrderArgs {
    /// Order id, e.g. "A-1001".
    order_id: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct RefundArgs {
    /// Order id, e.g. "A-1001".
    order_id: String,
    /// Amount to refund, in cents.
    amount_cents: u32,
}

/// Looks up an order in the shop's store.
struct LookupOrder;

impl Tool<Shop> for LookupOrder {
    fn name(&self) -> &str {
        "lookup_order"
    }
    fn description(&self) -> &str {
        "Look up an order by its id."
    }
    fn parameters(&self) -> serde_json::Value {
        agents_core::schema::schema_for::<OrderArgs>()
    }
    async fn call(&self, ctx: &RunContext<Shop>, arguments: &str) -> Result<String, ToolError> {
        let args: OrderArgs = agents_core::tool::parse_arguments(arguments)?;
        let orders = ctx
            .orders
            .lock()
            .map_err(|_| ToolError::new("order store unavailable"))?;
        let order = orders
            .get(&args.order_id)
            .ok_or_else(|| ToolError::new(format!("no order {}", args.order_id)))?;
        agents_core::tool::output_to_string(order.clone())
    }
}

/// Refunds part of an order.
struct Refund;

impl Tool<Shop> for Refund {
    fn name(&self) -> &str {
        "refund"
    }
    fn description(&self) -> &str {
        "Refund part of an order. Amount in cents."
    }
    fn parameters(&self) -> serde_json::Value {
        agents_core::schema::schema_for::<RefundArgs>()
    }
    async fn call(&self, ctx: &RunContext<Shop>, arguments: &str) -> Result<String, ToolError> {
        let args: RefundArgs = agents_core::tool::parse_arguments(arguments)?;
        let mut orders = ctx
            .orders
            .lock()
            .map_err(|_| ToolError::new("order store unavailable"))?;
        let order = orders
            .get_mut(&args.order_id)
            .ok_or_else(|| ToolError::new(format!("no order {}", args.order_id)))?;
        if order.refunded_cents + args.amount_cents > order.paid_cents {
            return Err(ToolError::new("refund exceeds the amount paid"));
        }
        order.refunded_cents += args.amount_cents;
        Ok(format!(
            "refunded {} cents on {}",
            args.amount_cents, order.id
        ))
    }
}

fn shop() -> Shop {
    let order = Order {
        id: "A-1001".into(),
        item: "Espresso machine".into(),
        paid_cents: 2 * 24_900,
        refunded_cents: 0,
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
        .tool(LookupOrder)
        .tool(Refund)
        .build()?;
    let triage = Agent::<Shop>::builder("Triage")
        .instructions("Find the order, then hand the customer to the right desk.")
        .tool(LookupOrder)
        .handoff(&billing)
        .build()?;

    // The offline model: the turns a real model takes on this question.
    let model = MockModel::script([
        Step::tool_calls([call("lookup_order", json!({"order_id": "A-1001"}))])
            .with_usage(Usage::new(182, 21)),
        Step::handoff("Billing").with_usage(Usage::new(260, 12)),
        Step::tool_calls([call(
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
