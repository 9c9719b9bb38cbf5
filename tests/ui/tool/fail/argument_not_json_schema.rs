use agents_core::tool;

#[derive(serde::Deserialize)]
struct Order {
    id: String,
}

/// Stores an order.
#[tool]
fn store(order: Order) -> String {
    order.id
}

fn main() {}
