//! A three-agent support desk declared with the macros: Triage hands off to
//! Billing (structured receipts) or Shipping; Shipping may hand back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use agents_core::prelude::*;

/// The run context every agent of the desk shares.
#[derive(Default)]
pub(crate) struct Shop {
    pub(crate) refunded_cents: AtomicU32,
    pub(crate) escalations: Mutex<Vec<String>>,
    pub(crate) customer: String,
}

/// Look up an order by its id.
#[tool]
pub(crate) fn lookup_order(
    /// Order id, e.g. "A-1001".
    order_id: String,
) -> String {
    format!("{order_id}: espresso machine, paid 498.00, parcel PX-77")
}

/// Refund part of an order. Amount in cents.
#[tool]
pub(crate) fn refund(ctx: &RunContext<Shop>, order_id: String, amount_cents: u32) -> String {
    ctx.refunded_cents.fetch_add(amount_cents, Ordering::SeqCst);
    format!("refunded {amount_cents} on {order_id}")
}

/// Track a parcel.
#[tool]
pub(crate) async fn track_parcel(parcel: String) -> String {
    format!("{parcel}: out for delivery")
}

/// A refund receipt: Billing's structured answer.
#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Receipt {
    /// The refunded order.
    pub(crate) order_id: String,
    /// Amount refunded, in cents.
    pub(crate) refunded_cents: u32,
}

/// The desk's reply, whoever answers.
#[derive(Debug, PartialEq)]
pub(crate) enum Reply {
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

/// Why Triage escalates to Billing: the typed handoff input.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Escalation {
    /// One sentence on why the customer needs Billing.
    pub(crate) reason: String,
}

pub(crate) fn record_escalation(ctx: &RunContext<Shop>, escalation: Escalation) {
    ctx.escalations.lock().unwrap().push(escalation.reason);
}

fn triage_instructions(ctx: &RunContext<Shop>) -> String {
    format!(
        "You triage requests for {}. Look up the order first.",
        ctx.customer
    )
}

#[derive(Handoffs)]
#[handoffs(context = Shop)]
pub(crate) enum TriageRoute {
    /// Refunds, double charges, invoices.
    #[handoff(on_handoff = record_escalation, input = Escalation)]
    Billing(Billing),
    /// Delivery status and tracking.
    #[handoff(input_filter = remove_tool_items)]
    Shipping(Shipping),
}

#[derive(Handoffs)]
pub(crate) enum BackToTriage {
    /// Anything that is not about a parcel.
    Triage(Triage),
}

#[agent(
    context = Shop,
    convert_output = Reply,
    instructions = triage_instructions,
    tools = [lookup_order],
    handoffs = TriageRoute,
    temperature = 0.2,
    handoff_description = "Routes customers to the right desk."
)]
pub(crate) struct Triage;

#[agent(
    context = Shop,
    output = Receipt,
    instructions = "Refund what the customer is owed, then answer with a receipt.",
    tools = [lookup_order, refund],
    model = "gpt-4o-mini",
    max_tokens = 300,
    tool_choice = "auto",
    handoff_description = "Refunds and charges."
)]
pub(crate) struct Billing;

// Shipping answers in text, converted into `Reply` (`Reply: From<String>`).
// It may hand back to Triage: the graph has a cycle.
#[agent(
    name = "Shipping",
    context = Shop,
    convert_output = Reply,
    instructions = "Answer delivery questions.",
    tools = [lookup_order, track_parcel],
    handoffs = BackToTriage,
    handoff_description = "Parcels and delivery."
)]
pub(crate) struct Shipping;

impl Shop {
    pub(crate) fn for_customer(customer: &str) -> Self {
        Shop {
            customer: customer.to_owned(),
            ..Shop::default()
        }
    }
}
