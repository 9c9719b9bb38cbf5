//! Capturing a run's `tracing` spans in memory, for snapshot tests of
//! traces without writing a `tracing` layer.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One captured span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedSpan {
    id: u64,
    parent: Option<u64>,
    /// The span's name, e.g. `agents.run`, `chat`, `execute_tool`.
    pub name: &'static str,
    /// Every field recorded on it, as text.
    pub fields: BTreeMap<String, String>,
}

/// The spans of everything traced while its guard lives, in memory.
///
/// ```
/// use agents_core::prelude::*;
/// use agents_testing::{MockModel, SpanCapture, Step};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (spans, _guard) = SpanCapture::install();
/// let agent: Agent<()> = Agent::builder("Greeter").build()?;
/// Runner::new(MockModel::script([Step::text("Hello!")])).run(&agent, (), "hi").await?;
/// assert!(spans.tree().starts_with("agents.run "));
/// assert!(spans.find("chat").is_some());
/// # Ok(()) }
/// ```
///
/// `install` sets the capture as the thread's default subscriber (for a
/// `current_thread` runtime, as `#[tokio::test]` uses). `tracing` caches
/// per callsite whether anyone listens, process-wide: run span tests one at
/// a time, in a test binary of their own, or spans may go unrecorded.
#[derive(Debug, Clone, Default)]
pub struct SpanCapture(Arc<Mutex<Vec<CapturedSpan>>>);

impl SpanCapture {
    /// A capture installed as this thread's default subscriber until the
    /// guard drops.
    pub fn install() -> (Self, DefaultGuard) {
        let capture = SpanCapture::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        let guard = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();
        (capture, guard)
    }

    /// Every span captured so far, in creation order.
    pub fn spans(&self) -> Vec<CapturedSpan> {
        self.lock().clone()
    }

    /// The first span named `name`.
    pub fn find(&self, name: &str) -> Option<CapturedSpan> {
        self.lock().iter().find(|span| span.name == name).cloned()
    }

    /// Whether any span recorded the field `name`.
    pub fn has_field(&self, name: &str) -> bool {
        self.lock()
            .iter()
            .any(|span| span.fields.contains_key(name))
    }

    /// The spans as a tree, one per line, children indented, fields sorted;
    /// ids and timings left out and run ids redacted, so it snapshots
    /// stably.
    pub fn tree(&self) -> String {
        let spans = self.lock();
        let mut out = String::new();
        walk(&spans, None, 0, &mut out);
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<CapturedSpan>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn walk(spans: &[CapturedSpan], parent: Option<u64>, depth: usize, out: &mut String) {
    for span in spans.iter().filter(|s| s.parent == parent) {
        let fields: Vec<String> = span
            .fields
            .iter()
            .map(|(key, value)| {
                if key == "agents.run.id" {
                    format!("{key}=[run id]")
                } else {
                    format!("{key}={value}")
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

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SpanCapture {
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
        self.lock().push(CapturedSpan {
            id: id.into_u64(),
            parent,
            name: attrs.metadata().name(),
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.lock();
        if let Some(span) = spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}
