use agents_core::prelude::*;

struct Billing;

#[derive(Handoffs)]
enum Route {
    Billing(Billing),
}

#[agent(handoffs = Route)]
struct Triage;

fn main() {}
