//! Compile errors of every macro and typed API, one trybuild run for all:
//! `<area>/fail/*.rs` with their `.stderr`, and forms that must compile in
//! `<area>/pass/`. One binary in a crate with light dependencies, so the
//! cases share one small build. Regenerate the `.stderr` files after
//! changing a message with `TRYBUILD=overwrite cargo test -p agents-ui-tests`
//! and read the diff.
//!
//! - `tool`: `#[tool]`.
//! - `agent`: `#[agent]`, `#[derive(Handoffs)]` and typed scripts.
//! - `oversight`: guardrails and hooks for another context type.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tool/pass/*.rs");
    cases.pass("agent/pass/*.rs");
    cases.compile_fail("tool/fail/*.rs");
    cases.compile_fail("agent/fail/*.rs");
    cases.compile_fail("oversight/fail/*.rs");
}
