//! Compile errors of `#[ddb_test]`, pinned: each `tests/ui/*.rs` must fail to compile with the
//! message in its `.stderr`. Regenerate with `TRYBUILD=overwrite cargo test -p ddb-harness --test ui`
//! and review the diff.

#[test]
fn ddb_test_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
