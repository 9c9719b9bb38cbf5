use agents_core::tool;

/// Looks up an order.
#[tool(nmae = "find")]
fn lookup(order_id: String) -> String {
    order_id
}

fn main() {}
