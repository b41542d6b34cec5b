//! `cargo run -p ddb-conformance -- report`: checks the engine against every cassette in
//! `recordings/` and prints operations × pass / known divergence / fail, then every failure's
//! diff. Exits non-zero when something fails.
#![forbid(unsafe_code)]

use std::io::Write;

use ddb_conformance::cassette::{
    Cassette, check, failure_report, find_cassettes, recordings_dir, summarize, summary_table,
};
use ddb_conformance::diff::Divergences;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("report") {
        eprintln!("usage: ddb-conformance report [RECORDINGS_DIR]");
        return std::process::ExitCode::from(2);
    }
    let root = args
        .get(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(recordings_dir);
    let divergences = Divergences::bundled();
    let files = find_cassettes(&root);
    let mut results = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        eprint!("\r[{}/{}] {name:<60}", i + 1, files.len());
        let _ = std::io::stderr().flush();
        match Cassette::load(path) {
            Ok(c) => results.extend(check(&name, &c, &divergences)),
            Err(e) => {
                eprintln!("\n{e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    eprintln!();
    let failures = failure_report(&results);
    println!(
        "{} cassettes, {} exchanges, {}",
        files.len(),
        results.len(),
        root.display()
    );
    let summary = summarize(&results);
    println!("{}", summary_table(&summary));
    // Every operation of the service models, recorded or not, so gaps in the recordings show.
    let models = [
        ddb_harness::protocol::validate::ServiceModel::dynamodb(),
        ddb_harness::protocol::validate::ServiceModel::streams(),
    ];
    let all: Vec<&str> = models.iter().flat_map(|m| m.operation_names()).collect();
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|op| !summary.contains_key(*op))
        .collect();
    println!(
        "{} of the {} operations in the service models have recorded exchanges; not recorded ({}): {}",
        all.len() - missing.len(),
        all.len(),
        missing.len(),
        missing.join(", ")
    );
    if failures.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        println!("{failures}");
        std::process::ExitCode::FAILURE
    }
}
