use agents_core::prelude::*;

#[agent]
struct Billing;

#[derive(Handoffs)]
enum Route {
    Billing,
    Both(Billing, Billing),
    #[handoff(on_handof = log)]
    Again(Billing),
}

fn main() {}
