//! Sessions, in memory and SQLite.

mod compaction;
mod concurrency;
mod durability;
mod memory;
