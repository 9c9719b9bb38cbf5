//! The span tree of a run, captured with a test subscriber.
//!
//! Its own test binary, with its tests serialised: `tracing` caches which
//! callsites are enabled process-wide, and a test running spans without a
//! subscriber on another thread can race that cache.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use agents_core::prelude::*;
use agents_testing::{MockModel, Step, call};
use serde_json::json;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug)]
struct CapturedSpan {
    id: u64,
    parent: Option<u64>,
    name: &'static str,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<CapturedSpan>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let parent = attrs
            .parent()
            .cloned()
            .or_else(|| {
                attrs
                    .is_contextual()
                    .then(|| ctx.current_span().id().cloned())
                    .flatten()
            })
            .map(|id| id.into_u64());
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(CapturedSpan {
            id: id.into_u64(),
            parent,
            name: attrs.metadata().name(),
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some(span) = spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}

impl Capture {
    /// The tree, one span per line, children indented, run ids redacted.
    fn tree(&self) -> String {
        let spans = self.0.lock().unwrap();
        let mut out = String::new();
        fn walk(spans: &[CapturedSpan], parent: Option<u64>, depth: usize, out: &mut String) {
            for span in spans.iter().filter(|s| s.parent == parent) {
                let fields: Vec<String> = span
                    .fields
                    .iter()
                    .map(|(k, v)| {
                        if k == "agents.run.id" {
                            format!("{k}=[run id]")
                        } else {
                            format!("{k}={v}")
                        }
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "{}{} {}",
                    "  ".repeat(depth),
                    span.name,
                    fields.join(" ")
                );
                walk(spans, Some(span.id), depth + 1, out);
            }
        }
        walk(&spans, None, 0, &mut out);
        out
    }

    fn has_field(&self, name: &str) -> bool {
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.fields.contains_key(name))
    }
}

/// Look up an order by its id.
#[tool]
fn lookup_order(order_id: String) -> String {
    format!("{order_id}: card 4242")
}

/// One traced run at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn traced_run(sensitive: bool) -> Capture {
    let _serial = SERIAL.lock().await;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let billing = Agent::<()>::builder("Billing")
        .model("gpt-4o-mini")
        .build()
        .unwrap();
    let triage = Agent::<()>::builder("Triage")
        .tool(lookup_order {})
        .handoff(&billing)
        .model_settings(ModelSettings::new().temperature(0.5))
        .build()
        .unwrap();
    let model = MockModel::script([
        Step::tool_calls([call(lookup_order {}, json!({"order_id": "A-1"}))])
            .with_usage(Usage::new(100, 10)),
        Step::handoff_to("Billing").with_usage(Usage::new(120, 5)),
        Step::text("Refunded.").with_usage(Usage::new(140, 3)),
    ]);
    Runner::new(model)
        .run(&triage, (), "refund A-1, card 4242")
        .config(RunConfig::new().trace_sensitive_data(sensitive))
        .await
        .unwrap();
    capture
}

#[tokio::test]
async fn a_run_with_a_tool_call_and_a_handoff_has_this_span_tree() {
    let capture = traced_run(false).await;
    insta::assert_snapshot!(capture.tree());
}

#[tokio::test]
async fn sensitive_data_is_absent_by_default_and_present_when_enabled() {
    let capture = traced_run(false).await;
    let tree = capture.tree();
    assert!(!tree.contains("4242"), "{tree}");
    for field in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
    ] {
        assert!(!capture.has_field(field), "{field} recorded by default");
    }

    let capture = traced_run(true).await;
    for field in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
    ] {
        assert!(
            capture.has_field(field),
            "{field} missing with sensitive data on"
        );
    }
    assert!(capture.tree().contains("4242"));
}

#[tokio::test]
async fn a_failed_model_call_marks_the_agent_and_the_run_span() {
    let _serial = SERIAL.lock().await;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let agent = Agent::<()>::builder("Triage").build().unwrap();
    let model = MockModel::script([Step::error(agents_core::ModelError::Server {
        status: 503,
        message: "overloaded".to_owned(),
    })]);
    let error = Runner::new(model).run(&agent, (), "hi").await.unwrap_err();
    assert!(matches!(error, RunError::Model { .. }), "{error:?}");

    let spans = capture.0.lock().unwrap();
    for name in ["agents.run", "invoke_agent", "chat"] {
        let span = spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} span"));
        assert_eq!(
            span.fields.get("error.type").map(String::as_str),
            Some("model_error"),
            "{name}: {:?}",
            span.fields
        );
        assert_eq!(
            span.fields.get("otel.status_code").map(String::as_str),
            Some("ERROR"),
            "{name}"
        );
    }
}
