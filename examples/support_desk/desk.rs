//! The desk: context, tools, agents and the handoff graph.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use agents_core::prelude::*;

/// The shop the desk works for: the run context every tool reads. The
/// customer writes from an order's page, so the desk knows which order the
/// conversation is about. Clones share the order store (a long-lived
/// agent's runs each take a clone).
#[derive(Clone)]
pub(crate) struct Shop {
    orders: Arc<Mutex<HashMap<String, Order>>>,
    open_order: Option<String>,
}

#[derive(Clone, serde::Serialize)]
pub(crate) struct Order {
    id: String,
    item: String,
    /// Charged so far, in cents (a double charge shows twice the price).
    charged_cents: u32,
    price_cents: u32,
    refunded_cents: u32,
    parcel: String,
}

impl Shop {
    /// The demo shop (order A-1001 was charged twice), with the customer on
    /// the page of the order their question names.
    pub(crate) fn demo(question: &str) -> Self {
        let open_order = question
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .find(|word| word.starts_with("A-"))
            .map(str::to_owned);
        let orders = [
            Order {
                id: "A-1001".into(),
                item: "Espresso machine".into(),
                charged_cents: 2 * 24_900,
                price_cents: 24_900,
                refunded_cents: 0,
                parcel: "PX-77".into(),
            },
            Order {
                id: "A-1002".into(),
                item: "Milk jug".into(),
                charged_cents: 1_500,
                price_cents: 1_500,
                refunded_cents: 0,
                parcel: "PX-78".into(),
            },
        ];
        Shop {
            orders: Arc::new(Mutex::new(
                orders.into_iter().map(|o| (o.id.clone(), o)).collect(),
            )),
            open_order,
        }
    }

    fn open_order_id(&self) -> Result<String, ToolError> {
        self.open_order
            .clone()
            .ok_or_else(|| ToolError::new("the customer has no order open; ask for the order id"))
    }
}

/// Look up an order by its id.
#[tool]
pub(crate) fn lookup_order(
    shop: &Shop,
    /// Order id, e.g. "A-1001".
    order_id: String,
) -> Result<Order, ToolError> {
    let orders = shop
        .orders
        .lock()
        .map_err(|_| ToolError::new("order store unavailable"))?;
    orders
        .get(order_id.trim())
        .cloned()
        .ok_or_else(|| ToolError::new(format!("no order {order_id}; order ids look like A-1001")))
}

/// Refund part of an order. Amount in cents.
#[tool]
pub(crate) fn refund(
    shop: &Shop,
    /// Order id, e.g. "A-1001".
    order_id: String,
    /// Amount to refund, in cents.
    amount_cents: u32,
) -> Result<Receipt, ToolError> {
    let mut orders = shop
        .orders
        .lock()
        .map_err(|_| ToolError::new("order store unavailable"))?;
    let order = orders.get_mut(order_id.trim()).ok_or_else(|| {
        ToolError::new(format!("no order {order_id}; order ids look like A-1001"))
    })?;
    if amount_cents == 0 || order.refunded_cents + amount_cents > order.charged_cents {
        return Err(ToolError::new(format!(
            "cannot refund {amount_cents} cents: {} charged, {} refunded",
            order.charged_cents, order.refunded_cents
        )));
    }
    order.refunded_cents += amount_cents;
    Ok(Receipt {
        order_id: order.id.clone(),
        refunded_cents: amount_cents,
        message: format!("Refunded {amount_cents} cents on {}.", order.id),
    })
}

/// Refund the duplicate charge on the order the customer has open: the
/// amount charged beyond the price.
#[tool]
pub(crate) fn refund_duplicate_charge(shop: &Shop) -> Result<Receipt, ToolError> {
    let order_id = shop.open_order_id()?;
    let mut orders = shop
        .orders
        .lock()
        .map_err(|_| ToolError::new("order store unavailable"))?;
    let order = orders
        .get_mut(&order_id)
        .ok_or_else(|| ToolError::new(format!("no order {order_id}")))?;
    let duplicate = order
        .charged_cents
        .saturating_sub(order.price_cents + order.refunded_cents);
    if duplicate == 0 {
        return Err(ToolError::new(format!(
            "order {order_id} has no duplicate charge to refund"
        )));
    }
    order.refunded_cents += duplicate;
    Ok(Receipt {
        order_id: order.id.clone(),
        refunded_cents: duplicate,
        message: format!(
            "We refunded the duplicate charge of {}.{:02} on order {}.",
            duplicate / 100,
            duplicate % 100,
            order.id
        ),
    })
}

