use agents_core::prelude::*;

/// Moves the customer along.
#[tool(name = "transfer_to_billing_desk")]
fn transfer(note: String) -> String {
    note
}

#[agent(name = "Billing Desk")]
struct Billing;

#[derive(Handoffs)]
enum Route {
    Billing(Billing),
}

#[agent(tools = [transfer], handoffs = Route)]
struct Triage;

fn main() {}
