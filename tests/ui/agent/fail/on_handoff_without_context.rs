use agents_core::prelude::*;

#[agent]
struct Billing;

fn log(_ctx: &RunContext<()>) {}

#[derive(Handoffs)]
enum Route {
    #[handoff(on_handoff = log)]
    Billing(Billing),
}

fn main() {}
