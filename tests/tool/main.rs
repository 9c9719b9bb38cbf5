//! `#[tool]`: every supported form, schemas, argument decoding, hygiene and
//! compile errors.

mod filters;
mod forms;
mod hygiene;
mod runner;
mod schemas;
