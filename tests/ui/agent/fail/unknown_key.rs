use agents_core::prelude::*;

#[agent(instructions = "Route.", handof = Route)]
struct Triage;

fn main() {}
