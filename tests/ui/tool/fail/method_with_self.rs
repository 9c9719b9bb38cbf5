use agents_core::tool;

struct Shop;

impl Shop {
    /// Looks up an order.
    #[tool]
    fn lookup(&self, order_id: String) -> String {
        order_id
    }
}

fn main() {}
