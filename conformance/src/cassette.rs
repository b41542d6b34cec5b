//! Cassette replay checks: every exchange recorded in `recordings/` is sent, in order, to a
//! fresh engine (one per cassette) through the in-process [`Router`], and the engine's answer
//! is compared with the recorded one.
//!
//! Normalization, on both sides, before comparing:
//! - [`diff::normalize`]: ARNs, table ids, timestamps, stream labels, shard ids, sequence
//!   numbers and iterators become placeholders; set members and unordered batch results are
//!   sorted; `__type` is reduced to the name after `#`; `Message` is read as `message`.
//! - The reference's numbers are rewritten in AWS's canonical form (DynamoDB Local prints
//!   `ADD` results with Java's scale, e.g. `-12.50`, and tiny numbers as `1E-130`).
//! - A LastEvaluatedKey the engine gives where the reference, having scanned as many items,
//!   gives none ([`compare`] has the reason).
//! - A Scan that read the whole table has its `Items` compared as a multiset.
//! - Request ids are not compared (they are headers, which cassettes keep only for reference).
//! - [`Divergences::reconcile`]: reviewed members and messages from `divergences.toml`.
//!
//! Identifiers the upstream generated (table and stream ARNs, shard ids, shard iterators,
//! sequence numbers) appear in later requests. Each time a recorded response and the engine's
//! response hold different strings under the same identifier member, the pair is remembered,
//! and later request bodies are rewritten from the recorded value to the engine's one (ARNs'
//! account and region prefix included) before they are sent.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use ddb_engine::Engine;
use ddb_harness::Router;
pub use ddb_harness::cassette::Cassette;
use ddb_harness::cassette::{Body, Exchange};
use serde_json::Value;

use crate::diff::{self, Divergences};
use crate::wire::{Reply, call_raw};

/// Members whose recorded values the upstream generated, translated in later requests.
const ID_MEMBERS: &[&str] = &[
    "TableArn",
    "IndexArn",
    "LatestStreamArn",
    "LatestStreamLabel",
    "StreamArn",
    "ShardId",
    "ParentShardId",
    "ShardIterator",
    "NextShardIterator",
    "SequenceNumber",
    "StartingSequenceNumber",
    "EndingSequenceNumber",
];

/// How one exchange fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The engine's answer equals the recording after normalization.
    Pass,
    /// They differ, and `divergences.toml` says why.
    Known(String),
    /// They differ: a unified diff from the recording to the engine's answer.
    Fail(String),
}

/// The result of one recorded exchange.
#[derive(Debug, Clone)]
pub struct ExchangeResult {
    /// The cassette, as a path below the recordings directory.
    pub cassette: String,
    /// The exchange's sequence number.
    pub seq: u64,
    /// Its operation.
    pub operation: String,
    /// The recorded request body (as sent, before translation).
    pub request: Value,
    /// The recorded response's HTTP status.
    pub recorded_status: u16,
    /// Pass, known divergence, or failure with its diff.
    pub outcome: Outcome,
}

impl ExchangeResult {
    /// The operation's row name: the operation, or `(no target)` when it has none.
    pub fn row_name(&self) -> &str {
        if self.operation.is_empty() {
            "(no target)"
        } else {
            &self.operation
        }
    }
}

/// Per-operation counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Equal after normalization.
    pub pass: usize,
    /// Different, with a reviewed reason.
    pub known: usize,
    /// Different.
    pub fail: usize,
}

/// The recordings directory of this repository.
pub fn recordings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../recordings")
}

