//! Every supported form of `#[tool]` compiles.

use agents_core::prelude::*;
use agents_core::{RunContext, ToolError};

struct Shop;

/// Sync, no context, plain return.
#[tool]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

/// Async, no context, `Result` return.
#[tool]
async fn fetch(url: String) -> Result<String, ToolError> {
    Ok(url)
}

/// Sync with a `&RunContext<C>` context.
#[tool]
fn with_run_context(ctx: &RunContext<Shop>, id: u64) -> u64 {
    let _ = ctx.run_id();
    id
}

/// Async with a `&C` context and a `String` error.
#[tool]
async fn with_plain_context(_shop: &Shop, id: u64) -> Result<u64, String> {
    Ok(id)
}

/// Attribute overrides and a unit return.
#[tool(name = "renamed", description = "Overridden.", strict = false, needs_approval)]
pub fn overridden(
    /// A documented argument.
    mut count: u32,
) {
    count += 1;
    let _ = count;
}

/// `needs_approval = false` and `strict = true` spelled out.
#[tool(strict = true, needs_approval = false, crate = ::agents_core)]
fn explicit(r#type: String) -> String {
    r#type
}

fn main() {
    let _ = Agent::<Shop>::builder("Desk")
        .tool(add {})
        .tool(fetch {})
        .tool(with_run_context {})
        .tool(with_plain_context {})
        .tool(overridden {})
        .tool(explicit {})
        .build();
    let _ = add(1, 2);
}
