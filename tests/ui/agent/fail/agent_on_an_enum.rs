use agents_core::prelude::*;

#[agent(instructions = "Help.")]
enum Helper {
    One,
}

fn main() {}
