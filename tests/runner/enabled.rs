//! Tools and handoffs offered by a predicate over the run context, asked
//! before each model call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use agents_core::prelude::*;
use agents_core::tool::enabled_when;
use agents_core::{Handoff, Item};
use agents_testing::{MockModel, Step, call, call_named};
use serde_json::json;

/// Whether refunds are open, switched by the `close_refunds` tool.
#[derive(Default)]
struct Shop {
    refunds_open: AtomicBool,
    refunds: AtomicU32,
}

/// Refund an order.
#[tool]
fn refund(shop: &Arc<Shop>, order_id: String) -> String {
    shop.refunds.fetch_add(1, Ordering::SeqCst);
    format!("refunded {order_id}")
}

/// Close refunds for the day.
#[tool]
fn close_refunds(shop: &Arc<Shop>) -> String {
    shop.refunds_open.store(false, Ordering::SeqCst);
    "closed".to_owned()
}

fn open(ctx: &RunContext<Arc<Shop>>) -> bool {
    ctx.refunds_open.load(Ordering::SeqCst)
}

fn desk() -> Agent<Arc<Shop>> {
    let manager = Agent::<Arc<Shop>>::builder("Manager").build().unwrap();
    Agent::<Arc<Shop>>::builder("Desk")
        .tool(enabled_when(refund {}, open))
        .tool(close_refunds {})
        .handoff(Handoff::to(&manager).enabled_when(|ctx: &RunContext<Arc<Shop>>| !open(ctx)))
        .build()
        .unwrap()
}

fn offered(request: &agents_core::ModelRequest) -> Vec<&str> {
    request
        .tools
        .iter()
        .map(|tool| tool.name.as_str())
        .collect()
}

#[tokio::test]
async fn the_model_sees_only_what_is_enabled_on_each_turn() {
    let shop = Arc::new(Shop::default());
    shop.refunds_open.store(true, Ordering::SeqCst);
    let model = MockModel::script([
        Step::tool_calls([call(close_refunds {}, json!({}))]),
        Step::handoff_to("Manager"),
        Step::text("The manager will call you back."),
    ]);
    let result = Runner::new(model.clone())
        .run(&desk(), Arc::clone(&shop), "refund A-1")
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Manager");
    let requests = model.requests();
    assert_eq!(offered(&requests[0]), ["refund", "close_refunds"]);
    assert_eq!(
        offered(&requests[1]),
        ["close_refunds", "transfer_to_manager"]
    );
}

#[tokio::test]
async fn a_call_to_a_disabled_tool_is_an_unknown_tool_error() {
    let shop = Arc::new(Shop::default());
    let model = MockModel::script([
        Step::tool_calls([call(refund {}, json!({"order_id": "A-1"}))]),
        Step::text("Refunds are closed."),
    ]);
    // The script calls what the agent does not offer, on purpose.
    model.allow_unknown_tools();
    let result = Runner::new(model.clone())
        .run(&desk(), Arc::clone(&shop), "refund A-1")
        .await
        .unwrap();
    assert_eq!(
        shop.refunds.load(Ordering::SeqCst),
        0,
        "the disabled tool did not run"
    );
    let Item::ToolOutput(output) = &*result.new_items[1].item else {
        panic!("expected the call's output");
    };
    assert!(output.is_error);
    assert_eq!(
        output.output,
        "unknown tool `refund`; available tools: close_refunds, transfer_to_manager"
    );
}

#[tokio::test]
async fn a_call_to_a_disabled_handoff_is_not_a_handoff() {
    let shop = Arc::new(Shop::default());
    shop.refunds_open.store(true, Ordering::SeqCst);
    let model = MockModel::script([
        Step::tool_calls([call_named("transfer_to_manager", json!({}))]),
        Step::text("I can refund it myself."),
    ]);
    // The script calls what the agent does not offer, on purpose.
    model.allow_unknown_tools();
    let result = Runner::new(model)
        .run(&desk(), Arc::clone(&shop), "manager please")
        .await
        .unwrap();
    assert_eq!(&*result.last_agent, "Desk");
    assert!(matches!(
        &*result.new_items[1].item,
        Item::ToolOutput(o) if o.is_error && o.output.starts_with("unknown tool `transfer_to_manager`")
    ));
}
