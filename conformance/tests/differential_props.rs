//! Model-based differential property test: proptest generates a table schema and a sequence of
//! abstract operations; a reference model of the table ([`Model`]) turns each into a request
//! that deliberately targets an item that exists or one that does not, a condition that holds
//! or fails, a query range that starts at data, a transaction whose check fails or that names
//! one item twice, or an invalid request — and predicts its outcome (success or AWS's error
//! type, whether the old or read item comes back, a query's or scan's counts and whether a
//! LastEvaluatedKey ends the page, how many items a batch read finds). Every request goes to a fresh engine and to the reference endpoint
//! (`ddb_conformance::live::Reference`: DynamoDB Local by default, skipped with a message when
//! Java or the jar is missing; `DDB_CONFORMANCE_TARGET=aws` for real DynamoDB, or
//! `=http://host:port`), and the engine's answer is checked against both: the reference's
//! answer after `ddb_conformance::cassette::compare`, and the model's prediction (the
//! reference is checked against the model too, so a wrong model shows). Values include
//! edge cases: 38-digit and extreme numbers, empty strings, nested documents, sets (empty ones
//! are invalid), items near and over 400 KB.
//!
//! A failing sequence is shrunk by proptest (the abstract operations shrink; the model
//! re-targets them), run once more against the reference, and written as a cassette into
//! `recordings/regressions/` (`DDB_DIFF_REGRESSIONS` names another folder), where
//! `tests/cassettes.rs` keeps checking it.
//!
//! `DDB_DIFF_CASES` sets the number of cases (40 by default, about 30 s against DynamoDB
//! Local; 10 against AWS, where every case creates and deletes an on-demand table);
//! `DDB_DIFF_SEED` the seed (fixed by default, so every run checks the same sequences).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ddb_conformance::cassette::{compare, recordings_dir};
use ddb_conformance::diff::Divergences;
use ddb_conformance::live::Reference;
use ddb_conformance::wire::{Reply, call};
use ddb_engine::{Engine, Number};
use ddb_harness::Router;
use ddb_harness::cassette::{Body, Cassette, Exchange, RecordedRequest, RecordedResponse};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{Value, json};

/// Key types of the generated table: (partition, optional sort).
const SCHEMAS: &[(&str, Option<&str>)] = &[("S", Some("N")), ("S", None), ("N", Some("S"))];

/// The name of the property test, re-run by the AWS-mode checks below.
const MAIN_TEST: &str = "engine_matches_the_reference_and_the_model_on_generated_op_sequences";

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "0.1",
    "-12.50",
    "12345678901234567890123456789012345678",
    "-0.00000000000000000000000000000000000001",
    "1E-130",
    "9.9999999999999999999999999999999999999E+125",
    "-9.9999999999999999999999999999999999999E+125",
    "100000000000000000000000000000000000000000",
];

#[derive(Debug, Clone)]
enum Val {
    Num(usize),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Val>),
    Map(Vec<(u8, Val)>),
    StrSet(Vec<u8>),
    /// A string of this many bytes (items near and over the 400 KB limit).
    Big(usize),
}

impl Val {
    /// Bytes of the big strings inside.
    fn big_bytes(&self) -> usize {
        match self {
            Val::Big(n) => *n,
            Val::List(items) => items.iter().map(Val::big_bytes).sum(),
            Val::Map(_) => self.members().map(Val::big_bytes).sum(),
            _ => 0,
        }
    }

    /// A map's members as sent: the last value given to a name wins.
    fn members(&self) -> impl Iterator<Item = &Val> {
        let mut last: BTreeMap<u8, &Val> = BTreeMap::new();
        if let Val::Map(members) = self {
            for (k, v) in members {
                last.insert(*k, v);
            }
        }
        last.into_values()
    }

    /// Whether an empty string set is inside (AWS refuses empty sets).
    fn has_empty_set(&self) -> bool {
        match self {
            Val::StrSet(members) => members.is_empty(),
            Val::List(items) => items.iter().any(Val::has_empty_set),
            Val::Map(_) => self.members().any(Val::has_empty_set),
            _ => false,
        }
    }

    fn json(&self) -> Value {
        match self {
            Val::Num(i) => json!({"N": NUMBERS[*i % NUMBERS.len()]}),
            Val::Str(s) => json!({"S": s}),
            Val::Bool(b) => json!({"BOOL": b}),
            Val::Null => json!({"NULL": true}),
            Val::List(items) => json!({"L": items.iter().map(Val::json).collect::<Vec<_>>()}),
            Val::Map(members) => {
                let m: serde_json::Map<String, Value> = members
                    .iter()
                    .map(|(k, v)| (format!("m{k}"), v.json()))
                    .collect();
                json!({ "M": m })
            }
            Val::StrSet(members) => {
                let mut s: Vec<String> = members.iter().map(|m| format!("s{m}")).collect();
                s.sort();
                s.dedup();
                json!({ "SS": s })
            }
            Val::Big(n) => json!({"S": "x".repeat(*n)}),
        }
    }
}

fn val() -> impl Strategy<Value = Val> {
    let leaf = prop_oneof![
        4 => (0..NUMBERS.len()).prop_map(Val::Num),
        3 => prop_oneof![Just(String::new()), "[a-z]{1,6}", Just("ü€𝄞".to_string())].prop_map(Val::Str),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => Just(Val::Null),
        1 => prop::collection::vec(0u8..4, 0..3).prop_map(Val::StrSet),
        1 => prop_oneof![Just(350_000usize), Just(410_000usize)].prop_map(Val::Big),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Val::List),
            prop::collection::vec((0u8..4, inner), 0..4).prop_map(Val::Map),
        ]
    })
}

/// The largest item AWS stores (400 KB).
const MAX_ITEM: usize = 400 * 1024;

/// A key of the generated table: (partition, sort), each a small index.
type Key = (u8, u8);

