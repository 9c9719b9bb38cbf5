use agents_core::prelude::*;

/// Looks up an order.
#[tool(name = "lookup")]
fn lookup_order(order_id: String) -> String {
    order_id
}

/// Looks up a customer.
#[tool(name = "lookup")]
fn lookup_customer(email: String) -> String {
    email
}

mod shipping {
    use agents_core::prelude::*;

    /// Tracks a parcel.
    #[tool]
    pub fn lookup_order(parcel: String) -> String {
        parcel
    }
}

mod billing {
    use agents_core::prelude::*;

    /// Refunds an order.
    #[tool]
    pub fn refund(order_id: String) -> String {
        order_id
    }
}

mod shop {
    use agents_core::prelude::*;

    /// Refunds a voucher.
    #[tool]
    pub fn refund(voucher: String) -> String {
        voucher
    }
}

#[agent(tools = [lookup_order, lookup_customer])]
struct Desk;

#[agent(tools = [billing::refund, shop::refund])]
struct Refunds;

#[agent(tools = [lookup_customer, shipping::lookup_order])]
struct Fine;

#[agent(tools = [shipping::lookup_order, lookup_customer, lookup_order])]
struct Shipping;

fn main() {}
