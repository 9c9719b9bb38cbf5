use agents_core::tool;

// Every mistake is reported in one compile.
#[tool(nmae = "find", strict = "yes")]
fn lookup<T>(order_id: String, (a, b): (u8, u8)) -> String {
    let _ = (a, b);
    order_id
}

fn main() {}
