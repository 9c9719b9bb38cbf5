use agents_core::prelude::*;

#[derive(serde::Deserialize)]
struct Receipt {
    order_id: String,
}

#[agent(output = Receipt)]
struct Billing;

fn main() {}
