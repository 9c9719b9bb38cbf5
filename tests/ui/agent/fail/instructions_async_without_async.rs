use agents_core::prelude::*;

async fn greeting(ctx: &RunContext<()>) -> String {
    let _ = ctx;
    "Greet the customer.".to_owned()
}

// An async function needs `instructions = async greeting`.
#[agent(instructions = greeting)]
struct Greeter;

fn main() {}
