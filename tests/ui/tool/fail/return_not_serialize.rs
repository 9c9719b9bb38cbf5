use agents_core::tool;

struct Receipt;

/// Refunds an order.
#[tool]
fn refund(order_id: String) -> Receipt {
    let _ = order_id;
    Receipt
}

fn main() {}
