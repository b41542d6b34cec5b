//! Every exchange recorded in `recordings/` (by `ddb-harness proxy`, and by the differential
//! property tests in `recordings/regressions/`) is replayed against a fresh engine, in order,
//! and compared after the normalization documented in `ddb_conformance::cassette`.
//!
//! The per-operation summary is an insta snapshot (`snapshots/cassettes__summary.snap`), so a
//! change in what passes shows in review; any difference not listed in `divergences.toml`
//! fails the test with a unified diff. The full report lands in
//! `target/conformance/cassettes.txt`.

use ddb_conformance::cassette::{
    check_all, failure_report, recordings_dir, summarize, summary_table,
};
use ddb_conformance::diff::Divergences;

#[test]
fn recorded_exchanges_match_the_engine() {
    let divergences = Divergences::bundled();
    let results = check_all(&recordings_dir(), &divergences).unwrap_or_else(|e| panic!("{e}"));
    assert!(!results.is_empty(), "no cassette found in recordings/");
    let summary = summarize(&results);
    let table = summary_table(&summary);
    let failures = failure_report(&results);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/conformance");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("cassettes.txt"), format!("{table}\n{failures}"));
    println!("{table}");
    assert!(
        failures.is_empty(),
        "recorded exchanges differ from the engine:\n\n{failures}\n{table}"
    );
    insta::assert_snapshot!("summary", table);
}
