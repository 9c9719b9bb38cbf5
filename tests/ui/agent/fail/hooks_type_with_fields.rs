use agents_core::hooks::RunHooks;
use agents_core::prelude::*;

struct Audit {
    prefix: String,
}

impl RunHooks<()> for Audit {}

// A struct with fields is a value only as a literal: `Audit { prefix: .. }`.
#[agent(hooks = [Audit])]
struct Desk;

fn main() {
    let _ = Audit { prefix: String::new() }.prefix;
}
