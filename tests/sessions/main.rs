//! Sessions: the contract on every store (memory, SQLite, PostgreSQL), and
//! session behaviour through the runner.

mod compaction;
mod contract;
mod durability;
mod memory;
