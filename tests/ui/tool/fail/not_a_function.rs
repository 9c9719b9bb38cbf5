use agents_core::tool;

/// An order.
#[tool]
struct Order {
    id: String,
}

fn main() {}
