//! Query and Scan against an in-memory model: random items in a hash+range table (string or
//! number sort keys, negative and decimal numbers, strings sharing prefixes), random key
//! conditions, both directions and random page sizes. Paging through `LastEvaluatedKey`
//! must return exactly what a `BTreeMap` model returns, in order; the segments of a parallel
//! scan must partition the table.

use std::collections::BTreeMap;

use ddb_engine::{Engine, Item, Namespace, QueryOutput};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

/// A sort key: a string, or a number held as thousandths so the model orders it exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Sort {
    S(String),
    N(i64),
}

impl Sort {
    fn json(&self) -> Value {
        match self {
            Sort::S(s) => json!({ "S": s }),
            Sort::N(n) => json!({ "N": thousandths(*n) }),
        }
    }
}

/// Formats `n / 1000` as a decimal string.
fn thousandths(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let a = n.unsigned_abs();
    let (int, frac) = (a / 1000, a % 1000);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:03}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

#[derive(Debug, Clone)]
enum Op {
    Eq(Sort),
    Lt(Sort),
    Le(Sort),
    Gt(Sort),
    Ge(Sort),
    Between(Sort, Sort),
    BeginsWith(String),
    None,
}

impl Op {
    fn matches(&self, s: &Sort) -> bool {
        match self {
            Op::Eq(v) => s == v,
            Op::Lt(v) => s < v,
            Op::Le(v) => s <= v,
            Op::Gt(v) => s > v,
            Op::Ge(v) => s >= v,
            Op::Between(lo, hi) => lo <= s && s <= hi,
            Op::BeginsWith(p) => matches!(s, Sort::S(x) if x.starts_with(p.as_str())),
            Op::None => true,
        }
    }

    /// The key condition expression and its values.
    fn expression(&self) -> (String, Value) {
        let mut values = serde_json::Map::new();
        values.insert(":p".into(), Value::Null);
        let cond = match self {
            Op::Eq(v) | Op::Lt(v) | Op::Le(v) | Op::Gt(v) | Op::Ge(v) => {
                values.insert(":v".into(), v.json());
                let op = match self {
                    Op::Eq(_) => "=",
                    Op::Lt(_) => "<",
                    Op::Le(_) => "<=",
                    Op::Gt(_) => ">",
                    _ => ">=",
                };
                format!(" AND sk {op} :v")
            }
            Op::Between(lo, hi) => {
                values.insert(":lo".into(), lo.json());
                values.insert(":hi".into(), hi.json());
                " AND sk BETWEEN :lo AND :hi".to_string()
            }
            Op::BeginsWith(p) => {
                values.insert(":v".into(), json!({ "S": p }));
                " AND begins_with(sk, :v)".to_string()
            }
            Op::None => String::new(),
        };
        (format!("pk = :p{cond}"), Value::Object(values))
    }
}

fn string_sort() -> impl Strategy<Value = Sort> {
    // Few letters, so strings share prefixes; NUL checks the escaping of the key encoding.
    "[ab\u{0}é]{1,4}".prop_map(Sort::S)
}

fn number_sort() -> impl Strategy<Value = Sort> {
    prop_oneof![
        (-20i64..20).prop_map(|n| Sort::N(n * 1000)),
        (-200_000i64..200_000).prop_map(Sort::N),
    ]
}

fn op(sort: BoxedStrategy<Sort>, strings: bool) -> BoxedStrategy<Op> {
    let s = sort.clone();
    let mut ops = vec![
        Just(Op::None).boxed(),
        s.clone().prop_map(Op::Eq).boxed(),
        s.clone().prop_map(Op::Lt).boxed(),
        s.clone().prop_map(Op::Le).boxed(),
        s.clone().prop_map(Op::Gt).boxed(),
        s.clone().prop_map(Op::Ge).boxed(),
        (s.clone(), s)
            .prop_map(|(a, b)| {
                if a <= b {
                    Op::Between(a, b)
                } else {
                    Op::Between(b, a)
                }
            })
            .boxed(),
    ];
    if strings {
        ops.push("[ab\u{0}é]{1,2}".prop_map(Op::BeginsWith).boxed());
    }
    proptest::strategy::Union::new(ops).boxed()
}

type Model = BTreeMap<(String, Sort), u32>;

fn setup(sort_type: &str, items: &[(String, Sort)]) -> (Engine, Namespace, Model) {
    let engine = Engine::builder()
        .seed(3)
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let ns = Namespace::default();
    engine
        .create_table(
            &ns,
            input(json!({"TableName": "t",
               "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                        {"AttributeName": "sk", "AttributeType": sort_type}],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                             {"AttributeName": "sk", "KeyType": "RANGE"}],
               "BillingMode": "PAY_PER_REQUEST"})),
        )
        .unwrap_or_else(|e| panic!("create: {e}"));
    let mut model = Model::new();
    for (i, (pk, sk)) in items.iter().enumerate() {
        let i = i as u32;
        engine
            .put_item(
                &ns,
                input(json!({"TableName": "t", "Item": {
                    "pk": {"S": pk}, "sk": sk.json(), "v": {"N": i.to_string()}}})),
            )
            .unwrap_or_else(|e| panic!("put: {e}"));
        model.insert((pk.clone(), sk.clone()), i);
    }
    (engine, ns, model)
}

