use agents_core::tool;

/// Looks up an order.
#[tool(strict = "yes", name = 3)]
fn lookup(order_id: String) -> String {
    order_id
}

fn main() {}
