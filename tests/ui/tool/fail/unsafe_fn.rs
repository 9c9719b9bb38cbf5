use agents_core::tool;

/// Reads raw memory.
#[tool]
unsafe fn peek(address: u64) -> u64 {
    address
}

fn main() {}
