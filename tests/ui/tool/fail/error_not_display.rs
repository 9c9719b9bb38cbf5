use agents_core::tool;

#[derive(Debug)]
struct RefundFailed;

/// Refunds an order.
#[tool]
fn refund(order_id: String) -> Result<String, RefundFailed> {
    Ok(order_id)
}

fn main() {}
