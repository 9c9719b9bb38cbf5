use agents_core::prelude::*;

struct Shop;

/// Greets a customer.
#[tool]
fn greet(name: &str) -> String {
    name.to_owned()
}

/// Tags an order.
#[tool]
fn tag(order_id: String, tags: &[String]) -> String {
    format!("{order_id} {tags:?}")
}

/// Looks up an order.
#[tool]
fn lookup(ctx: RunContext<Shop>, order_id: String) -> String {
    let _ = ctx;
    order_id
}

fn main() {}
