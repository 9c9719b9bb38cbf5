//! Sessions (in memory and SQLite) and tracing.

mod compaction;
mod concurrency;
mod durability;
mod memory;
mod tracing_spans;
