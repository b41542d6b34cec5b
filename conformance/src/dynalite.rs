//! Replays the dynalite suite's AWS-validated error expectations.
//!
//! Each tuple is one request and the error AWS answers (type, and message exactly, by regex,
//! or as a prefix plus parts in any order). The five tables the suite creates first are
//! created in a fresh engine; tuples that depend on items written earlier in their original
//! test may fail for that reason alone, which is why results are ratcheted, not required
//! to be perfect.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use ddb_engine::Engine;
use ddb_harness::Router;
use serde::Deserialize;

use crate::wire::{Reply, call};

const TUPLES_GZ: &[u8] = include_bytes!("../data/dynalite/error_tuples.json.gz");
const SETUP: &str = include_str!("../data/dynalite/setup_tables.json");

/// One expectation.
#[derive(Debug, Clone, Deserialize)]
pub struct Tuple {
    /// Tuple id, e.g. `dynalite-0042`.
    pub id: String,
    /// Operation name.
    pub operation: String,
    /// `assertType`, `assertValidation`, `assertNotFound`, ….
    pub kind: String,
    /// The dynalite test's title.
    pub test: String,
    /// The request body.
    pub request: serde_json::Value,
    /// What AWS answers.
    pub expected: Expected,
}

/// The expected AWS error.
#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    /// Full `__type`.
    #[serde(rename = "__type")]
    pub type_: String,
    /// `message` or `Message`.
    pub message_key: Option<String>,
    /// Exact message.
    pub message: Option<String>,
    /// Message regex.
    pub message_regex: Option<String>,
    /// Message prefix, with `message_parts_any_order`.
    pub message_prefix: Option<String>,
    /// Parts joined by `"; "` in any order after the prefix. A part is a string or a regex object.
    pub message_parts_any_order: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct TupleFile {
    tuples: Vec<Tuple>,
}

#[derive(Deserialize)]
struct Setup {
    create_requests: Vec<SetupRequest>,
}

#[derive(Deserialize)]
struct SetupRequest {
    request: serde_json::Value,
}

/// Loads all tuples.
pub fn tuples() -> Vec<Tuple> {
    let mut json = String::new();
    let read = flate2::read::GzDecoder::new(TUPLES_GZ).read_to_string(&mut json);
    assert!(read.is_ok(), "bundled dynalite tuples are corrupt");
    let file: TupleFile = serde_json::from_str(&json).unwrap_or(TupleFile { tuples: Vec::new() });
    file.tuples
}

/// Replaces `{{testHashTable}}`-style placeholders with concrete table names.
fn substitute(text: &str) -> String {
    let mut s = text.to_string();
    for (i, name) in [
        "testHashTable",
        "testHashNTable",
        "testRangeTable",
        "testRangeNTable",
        "testRangeBTable",
    ]
    .iter()
    .enumerate()
    {
        s = s.replace(
            &format!("{{{{{name}}}}}"),
            &format!("__dynalite_test_{}", i + 1),
        );
    }
    s
}

fn substitute_value(v: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(&substitute(&v.to_string())).unwrap_or(serde_json::Value::Null)
}

/// A router over a fresh engine holding the suite's five tables.
pub fn setup_router() -> Router {
    let engine = Engine::builder().seed(1).build();
    let router = Router::new(Arc::new(engine.unwrap_or_else(|e| panic!("engine: {e}"))));
    let setup: Setup =
        serde_json::from_str(SETUP).unwrap_or_else(|e| panic!("setup_tables.json: {e}"));
    for r in setup.create_requests {
        let reply = call(&router, "CreateTable", &substitute_value(&r.request));
        assert_eq!(
            reply.status, 200,
            "setup table creation failed: {}",
            reply.body
        );
    }
    router
}

/// Expectations AWS has changed since the dynalite suite was recorded (≤ 2020): a regex over
/// the old message, its replacement, and the evidence for the new text.
const SUPERSEDED: &[(&str, &str, &str)] = &[(
    r"^(Invalid UpdateExpression: Incorrect operand type for operator or function; operator: (ADD|DELETE), operand type: [A-Z_]+)$",
    "$1, typeSet: ALLOWED_FOR_${2}_OPERAND",
    "DynamoDB Local 3.3 (scenarios/06_invalid_expressions.json) and real-AWS errors quoted in client test suites",
)];

/// The expected message as AWS words it today.
fn current_message(old: &str) -> String {
    SUPERSEDED
        .iter()
        .find_map(|(re, with, _)| {
            let re = regex::Regex::new(re).ok()?;
            re.is_match(old)
                .then(|| re.replace(old, *with).into_owned())
        })
        .unwrap_or_else(|| old.to_string())
}

