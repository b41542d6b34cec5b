//! Query and Scan on secondary indexes read the index tables: for every page size and both
//! directions, paging an index partition returns exactly what a model built from the base
//! items says (sparse, projected, ordered by index key then table key).

use ddb_engine::{Engine, Item, Namespace, QueryInput, ScanInput};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

fn engine_with(items: &[(u8, i8, Option<u8>, Option<i8>)]) -> (Engine, Namespace) {
    let engine = Engine::builder().seed(1).build().unwrap();
    let ns = Namespace::default();
    engine
        .create_table(
            &ns,
            input(json!({
                "TableName": "t",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": "g", "AttributeType": "S"},
                    {"AttributeName": "r", "AttributeType": "N"}
                ],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "LocalSecondaryIndexes": [{"IndexName": "by_r", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                "GlobalSecondaryIndexes": [{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}],
                "BillingMode": "PAY_PER_REQUEST"
            })),
        )
        .unwrap();
    for (pk, sk, g, r) in items {
        let mut item = json!({"pk": {"S": format!("p{pk}")}, "sk": {"N": sk.to_string()}, "payload": {"S": "x"}});
        if let Some(g) = g {
            item["g"] = json!({"S": format!("g{g}")});
        }
        if let Some(r) = r {
            item["r"] = json!({"N": r.to_string()});
        }
        engine
            .put_item(&ns, input(json!({"TableName": "t", "Item": item})))
            .unwrap();
    }
    (engine, ns)
}

fn num(item: &Item, name: &str) -> Option<i64> {
    match item.get(name)? {
        ddb_engine::AttributeValue::N(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name)? {
        ddb_engine::AttributeValue::S(s) => Some(s.clone()),
        _ => None,
    }
}

/// Pages through a query until LastEvaluatedKey is absent.
fn query_all(engine: &Engine, ns: &Namespace, mut body: Value, limit: usize) -> Vec<Item> {
    body["Limit"] = json!(limit);
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = engine.query(ns, input::<QueryInput>(body.clone())).unwrap();
        out.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) => body["ExclusiveStartKey"] = serde_json::to_value(k).unwrap(),
            None => return out,
        }
    }
    panic!("paging did not end");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn gsi_queries_match_the_model(
        items in proptest::collection::vec((0u8..3, -5i8..5, proptest::option::of(0u8..3), proptest::option::of(-3i8..3)), 0..30),
        g in 0u8..3, forward in any::<bool>(), limit in 1usize..7,
    ) {
        let (engine, ns) = engine_with(&items);
        let base = engine.items(&ns, "t").unwrap();
        let mut want: Vec<Item> = base.into_iter()
            .filter(|i| text(i, "g") == Some(format!("g{g}")) && num(i, "r").is_some())
            .collect();
        want.sort_by_key(|i| (num(i, "r"), text(i, "pk"), num(i, "sk")));
        if !forward { want.reverse(); }
        let got = query_all(&engine, &ns, json!({
            "TableName": "t", "IndexName": "by_g", "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": format!("g{g}")}}, "ScanIndexForward": forward
        }), limit);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn lsi_queries_are_projected_and_sparse(
        items in proptest::collection::vec((0u8..2, -5i8..5, proptest::option::of(0u8..3), proptest::option::of(-3i8..3)), 0..30),
        pk in 0u8..2, limit in 1usize..5,
    ) {
        let (engine, ns) = engine_with(&items);
        let mut want: Vec<Item> = engine.items(&ns, "t").unwrap().into_iter()
            .filter(|i| text(i, "pk") == Some(format!("p{pk}")) && num(i, "r").is_some())
            .map(|i| i.into_iter().filter(|(k, _)| matches!(k.as_str(), "pk" | "sk" | "r")).collect())
            .collect();
        want.sort_by_key(|i: &Item| (num(i, "r"), num(i, "sk")));
        let got = query_all(&engine, &ns, json!({
            "TableName": "t", "IndexName": "by_r", "KeyConditionExpression": "pk = :p AND r >= :lo",
            "ExpressionAttributeValues": {":p": {"S": format!("p{pk}")}, ":lo": {"N": "-3"}}
        }), limit);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn index_scan_counts_only_indexed_items() {
    let (engine, ns) = engine_with(&[
        (0, 1, Some(1), Some(1)),
        (0, 2, None, Some(2)),
        (1, 1, Some(2), None),
    ]);
    let out = engine
        .scan(
            &ns,
            input::<ScanInput>(json!({"TableName": "t", "IndexName": "by_g", "Select": "COUNT"})),
        )
        .unwrap();
    assert_eq!(out.count, 1);
}
