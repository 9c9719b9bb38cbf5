use agents_core::prelude::*;

struct Shop;
struct Bank;

/// Looks up an order.
#[tool]
fn lookup(ctx: &RunContext<Shop>, order_id: String) -> String {
    let _ = ctx;
    order_id
}

fn main() {
    let _agent = Agent::<Bank>::builder("Teller").tool(lookup {}).build();
}