/// Whether `reply` is the error `expected` describes; `Err` tells what differed.
pub fn matches(expected: &Expected, reply: &Reply) -> Result<(), String> {
    let ty = reply
        .body
        .get("__type")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if reply.status != 400 || ty != expected.type_ {
        return Err(format!(
            "status {} type {ty:?} body {}",
            reply.status, reply.body
        ));
    }
    let key = expected.message_key.as_deref().unwrap_or("message");
    let msg = reply.body.get(key).and_then(|v| v.as_str());
    let ok = if let Some(m) = &expected.message {
        msg == Some(current_message(&substitute(m)).as_str())
    } else if let Some(re) = &expected.message_regex {
        let re = regex::Regex::new(&format!("^(?:{})$", substitute(re)));
        match (re, msg) {
            (Ok(re), Some(m)) => re.is_match(m),
            _ => false,
        }
    } else if let Some(prefix) = &expected.message_prefix {
        match msg.and_then(|m| m.strip_prefix(substitute(prefix).as_str())) {
            None => false,
            Some(rest) => parts_match(
                rest,
                expected.message_parts_any_order.as_deref().unwrap_or(&[]),
            ),
        }
    } else {
        // Type-only expectations (e.g. a bare SerializationException).
        true
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "message {:?} under key {key:?}",
            msg.unwrap_or("<none>")
        ))
    }
}

fn parts_match(rest: &str, parts: &[serde_json::Value]) -> bool {
    let got: Vec<&str> = rest.split("; ").collect();
    if got.len() != parts.len() {
        return false;
    }
    let mut used = vec![false; got.len()];
    parts.iter().all(|p| {
        let found = got.iter().enumerate().position(|(i, g)| {
            !used[i]
                && match p {
                    serde_json::Value::String(s) => *g == substitute(s),
                    other => other
                        .get("regex")
                        .and_then(|r| r.as_str())
                        .and_then(|r| regex::Regex::new(&format!("^(?:{})$", substitute(r))).ok())
                        .is_some_and(|re| re.is_match(g)),
                }
        });
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

/// Outcome of replaying tuples.
#[derive(Debug, Default)]
pub struct Report {
    /// (operation, kind) → (passed, total).
    pub counts: BTreeMap<(String, String), (usize, usize)>,
    /// Failures: id, operation, test, request, expectation, what differed.
    pub failures: Vec<String>,
}

impl Report {
    /// Passed and total over all tuples of `kind` (or all kinds with `None`).
    pub fn totals(&self, kind: Option<&str>) -> (usize, usize) {
        self.counts
            .iter()
            .filter(|((_, k), _)| kind.is_none_or(|want| want == k))
            .fold((0, 0), |(p, t), (_, (pp, tt))| (p + pp, t + tt))
    }

    /// A markdown table of the counts.
    pub fn markdown(&self) -> String {
        let mut s = String::from("| operation | kind | passed | total |\n|---|---|---|---|\n");
        for ((op, kind), (p, t)) in &self.counts {
            s.push_str(&format!("| {op} | {kind} | {p} | {t} |\n"));
        }
        let (p, t) = self.totals(None);
        s.push_str(&format!("| **all** | | **{p}** | **{t}** |\n"));
        s
    }
}

/// Replays every tuple of the given operations (all when empty), each against the same
/// router in tuple order.
pub fn replay(operations: &[&str]) -> Report {
    let router = setup_router();
    let mut report = Report::default();
    for t in tuples() {
        if !operations.is_empty() && !operations.contains(&t.operation.as_str()) {
            continue;
        }
        let reply = call(&router, &t.operation, &substitute_value(&t.request));
        let entry = report
            .counts
            .entry((t.operation.clone(), t.kind.clone()))
            .or_default();
        entry.1 += 1;
        match matches(&t.expected, &reply) {
            Ok(()) => entry.0 += 1,
            Err(diff) => report.failures.push(format!(
                "{} {} [{}] {}\n  request: {}\n  expected: {} {}\n  got: {diff}",
                t.id,
                t.operation,
                t.kind,
                t.test,
                substitute_value(&t.request),
                t.expected.type_,
                t.expected
                    .message
                    .as_deref()
                    .or(t.expected.message_regex.as_deref())
                    .or(t.expected.message_prefix.as_deref())
                    .unwrap_or(""),
            )),
        }
    }
    report
}
