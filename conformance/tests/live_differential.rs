//! Differential test: the same requests against ddb-harness and a live reference (DynamoDB
//! Local by default, started from the jar `scripts/test` installs), responses compared after
//! the normalization in `ddb_conformance::diff`.
//!
//! Scenarios live in `conformance/scenarios/*.json`: a list of `{"op", "body"}` steps run in
//! order against a fresh engine and a fresh table set on the reference. A step may carry
//! `"divergence": "<reason and link>"` when AWS documentation says the reference is wrong;
//! such steps are reported but not failed.

use std::sync::Arc;

use ddb_conformance::diff::{Divergences, diff, normalize};
use ddb_conformance::live::Reference;
use ddb_conformance::wire::call;
use ddb_engine::Engine;
use ddb_harness::Router;
use serde::Deserialize;

#[derive(Deserialize)]
struct Step {
    op: String,
    body: serde_json::Value,
    #[serde(default)]
    divergence: Option<String>,
}

fn skip_external() -> bool {
    std::env::var("DDB_HARNESS_SKIP_EXTERNAL").is_ok_and(|v| v == "1")
}

/// Makes table names unique per run, so a shared reference endpoint is never polluted.
fn rename(v: &serde_json::Value, suffix: &str) -> serde_json::Value {
    let text = v.to_string().replace("\"dt_", &format!("\"dt{suffix}_"));
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

#[test]
fn scenarios_match_the_reference() {
    if skip_external() {
        eprintln!("DDB_HARNESS_SKIP_EXTERNAL=1: skipping the live differential test");
        return;
    }
    let reference = Reference::start().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("reference: {}", reference.name);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let suffix = format!("{}", std::process::id());
    let divergences = Divergences::bundled();
    let mut failures = Vec::new();
    let mut compared = 0;
    for file in files {
        let steps: Vec<Step> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let router = Router::new(Arc::new(Engine::builder().seed(3).build().unwrap()));
        for (i, step) in steps.iter().enumerate() {
            let body = rename(&step.body, &suffix);
            let ours = normalize(&call(&router, &step.op, &body));
            let theirs = normalize(
                &reference
                    .call(&step.op, &body)
                    .unwrap_or_else(|e| panic!("reference: {e}")),
            );
            let mut ours = rename_back(&ours, &suffix);
            let mut theirs = rename_back(&theirs, &suffix);
            divergences.reconcile(&mut theirs, &mut ours);
            compared += 1;
            if let Some(d) = diff(&theirs, &ours) {
                let name = format!(
                    "{} step {i} {}",
                    file.file_name().unwrap().to_string_lossy(),
                    step.op
                );
                match &step.divergence {
                    Some(reason) => eprintln!("known divergence, {name}: {reason}"),
                    None => failures.push(format!("{name}\nrequest: {}\n{d}", step.body)),
                }
            }
        }
    }
    eprintln!("{compared} steps compared, {} differ", failures.len());
    assert!(
        failures.is_empty(),
        "responses differ from the reference:\n\n{}",
        failures.join("\n\n")
    );
}

fn rename_back(v: &serde_json::Value, suffix: &str) -> serde_json::Value {
    let text = v.to_string().replace(&format!("dt{suffix}_"), "dt_");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}
