use agents_core::prelude::*;

struct Shop;
struct Bank;

#[agent(context = Shop, instructions = "Sell.")]
struct Seller;

#[agent(context = Bank, instructions = "Lend.")]
struct Lender;

async fn serve(runner: Runner<Shop>) {
    let _ = runner.run(&Seller, Shop, "hi").await;
    // One runner runs agents of one context type.
    let _ = runner.run(&Lender, Bank, "hi").await;
}

fn main() {
    let _ = serve;
}
