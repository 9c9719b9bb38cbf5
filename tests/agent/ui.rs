//! Compile errors of `#[agent]`, `#[derive(Handoffs)]` and typed scripts:
//! `tests/ui/agent/fail/*.rs` with their `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/agent/pass/*.rs");
    cases.compile_fail("ui/agent/fail/*.rs");
}
