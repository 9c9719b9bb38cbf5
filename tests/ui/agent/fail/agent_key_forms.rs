use agents_core::prelude::*;

/// Pings.
#[tool]
fn ping() -> String {
    "pong".to_owned()
}

// Every mistake is reported in one compile.
#[agent(
    name = "",
    context,
    output = 5,
    instructions = 42,
    max_tokens = "many",
    parallel_tool_calls = 1,
    hooks = ["audit"],
    tool_use_behavior = "stop_on_first_tool",
    stop_at_tools = [ping],
    crate = "agents",
    temperature = 0.1,
    temperature = 0.2,
    = 3,
    model "gpt"
)]
struct Desk;

fn main() {}