/// Which item an operation targets, resolved against the model when the request is built.
#[derive(Debug, Clone, Copy)]
enum KeyRef {
    /// The n-th item the model holds (a new key when the table is empty).
    Existing(u8),
    /// The n-th key the model does not hold.
    Absent(u8),
    /// This key, whatever the model holds.
    Raw(u8, u8),
}

/// A condition, resolved against the model's view of the target item.
#[derive(Debug, Clone, Copy)]
enum CondRef {
    /// `attribute_exists(pk)` or `attribute_not_exists(pk)`, chosen to hold (`true`) or fail.
    Existence(bool),
    /// `a0 > :c` with `:c` chosen among the edge-case numbers so that it holds or fails when the
    /// model knows `a0`; the n-th number otherwise.
    Compare(bool, u8),
}

#[derive(Debug, Clone)]
enum Invalid {
    EmptyKey,
    MissingKey,
    WrongKeyType,
    TooPrecise,
    BadSyntax,
    UnusedValue,
}

/// How a transaction is put together.
#[derive(Debug, Clone, Copy)]
enum TxKind {
    /// A Put and a ConditionCheck on another item, whose condition holds or fails.
    Check(bool),
    /// Two Puts on one item.
    TwoPuts,
    /// A Put and a Delete on one item.
    PutDelete,
    /// A Put and a ConditionCheck on one item.
    PutCheck,
}

#[derive(Debug, Clone)]
enum Op {
    Put {
        key: KeyRef,
        attrs: Vec<(u8, Val)>,
        cond: Option<CondRef>,
        return_old: bool,
    },
    Update {
        key: KeyRef,
        add: usize,
        set: Option<(u8, Val)>,
        remove: Option<u8>,
        cond: Option<CondRef>,
        return_values: u8,
    },
    Delete {
        key: KeyRef,
        cond: Option<CondRef>,
    },
    Get {
        key: KeyRef,
        projection: bool,
    },
    Query {
        /// Even: a partition holding items (when one does); odd: partition `pk / 2 % 2`.
        pk: u8,
        limit: Option<u8>,
        forward: bool,
        /// `sk > :s`: the n-th sort key the partition holds (`Existing`) or any (`Raw`).
        above: Option<KeyRef>,
        filter: bool,
    },
    Scan {
        filter: bool,
    },
    BatchWrite {
        puts: Vec<KeyRef>,
        deletes: Vec<KeyRef>,
    },
    BatchGet {
        keys: Vec<KeyRef>,
    },
    /// Five items in one partition, so that queries with a Limit stop inside it.
    Fill(u8),
    Transact {
        put: KeyRef,
        other: KeyRef,
        kind: TxKind,
    },
    Invalid(Invalid),
}

fn key_ref() -> impl Strategy<Value = KeyRef> {
    prop_oneof![
        3 => any::<u8>().prop_map(KeyRef::Existing),
        2 => any::<u8>().prop_map(KeyRef::Absent),
        1 => (0u8..2, 0u8..5).prop_map(|(p, s)| KeyRef::Raw(p, s)),
    ]
}