/// Track the parcel of the order the customer has open.
#[tool]
pub(crate) fn track_parcel(shop: &Shop) -> Result<String, ToolError> {
    let order_id = shop.open_order_id()?;
    let orders = shop
        .orders
        .lock()
        .map_err(|_| ToolError::new("order store unavailable"))?;
    let order = orders
        .get(&order_id)
        .ok_or_else(|| ToolError::new(format!("no order {order_id}")))?;
    Ok(format!(
        "Parcel {} for order {order_id}: out for delivery, arriving tomorrow.",
        order.parcel
    ))
}

/// Billing's structured answer.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Receipt {
    /// The refunded order.
    pub(crate) order_id: String,
    /// Amount refunded, in cents.
    pub(crate) refunded_cents: u32,
    /// One sentence for the customer.
    pub(crate) message: String,
}

/// The desk's reply, whichever agent answers. Serialized as
/// `{"text": ..}` or `{"receipt": {..}}` (a durable run's output).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// Refunds: looks the order up, refunds the duplicate charge; the refund
/// tool's receipt is the answer.
#[agent(
    context = Shop,
    output = Receipt,
    instructions = "You handle refunds. For a double charge, refund the duplicate charge on the \
                    customer's order; otherwise refund the amount the customer is owed, in cents.",
    tools = [lookup_order, refund, refund_duplicate_charge],
    stop_at_tools = [refund, refund_duplicate_charge],
    temperature = 0.0,
    handoff_description = "Refunds, double charges, invoices."
)]
pub(crate) struct Billing;

#[agent(
    context = Shop,
    convert_output = Reply,
    instructions = "You answer delivery questions: track the customer's parcel.",
    tools = [lookup_order, track_parcel],
    stop_at_tools = [track_parcel],
    temperature = 0.0,
    handoff_description = "Delivery status and tracking."
)]
pub(crate) struct Shipping;

#[derive(Handoffs)]
pub(crate) enum TriageRoute {
    Billing(Billing),
    Shipping(Shipping),
}

#[agent(
    context = Shop,
    convert_output = Reply,
    instructions = "You are the front desk of a shop. Hand the customer to Billing for charges \
                    and refunds, to Shipping for deliveries.",
    tools = [lookup_order],
    handoffs = TriageRoute,
    temperature = 0.0
)]
pub(crate) struct Triage;

/// Model settings that force each agent's one step, by agent name: for
/// small local models that answer in text instead of choosing a tool. The
/// route is decided from the question's words. The committed recording was
/// made with them.
pub(crate) fn guided_settings(question: &str) -> [(&'static str, ModelSettings); 3] {
    let question = question.to_lowercase();
    let billing = ["charge", "refund", "invoice", "paid", "twice"]
        .iter()
        .any(|w| question.contains(w));
    let route = if billing {
        "transfer_to_billing"
    } else {
        "transfer_to_shipping"
    };
    let force = |tool: &str| ModelSettings::new().tool_choice(ToolChoice::Tool(tool.to_owned()));
    [
        ("Triage", force(route)),
        ("Billing", force("refund_duplicate_charge")),
        ("Shipping", force("track_parcel")),
    ]
}

impl std::fmt::Display for Reply {
    /// The reply as the customer reads it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Receipt(receipt) => write!(
                f,
                "reply (receipt): {} refunded {} cents. {}",
                receipt.order_id, receipt.refunded_cents, receipt.message
            ),
            Reply::Text(text) => write!(f, "reply: {text}"),
        }
    }
}
