//! `cargo run -p ddb-conformance -- report [RECORDINGS_DIR]`: checks the engine against every
//! cassette in `recordings/` and against the dynalite expectations, and prints operations ×
//! features × pass / known divergence / fail (see `ddb_conformance::report`), then every
//! failure's diff. Exits non-zero when a recorded exchange fails.
#![forbid(unsafe_code)]

use std::io::Write;

use ddb_conformance::cassette::recordings_dir;
use ddb_conformance::report::{Report, progress_line};

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
    let mut progress = |done: usize, total: usize, what: &str| {
        eprint!("\r{}", progress_line(done, total, what));
        let _ = std::io::stderr().flush();
    };
    let report = match Report::build(&root, &mut progress) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("\n{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!();
    println!("{} cassettes in {}", report.cassettes, root.display());
    println!("{}", report.text());
    if report.has_failures() {
        println!("{}", report.failures);
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
