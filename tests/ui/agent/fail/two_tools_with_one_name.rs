use agents_core::prelude::*;

/// Looks up an order.
#[tool]
fn lookup_order(order_id: String) -> String {
    order_id
}

#[agent(tools = [lookup_order, lookup_order])]
struct Triage;

fn main() {}
