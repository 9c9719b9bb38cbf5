use agents_core::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Receipt {
    order_id: String,
}

#[agent(output = Receipt)]
struct Billing;

#[derive(Handoffs)]
enum Route {
    Billing(Billing),
}

// Triage answers `String`; `Receipt` does not convert into it.
#[agent(handoffs = Route)]
struct Triage;

fn main() {}
