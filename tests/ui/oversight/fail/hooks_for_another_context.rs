use agents_core::hooks::RunHooks;
use agents_core::prelude::*;

struct Shop;
struct Bank;

struct Audit;

impl RunHooks<Bank> for Audit {}

fn main() {
    let _agent = Agent::<Shop>::builder("Desk").hooks(Audit).build();
}
