use agents_core::{tool, RunContext};

struct Shop;

/// Looks up an order.
#[tool]
fn lookup(order_id: String, ctx: &RunContext<Shop>) -> String {
    let _ = ctx;
    order_id
}

fn main() {}
