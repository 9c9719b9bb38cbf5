//! Compile errors of `#[tool]`: `tests/ui/tool/fail/*.rs` with their
//! `.stderr`, and forms that must compile in `tests/ui/tool/pass/`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/tool/pass/*.rs");
    cases.compile_fail("ui/tool/fail/*.rs");
}
