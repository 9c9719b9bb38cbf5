use agents_core::tool;

#[tool]
fn lookup(order_id: String) -> String {
    order_id
}

fn main() {}
