//! A mistake in an `#[agent]` or a `#[derive(Handoffs)]` is reported once:
//! the code naming the agent or the enum elsewhere still checks against
//! their stub impls instead of failing again.

use agents_core::prelude::*;

// A misspelled key.
#[agent(instructions = "Refunds.", temprature = 0.0)]
struct Billing;

#[derive(Handoffs)]
enum Route {
    Billing(Billing),
}

#[agent(instructions = "Route.", handoffs = Route)]
struct Triage;

// A variant of the wrong shape.
#[derive(Handoffs)]
enum Broken {
    Billing { agent: Billing },
}

#[agent(instructions = "Route.", handoffs = Broken)]
struct Front;

fn main() {
    let _ = Triage::agent();
    let _ = Front::agent();
    let _ = agents_testing::Step::handoff::<Billing>();
}
