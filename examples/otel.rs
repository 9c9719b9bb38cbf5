//! Exports a run's spans to OpenTelemetry through the standard
//! `tracing-opentelemetry` bridge (here to stdout; swap in the OTLP
//! exporter for a collector).
//!
//! `cargo run -p examples --example otel --features otel`

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call};
use opentelemetry::trace::TracerProvider as _;
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: paid 49.80")
}

#[agent(instructions = "Answer order questions.", tools = [lookup_order])]
struct Desk;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    let tracer = provider.tracer("support-desk");
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    tracing::subscriber::set_global_default(subscriber)?;

    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1001"}))])
            .with_usage(Usage::new(120, 14)),
        Step::text("A-1001 is paid.").with_usage(Usage::new(150, 6)),
    ]);
    let result = Runner::new(model).run(&Desk, (), "Is A-1001 paid?").await?;
    println!("final output: {}", result.final_output);
    provider.shutdown()?;
    Ok(())
}