fn v_of(item: &Item) -> u32 {
    let v = serde_json::to_value(&item["v"]).unwrap_or(Value::Null);
    v["N"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u32::MAX)
}

/// Pages through a request until `LastEvaluatedKey` is absent; returns the `v` of each item.
fn page_through(mut request: Value, run: impl Fn(Value) -> QueryOutput) -> Vec<u32> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let page = run(request.clone());
        assert_eq!(page.count as usize, page.items.as_ref().map_or(0, Vec::len));
        assert!(page.count <= page.scanned_count);
        if let (Some(limit), Some(_)) = (request["Limit"].as_u64(), &page.last_evaluated_key) {
            assert_eq!(
                page.scanned_count, limit,
                "a cut page evaluated Limit items"
            );
        }
        out.extend(page.items.unwrap_or_default().iter().map(v_of));
        match page.last_evaluated_key {
            Some(k) => request["ExclusiveStartKey"] = serde_json::to_value(k).unwrap_or_default(),
            None => return out,
        }
    }
    panic!("paging did not end");
}

fn check_query(
    sort_type: &str,
    items: &[(String, Sort)],
    pk: &str,
    op: &Op,
    forward: bool,
    limit: Option<u8>,
) -> Result<(), TestCaseError> {
    let (engine, ns, model) = setup(sort_type, items);
    let mut expected: Vec<u32> = model
        .iter()
        .filter(|((p, s), _)| p == pk && op.matches(s))
        .map(|(_, v)| *v)
        .collect();
    if !forward {
        expected.reverse();
    }
    let (kce, mut values) = op.expression();
    values[":p"] = json!({ "S": pk });
    let mut request = json!({"TableName": "t", "KeyConditionExpression": kce,
                             "ExpressionAttributeValues": values, "ScanIndexForward": forward});
    if let Some(l) = limit {
        request["Limit"] = json!(l);
    }
    let got = page_through(request, |r| {
        engine
            .query(&ns, input(r))
            .unwrap_or_else(|e| panic!("query: {e}"))
    });
    prop_assert_eq!(got, expected);
    Ok(())
}

fn check_segments(
    sort_type: &str,
    items: &[(String, Sort)],
    total: u8,
    limit: Option<u8>,
) -> Result<(), TestCaseError> {
    let (engine, ns, model) = setup(sort_type, items);
    let mut seen = Vec::new();
    for segment in 0..total {
        let mut request = json!({"TableName": "t", "Segment": segment, "TotalSegments": total});
        if let Some(l) = limit {
            request["Limit"] = json!(l);
        }
        seen.extend(page_through(request, |r| {
            engine
                .scan(&ns, input(r))
                .unwrap_or_else(|e| panic!("scan: {e}"))
        }));
    }
    seen.sort_unstable();
    let mut all: Vec<u32> = model.values().copied().collect();
    all.sort_unstable();
    prop_assert_eq!(seen, all, "every item in exactly one segment");
    // An unsegmented scan returns the table in key order.
    let got = page_through(
        json!({"TableName": "t", "Limit": limit.unwrap_or(100)}),
        |r| {
            engine
                .scan(&ns, input(r))
                .unwrap_or_else(|e| panic!("scan: {e}"))
        },
    );
    prop_assert_eq!(got, model.values().copied().collect::<Vec<_>>());
    Ok(())
}

fn partition() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("p".to_string()),
        Just("p0".to_string()),
        Just("q".to_string())
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn string_sort_keys_page_like_the_model(
        items in proptest::collection::vec((partition(), string_sort()), 0..40),
        pk in partition(),
        op in op(string_sort().boxed(), true),
        forward in any::<bool>(),
        limit in proptest::option::of(1u8..7),
    ) {
        check_query("S", &items, &pk, &op, forward, limit)?;
    }

    #[test]
    fn number_sort_keys_page_like_the_model(
        items in proptest::collection::vec((partition(), number_sort()), 0..40),
        pk in partition(),
        op in op(number_sort().boxed(), false),
        forward in any::<bool>(),
        limit in proptest::option::of(1u8..7),
    ) {
        check_query("N", &items, &pk, &op, forward, limit)?;
    }

    #[test]
    fn parallel_scan_segments_partition_the_table(
        items in proptest::collection::vec((partition(), number_sort()), 0..40),
        total in 1u8..6,
        limit in proptest::option::of(1u8..5),
    ) {
        check_segments("N", &items, total, limit)?;
    }
}

#[test]
fn thousandths_format_as_decimals() {
    assert_eq!(thousandths(-1500), "-1.5");
    assert_eq!(thousandths(0), "0");
    assert_eq!(thousandths(12), "0.012");
    assert_eq!(thousandths(-20_000), "-20");
}
