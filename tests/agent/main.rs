//! `#[agent]`, `#[derive(Handoffs)]` and the typed agent graph.

mod as_tool;
mod desk;
mod graph;
mod handoff_options;
mod instructions;
