use agents_core::prelude::*;

struct Shop;

fn instructions(shop: &Shop) -> String {
    let _ = shop;
    String::new()
}

#[agent(context = Shop, instructions = instructions)]
struct Triage;

fn main() {}
