use agents_core::tool;

#[derive(schemars::JsonSchema)]
struct Order {
    id: String,
}

/// Stores an order.
#[tool]
fn store(order: Order) -> String {
    order.id
}

fn main() {}
