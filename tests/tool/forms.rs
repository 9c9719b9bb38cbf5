//! Every supported form of `#[tool]` function.

use std::sync::atomic::{AtomicU32, Ordering};

use agents_core::prelude::*;
use agents_core::{Tool, ToolError};

pub(crate) struct Shop {
    pub(crate) refunds: AtomicU32,
}

/// Adds two integers.
#[tool]
fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> i64 {
    a + b
}

/// Greets someone.
#[tool]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// Refunds part of an order. Amount in cents.
#[tool(needs_approval)]
pub(crate) async fn refund(
    ctx: &RunContext<Shop>,
    /// Order id, e.g. "A-1001".
    order_id: String,
    amount_cents: u32,
) -> Result<String, ToolError> {
    if amount_cents == 0 {
        return Err(ToolError::new("amount must be positive"));
    }
    ctx.refunds.fetch_add(amount_cents, Ordering::SeqCst);
    Ok(format!(
        "refunded {amount_cents} on {order_id} (run {})",
        ctx.run_id()
    ))
}

/// Counts refunds so far.
#[tool]
fn refunds_so_far(shop: &Shop) -> u32 {
    shop.refunds.load(Ordering::SeqCst)
}

#[derive(serde::Serialize)]
pub(crate) struct Order {
    id: String,
    total_cents: u32,
}

/// Looks up an order.
#[tool(
    name = "find_order",
    description = "Find an order by id.",
    strict = false
)]
fn lookup(id: String) -> Result<Order, String> {
    if id.is_empty() {
        return Err("empty id".to_owned());
    }
    Ok(Order {
        id,
        total_cents: 4200,
    })
}

/// Does nothing at all.
#[tool]
fn ping() {}

#[test]
fn tool_functions_stay_callable() {
    assert_eq!(add(2, 3), 5);
    assert!(lookup(String::new()).is_err());
    assert_eq!(
        refunds_so_far(&Shop {
            refunds: AtomicU32::new(7)
        }),
        7
    );
    ping();
}

#[tokio::test]
async fn async_tool_functions_stay_callable() {
    assert_eq!(greet("Ada".into()).await, "Hello, Ada!");
    let ctx = RunContext::new(Shop {
        refunds: AtomicU32::new(0),
    });
    assert_eq!(
        refund(&ctx, "A-1".into(), 5).await.unwrap(),
        "refunded 5 on A-1 (run test)"
    );
}

#[test]
fn names_descriptions_and_flags_come_from_the_function_and_attribute() {
    assert_eq!(Tool::<()>::name(&add {}), "add");
    assert_eq!(Tool::<()>::description(&add {}), "Adds two integers.");
    assert!(Tool::<()>::strict(&add {}));
    assert!(!Tool::<()>::needs_approval(&add {}));
    assert_eq!(Tool::<()>::name(&lookup {}), "find_order");
    assert_eq!(Tool::<()>::description(&lookup {}), "Find an order by id.");
    assert!(!Tool::<()>::strict(&lookup {}));
    assert!(Tool::<Shop>::needs_approval(&refund {}));
    assert_eq!(
        Tool::<Shop>::description(&refund {}),
        "Refunds part of an order. Amount in cents."
    );
}

#[tokio::test]
async fn calls_decode_arguments_and_encode_outputs() {
    let unit = RunContext::new(());
    assert_eq!(
        add {}.call(&unit, r#"{"a": 2, "b": 40}"#).await.unwrap(),
        "42"
    );
    assert_eq!(
        greet {}.call(&unit, r#"{"name": "Ada"}"#).await.unwrap(),
        "Hello, Ada!"
    );
    assert_eq!(
        lookup {}.call(&unit, r#"{"id": "A-1"}"#).await.unwrap(),
        r#"{"id":"A-1","total_cents":4200}"#
    );
    assert_eq!(
        lookup {}.call(&unit, r#"{"id": ""}"#).await.unwrap_err(),
        ToolError::Failed("empty id".into())
    );
    assert_eq!(ping {}.call(&unit, "").await.unwrap(), "null");

    let shop = RunContext::new(Shop {
        refunds: AtomicU32::new(0),
    });
    assert_eq!(
        refund {}
            .call(&shop, r#"{"order_id": "A-1", "amount_cents": 0}"#)
            .await
            .unwrap_err(),
        ToolError::Failed("amount must be positive".into())
    );
    refund {}
        .call(&shop, r#"{"order_id": "A-1", "amount_cents": 250}"#)
        .await
        .unwrap();
    assert_eq!(refunds_so_far {}.call(&shop, "{}").await.unwrap(), "250");
}

#[test]
fn context_free_tools_fit_agents_of_any_context() {
    let shop_agent = Agent::<Shop>::builder("Billing")
        .tool(add {})
        .tool(refund {})
        .tool(refunds_so_far {})
        .build()
        .unwrap();
    let unit_agent = Agent::<()>::builder("Calc")
        .tool(add {})
        .tool(ping {})
        .build()
        .unwrap();
    assert_eq!(shop_agent.tool_definitions().len(), 3);
    assert_eq!(unit_agent.tool_definitions()[1].name, "ping");
}
