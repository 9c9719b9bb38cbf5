use agents_core::{tool, RunContext};

struct Shop;

/// Looks up an order.
#[tool]
fn lookup(ctx: &RunContext<Shop>, shop: &Shop, order_id: String) -> String {
    let _ = (ctx, shop);
    order_id
}

fn main() {}
