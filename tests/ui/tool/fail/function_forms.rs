use agents_core::tool;

/// A const function.
#[tool]
const fn constant() -> u32 {
    1
}

/// A C function.
#[tool]
extern "C" fn foreign() -> u32 {
    2
}

/// With a where clause.
#[tool]
fn bounded() -> u32
where
    u32: Copy,
{
    3
}

/// A renamed crate given as a string.
#[tool(crate = "agents")]
fn renamed() -> u32 {
    4
}

fn main() {}