/// Every cassette (`*.json`) below `root`, recursively, sorted by path.
pub fn find_cassettes(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Checks every cassette below `root`; `Err` names a file that is not a cassette.
pub fn check_all(root: &Path, divergences: &Divergences) -> Result<Vec<ExchangeResult>, String> {
    check_all_with(root, divergences, &mut |_, _, _| {})
}

/// [`check_all`], calling `progress` with (index, number of cassettes, cassette name) before
/// each cassette is checked.
pub fn check_all_with(
    root: &Path,
    divergences: &Divergences,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<ExchangeResult>, String> {
    let files = find_cassettes(root);
    let mut results = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        progress(i, files.len(), &name);
        let cassette = Cassette::load(path).map_err(|e| e.to_string())?;
        results.extend(check(&name, &cassette, divergences));
    }
    Ok(results)
}

/// Replays one cassette against a fresh engine and compares every exchange.
pub fn check(name: &str, cassette: &Cassette, divergences: &Divergences) -> Vec<ExchangeResult> {
    let engine = match Engine::builder().seed(1).build() {
        Ok(e) => e,
        Err(e) => {
            return cassette
                .exchanges
                .iter()
                .map(|x| result(name, x, Outcome::Fail(format!("engine: {e}"))))
                .collect();
        }
    };
    let router = Router::new(Arc::new(engine));
    let mut ids = Translation::default();
    let mut out = Vec::new();
    for exchange in &cassette.exchanges {
        let body = match &exchange.request.body {
            Body::Json(v) => {
                let mut v = v.clone();
                ids.apply(&mut v);
                serde_json::to_vec(&v).unwrap_or_default()
            }
            Body::Text(t) => t.as_bytes().to_vec(),
        };
        let ours = call_raw(&router, &exchange.request.target, Bytes::from(body));
        let recorded = Reply {
            status: exchange.response.status,
            body: match &exchange.response.body {
                Body::Json(v) => v.clone(),
                Body::Text(_) => Value::Null,
            },
        };
        ids.learn(&recorded.body, &ours.body);
        let outcome = match compare(&exchange.operation, &recorded, &ours, divergences) {
            None => Outcome::Pass,
            Some(d) => match divergences.exchange(name, &exchange.operation, exchange.seq) {
                Some(reason) => Outcome::Known(reason.to_string()),
                None => Outcome::Fail(d),
            },
        };
        out.push(result(name, exchange, outcome));
    }
    out
}

/// Compares a reference reply with the engine's after the normalization above: `None` when
/// equal, else a unified diff from the reference to the engine.
pub fn compare(
    operation: &str,
    reference: &Reply,
    ours: &Reply,
    divergences: &Divergences,
) -> Option<String> {
    let mut reference = reference.clone();
    canonical_numbers(&mut reference.body);
    let mut ours = ours.clone();
    limit_reached_key(operation, &reference, &mut ours);
    let ours = &ours;
    let mut theirs = diff::normalize(&reference);
    let mut mine = diff::normalize(ours);
    if operation == "Scan" {
        sort_complete_scan(&mut theirs);
        sort_complete_scan(&mut mine);
    }
    divergences.reconcile(&mut theirs, &mut mine);
    diff::diff(&theirs, &mine)
}

/// AWS answers a LastEvaluatedKey whenever a Query or Scan stopped at its Limit, even when
/// nothing is left to read (the engine follows that, see `engine/src/query_ops.rs`); DynamoDB
/// Local leaves it out when it knows the partition is exhausted (a hash-only table's
/// one-item partition). When the reference has no key and both pages scanned the same number
/// of items, the engine's key is not compared; a page of another size still differs.
fn limit_reached_key(operation: &str, reference: &Reply, ours: &mut Reply) {
    if !matches!(operation, "Query" | "Scan") || reference.body.get("LastEvaluatedKey").is_some() {
        return;
    }
    let count = |r: &Reply| r.body.get("ScannedCount").and_then(Value::as_u64);
    if let (Some(theirs), Some(mine)) = (count(reference), count(ours))
        && theirs == mine
        && let Some(body) = ours.body.as_object_mut()
    {
        body.remove("LastEvaluatedKey");
    }
}

/// Rewrites the reference's numbers (`N`, `NS`) in AWS's canonical form. DynamoDB Local
/// prints arithmetic results with Java's scale (`ADD` of `-12.50` answers `-12.50`) and tiny or
/// huge numbers in E notation; AWS answers plain notation without trailing zeros (sources in
/// `engine/src/number.rs`). Only the reference is rewritten: the engine must print canonical
/// numbers itself.
fn canonical_numbers(v: &mut Value) {
    let fix = |s: &mut Value| {
        if let Value::String(text) = s
            && let Ok(n) = text.parse::<ddb_engine::Number>()
        {
            *text = n.to_string();
        }
    };
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match (k.as_str(), child) {
                    ("N", c @ Value::String(_)) => fix(c),
                    ("NS", Value::Array(items)) => items.iter_mut().for_each(fix),
                    (_, c) => canonical_numbers(c),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(canonical_numbers),
        _ => {}
    }
}

/// A Scan that read the whole table (no `LastEvaluatedKey`) returns its items in an order
/// AWS leaves to the implementation (partition hash order): compared as a multiset.
fn sort_complete_scan(v: &mut Value) {
    let Some(body) = v.get_mut("body").and_then(Value::as_object_mut) else {
        return;
    };
    if body.contains_key("LastEvaluatedKey") {
        return;
    }
    if let Some(Value::Array(items)) = body.get_mut("Items") {
        items.sort_by_key(|i| diff::sorted(i).to_string());
    }
}

fn result(name: &str, x: &Exchange, outcome: Outcome) -> ExchangeResult {
    ExchangeResult {
        cassette: name.to_string(),
        seq: x.seq,
        operation: x.operation.clone(),
        request: x.request.body.as_value(),
        recorded_status: x.response.status,
        outcome,
    }
}

/// Recorded identifiers and the engine's counterparts.
#[derive(Debug, Default)]
struct Translation {
    exact: HashMap<String, String>,
    /// ARN prefixes (`arn:aws:dynamodb:ddblocal:000000000000:`) and the engine's.
    prefixes: Vec<(String, String)>,
}

impl Translation {
    fn learn(&mut self, recorded: &Value, ours: &Value) {
        match (recorded, ours) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, va) in a {
                    let Some(vb) = b.get(k) else { continue };
                    if ID_MEMBERS.contains(&k.as_str())
                        && let (Value::String(x), Value::String(y)) = (va, vb)
                    {
                        if x != y {
                            self.exact.insert(x.clone(), y.clone());
                            if let (Some(px), Some(py)) = (arn_prefix(x), arn_prefix(y))
                                && px != py
                                && !self.prefixes.iter().any(|(p, _)| p == px)
                            {
                                self.prefixes.push((px.to_string(), py.to_string()));
                            }
                        }
                    } else {
                        self.learn(va, vb);
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                a.iter().zip(b).for_each(|(x, y)| self.learn(x, y));
            }
            _ => {}
        }
    }

    fn apply(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Some(t) = self.exact.get(s.as_str()) {
                    *s = t.clone();
                } else if let Some((from, to)) = self
                    .prefixes
                    .iter()
                    .find(|(p, _)| s.starts_with(p.as_str()))
                {
                    *s = format!("{to}{}", &s[from.len()..]);
                }
            }
            Value::Object(map) => map.values_mut().for_each(|c| self.apply(c)),
            Value::Array(items) => items.iter_mut().for_each(|c| self.apply(c)),
            _ => {}
        }
    }
}

