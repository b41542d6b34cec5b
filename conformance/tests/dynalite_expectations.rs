//! The emulator against 6,407 AWS-validated error expectations from the dynalite suite.
//!
//! Floors ratchet upward: raise them when the engine gets better, never lower them without a
//! reason written here. The full report and every failure are written to
//! `target/conformance/dynalite.md` and `dynalite-failures.txt`.

use ddb_conformance::dynalite;

/// Operations implemented so far; the others are counted once they exist (the tuples cover
/// 17 operations, all counted now).
const OPS: &[&str] = &[
    "DescribeTimeToLive",
    "TagResource",
    "UntagResource",
    "ListTagsOfResource",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "DeleteTable",
    "UpdateTable",
    "PutItem",
    "GetItem",
    "DeleteItem",
    "UpdateItem",
];

/// Minimum share of tuples (per kind) that must match, in percent.
const FLOORS: &[(&str, f64)] = &[
    ("assertType", 100.0),
    ("assertValidation", 92.9),
    ("assertNotFound", 100.0),
    ("assertAccessDenied", 100.0),
    // Some conditional tuples need items their original test wrote earlier.
    ("assertConditional", 80.5),
];

#[test]
fn dynalite_expectations_do_not_regress() {
    let report = dynalite::replay(OPS);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/conformance");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("dynalite.md"), report.markdown());
    let _ = std::fs::write(
        dir.join("dynalite-failures.txt"),
        report.failures.join("\n\n"),
    );
    println!("{}", report.markdown());
    let mut bad = Vec::new();
    for (kind, floor) in FLOORS {
        let (p, t) = report.totals(Some(kind));
        let pct = if t == 0 {
            100.0
        } else {
            100.0 * p as f64 / t as f64
        };
        println!("{kind}: {p}/{t} = {pct:.1}% (floor {floor}%)");
        if pct < *floor {
            bad.push(format!("{kind}: {pct:.1}% < floor {floor}%"));
        }
    }
    assert!(
        bad.is_empty(),
        "conformance regressed: {bad:?}; see target/conformance/dynalite-failures.txt"
    );
}
