//! The README's first app: a context, three tools, two agents, a handoff and
//! a structured output, run on the scripted mock model; its test snapshots
//! the transcript. Written from the README alone.
//!
//! `cargo run --example first_app`; `cargo test -p examples --example first_app`.

use std::sync::{Arc, Mutex};

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call};
use serde_json::json;

/// The run context: every tool and instruction function can read it.
struct Shop {
    /// Refunds made, in cents. The run takes the context by value and does
    /// not give it back: keep a clone of what you read after the run.
    refunds: Arc<Mutex<Vec<u32>>>,
}

/// Look up an order by its id.
#[tool]
fn lookup_order(
    /// Order id, e.g. "A-1001".
    order_id: String,
) -> String {
    format!("{order_id}: espresso machine, 249.00, charged twice")
}

/// Track the parcel of an order.
#[tool]
async fn track_parcel(order_id: String) -> String {
    format!("{order_id}: out for delivery, arriving tomorrow")
}

/// Refund part of an order. Amount in cents.
#[tool]
fn refund(shop: &Shop, order_id: String, amount_cents: u32) -> Result<String, ToolError> {
    if amount_cents > 24_900 {
        // An `Err` goes back to the model as the tool's error output.
        return Err(ToolError::new("more than the order's price"));
    }
    shop.refunds.lock().unwrap().push(amount_cents);
    Ok(format!("refunded {amount_cents} cents on {order_id}"))
}

/// Billing's structured answer: the model must answer in this shape.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    /// The refunded order.
    order_id: String,
    /// Amount refunded, in cents.
    refunded_cents: u32,
}

/// What the desk answers, whichever agent answers last.
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
    instructions = "Refund what the customer is owed, in cents.",
    tools = [lookup_order, refund],
)]
struct Billing;

/// Where Triage may hand the conversation; the doc comment tells the model
/// when.
#[derive(Handoffs)]
enum Route {
    /// Refunds, double charges, invoices.
    Billing(Billing),
}

// Triage answers in text itself (`convert_output` turns it into a `Reply`);
// a handoff is allowed because Billing's `Receipt` converts into `Reply`.
#[agent(
    context = Shop,
    convert_output = Reply,
    instructions = "Route the customer; answer delivery questions yourself.",
    tools = [lookup_order, track_parcel],
    handoffs = Route,
)]
struct Triage;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The model's turns, scripted with typed steps: a misspelt tool or agent
    // does not compile, and the JSON is checked against the tool's arguments.
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, lookup_order::args("A-1001".into()))]),
        Step::handoff::<Billing>(),
        Step::tool_calls([call(refund {}, refund::args("A-1001".into(), 24_900))]),
        Step::json(json!({"order_id": "A-1001", "refunded_cents": 24_900})),
    ]);
    let refunds = Arc::new(Mutex::new(Vec::new()));
    let shop = Shop {
        refunds: Arc::clone(&refunds),
    };

    let runner = Runner::new(model.clone());
    let result = runner
        .run(&Triage, shop, "I was charged twice for A-1001")
        .await?;

    match &result.final_output {
        Reply::Receipt(receipt) => {
            println!(
                "refunded {} cents on {}",
                receipt.refunded_cents, receipt.order_id
            );
        }
        Reply::Text(text) => println!("{text}"),
    }
    assert!(matches!(&result.final_output, Reply::Receipt(r) if r.refunded_cents == 24_900));
    assert_eq!(&*result.last_agent, "Billing");
    assert_eq!(*refunds.lock().unwrap(), [24_900]);
    model.assert_complete(); // every scripted step was used
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same conversation as `main`, its transcript reviewed and kept as
    /// a snapshot.
    #[tokio::test]
    async fn a_double_charge_is_refunded_by_billing() {
        let model = MockModel::script([
            Step::tool_calls([call(lookup_order {}, lookup_order::args("A-1001".into()))]),
            Step::handoff::<Billing>(),
            Step::tool_calls([call(refund {}, refund::args("A-1001".into(), 24_900))]),
            Step::json(json!({"order_id": "A-1001", "refunded_cents": 24_900})),
        ]);
        let shop = Shop {
            refunds: Arc::default(),
        };
        let result = Runner::new(model.clone())
            .run(&Triage, shop, "I was charged twice for A-1001")
            .await
            .unwrap();
        agents_testing::assert_run_snapshot!(result);
        model.assert_complete();
    }

    /// A refund above the price is refused and the model hears why.
    #[tokio::test]
    async fn a_refund_above_the_price_is_an_error_output() {
        let model = MockModel::script([
            Step::handoff::<Billing>(),
            Step::tool_calls([call(refund {}, refund::args("A-1001".into(), 99_900))]),
            Step::json(json!({"order_id": "A-1001", "refunded_cents": 0})),
        ]);
        let refunds = Arc::new(Mutex::new(Vec::new()));
        let shop = Shop {
            refunds: Arc::clone(&refunds),
        };
        let result = Runner::new(model.clone())
            .run(&Triage, shop, "refund 999.00 on A-1001")
            .await
            .unwrap();
        assert!(refunds.lock().unwrap().is_empty());
        let last_request = model.requests().pop().unwrap();
        let Some(Item::ToolOutput(output)) = last_request.input.last().map(|i| &**i) else {
            panic!("expected the refund's output last");
        };
        assert!(output.is_error);
        assert!(
            output.output.contains("more than the order's price"),
            "{}",
            output.output
        );
        assert!(matches!(
            result.final_output,
            Reply::Receipt(Receipt {
                refunded_cents: 0,
                ..
            })
        ));
    }
}
