//! Compile errors of every macro and typed API, one trybuild run for all:
//! `ui/<area>/fail/*.rs` with their `.stderr`, and forms that must compile
//! in `ui/<area>/pass/`. One binary, so the cases share one build of the
//! dependencies. Regenerate the `.stderr` files after changing a message
//! with `TRYBUILD=overwrite cargo test -p agents-tests --test ui` and read
//! the diff.
//!
//! - `tool`: `#[tool]`.
//! - `agent`: `#[agent]`, `#[derive(Handoffs)]` and typed scripts.
//! - `oversight`: guardrails and hooks for another context type.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/tool/pass/*.rs");
    cases.pass("ui/agent/pass/*.rs");
    cases.compile_fail("ui/tool/fail/*.rs");
    cases.compile_fail("ui/agent/fail/*.rs");
    cases.compile_fail("ui/oversight/fail/*.rs");
}
