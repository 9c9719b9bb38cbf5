use agents_core::prelude::*;

#[agent(instructions = "Help.")]
struct Helper<T>(T);

fn main() {}
