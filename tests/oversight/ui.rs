//! Compile errors: guardrails and hooks for another context type.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("ui/oversight/fail/*.rs");
}
