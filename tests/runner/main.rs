//! Behaviour of the runner and the mock model, through the public API.

mod basics;
mod budget;
mod effects;
mod enabled;
mod handle;
mod handle_driving;
mod handoffs;
mod interrupt;
mod limits;
mod mock;
mod output;
mod records;
mod refusal;
mod send;
mod snapshots;
mod streaming;
mod support;
mod tool_choice;
mod tools;
