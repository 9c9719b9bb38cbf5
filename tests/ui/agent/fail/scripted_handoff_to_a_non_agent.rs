use agents_testing::Step;

struct Billing;

fn main() {
    let _ = Step::handoff::<Billing>();
}
