use agents_core::tool;

struct Shop {
    count: u32,
}

/// Counts calls.
#[tool]
fn count(shop: &mut Shop) -> u32 {
    shop.count += 1;
    shop.count
}

fn main() {}
