use agents_core::prelude::*;
use agents_testing::Step;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Escalation {
    reason: String,
}

#[agent]
struct Billing;

#[agent]
struct Shipping;

fn escalate(_ctx: &RunContext<()>, _escalation: Escalation) {}

#[derive(Handoffs)]
#[handoffs(context = ())]
enum Route {
    #[handoff(input = Escalation, on_handoff = escalate)]
    Billing(Billing),
}

fn main() {
    // Not a handoff of `Route`.
    let _ = Step::handoff_via::<Route, Shipping>();
    // This handoff takes an input: the step must give it.
    let _ = Step::handoff_via::<Route, Billing>();
    // The input's type is the variant's.
    let _ = Step::handoff_via_with::<Route, Billing>("charged twice");
}
