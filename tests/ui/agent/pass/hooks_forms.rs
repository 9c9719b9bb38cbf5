//! `hooks = [..]` takes functions returning hooks and hooks values (a
//! unit struct, a struct literal, a call).

use agents_core::hooks::RunHooks;
use agents_core::prelude::*;

struct Audit;

impl RunHooks<()> for Audit {}

struct Counting {
    count: u32,
}

impl RunHooks<()> for Counting {}

fn counting() -> Counting {
    Counting { count: 0 }
}

fn counting_from(count: u32) -> Counting {
    Counting { count }
}

#[agent(
    instructions = "Help.",
    hooks = [Audit, counting, Counting { count: 1 }, counting_from(2)]
)]
struct Desk;

fn main() {
    let _ = counting().count;
    let _ = Desk::agent();
}
