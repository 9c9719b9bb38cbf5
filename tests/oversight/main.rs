//! Guardrails, human approval with resumable run state, lifecycle hooks.

mod approval;
mod guardrails;
mod hooks;
mod max_turns;
mod policy;
mod tampering;