/// `arn:aws:dynamodb:REGION:ACCOUNT:` of an ARN.
fn arn_prefix(arn: &str) -> Option<&str> {
    if !arn.starts_with("arn:") {
        return None;
    }
    let mut end = 0;
    for (i, _) in arn.match_indices(':').take(5) {
        end = i;
    }
    (end > 0).then(|| &arn[..=end])
}

/// Per-operation counts, by operation name.
pub fn summarize(results: &[ExchangeResult]) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for r in results {
        let c = out.entry(r.row_name().to_string()).or_default();
        match r.outcome {
            Outcome::Pass => c.pass += 1,
            Outcome::Known(_) => c.known += 1,
            Outcome::Fail(_) => c.fail += 1,
        }
    }
    out
}

/// The per-operation summary as a fixed-width table (the insta snapshot's text).
pub fn summary_table(summary: &BTreeMap<String, Counts>) -> String {
    let mut s = format!(
        "{:<28} {:>5} {:>5} {:>5}\n",
        "operation", "pass", "known", "fail"
    );
    let mut total = Counts::default();
    for (op, c) in summary {
        s.push_str(&format!(
            "{op:<28} {:>5} {:>5} {:>5}\n",
            c.pass, c.known, c.fail
        ));
        total.pass += c.pass;
        total.known += c.known;
        total.fail += c.fail;
    }
    s.push_str(&format!(
        "{:<28} {:>5} {:>5} {:>5}\n",
        "total", total.pass, total.known, total.fail
    ));
    s
}

/// Every failure as readable text: cassette, sequence number, operation, request and diff.
pub fn failure_report(results: &[ExchangeResult]) -> String {
    results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Fail(d) => Some(format!(
                "{} #{} {}\nrequest: {}\n{d}",
                r.cassette, r.seq, r.operation, r.request
            )),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arn_prefix_is_partition_service_region_account() {
        assert_eq!(
            arn_prefix("arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x"),
            Some("arn:aws:dynamodb:ddblocal:000000000000:")
        );
        assert_eq!(arn_prefix("not an arn"), None);
    }

    #[test]
    fn learned_ids_rewrite_later_requests() {
        let mut t = Translation::default();
        t.learn(
            &json!({"Table": {"TableArn": "arn:aws:dynamodb:ddblocal:000000000000:table/t"}}),
            &json!({"Table": {"TableArn": "arn:aws:dynamodb:us-east-1:111111111111:table/t"}}),
        );
        t.learn(
            &json!({"ShardIterator": "abc"}),
            &json!({"ShardIterator": "xyz"}),
        );
        let mut req = json!({"ResourceArn": "arn:aws:dynamodb:ddblocal:000000000000:table/t",
                             "StreamArn": "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/1",
                             "ShardIterator": "abc", "Other": "abc2"});
        t.apply(&mut req);
        assert_eq!(
            req,
            json!({"ResourceArn": "arn:aws:dynamodb:us-east-1:111111111111:table/t",
                   "StreamArn": "arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/1",
                   "ShardIterator": "xyz", "Other": "abc2"})
        );
    }

    #[test]
    fn a_wrong_recorded_answer_fails_with_a_diff() {
        let mut c = Cassette::new("test", "us-east-1", "unknown");
        let text = r#"{"seq": 1, "operation": "ListTables",
            "request": {"target": "DynamoDB_20120810.ListTables", "body": {}},
            "response": {"status": 200, "body": {"TableNames": ["ghost"]}}}"#;
        c.exchanges.push(serde_json::from_str(text).unwrap());
        let r = check("t.json", &c, &Divergences::default());
        match &r[0].outcome {
            Outcome::Fail(d) => assert!(
                d.contains("-    \"TableNames\": [") && d.contains("ghost"),
                "{d}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
