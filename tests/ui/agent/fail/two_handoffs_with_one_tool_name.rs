use agents_core::prelude::*;

#[agent]
struct Billing;

#[agent]
struct Refunds;

#[derive(Handoffs)]
enum Twice {
    Billing(Billing),
    AlsoBilling(Billing),
}

#[derive(Handoffs)]
enum Renamed {
    Billing(Billing),
    #[handoff(tool_name = "transfer_to_billing")]
    Refunds(Refunds),
}

fn main() {}
