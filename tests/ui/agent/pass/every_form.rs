//! Every supported form of `#[agent]` and `#[derive(Handoffs)]` compiles.

use agents_core::prelude::*;

#[derive(Default)]
struct Shop;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    order_id: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Reason {
    why: String,
}

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

/// Looks up an order.
#[tool]
fn lookup_order(ctx: &RunContext<Shop>, order_id: String) -> String {
    let _ = ctx;
    order_id
}

/// Adds.
#[tool]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn instructions(ctx: &RunContext<Shop>) -> String {
    format!("turn {}", ctx.turn())
}

async fn async_instructions(ctx: &RunContext<Shop>) -> String {
    format!("turn {}", ctx.turn())
}

fn on_billing(_ctx: &RunContext<Shop>, reason: Reason) {
    let _ = reason.why;
}

fn on_shipping(_ctx: &RunContext<Shop>) {}

#[agent(
    name = "Billing",
    context = Shop,
    output = Receipt,
    instructions = "Refund.",
    tools = [lookup_order, add],
    model = "gpt-4o-mini",
    temperature = 0.2,
    top_p = 1,
    max_tokens = 200,
    tool_choice = "required",
    parallel_tool_calls = true,
    stop_at_tools = [add],
    handoff_description = "Refunds.",
    crate = ::agents_core
)]
struct Billing;

#[agent(context = Shop, convert_output = Reply, instructions = async async_instructions, tool_use_behavior = "stop_on_first_tool")]
struct Shipping;

#[derive(Handoffs)]
#[handoffs(context = Shop)]
enum Route {
    /// Refunds.
    #[handoff(on_handoff = on_billing, input = Reason, tool_name = "to_billing")]
    Billing(Billing),
    #[handoff(on_handoff = on_shipping, input_filter = remove_tool_items, description = "Parcels.")]
    Shipping(Shipping),
}

#[agent(context = Shop, convert_output = Reply, instructions = instructions, handoffs = Route)]
struct Triage;

fn main() {
    let runner = Runner::new(agents_testing::MockModel::script([]));
    let _run = runner.run(&Triage, Shop, "hi");
    let _ = Triage.as_agent().graph();
}
