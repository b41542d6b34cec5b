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
//!
//! `DDB_CONFORMANCE_TARGET=aws` runs the scenarios against real DynamoDB (signed with the
//! standard AWS chain; tables named with the run's prefix, waited for, and deleted afterwards
//! even when the test fails — see `ddb_conformance::live`); `=http://host:port` against any
//! endpoint.

mod common;

use std::sync::Arc;

use ddb_conformance::diff::{Divergences, diff, normalize};
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

/// Makes table names unique per run (`dt_x` becomes `<prefix>dt_x`), so a shared reference
/// endpoint is never polluted and the reference can delete the run's tables afterwards.
/// A `ClientRequestToken` (at most 36 characters) gets the prefix's last 12 characters
/// instead, so a token is also unique per run (AWS remembers tokens for 10 minutes).
fn rename(v: &serde_json::Value, prefix: &str) -> serde_json::Value {
    let text = v.to_string().replace("\"dt_", &format!("\"{prefix}dt_"));
    let mut out = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if let Some(token) = v.get("ClientRequestToken").and_then(|t| t.as_str()) {
        out["ClientRequestToken"] = serde_json::json!(token.replacen("dt_", short(prefix), 1));
    }
    out
}

/// The last 12 characters of the run's prefix (`<5 digits of seconds>_<pid>_`, padded).
fn short(prefix: &str) -> &str {
    &prefix[prefix.len().saturating_sub(12)..]
}

#[test]
fn scenarios_match_the_reference() {
    let Some(reference) = common::reference("live differential test") else {
        return;
    };
    eprintln!("reference: {}", reference.name);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let suffix = reference.prefix().to_string();
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

fn rename_back(v: &serde_json::Value, prefix: &str) -> serde_json::Value {
    let text = v
        .to_string()
        .replace(&format!("{prefix}dt_"), "dt_")
        .replace(short(prefix), "dt_");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// `DDB_CONFORMANCE_TARGET=aws`: the scenarios run signed against a ddb-harness server that
/// verifies SigV4 (as `serve --require-sigv4 --credentials FILE`), leaving no table behind; a
/// wrong secret fails the test.
#[test]
fn aws_mode_runs_the_scenarios_signed() {
    if common::target_chosen() || common::skip_external() {
        return;
    }
    let server = common::SigV4Server::start(None);
    let ok = server.run_test_as_aws("scenarios_match_the_reference", common::SECRET, &[]);
    let out = common::text(&ok);
    assert!(ok.status.success(), "{out}");
    assert!(
        out.contains(&format!(
            "reference: AWS DynamoDB (us-east-1, {})",
            server.endpoint
        )) && out.contains("steps compared, 0 differ"),
        "{out}"
    );
    assert_eq!(server.tables(), Vec::<String>::new(), "tables left behind");
    let wrong = server.run_test_as_aws("scenarios_match_the_reference", "guessed-secret", &[]);
    let out = common::text(&wrong);
    assert!(!wrong.status.success(), "a wrong secret must fail: {out}");
    assert!(out.contains("InvalidSignatureException"), "{out}");
}
