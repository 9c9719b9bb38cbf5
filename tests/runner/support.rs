//! Tools and contexts shared by the runner tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::tool::parse_arguments;

/// A context that records what tools saw.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) events: Mutex<Vec<String>>,
    pub(crate) calls: AtomicUsize,
}

impl Recorder {
    pub(crate) fn log(&self, event: impl Into<String>) {
        self.events.lock().unwrap().push(event.into());
    }

    pub(crate) fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct EchoArgs {
    pub(crate) text: String,
}

/// `echo(text)`: returns `text`.
pub(crate) fn echo() -> impl Tool<()> {
    FunctionTool::new("echo", "Returns its input.", |args: EchoArgs| async move {
        Ok::<_, String>(args.text)
    })
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct RefundArgs {
    pub(crate) order_id: String,
    pub(crate) amount_cents: u32,
}

/// `refund(order_id, amount_cents)`: a tool with typed arguments.
pub(crate) fn refund() -> impl Tool<()> {
    FunctionTool::new(
        "refund",
        "Refunds an order.",
        |args: RefundArgs| async move {
            Ok::<_, String>(format!(
                "refunded {} on {}",
                args.amount_cents, args.order_id
            ))
        },
    )
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct NoArgs {}

/// `fail()`: always returns an error.
pub(crate) fn failing() -> impl Tool<()> {
    FunctionTool::new("fail", "Always fails.", |_: NoArgs| async move {
        Err::<String, _>("the order database is down")
    })
}

/// `explode()`: panics.
pub(crate) fn panicking() -> impl Tool<()> {
    FunctionTool::new("explode", "Panics.", |_: NoArgs| async move {
        if true {
            panic!("boom");
        }
        Ok::<String, String>(String::new())
    })
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct SleepArgs {
    pub(crate) millis: u64,
}

/// `sleep(millis)`: waits, then answers `slept`.
pub(crate) fn sleeper() -> impl Tool<()> {
    FunctionTool::new("sleep", "Sleeps.", |args: SleepArgs| async move {
        tokio::time::sleep(Duration::from_millis(args.millis)).await;
        Ok::<_, String>("slept".to_owned())
    })
}

/// A hand-written tool reading the run context: logs what it saw.
pub(crate) struct Inspect;

impl Tool<Arc<Recorder>> for Inspect {
    fn name(&self) -> &str {
        "inspect"
    }
    fn description(&self) -> &str {
        "Records the run context."
    }
    fn parameters(&self) -> serde_json::Value {
        serde_json::json!({"type": "object", "properties": {}})
    }
    async fn call(
        &self,
        ctx: &RunContext<Arc<Recorder>>,
        arguments: &str,
    ) -> Result<String, ToolError> {
        let _: NoArgs = parse_arguments(arguments)?;
        ctx.calls.fetch_add(1, Ordering::SeqCst);
        ctx.log(format!(
            "run_id={} agent={} turn={} requests={} tenant={}",
            ctx.run_id(),
            ctx.agent_name(),
            ctx.turn(),
            ctx.usage().requests,
            ctx.metadata()
                .get("tenant")
                .map_or("-".to_owned(), |v| v.to_string()),
        ));
        Ok("ok".to_owned())
    }
}
