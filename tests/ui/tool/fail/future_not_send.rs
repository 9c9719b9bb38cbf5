use std::rc::Rc;

use agents_core::tool;

/// Waits, holding an `Rc` across the await.
#[tool]
async fn wait(order_id: String) -> String {
    let shared = Rc::new(order_id);
    tokio::task::yield_now().await;
    shared.to_string()
}

fn main() {}
