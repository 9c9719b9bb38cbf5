use agents_core::prelude::*;

struct Shop;
struct Bank;

#[agent(context = Bank, instructions = "Handle loans.")]
struct Loans;

#[derive(Handoffs)]
enum Route {
    Loans(Loans),
}

#[agent(context = Shop, handoffs = Route)]
struct Triage;

fn main() {}
