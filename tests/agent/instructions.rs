//! Instructions declared with `#[agent]`: text, a function of the context,
//! an async function.

use agents_core::prelude::*;
use agents_testing::{MockModel, Step};

struct Tenant {
    name: &'static str,
}

async fn greeting(ctx: &RunContext<Tenant>) -> String {
    tokio::task::yield_now().await;
    format!("Greet customers of {} (turn {}).", ctx.name, ctx.turn())
}

#[agent(context = Tenant, instructions = async greeting)]
struct Greeter;

#[agent(
    instructions = "Answer in one word.",
    temperature = 0,
    parallel_tool_calls = false
)]
struct Terse;

#[tokio::test]
async fn async_instructions_read_the_context() {
    let model = MockModel::script([Step::text("Hello!")]);
    Runner::new(model.clone())
        .run(&Greeter, Tenant { name: "Acme" }, "hi")
        .await
        .unwrap();
    assert_eq!(
        model.requests()[0].instructions.as_deref(),
        Some("Greet customers of Acme (turn 1).")
    );
}

#[tokio::test]
async fn text_instructions_and_settings_reach_the_request() {
    let model = MockModel::script([Step::text("Yes.")]);
    let result = Runner::new(model.clone())
        .run(&Terse, (), "ok?")
        .await
        .unwrap();
    assert_eq!(result.final_output, "Yes.");
    let request = &model.requests()[0];
    assert_eq!(request.instructions.as_deref(), Some("Answer in one word."));
    assert_eq!(request.settings.temperature, Some(0.0));
    assert_eq!(request.settings.parallel_tool_calls, Some(false));
}
