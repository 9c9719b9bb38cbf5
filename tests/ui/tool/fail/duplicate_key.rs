use agents_core::tool;

/// Looks up an order.
#[tool(name = "find", name = "lookup")]
fn lookup(order_id: String) -> String {
    order_id
}

fn main() {}
