use agents_core::prelude::*;

struct Shop;
struct Bank;

/// Looks up an order.
#[tool]
fn lookup_order(ctx: &RunContext<Shop>, order_id: String) -> String {
    let _ = ctx;
    order_id
}

#[agent(context = Bank, tools = [lookup_order])]
struct Teller;

fn main() {}
