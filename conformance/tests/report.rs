//! The conformance report's stable part — operations × features × cassette and dynalite
//! outcomes, and the operations nothing records — as an insta snapshot
//! (`snapshots/report__matrix.snap`), so drift in coverage or results shows in review. The
//! same text is what `cargo run -p ddb-conformance -- report` prints.

use ddb_conformance::cassette::recordings_dir;
use ddb_conformance::report::Report;

#[test]
fn report_matrix_is_stable() {
    let report =
        Report::build(&recordings_dir(), &mut |_, _, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let text = report.text();
    assert!(
        report.rows.contains_key("PutItem") && report.rows.contains_key("GetRecords"),
        "every operation of both service models has a row:\n{text}"
    );
    assert!(!report.has_failures(), "{}", report.failures);
    insta::assert_snapshot!("matrix", text);
}
