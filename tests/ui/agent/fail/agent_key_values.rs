use agents_core::prelude::*;

#[agent(name = Triage, tools = lookup_order, temperature = "hot", tool_use_behavior = "sometimes")]
struct Triage;

fn main() {}
