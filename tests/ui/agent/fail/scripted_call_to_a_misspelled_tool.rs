use agents_core::prelude::*;
use agents_testing::call;

/// Looks up an order.
#[tool]
fn lookup_order(order_id: String) -> String {
    order_id
}

fn main() {
    let _ = call(lookup_ordr {}, serde_json::json!({"order_id": "A-1"}));
}
