//! Differential test: the same requests against ddb-harness and a live reference (DynamoDB
//! Local by default, started from the jar `scripts/test` installs), responses compared after
//! the normalization in `ddb_conformance::diff`.
//!
//! Scenarios live in `conformance/scenarios/*.json`: a list of `{"op", "body"}` steps run in
//! order against a fresh engine and a fresh table set on the reference. A step may carry
//! `"divergence": "<reason and link>"` when AWS documentation says the reference is wrong;
//! such steps are reported but not failed.
//!
//! An `op` of the form `streams:<Op>` goes to DynamoDB Streams (`DynamoDBStreams_20120810.`).
//! A step may carry `"from_previous": {"<Member>": "<JSON pointer>"}`: each side's body gets
//! that member from its own response to the previous step (stream ARNs, shard ids and iterators
//! differ between the two endpoints).

use std::sync::Arc;

use ddb_conformance::diff::{Divergences, diff, normalize};
use ddb_conformance::live::Reference;
use ddb_conformance::wire::{Reply, call, call_raw};
use ddb_engine::Engine;
use ddb_harness::Router;
use serde::Deserialize;

#[derive(Deserialize)]
struct Step {
    op: String,
    body: serde_json::Value,
    #[serde(default)]
    divergence: Option<String>,
    #[serde(default)]
    from_previous: serde_json::Map<String, serde_json::Value>,
}

/// The target of a scenario op: `streams:<Op>` is a DynamoDB Streams operation.
fn target(op: &str) -> String {
    match op.strip_prefix("streams:") {
        Some(op) => format!("{}{op}", ddb_harness::protocol::STREAMS_PREFIX),
        None => format!("DynamoDB_20120810.{op}"),
    }
}

/// `body` with the members named in `from` taken from `previous` (a response body).
fn with_previous(
    body: &serde_json::Value,
    from: &serde_json::Map<String, serde_json::Value>,
    previous: &serde_json::Value,
) -> serde_json::Value {
    let mut body = body.clone();
    for (member, pointer) in from {
        let value = pointer
            .as_str()
            .and_then(|p| previous.pointer(p))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        if let Some(obj) = body.as_object_mut() {
            obj.insert(member.clone(), value);
        }
    }
    body
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
        let mut previous = (serde_json::Value::Null, serde_json::Value::Null);
        for (i, step) in steps.iter().enumerate() {
            let body = rename(&step.body, &suffix);
            let target = target(&step.op);
            let our_body = with_previous(&body, &step.from_previous, &previous.0);
            let their_body = with_previous(&body, &step.from_previous, &previous.1);
            let ours: Reply = if step.op.starts_with("streams:") {
                call_raw(
                    &router,
                    &target,
                    serde_json::to_vec(&our_body).unwrap_or_default().into(),
                )
            } else {
                call(&router, &step.op, &our_body)
            };
            let theirs = reference
                .call_target(&target, &their_body)
                .unwrap_or_else(|e| panic!("reference: {e}"));
            previous = (ours.body.clone(), theirs.body.clone());
            let ours = normalize(&ours);
            let theirs = normalize(&theirs);
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
