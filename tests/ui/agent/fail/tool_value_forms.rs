use agents_core::prelude::*;
use agents_testing::call;
use serde_json::json;

/// Looks up an order.
#[tool]
fn lookup_order(order_id: String) -> String {
    order_id
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Args {
    text: String,
}

fn main() {
    // The function, not its tool value.
    let _ = Agent::<()>::builder("Desk").tool(lookup_order).build();
    // A tool made at run time has no type-level name.
    let echo = FunctionTool::new("echo", "Echoes.", |args: Args| async move {
        Ok::<_, String>(args.text)
    });
    let _ = call(echo, json!({"text": "hi"}));
}
