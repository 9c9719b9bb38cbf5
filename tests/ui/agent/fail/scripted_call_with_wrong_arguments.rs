use agents_core::prelude::*;
use agents_testing::call;

/// Looks up an order.
#[tool]
fn lookup_order(order_id: String) -> String {
    order_id
}

/// Refunds an order.
#[tool]
fn refund(order_id: String, amount_cents: u32) -> String {
    format!("{order_id} {amount_cents}")
}

fn main() {
    let _ = call(lookup_order {}, refund::args("A-1".into(), 5));
    let _ = call(lookup_order {}, 42);
}