fn cond() -> impl Strategy<Value = Option<CondRef>> {
    prop::option::weighted(
        0.4,
        prop_oneof![
            any::<bool>().prop_map(CondRef::Existence),
            (any::<bool>(), any::<u8>()).prop_map(|(h, n)| CondRef::Compare(h, n)),
        ],
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (key_ref(), prop::collection::vec((0u8..4, val()), 0..4), cond(), any::<bool>())
            .prop_map(|(key, mut attrs, cond, return_old)| {
                // Which error comes first for an oversized item with a condition or an empty
                // set is unverified on AWS; DynamoDB Local and the engine order them
                // differently.
                let big: usize = attrs.iter().map(|(_, v)| v.big_bytes()).sum();
                if big > 350_000 {
                    attrs.retain(|(_, v)| !v.has_empty_set());
                }
                let cond = if big > 350_000 { None } else { cond };
                Op::Put { key, attrs, cond, return_old }
            }),
        4 => (key_ref(), 0..NUMBERS.len(), prop::option::of((0u8..4, val())), prop::option::of(0u8..4), cond(), 0u8..5)
            .prop_map(|(key, add, set, remove, cond, return_values)| {
                // Values over 400 KB go to PutItem only: in an update, which error comes first
                // (value size, condition, number precision) is unverified on AWS, and DynamoDB
                // Local and the engine order them differently.
                let set = set.filter(|(_, v)| v.big_bytes() <= 400_000);
                Op::Update { key, add, set, remove, cond, return_values }
            }),
        2 => (key_ref(), cond()).prop_map(|(key, cond)| Op::Delete { key, cond }),
        2 => (key_ref(), any::<bool>()).prop_map(|(key, projection)| Op::Get { key, projection }),
        4 => (any::<u8>(), prop::option::of(1u8..5), any::<bool>(), prop::option::of(key_ref()), any::<bool>())
            .prop_map(|(pk, limit, forward, above, filter)| Op::Query { pk, limit, forward, above, filter }),
        1 => any::<bool>().prop_map(|filter| Op::Scan { filter }),
        2 => (prop::collection::vec(key_ref(), 1..4), prop::collection::vec(key_ref(), 0..3))
            .prop_map(|(puts, deletes)| Op::BatchWrite { puts, deletes }),
        1 => prop::collection::vec(key_ref(), 1..4).prop_map(|keys| Op::BatchGet { keys }),
        2 => (0u8..2).prop_map(Op::Fill),
        3 => (key_ref(), key_ref(), prop_oneof![
                4 => any::<bool>().prop_map(TxKind::Check),
                1 => Just(TxKind::TwoPuts),
                1 => Just(TxKind::PutDelete),
                1 => Just(TxKind::PutCheck),
            ])
            .prop_map(|(put, other, kind)| Op::Transact { put, other, kind }),
        1 => prop_oneof![
            Just(Invalid::EmptyKey),
            Just(Invalid::MissingKey),
            Just(Invalid::WrongKeyType),
            Just(Invalid::TooPrecise),
            Just(Invalid::BadSyntax),
            Just(Invalid::UnusedValue)
        ].prop_map(Op::Invalid),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    schema: usize,
    ops: Vec<Op>,
}

fn case() -> impl Strategy<Value = Case> {
    (0..SCHEMAS.len(), prop::collection::vec(op(), 1..16))
        .prop_map(|(schema, ops)| Case { schema, ops })
}

// ---------------------------------------------------------------------------------------------
// The reference model.

/// What the model knows of an item's `a0` (the attribute conditions compare and ADD adds to).
#[derive(Debug, Clone)]
enum A0 {
    Absent,
    Num(Number),
    /// Present, not a number.
    Other,
    /// Present, value unknown (a sum the model does not compute).
    Unknown,
}

/// An item as the model sees it.
#[derive(Debug, Clone)]
struct Entry {
    a0: A0,
    /// Bytes of big strings in the item (pages and item-size limits make counts unknown).
    big: usize,
}

/// A condition as sent.
#[derive(Debug, Clone, Copy)]
enum Cond {
    Exists,
    NotExists,
    Gt(usize),
}

/// What the model expects the status to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Expect {
    /// Not predicted (the outcome depends on something the model does not track).
    #[default]
    Unknown,
    Ok,
    /// An error of this type (the part after `#`).
    Error(&'static str),
}

/// A change to the model, applied when the request succeeded.
#[derive(Debug, Clone)]
enum Effect {
    Put(Key, Entry),
    Delete(Key),
    /// An update: the item exists afterwards, with `a0` and more big bytes.
    Update(Key, A0, usize),
}

/// The model's prediction for one request.
#[derive(Debug, Clone, Default)]
struct Prediction {
    status: Expect,
    /// On success, whether this member (`Item`, `Attributes`, `LastEvaluatedKey`) is in the
    /// answer.
    member: Option<(&'static str, bool)>,
    /// On success, `ScannedCount` and (when known) `Count`.
    counts: Option<(u64, Option<u64>)>,
    /// On success, how many items `Responses` holds for the table.
    responses: Option<usize>,
    effects: Vec<Effect>,
}

impl Prediction {
    fn status(status: Expect) -> Prediction {
        Prediction {
            status,
            ..Prediction::default()
        }
    }
}

/// The table as it should be: which keys hold items, and what is known of them.
#[derive(Debug, Clone, Default)]
struct Model {
    hash_only: bool,
    items: BTreeMap<Key, Entry>,
}

impl Model {
    fn norm(&self, (p, s): Key) -> Key {
        if self.hash_only {
            (p % 2, 0)
        } else {
            (p % 2, s % 5)
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        let sorts = if self.hash_only { 1 } else { 5 };
        (0..2u8)
            .flat_map(|p| (0..sorts).map(move |s| (p, s)))
            .collect()
    }

    fn resolve(&self, r: KeyRef) -> Key {
        match r {
            KeyRef::Existing(i) => {
                let held: Vec<Key> = self.items.keys().copied().collect();
                match held.len() {
                    0 => self.norm((i % 2, i / 2)),
                    n => held[i as usize % n],
                }
            }
            KeyRef::Absent(i) => {
                let all = self.all_keys();
                let free: Vec<Key> = all
                    .iter()
                    .copied()
                    .filter(|k| !self.items.contains_key(k))
                    .collect();
                let pool = if free.is_empty() { all } else { free };
                pool[i as usize % pool.len()]
            }
            KeyRef::Raw(p, s) => self.norm((p, s)),
        }
    }

    fn exists(&self, k: Key) -> bool {
        self.items.contains_key(&k)
    }

    fn resolve_cond(&self, c: CondRef, k: Key) -> Cond {
        match c {
            CondRef::Existence(holds) => {
                if holds == self.exists(k) {
                    Cond::Exists
                } else {
                    Cond::NotExists
                }
            }
            CondRef::Compare(holds, n) => {
                let known = match self.items.get(&k).map(|e| &e.a0) {
                    Some(A0::Num(x)) => Some(x.clone()),
                    _ => None,
                };
                let fits: Vec<usize> = match &known {
                    Some(x) => (0..NUMBERS.len())
                        .filter(|i| (*x > number(*i)) == holds)
                        .collect(),
                    None => Vec::new(),
                };
                match fits.len() {
                    0 => Cond::Gt(n as usize % NUMBERS.len()),
                    len => Cond::Gt(fits[n as usize % len]),
                }
            }
        }
    }

    /// Whether `c` holds on the item at `k`; `None` when the model cannot tell.
    fn eval(&self, c: Cond, k: Key) -> Option<bool> {
        let entry = self.items.get(&k);
        match c {
            Cond::Exists => Some(entry.is_some()),
            Cond::NotExists => Some(entry.is_none()),
            Cond::Gt(i) => match entry.map(|e| &e.a0) {
                None | Some(A0::Absent) | Some(A0::Other) => Some(false),
                Some(A0::Num(x)) => Some(*x > number(i)),
                Some(A0::Unknown) => None,
            },
        }
    }

    fn apply(&mut self, effects: &[Effect]) {
        for e in effects {
            match e {
                Effect::Put(k, entry) => {
                    self.items.insert(*k, entry.clone());
                }
                Effect::Delete(k) => {
                    self.items.remove(k);
                }
                Effect::Update(k, a0, big) => {
                    let entry = self.items.entry(*k).or_insert(Entry {
                        a0: A0::Absent,
                        big: 0,
                    });
                    entry.a0 = a0.clone();
                    entry.big += big;
                }
            }
        }
    }
}

fn number(i: usize) -> Number {
    NUMBERS[i % NUMBERS.len()]
        .parse()
        .unwrap_or_else(|e| panic!("NUMBERS[{i}]: {e:?}"))
}

/// What the model knows of `a0` from a value put there.
fn a0_of(v: Option<&Val>) -> A0 {
    match v {
        None => A0::Absent,
        Some(Val::Num(i)) => A0::Num(number(*i)),
        Some(_) => A0::Other,
    }
}

/// Whether a duplicate is among `keys`.
fn has_duplicates(keys: &[Key]) -> bool {
    keys.iter().collect::<BTreeSet<_>>().len() != keys.len()
}

/// Where `reply` contradicts `p`, if anywhere.
fn check_prediction(p: &Prediction, reply: &Reply, table: &str) -> Option<String> {
    match p.status {
        Expect::Unknown => {}
        Expect::Ok if reply.status != 200 => {
            return Some(format!(
                "expected success, got {} {}",
                reply.status, reply.body
            ));
        }
        Expect::Error(t) if reply.status != 400 || reply.error_type() != t => {
            return Some(format!("expected {t}, got {} {}", reply.status, reply.body));
        }
        _ => {}
    }
    if reply.status != 200 {
        return None;
    }
    if let Some((member, present)) = p.member
        && reply.body.get(member).is_some() != present
    {
        let expected = if present { "present" } else { "absent" };
        return Some(format!("expected {member} {expected}: {}", reply.body));
    }
    if let Some((scanned, count)) = p.counts {
        let got = |m: &str| reply.body.get(m).and_then(Value::as_u64);
        if got("ScannedCount") != Some(scanned) || count.is_some_and(|c| got("Count") != Some(c)) {
            return Some(format!(
                "expected ScannedCount {scanned}, Count {count:?}: {}",
                reply.body
            ));
        }
    }
    if let Some(n) = p.responses {
        let got = reply.body["Responses"][table].as_array().map(Vec::len);
        if got != Some(n) {
            return Some(format!("expected {n} items in Responses: {}", reply.body));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// Turns generated operations into requests for one table, with the model's predictions.
struct Builder {
    table: String,
    schema: (&'static str, Option<&'static str>),
}

impl Builder {
    fn key_value(ty: &str, n: u8) -> Value {
        match ty {
            "N" => json!({"N": format!("{n}")}),
            _ => json!({"S": format!("k{n}")}),
        }
    }

    fn key(&self, (p, s): Key) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("pk".into(), Self::key_value(self.schema.0, p));
        if let Some(ty) = self.schema.1 {
            m.insert("sk".into(), Self::key_value(ty, s));
        }
        m
    }

    fn create(&self) -> (String, Value) {
        let mut defs = vec![json!({"AttributeName": "pk", "AttributeType": self.schema.0})];
        let mut ks = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
        if let Some(ty) = self.schema.1 {
            defs.push(json!({"AttributeName": "sk", "AttributeType": ty}));
            ks.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
        }
        (
            "CreateTable".into(),
            json!({"TableName": self.table, "AttributeDefinitions": defs, "KeySchema": ks,
                   "BillingMode": "PAY_PER_REQUEST"}),
        )
    }

    fn with_cond(body: &mut Value, cond: Option<Cond>) {
        let Some(c) = cond else { return };
        let (expr, values) = match c {
            Cond::Exists => ("attribute_exists(pk)".to_string(), None),
            Cond::NotExists => ("attribute_not_exists(pk)".to_string(), None),
            Cond::Gt(i) => (
                "a0 > :c".to_string(),
                Some(json!({":c": Val::Num(i).json()})),
            ),
        };
        body["ConditionExpression"] = json!(expr);
        if let Some(v) = values {
            let merged = match body.get("ExpressionAttributeValues").cloned() {
                Some(Value::Object(mut m)) => {
                    if let Value::Object(extra) = v {
                        m.extend(extra);
                    }
                    Value::Object(m)
                }
                _ => v,
            };
            body["ExpressionAttributeValues"] = merged;
        }
    }

    /// The outcome of a condition: `None` for no condition, else whether it holds (`None`
    /// inside when unknown).
    fn cond_status(model: &Model, cond: Option<Cond>, key: Key) -> Option<Option<bool>> {
        cond.map(|c| model.eval(c, key))
    }

    /// The request for `op` in the model's state, and what the model predicts.
    fn plan(&self, model: &Model, op: &Op) -> (String, Value, Prediction) {
        let t = &self.table;
        match op {
            Op::Put {
                key,
                attrs,
                cond,
                return_old,
            } => {
                let k = model.resolve(*key);
                let cond = cond.map(|c| model.resolve_cond(c, k));
                let mut item = self.key(k);
                for (n, v) in attrs {
                    item.insert(format!("a{n}"), v.json());
                }
                let mut b = json!({"TableName": t, "Item": item});
                if *return_old {
                    b["ReturnValues"] = json!("ALL_OLD");
                }
                Self::with_cond(&mut b, cond);
                // The last value given to a name is the one sent.
                let last = |name: u8| attrs.iter().rev().find(|(n, _)| *n == name);
                let names: BTreeSet<u8> = attrs.iter().map(|(n, _)| *n).collect();
                let big: usize = names
                    .iter()
                    .filter_map(|n| last(*n))
                    .map(|(_, v)| v.big_bytes())
                    .sum();
                let empty_set = names
                    .iter()
                    .filter_map(|n| last(*n))
                    .any(|(_, v)| v.has_empty_set());
                let existed = model.exists(k);
                let p = if empty_set || big > MAX_ITEM {
                    Prediction::status(Expect::Error("ValidationException"))
                } else {
                    match Self::cond_status(model, cond, k) {
                        Some(None) => Prediction::default(),
                        Some(Some(false)) => {
                            Prediction::status(Expect::Error("ConditionalCheckFailedException"))
                        }
                        None | Some(Some(true)) => Prediction {
                            status: Expect::Ok,
                            member: Some(("Attributes", *return_old && existed)),
                            ..Prediction::default()
                        },
                    }
                };
                let effects = vec![Effect::Put(
                    k,
                    Entry {
                        a0: a0_of(last(0).map(|(_, v)| v)),
                        big,
                    },
                )];
                ("PutItem".into(), b, Prediction { effects, ..p })
            }
            Op::Update {
                key,
                add,
                set,
                remove,
                cond,
                return_values,
            } => {
                let k = model.resolve(*key);
                let cond = cond.map(|c| model.resolve_cond(c, k));
                let mut expr = "ADD a0 :n".to_string();
                let mut values = json!({":n": Val::Num(*add).json()});
                let set = set.as_ref().filter(|(n, _)| *n != 0);
                if let Some((n, v)) = set {
                    expr = format!("SET a{n} = :s {expr}");
                    values[":s"] = v.json();
                }
                if let Some(r) = remove
                    && *r != 0
                    && set.is_none_or(|(n, _)| n != r)
                {
                    expr.push_str(&format!(" REMOVE a{r}"));
                }
                let rv = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
                    [*return_values as usize % 5];
                let mut b = json!({"TableName": t, "Key": self.key(k), "UpdateExpression": expr,
                                   "ExpressionAttributeValues": values, "ReturnValues": rv});
                Self::with_cond(&mut b, cond);
                let entry = model.items.get(&k);
                let set_big = set.map_or(0, |(_, v)| v.big_bytes());
                // ADD on a0: the outcome and the new value.
                let (arith, a0) = match entry.map_or(&A0::Absent, |e| &e.a0) {
                    A0::Absent => (Expect::Ok, A0::Num(number(*add))),
                    A0::Num(x) => match x.checked_add(&number(*add)) {
                        Ok(sum) => (Expect::Ok, A0::Num(sum)),
                        Err(_) => (Expect::Error("ValidationException"), A0::Unknown),
                    },
                    A0::Other => (Expect::Error("ValidationException"), A0::Other),
                    A0::Unknown => (Expect::Unknown, A0::Unknown),
                };
                let status = if set.is_some_and(|(_, v)| v.has_empty_set()) {
                    Expect::Error("ValidationException")
                } else if set_big > 0 || entry.is_some_and(|e| e.big > 0) {
                    // Whether the item outgrows 400 KB is not tracked.
                    Expect::Unknown
                } else {
                    match (Self::cond_status(model, cond, k), arith) {
                        (None | Some(Some(true)), arith) => arith,
                        (Some(Some(false)), Expect::Ok) => {
                            Expect::Error("ConditionalCheckFailedException")
                        }
                        _ => Expect::Unknown,
                    }
                };
                let member = match rv {
                    "NONE" => Some(("Attributes", false)),
                    "ALL_OLD" => Some(("Attributes", entry.is_some())),
                    "ALL_NEW" => Some(("Attributes", true)),
                    _ => None,
                };
                let p = Prediction {
                    status,
                    member,
                    effects: vec![Effect::Update(k, a0, set_big)],
                    ..Prediction::default()
                };
                ("UpdateItem".into(), b, p)
            }
            Op::Delete { key, cond } => {
                let k = model.resolve(*key);
                let cond = cond.map(|c| model.resolve_cond(c, k));
                // With ReturnConsumedCapacity: DynamoDB Local reports capacity for a delete of a
                // missing item even when not asked (see divergences.toml, cassette #38).
                let mut b = json!({"TableName": t, "Key": self.key(k), "ReturnValues": "ALL_OLD",
                                   "ReturnConsumedCapacity": "TOTAL"});
                Self::with_cond(&mut b, cond);
                let status = match Self::cond_status(model, cond, k) {
                    Some(None) => Expect::Unknown,
                    Some(Some(false)) => Expect::Error("ConditionalCheckFailedException"),
                    None | Some(Some(true)) => Expect::Ok,
                };
                let p = Prediction {
                    status,
                    member: Some(("Attributes", model.exists(k))),
                    effects: vec![Effect::Delete(k)],
                    ..Prediction::default()
                };
                ("DeleteItem".into(), b, p)
            }
            Op::Get { key, projection } => {
                let k = model.resolve(*key);
                let mut b = json!({"TableName": t, "Key": self.key(k), "ConsistentRead": true});
                if *projection {
                    b["ProjectionExpression"] = json!("a0, a1[0], a2.m1");
                }
                let p = Prediction {
                    status: Expect::Ok,
                    // With a projection naming nothing the item has, whether `Item` comes back
                    // empty or not at all is left to the reference.
                    member: (!*projection).then_some(("Item", model.exists(k))),
                    ..Prediction::default()
                };
                ("GetItem".into(), b, p)
            }
            Op::Query {
                pk,
                limit,
                forward,
                above,
                filter,
            } => {
                let held: BTreeSet<u8> = model.items.keys().map(|(p, _)| *p).collect();
                let held: Vec<u8> = held.into_iter().collect();
                let p = if pk % 2 == 0 && !held.is_empty() {
                    held[(pk / 2) as usize % held.len()]
                } else {
                    (pk / 2) % 2
                };
                let mut partition: Vec<(&Key, &Entry)> =
                    model.items.iter().filter(|((q, _), _)| *q == p).collect();
                let mut kc = "pk = :p".to_string();
                let mut values = json!({":p": Self::key_value(self.schema.0, p)});
                if let (Some(a), Some(ty)) = (above, self.schema.1) {
                    let s = match a {
                        KeyRef::Existing(i) if !partition.is_empty() => {
                            partition[*i as usize % partition.len()].0.1
                        }
                        KeyRef::Existing(i) | KeyRef::Absent(i) => i % 5,
                        KeyRef::Raw(_, s) => *s,
                    };
                    kc.push_str(" AND sk > :s");
                    values[":s"] = Self::key_value(ty, s);
                    partition.retain(|((_, t), _)| *t > s);
                }
                if !forward {
                    partition.reverse();
                }
                let mut b = json!({"TableName": t, "KeyConditionExpression": kc,
                                   "ExpressionAttributeValues": values, "ScanIndexForward": forward});
                if let Some(l) = limit {
                    b["Limit"] = json!(l);
                }
                if *filter {
                    b["FilterExpression"] = json!("attribute_exists(a0)");
                }
                let scanned = limit.map_or(partition.len(), |l| partition.len().min(l.into()));
                let read = &partition[..scanned];
                let count = if *filter {
                    read.iter()
                        .filter(|(_, e)| !matches!(e.a0, A0::Absent))
                        .count()
                } else {
                    scanned
                };
                // Pages end at 1 MB: counts are predicted only without big items.
                let small = partition.iter().all(|(_, e)| e.big == 0);
                // AWS answers a LastEvaluatedKey whenever the page stopped at its Limit, even
                // with nothing left; DynamoDB Local leaves it out for a hash-only table's
                // one-item partition (cassette.rs, limit_reached_key), so not predicted there.
                let at_limit = limit.is_some_and(|l| scanned == usize::from(l));
                let last_key = (small && !(model.hash_only && limit.is_some()))
                    .then_some(("LastEvaluatedKey", at_limit));
                let p = Prediction {
                    status: Expect::Ok,
                    member: last_key,
                    counts: small.then_some((scanned as u64, Some(count as u64))),
                    ..Prediction::default()
                };
                ("Query".into(), b, p)
            }
            Op::Scan { filter } => {
                let mut b = json!({"TableName": t, "ConsistentRead": true});
                if *filter {
                    b["FilterExpression"] = json!("attribute_type(a1, :t)");
                    b["ExpressionAttributeValues"] = json!({":t": {"S": "S"}});
                }
                let n = model.items.len() as u64;
                let small = model.items.values().all(|e| e.big == 0);
                let p = Prediction {
                    status: Expect::Ok,
                    // No Limit: a small table is read in one page.
                    member: small.then_some(("LastEvaluatedKey", false)),
                    counts: small.then_some((n, (!*filter).then_some(n))),
                    ..Prediction::default()
                };
                ("Scan".into(), b, p)
            }
            Op::BatchWrite { puts, deletes } => {
                let puts: Vec<Key> = puts.iter().map(|k| model.resolve(*k)).collect();
                let deletes: Vec<Key> = deletes.iter().map(|k| model.resolve(*k)).collect();
                let mut reqs: Vec<Value> = puts
                    .iter()
                    .map(|k| json!({"PutRequest": {"Item": self.key(*k)}}))
                    .collect();
                reqs.extend(
                    deletes
                        .iter()
                        .map(|k| json!({"DeleteRequest": {"Key": self.key(*k)}})),
                );
                let all: Vec<Key> = puts.iter().chain(&deletes).copied().collect();
                let p = if has_duplicates(&all) {
                    Prediction::status(Expect::Error("ValidationException"))
                } else {
                    let mut effects: Vec<Effect> = puts
                        .iter()
                        .map(|k| {
                            Effect::Put(
                                *k,
                                Entry {
                                    a0: A0::Absent,
                                    big: 0,
                                },
                            )
                        })
                        .collect();
                    effects.extend(deletes.iter().map(|k| Effect::Delete(*k)));
                    Prediction {
                        status: Expect::Ok,
                        effects,
                        ..Prediction::default()
                    }
                };
                (
                    "BatchWriteItem".into(),
                    json!({"RequestItems": {t.clone(): reqs}}),
                    p,
                )
            }
            Op::Fill(pk) => {
                let sorts = if self.schema.1.is_some() { 5u8 } else { 1 };
                let reqs: Vec<Value> = (0..sorts)
                    .map(|sk| {
                        let mut item = self.key((*pk, sk));
                        item.insert("a0".into(), json!({"N": format!("{sk}")}));
                        json!({"PutRequest": {"Item": item}})
                    })
                    .collect();
                let effects = (0..sorts)
                    .map(|sk| {
                        let a0 = format!("{sk}").parse().map_or(A0::Unknown, A0::Num);
                        Effect::Put(model.norm((*pk, sk)), Entry { a0, big: 0 })
                    })
                    .collect();
                let p = Prediction {
                    status: Expect::Ok,
                    effects,
                    ..Prediction::default()
                };
                (
                    "BatchWriteItem".into(),
                    json!({"RequestItems": {t.clone(): reqs}}),
                    p,
                )
            }
            Op::BatchGet { keys } => {
                let keys: Vec<Key> = keys.iter().map(|k| model.resolve(*k)).collect();
                let json_keys: Vec<_> = keys.iter().map(|k| Value::Object(self.key(*k))).collect();
                let p = if has_duplicates(&keys) {
                    Prediction::status(Expect::Error("ValidationException"))
                } else {
                    Prediction {
                        status: Expect::Ok,
                        responses: Some(keys.iter().filter(|k| model.exists(**k)).count()),
                        ..Prediction::default()
                    }
                };
                (
                    "BatchGetItem".into(),
                    json!({"RequestItems": {t.clone(): {"Keys": json_keys, "ConsistentRead": true}}}),
                    p,
                )
            }
            Op::Transact { put, other, kind } => {
                let pk = model.resolve(*put);
                let put_item = json!({"Put": {"TableName": t, "Item": self.key(pk)}});
                let (second, p) = match kind {
                    TxKind::Check(holds) => {
                        let mut ok = model.resolve(*other);
                        if ok == pk {
                            let all = model.all_keys();
                            let i = all.iter().position(|k| *k == pk).unwrap_or(0);
                            ok = all[(i + 1) % all.len()];
                        }
                        let cond = model.resolve_cond(CondRef::Existence(*holds), ok);
                        let expr = match cond {
                            Cond::Exists => "attribute_exists(pk)",
                            _ => "attribute_not_exists(pk)",
                        };
                        let status = match model.eval(cond, ok) {
                            Some(true) => Expect::Ok,
                            Some(false) => Expect::Error("TransactionCanceledException"),
                            None => Expect::Unknown,
                        };
                        (
                            json!({"ConditionCheck": {"TableName": t, "Key": self.key(ok),
                                                      "ConditionExpression": expr}}),
                            status,
                        )
                    }
                    // "Transaction request cannot include multiple operations on one item"
                    // (transaction-apis.html), also from DynamoDB Local 3.3.1.
                    TxKind::TwoPuts => (put_item.clone(), Expect::Error("ValidationException")),
                    TxKind::PutDelete => (
                        json!({"Delete": {"TableName": t, "Key": self.key(pk)}}),
                        Expect::Error("ValidationException"),
                    ),
                    TxKind::PutCheck => (
                        json!({"ConditionCheck": {"TableName": t, "Key": self.key(pk),
                                                  "ConditionExpression": "attribute_exists(pk)"}}),
                        Expect::Error("ValidationException"),
                    ),
                };
                let effects = vec![Effect::Put(
                    pk,
                    Entry {
                        a0: A0::Absent,
                        big: 0,
                    },
                )];
                (
                    "TransactWriteItems".into(),
                    json!({"TransactItems": [put_item, second]}),
                    Prediction {
                        status: p,
                        effects,
                        ..Prediction::default()
                    },
                )
            }
            Op::Invalid(kind) => {
                let invalid = Prediction::status(Expect::Error("ValidationException"));
                let mut item = self.key((0, 0));
                match kind {
                    Invalid::EmptyKey => {
                        item.insert("pk".into(), json!({"S": ""}));
                    }
                    Invalid::MissingKey => {
                        item.remove("pk");
                    }
                    Invalid::WrongKeyType => {
                        item.insert("pk".into(), json!({"BOOL": true}));
                    }
                    Invalid::TooPrecise => {
                        item.insert(
                            "a0".into(),
                            json!({"N": "1.00000000000000000000000000000000000001"}),
                        );
                    }
                    Invalid::BadSyntax => {
                        return (
                            "UpdateItem".into(),
                            json!({"TableName": t, "Key": self.key((0, 0)),
                            "UpdateExpression": "SET a0 = = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}}),
                            invalid,
                        );
                    }
                    Invalid::UnusedValue => {
                        return (
                            "Query".into(),
                            json!({"TableName": t, "KeyConditionExpression": "pk = :p",
                                   "ExpressionAttributeValues": {
                                       ":p": Self::key_value(self.schema.0, 0), ":v": {"N": "1"}}}),
                            invalid,
                        );
                    }
                }
                (
                    "PutItem".into(),
                    json!({"TableName": t, "Item": item}),
                    invalid,
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running.

/// How often the model predicted something, over the whole run.
static STEPS: AtomicUsize = AtomicUsize::new(0);
static PREDICTED_STATUS: AtomicUsize = AtomicUsize::new(0);
static PREDICTED_ERRORS: AtomicUsize = AtomicUsize::new(0);
static PREDICTED_DETAILS: AtomicUsize = AtomicUsize::new(0);

/// One run of a case on both sides; the exchanges as the reference answered them, and the
/// first difference (from the reference, or from the model).
fn run_case(
    reference: &Reference,
    divergences: &Divergences,
    case: &Case,
    table: &str,
) -> (Vec<(String, Value, Reply)>, Option<String>) {
    let b = Builder {
        table: table.to_string(),
        schema: SCHEMAS[case.schema],
    };
    let mut model = Model {
        hash_only: b.schema.1.is_none(),
        ..Model::default()
    };
    let router = match Engine::builder().seed(5).build() {
        Ok(e) => Router::new(Arc::new(e)),
        Err(e) => return (Vec::new(), Some(format!("engine: {e}"))),
    };
    let mut exchanges = Vec::new();
    let mut failure = None;
    for i in 0..=case.ops.len() {
        let (op, body, prediction) = match i.checked_sub(1).and_then(|j| case.ops.get(j)) {
            None => {
                let (op, body) = b.create();
                (op, body, Prediction::status(Expect::Ok))
            }
            Some(g) => b.plan(&model, g),
        };
        let theirs = match reference.call(&op, &body) {
            Ok(r) => r,
            Err(e) => {
                failure = Some(format!("reference: {e}"));
                break;
            }
        };
        let ours = call(&router, &op, &body);
        STEPS.fetch_add(1, Ordering::Relaxed);
        if prediction.status != Expect::Unknown {
            PREDICTED_STATUS.fetch_add(1, Ordering::Relaxed);
        }
        if matches!(prediction.status, Expect::Error(_)) {
            PREDICTED_ERRORS.fetch_add(1, Ordering::Relaxed);
        }
        if prediction.member.is_some()
            || prediction.counts.is_some()
            || prediction.responses.is_some()
        {
            PREDICTED_DETAILS.fetch_add(1, Ordering::Relaxed);
        }
        let mut problems = Vec::new();
        if let Some(d) = compare(&op, &theirs, &ours, divergences) {
            problems.push(format!("the engine differs from the reference:\n{d}"));
        }
        if let Some(m) = check_prediction(&prediction, &ours, table) {
            problems.push(format!("the engine differs from the model: {m}"));
        }
        if let Some(m) = check_prediction(&prediction, &theirs, table) {
            problems.push(format!(
                "the reference differs from the model (a wrong model, or a reference that is \
                 not AWS): {m}"
            ));
        }
        exchanges.push((op.clone(), body.clone(), theirs.clone()));
        if !problems.is_empty() {
            let shown = body.to_string();
            let shown = if shown.len() > 600 {
                format!("{}…", shown.chars().take(600).collect::<String>())
            } else {
                shown
            };
            failure = Some(format!(
                "step {i} {op}\nrequest: {shown}\n{}",
                problems.join("\n")
            ));
            break;
        }
        if theirs.status == 200 {
            model.apply(&prediction.effects);
        }
    }
    let _ = reference.call("DeleteTable", &json!({"TableName": table}));
    (exchanges, failure)
}

/// Where failing sequences are written: `DDB_DIFF_REGRESSIONS` or `recordings/regressions/`.
fn regressions_dir() -> std::path::PathBuf {
    match std::env::var("DDB_DIFF_REGRESSIONS") {
        Ok(d) => d.into(),
        Err(_) => recordings_dir().join("regressions"),
    }
}

/// Writes the exchanges of a failing case as a cassette, the table renamed `dp_regression`.
fn save_regression(
    reference: &Reference,
    table: &str,
    exchanges: &[(String, Value, Reply)],
) -> std::path::PathBuf {
    let stable = |v: &Value| -> Value {
        serde_json::from_str(&v.to_string().replace(table, "dp_regression")).unwrap_or(Value::Null)
    };
    let mut cassette = Cassette::new(&reference.name, &reference.region(), &reference.version());
    for (i, (op, body, reply)) in exchanges.iter().enumerate() {
        cassette.exchanges.push(Exchange {
            seq: i as u64 + 1,
            operation: op.clone(),
            request: RecordedRequest {
                target: format!("DynamoDB_20120810.{op}"),
                body: Body::Json(stable(body)),
            },
            response: RecordedResponse {
                status: reply.status,
                headers: serde_json::Map::new(),
                body: Body::Json(stable(&reply.body)),
            },
        });
    }
    let text = serde_json::to_string(&cassette.exchanges).unwrap_or_default();
    let name = format!("differential-{:08x}.json", fnv1a(text.as_bytes()));
    let dir = regressions_dir();
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    if let Err(e) = cassette.save(&path) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    path
}

fn fnv1a(bytes: &[u8]) -> u32 {
    // Enough to name a file by its content.
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn engine_matches_the_reference_and_the_model_on_generated_op_sequences() {
    let Some(reference) = common::reference("differential property test") else {
        return;
    };
    eprintln!("reference: {} ({})", reference.name, reference.version());
    // Against AWS every case creates an on-demand table and waits for it: fewer cases, and
    // fewer shrinking steps.
    let signed = reference.is_signed();
    let cases = env_number("DDB_DIFF_CASES").unwrap_or(if signed { 10 } else { 40 });
    let divergences = Divergences::bundled();
    let counter = AtomicU64::new(0);
    // A fixed seed by default, so CI runs the same sequences every time; DDB_DIFF_SEED explores.
    let seed: u64 = env_number("DDB_DIFF_SEED").unwrap_or(9);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: if signed { 32 } else { 400 },
            ..Config::default()
        },
        rng,
    );
    let prefix = reference.prefix().to_string();
    let result = runner.run(&case(), |c| {
        let table = format!("{prefix}dp_{}", counter.fetch_add(1, Ordering::Relaxed));
        match run_case(&reference, &divergences, &c, &table).1 {
            None => Ok(()),
            Some(f) => Err(TestCaseError::fail(f)),
        }
    });
    let steps = STEPS.load(Ordering::Relaxed);
    eprintln!(
        "{steps} requests; the model predicted the status of {} ({} of them errors), and the \
         item, counts or batch results of {}",
        PREDICTED_STATUS.load(Ordering::Relaxed),
        PREDICTED_ERRORS.load(Ordering::Relaxed),
        PREDICTED_DETAILS.load(Ordering::Relaxed)
    );
    match result {
        Ok(()) => eprintln!("{cases} generated sequences matched the reference and the model"),
        Err(TestError::Fail(_, minimal)) => {
            let table = format!("{prefix}dp_regression");
            let (exchanges, failure) = run_case(&reference, &divergences, &minimal, &table);
            let path = save_regression(&reference, &table, &exchanges);
            panic!(
                "the engine differs on this shrunk sequence from {} or the model (saved as {}):\n\
                 {minimal:#?}\n\n{}",
                reference.name,
                path.display(),
                failure.unwrap_or_else(|| "(did not reproduce on the re-run)".into())
            );
        }
        Err(e) => panic!("{e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// DDB_CONFORMANCE_TARGET=aws, checked against a SigV4-verifying ddb-harness server.

/// The property test with `DDB_CONFORMANCE_TARGET=aws` signs with the standard chain's
/// credentials, runs its cases, and leaves no table behind; a wrong secret fails it.
#[test]
fn aws_mode_signs_with_the_standard_chain_and_cleans_up() {
    if common::target_chosen() || common::skip_external() {
        return;
    }
    let server = common::SigV4Server::start(None);
    let regressions = std::env::temp_dir().join(format!("ddb-dp-aws-{}", std::process::id()));
    let regressions = regressions.to_string_lossy().to_string();
    let env = [
        ("DDB_DIFF_CASES", "4"),
        ("DDB_DIFF_REGRESSIONS", regressions.as_str()),
    ];
    let ok = server.run_test_as_aws(MAIN_TEST, common::SECRET, &env);
    let out = common::text(&ok);
    assert!(ok.status.success(), "{out}");
    assert!(
        out.contains(&format!(
            "reference: AWS DynamoDB (us-east-1, {}) (unknown)",
            server.endpoint
        )) && out.contains("4 generated sequences matched the reference and the model"),
        "{out}"
    );
    assert_eq!(server.tables(), Vec::<String>::new(), "tables left behind");

    let wrong = server.run_test_as_aws(MAIN_TEST, "guessed-secret", &env);
    let out = common::text(&wrong);
    assert!(!wrong.status.success(), "a wrong secret must fail: {out}");
    assert!(out.contains("InvalidSignatureException"), "{out}");
    let _ = std::fs::remove_dir_all(&regressions);
}

/// A sequence that fails (the reference answers Query with InternalServerError) is shrunk
/// and saved, and every table of the run is deleted all the same.
#[test]
fn aws_mode_deletes_its_tables_when_a_sequence_fails() {
    if common::target_chosen() || common::skip_external() {
        return;
    }
    let server = common::SigV4Server::start(Some(
        r#"[{"operation": "Query", "fault": "internal_server_error"}]"#,
    ));
    let regressions = std::env::temp_dir().join(format!("ddb-dp-fail-{}", std::process::id()));
    let dir = regressions.to_string_lossy().to_string();
    let env = [
        ("DDB_DIFF_CASES", "20"),
        ("DDB_DIFF_REGRESSIONS", dir.as_str()),
    ];
    let failed = server.run_test_as_aws(MAIN_TEST, common::SECRET, &env);
    let out = common::text(&failed);
    assert!(!failed.status.success(), "{out}");
    assert!(
        out.contains("the engine differs from the reference")
            && out.contains("InternalServerError"),
        "{out}"
    );
    assert_eq!(server.tables(), Vec::<String>::new(), "tables left behind");
    let saved = std::fs::read_dir(&regressions)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(saved, 1, "one regression cassette in {dir}: {out}");
    let _ = std::fs::remove_dir_all(&regressions);
}
