//! The offline desk's stand-in for a model in the chat modes: each answer
//! is chosen from the request (which agent asks, the customer's last
//! words, the last tool output), so any number of customers can talk to it
//! at once and get the same answers every time. Run with `--base-url` for
//! a real model.

use agents_core::model::{BoxFuture, BoxStream, ModelStreamEvent};
use agents_core::{Item, Model, ModelError, ModelRequest, ModelResponse};
use agents_testing::{MockModel, Step, call};
use serde_json::json;

use crate::desk::{Billing, Shipping, TriageRoute, refund, refund_duplicate_charge, track_parcel};

/// A scripted model whose next step is always "answer from the request":
/// the strict mock checks every call it makes against the tools of the
/// request it answers.
pub(crate) struct DeskModel {
    mock: MockModel,
}

impl DeskModel {
    pub(crate) fn new() -> Self {
        DeskModel {
            mock: MockModel::script([]),
        }
    }
}

impl Model for DeskModel {
    fn call(&self, request: ModelRequest) -> BoxFuture<'_, Result<ModelResponse, ModelError>> {
        self.mock.push([Step::respond(answer)]);
        self.mock.call(request)
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'_, Result<ModelStreamEvent, ModelError>> {
        self.mock.push([Step::respond(answer)]);
        self.mock.stream(request)
    }
}

/// Words that send a customer to Billing.
const BILLING_WORDS: [&str; 6] = ["charge", "refund", "invoice", "paid", "twice", "money"];
/// Words that send a customer to Shipping.
const SHIPPING_WORDS: [&str; 5] = ["parcel", "deliver", "arrive", "track", "where"];

fn answer(request: &ModelRequest) -> Step {
    let words = request
        .input
        .iter()
        .rev()
        .find_map(|item| match &**item {
            Item::UserMessage { content } => Some(content.to_lowercase()),
            _ => None,
        })
        .unwrap_or_default();
    let mentions = |list: &[&str]| list.iter().any(|w| words.contains(w));
    let failed = request.input.last().and_then(|item| match &**item {
        Item::ToolOutput(output) if output.is_error => Some(output.output.clone()),
        _ => None,
    });
    match &*request.agent {
        "Billing" => billing(&words, failed),
        "Shipping" => match failed {
            Some(error) => Step::text(format!("I could not track the parcel: {error}")),
            None => Step::tool_calls([call(track_parcel {}, json!({}))]),
        },
        _ if mentions(&BILLING_WORDS) => Step::handoff_via::<TriageRoute, Billing>(),
        _ if mentions(&SHIPPING_WORDS) => Step::handoff_via::<TriageRoute, Shipping>(),
        _ => Step::text("I can help with charges, refunds and deliveries: what happened?"),
    }
}

/// Billing answers with a receipt: a refund's (the tool's output ends the
/// run), or one refunding nothing when a refund failed or was declined.
fn billing(words: &str, failed: Option<String>) -> Step {
    let order = words
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|word| word.starts_with("a-"))
        .map(str::to_uppercase);
    if let Some(error) = failed {
        return Step::json(json!({
            "order_id": order.unwrap_or_default(),
            "refunded_cents": 0,
            "message": format!("Nothing was refunded: {error}"),
        }));
    }
    if ["twice", "double", "duplicate"]
        .iter()
        .any(|w| words.contains(w))
    {
        return Step::tool_calls([call(refund_duplicate_charge {}, json!({}))]);
    }
    match (order, amount_cents(words)) {
        (Some(order_id), Some(amount_cents)) => Step::tool_calls([call(
            refund {},
            json!({"order_id": order_id, "amount_cents": amount_cents}),
        )]),
        (order, _) => Step::json(json!({
            "order_id": order.unwrap_or_default(),
            "refunded_cents": 0,
            "message": "Which order, and how much should be refunded (e.g. 15.00 on A-1002)?",
        })),
    }
}

/// The first amount in `words` with a decimal point ("15.00"), in cents.
fn amount_cents(words: &str) -> Option<u32> {
    words
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|word| word.contains('.'))
        .find_map(|word| word.trim_end_matches('.').parse::<f64>().ok())
        .filter(|amount| *amount > 0.0 && *amount < 1e6)
        .map(|amount| (amount * 100.0).round() as u32)
}
