//! Compile-time diagnostics of the macros: every user-facing error has a case in
//! `tests/ui/<area>/<error>.rs` with its expected `.stderr`; forms that must
//! compile live in `tests/ui-pass/`. Regenerate with `TRYBUILD=overwrite` and
//! review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("../tests/ui/*/*.rs");
    t.pass("../tests/ui-pass/*.rs");
}
