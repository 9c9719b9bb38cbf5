use agents_core::prelude::*;

#[agent(instructions = "Handle refunds.")]
struct Billing {
    limit_cents: u32,
}

fn main() {}
