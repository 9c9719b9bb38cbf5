use agents_core::prelude::*;

#[derive(Handoffs)]
struct Route;

fn main() {}
