use agents_core::tool;

/// Looks up an order.
#[tool(name = "look up order")]
fn lookup(order_id: String) -> String {
    order_id
}

fn main() {}
