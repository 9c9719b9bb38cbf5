use agents_core::prelude::*;

#[agent]
struct Billing;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Reason {
    why: String,
}

// Generic, an unknown enum key, an input without `on_handoff`.
#[derive(Handoffs)]
#[handoffs(contxt = ())]
enum Route<T> {
    Billing(Billing),
    #[handoff(input = Reason)]
    Again(T),
}

#[derive(Handoffs)]
enum Empty {}

fn main() {}
