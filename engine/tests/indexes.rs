//! Secondary-index storage through the public API: what each index holds after puts,
//! updates and deletes (sparse, projected, moved between partitions), the counts DescribeTable
//! reports, GSIs created on populated tables (backfilled) and deleted, and a property test
//! comparing every index with a model derived from the base table.

use std::cmp::Ordering;

use ddb_engine::{AttributeValue, Engine, Error, Item, Namespace};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

struct Fixture {
    engine: Engine,
    ns: Namespace,
}

/// Table `t`: key (pk S, sk N); LSI `by_l` (pk, l N, KEYS_ONLY); GSI `by_g` (g S, r N, ALL);
/// GSI `by_h` (h S, INCLUDE [x]).
fn fixture() -> Fixture {
    let engine = Engine::builder()
        .seed(7)
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let ns = Namespace::default();
    engine
        .create_table(
            &ns,
            input(json!({
                "TableName": "t",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": "l", "AttributeType": "N"},
                    {"AttributeName": "g", "AttributeType": "S"},
                    {"AttributeName": "r", "AttributeType": "N"},
                    {"AttributeName": "h", "AttributeType": "S"}
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"}
                ],
                "LocalSecondaryIndexes": [{
                    "IndexName": "by_l",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "l", "KeyType": "RANGE"}
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}
                }],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "by_g",
                        "KeySchema": [
                            {"AttributeName": "g", "KeyType": "HASH"},
                            {"AttributeName": "r", "KeyType": "RANGE"}
                        ],
                        "Projection": {"ProjectionType": "ALL"}
                    },
                    {
                        "IndexName": "by_h",
                        "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}
                    }
                ],
                "BillingMode": "PAY_PER_REQUEST"
            })),
        )
        .unwrap_or_else(|e| panic!("create table: {e}"));
    Fixture { engine, ns }
}

impl Fixture {
    fn put(&self, it: Value) {
        self.try_put(it).unwrap_or_else(|e| panic!("put: {e}"));
    }

    fn try_put(&self, it: Value) -> Result<(), Error> {
        self.engine
            .put_item(&self.ns, input(json!({"TableName": "t", "Item": it})))
            .map(|_| ())
    }

    fn update(&self, key: Value, expr: &str, values: Value) {
        let mut req = json!({"TableName": "t", "Key": key, "UpdateExpression": expr});
        if values != Value::Null {
            req["ExpressionAttributeValues"] = values;
        }
        self.engine
            .update_item(&self.ns, input(req))
            .unwrap_or_else(|e| panic!("update: {e}"));
    }

    fn delete(&self, key: Value) {
        self.engine
            .delete_item(&self.ns, input(json!({"TableName": "t", "Key": key})))
            .unwrap_or_else(|e| panic!("delete: {e}"));
    }

    fn index(&self, name: &str) -> Vec<Item> {
        self.engine
            .index_items(&self.ns, "t", name)
            .unwrap_or_else(|e| panic!("index {name}: {e}"))
    }

    fn describe(&self) -> Value {
        let out = self
            .engine
            .describe_table(&self.ns, input(json!({"TableName": "t"})))
            .unwrap_or_else(|e| panic!("describe: {e}"));
        serde_json::to_value(out.table).unwrap_or_else(|e| panic!("json: {e}"))
    }

    /// (ItemCount, IndexSizeBytes) of an index as DescribeTable reports it.
    fn counts(&self, name: &str) -> (u64, u64) {
        let d = self.describe();
        let all = ["LocalSecondaryIndexes", "GlobalSecondaryIndexes"];
        for list in all {
            for i in d[list].as_array().into_iter().flatten() {
                if i["IndexName"] == name {
                    return (
                        i["ItemCount"].as_u64().unwrap_or(u64::MAX),
                        i["IndexSizeBytes"].as_u64().unwrap_or(u64::MAX),
                    );
                }
            }
        }
        panic!("no index {name} in {d}");
    }

    fn update_table(&self, req: Value) -> Result<Value, Error> {
        let mut req = req;
        req["TableName"] = json!("t");
        self.engine
            .update_table(&self.ns, input(req))
            .map(|o| serde_json::to_value(o.table_description).unwrap_or(Value::Null))
    }
}

#[track_caller]
fn check(actual: Vec<Item>, expect: Value) {
    let expect: Vec<Item> = input(expect);
    assert_eq!(actual, expect);
}

#[test]
fn put_fills_every_index_with_its_projection() {
    let f = fixture();
    f.put(
        json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "l": {"N": "5"}, "g": {"S": "G"},
                 "r": {"N": "2"}, "h": {"S": "H"}, "x": {"S": "X"}, "y": {"S": "Y"}}),
    );
    check(
        f.index("by_l"),
        json!([{"pk": {"S": "a"}, "sk": {"N": "1"}, "l": {"N": "5"}}]),
    );
    check(
        f.index("by_g"),
        json!([{"pk": {"S": "a"}, "sk": {"N": "1"}, "l": {"N": "5"}, "g": {"S": "G"},
                "r": {"N": "2"}, "h": {"S": "H"}, "x": {"S": "X"}, "y": {"S": "Y"}}]),
    );
    check(
        f.index("by_h"),
        json!([{"pk": {"S": "a"}, "sk": {"N": "1"}, "h": {"S": "H"}, "x": {"S": "X"}}]),
    );
}

#[test]
fn items_without_the_index_keys_are_absent() {
    let f = fixture();
    // Only `g` without `r`: not in by_g; no `l`: not in by_l; no `h`: not in by_h.
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "G"}}));
    check(f.index("by_g"), json!([]));
    check(f.index("by_l"), json!([]));
    check(f.index("by_h"), json!([]));
    assert_eq!(f.counts("by_g"), (0, 0));
}

#[test]
fn index_order_is_index_key_then_table_key() {
    let f = fixture();
    for (pk, sk, g, r) in [
        ("b", "1", "G", "10"),
        ("a", "2", "G", "10"),
        ("a", "1", "G", "10"),
        ("z", "1", "G", "9"),
        ("c", "1", "F", "100"),
    ] {
        f.put(json!({"pk": {"S": pk}, "sk": {"N": sk}, "g": {"S": g}, "r": {"N": r}}));
    }
    let keys: Vec<(String, String)> = f
        .index("by_g")
        .iter()
        .map(|i| (text(i, "pk"), text(i, "sk")))
        .collect();
    let expect = [("c", "1"), ("z", "1"), ("a", "1"), ("a", "2"), ("b", "1")];
    let expect: Vec<(String, String)> = expect
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(keys, expect);
}

fn text(item: &Item, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        Some(AttributeValue::N(n)) => n.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn update_moves_an_item_between_index_partitions() {
    let f = fixture();
    let key = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "G1"}, "r": {"N": "1"}}));
    f.update(key.clone(), "SET g = :g", json!({":g": {"S": "G2"}}));
    check(
        f.index("by_g"),
        json!([{"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "G2"}, "r": {"N": "1"}}]),
    );
    assert_eq!(f.counts("by_g").0, 1);
    // Removing a key attribute takes the item out; setting it again puts it back.
    f.update(key.clone(), "REMOVE r", Value::Null);
    check(f.index("by_g"), json!([]));
    assert_eq!(f.counts("by_g"), (0, 0));
    f.update(
        key.clone(),
        "SET r = :r, h = :h",
        json!({":r": {"N": "3"}, ":h": {"S": "H"}}),
    );
    assert_eq!(f.index("by_g").len(), 1);
    check(
        f.index("by_h"),
        json!([{"pk": {"S": "a"}, "sk": {"N": "1"}, "h": {"S": "H"}}]),
    );
    // A non-key change rewrites an ALL projection but leaves KEYS_ONLY alone.
    f.update(key, "SET y = :y", json!({":y": {"S": "Y"}}));
    assert_eq!(
        f.index("by_g")[0].get("y"),
        Some(&AttributeValue::S("Y".into()))
    );
    assert_eq!(f.index("by_h")[0].get("y"), None);
}

#[test]
fn delete_removes_index_entries_and_counts() {
    let f = fixture();
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "l": {"N": "1"}, "h": {"S": "H"}}));
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "2"}, "l": {"N": "1"}, "h": {"S": "H"}}));
    assert_eq!(f.counts("by_l").0, 2);
    assert_eq!(f.counts("by_h").0, 2);
    f.delete(json!({"pk": {"S": "a"}, "sk": {"N": "1"}}));
    assert_eq!(f.index("by_l").len(), 1);
    assert_eq!(f.counts("by_l").0, 1);
    f.delete(json!({"pk": {"S": "a"}, "sk": {"N": "2"}}));
    assert_eq!(f.counts("by_l"), (0, 0));
    assert_eq!(f.counts("by_h"), (0, 0));
}

#[test]
fn describe_counts_projected_sizes() {
    let f = fixture();
    f.put(
        json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "h": {"S": "H"}, "x": {"S": "XXXX"},
                 "y": {"S": "YYYYYYYYYY"}}),
    );
    let projected = f.index("by_h");
    assert_eq!(
        f.counts("by_h"),
        (1, ddb_engine::item_size(&projected[0]) as u64)
    );
    let d = f.describe();
    assert_eq!(d["ItemCount"], 1);
}

#[test]
fn a_failed_write_leaves_indexes_alone() {
    let f = fixture();
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "h": {"S": "H"}}));
    let err = f
        .try_put(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "h": {"N": "1"}}))
        .unwrap_err();
    assert!(
        err.to_string().contains("Type mismatch for Index Key h"),
        "{err}"
    );
    assert_eq!(f.index("by_h").len(), 1);
}

#[test]
fn gsi_created_on_a_populated_table_is_backfilled() {
    let f = fixture();
    for i in 0..5 {
        f.put(json!({"pk": {"S": "a"}, "sk": {"N": i.to_string()}, "k": {"S": format!("k{}", i % 2)}}));
    }
    // One item has `k` of another type than the new definition: it stays out of the index.
    f.put(json!({"pk": {"S": "b"}, "sk": {"N": "0"}, "k": {"N": "1"}}));
    let resp = f
        .update_table(json!({
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [{"Create": {
                "IndexName": "by_k",
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}
            }}]
        }))
        .unwrap_or_else(|e| panic!("update table: {e}"));
    let created = resp["GlobalSecondaryIndexes"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["IndexName"] == "by_k"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(created["IndexStatus"], "CREATING");
    assert_eq!(created["Backfilling"], false);
    let d = f.describe();
    assert!(
        d["AttributeDefinitions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!({"AttributeName": "k", "AttributeType": "S"})))
    );
    let k = d["GlobalSecondaryIndexes"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["IndexName"] == "by_k"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(k["IndexStatus"], "ACTIVE");
    assert_eq!(k["ItemCount"], 5);
    let keys: Vec<String> = f.index("by_k").iter().map(|i| text(i, "k")).collect();
    assert_eq!(keys, ["k0", "k0", "k0", "k1", "k1"]);
    // Later writes maintain it, and check its key type.
    f.delete(json!({"pk": {"S": "a"}, "sk": {"N": "0"}}));
    assert_eq!(f.counts("by_k").0, 4);
    let err = f
        .try_put(json!({"pk": {"S": "c"}, "sk": {"N": "0"}, "k": {"N": "1"}}))
        .unwrap_err();
    assert!(err.to_string().contains("IndexName: by_k"), "{err}");
}

#[test]
fn deleted_gsi_is_gone() {
    let f = fixture();
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "h": {"S": "H"}}));
    let resp = f
        .update_table(json!({"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by_h"}}]}))
        .unwrap_or_else(|e| panic!("update table: {e}"));
    let shown: Vec<(Value, Value)> = resp["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| (i["IndexName"].clone(), i["IndexStatus"].clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (json!("by_g"), json!("ACTIVE")),
            (json!("by_h"), json!("DELETING"))
        ]
    );
    let d = f.describe();
    let names: Vec<&Value> = d["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| &i["IndexName"])
        .collect();
    assert_eq!(names, [&json!("by_g")]);
    assert!(
        !d["AttributeDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["AttributeName"] == "h"),
        "the deleted index's key attribute is no longer defined: {d}"
    );
    assert!(f.engine.index_items(&f.ns, "t", "by_h").is_err());
    // `h` is a plain attribute now: any type goes.
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "2"}, "h": {"N": "1"}}));
    // Re-created under the same name, it is backfilled afresh.
    f.update_table(json!({
        "AttributeDefinitions": [{"AttributeName": "h", "AttributeType": "S"}],
        "GlobalSecondaryIndexUpdates": [{"Create": {
            "IndexName": "by_h",
            "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}
        }}]
    }))
    .unwrap_or_else(|e| panic!("re-create: {e}"));
    assert_eq!(f.index("by_h").len(), 1);
    assert_eq!(f.counts("by_h").0, 1);
}

#[test]
fn deleted_table_takes_its_indexes_along() {
    let f = fixture();
    f.put(json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "h": {"S": "H"}}));
    f.engine
        .delete_table(&f.ns, input(json!({"TableName": "t"})))
        .unwrap_or_else(|e| panic!("delete table: {e}"));
    let g = fixture_on(f);
    assert_eq!(g.index("by_h").len(), 0);
    assert_eq!(g.counts("by_h"), (0, 0));
}

/// Re-creates table `t` on the same engine.
fn fixture_on(f: Fixture) -> Fixture {
    let fresh = fixture();
    let req = serde_json::to_value(
        fresh
            .engine
            .describe_table(&fresh.ns, input(json!({"TableName": "t"})))
            .unwrap_or_else(|e| panic!("describe: {e}"))
            .table,
    )
    .unwrap_or(Value::Null);
    let strip = |list: &Value| -> Value {
        Value::Array(
            list.as_array()
                .into_iter()
                .flatten()
                .map(|i| {
                    let mut v = json!({"IndexName": i["IndexName"], "KeySchema": i["KeySchema"],
                                       "Projection": i["Projection"]});
                    if let Some(pt) = i.get("ProvisionedThroughput")
                        && pt["ReadCapacityUnits"] != 0
                    {
                        v["ProvisionedThroughput"] = pt.clone();
                    }
                    v
                })
                .collect(),
        )
    };
    f.engine
        .create_table(
            &f.ns,
            input(json!({
                "TableName": "t",
                "AttributeDefinitions": req["AttributeDefinitions"],
                "KeySchema": req["KeySchema"],
                "LocalSecondaryIndexes": strip(&req["LocalSecondaryIndexes"]),
                "GlobalSecondaryIndexes": strip(&req["GlobalSecondaryIndexes"]),
                "BillingMode": "PAY_PER_REQUEST"
            })),
        )
        .unwrap_or_else(|e| panic!("re-create table: {e}"));
    f
}

#[track_caller]
fn check_update_error(req: Value, expect: &str) {
    let f = fixture();
    let err = f.update_table(req).unwrap_err();
    assert_eq!(err.to_string(), expect);
}

#[test]
fn gsi_update_errors() {
    let create = |name: &str, attr: &str| {
        json!({"Create": {"IndexName": name,
                          "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}],
                          "Projection": {"ProjectionType": "ALL"}}})
    };
    let k_def = json!([{"AttributeName": "k", "AttributeType": "S"}]);
    check_update_error(
        json!({"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "abc"}},
                                                {"Delete": {"IndexName": "abc"}}]}),
        "One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: abc",
    );
    check_update_error(
        json!({"GlobalSecondaryIndexUpdates": [{}]}),
        "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
    );
    check_update_error(
        json!({"AttributeDefinitions": k_def,
               "GlobalSecondaryIndexUpdates": [create("k_one", "k"), create("k_two", "k")]}),
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
    );
    check_update_error(
        json!({"AttributeDefinitions": k_def, "GlobalSecondaryIndexUpdates": [create("by_g", "k")]}),
        "Attempting to create an index which already exists",
    );
    check_update_error(
        json!({"AttributeDefinitions": k_def, "GlobalSecondaryIndexUpdates": [create("by_z", "z")]}),
        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [z], AttributeDefinitions: [k]",
    );
    check_update_error(
        json!({"GlobalSecondaryIndexUpdates": [create("by_k", "k")]}),
        "No Attribute Schema Defined",
    );
    check_update_error(
        json!({"AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "N"}],
               "GlobalSecondaryIndexUpdates": [create("by_k", "g")]}),
        "invalid attribute, SchemaElement redefined should be of same type as previously defined",
    );
    check_update_error(
        json!({"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "nope"}}]}),
        "Requested resource not found: Index: nope not found",
    );
    check_update_error(
        json!({"GlobalSecondaryIndexUpdates": [{"Update": {"IndexName": "nope",
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}]}),
        "This operation cannot be performed with given input values. Please contact DynamoDB service team for more info: Action Blocked: IndexUpdate",
    );
}

#[test]
fn gsi_limit_is_twenty() {
    let f = fixture();
    let mut last = Ok(Value::Null);
    for i in 0..19 {
        last = f.update_table(json!({
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [{"Create": {
                "IndexName": format!("extra{i}"),
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}
            }}]
        }));
        if i < 18 {
            assert!(last.is_ok(), "index {i}: {last:?}");
        }
    }
    let err = last.unwrap_err();
    assert_eq!(
        err.to_string(),
        "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20"
    );
}

#[test]
fn gsi_throughput_update_on_a_provisioned_table() {
    let engine = Engine::builder()
        .seed(3)
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let ns = Namespace::default();
    engine
        .create_table(
            &ns,
            input(json!({
                "TableName": "p",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "g", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "by_g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
                }],
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            })),
        )
        .unwrap_or_else(|e| panic!("create: {e}"));
    let update = json!({"TableName": "p", "GlobalSecondaryIndexUpdates": [{"Update": {
        "IndexName": "by_g",
        "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 1}}}]});
    let out = engine
        .update_table(&ns, input(update.clone()))
        .unwrap_or_else(|e| panic!("update: {e}"));
    let g = out
        .table_description
        .global_secondary_indexes
        .unwrap_or_default();
    assert_eq!(
        g.first()
            .and_then(|g| g.provisioned_throughput.as_ref())
            .map(|t| t.read_capacity_units),
        Some(3)
    );
    let err = engine.update_table(&ns, input(update)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The requested throughput value equals the current value"
    );
}

// ---------------------------------------------------------------------------------------------
// Model: every index equals the projection of the base table's items that have its keys.

#[derive(Debug, Clone)]
enum Op {
    Put {
        pk: u8,
        sk: u8,
        attrs: Vec<(&'static str, Option<Value>)>,
    },
    Update {
        pk: u8,
        sk: u8,
        attrs: Vec<(&'static str, Option<Value>)>,
    },
    Delete {
        pk: u8,
        sk: u8,
    },
}

fn attr_value(name: &'static str) -> impl Strategy<Value = (&'static str, Option<Value>)> {
    let string = (0u8..3).prop_map(|v| json!({"S": format!("v{v}")}));
    let number = (0u8..3).prop_map(|v| json!({"N": v.to_string()}));
    prop_oneof![
        3 => string.prop_map(Some),
        1 => number.prop_map(Some),
        1 => Just(None),
    ]
    .prop_map(move |v| (name, v))
}

fn attrs() -> impl Strategy<Value = Vec<(&'static str, Option<Value>)>> {
    proptest::collection::vec(
        prop_oneof![
            attr_value("l"),
            attr_value("g"),
            attr_value("r"),
            attr_value("h"),
            attr_value("x"),
            attr_value("y"),
        ],
        0..5,
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 0u8..3, attrs()).prop_map(|(pk, sk, attrs)| Op::Put { pk, sk, attrs }),
        (0u8..3, 0u8..3, attrs()).prop_map(|(pk, sk, attrs)| Op::Update { pk, sk, attrs }),
        (0u8..3, 0u8..3).prop_map(|(pk, sk)| Op::Delete { pk, sk }),
    ]
}

fn apply(f: &Fixture, op: &Op) {
    let key = |pk: u8, sk: u8| json!({"pk": {"S": format!("p{pk}")}, "sk": {"N": sk.to_string()}});
    // Writes giving an index key the wrong type fail; that is part of what is tested.
    let _ = match op {
        Op::Put { pk, sk, attrs } => {
            let mut it = key(*pk, *sk);
            for (n, v) in attrs {
                if let Some(v) = v {
                    it[*n] = v.clone();
                }
            }
            f.try_put(it)
        }
        Op::Update { pk, sk, attrs } => {
            let mut sets = Vec::new();
            let mut removes = Vec::new();
            let mut values = serde_json::Map::new();
            for (i, (n, v)) in attrs.iter().enumerate() {
                if sets.iter().chain(&removes).any(|s: &String| s.contains(n)) {
                    continue;
                }
                match v {
                    Some(v) => {
                        sets.push(format!("{n} = :v{i}"));
                        values.insert(format!(":v{i}"), v.clone());
                    }
                    None => removes.push(n.to_string()),
                }
            }
            let mut expr = String::new();
            if !sets.is_empty() {
                expr += &format!("SET {} ", sets.join(", "));
            }
            if !removes.is_empty() {
                expr += &format!("REMOVE {}", removes.join(", "));
            }
            let mut req = json!({"TableName": "t", "Key": key(*pk, *sk)});
            if !expr.is_empty() {
                req["UpdateExpression"] = json!(expr);
            }
            if !values.is_empty() {
                req["ExpressionAttributeValues"] = Value::Object(values);
            }
            f.engine.update_item(&f.ns, input(req)).map(|_| ())
        }
        Op::Delete { pk, sk } => f
            .engine
            .delete_item(
                &f.ns,
                input(json!({"TableName": "t", "Key": key(*pk, *sk)})),
            )
            .map(|_| ()),
    };
}

/// A scalar's sort key for the model: numbers numerically, strings by bytes.
fn scalar_cmp(a: &AttributeValue, b: &AttributeValue) -> Ordering {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.as_bytes().cmp(y.as_bytes()),
        (AttributeValue::N(x), AttributeValue::N(y)) => {
            let (x, y) = (x.to_string(), y.to_string());
            let (x, y): (f64, f64) = (x.parse().unwrap_or(f64::NAN), y.parse().unwrap_or(f64::NAN));
            x.total_cmp(&y)
        }
        _ => Ordering::Equal,
    }
}

/// The model of one index: (key attributes with their types, projected attribute names or
/// `None` for ALL).
fn model(base: &[Item], keys: &[(&str, &str)], projected: Option<&[&str]>) -> Vec<Item> {
    let table_keys = ["pk", "sk"];
    let mut out: Vec<Item> = base
        .iter()
        .filter(|it| {
            keys.iter().all(|(n, ty)| {
                matches!(
                    (it.get(*n), *ty),
                    (Some(AttributeValue::S(_)), "S") | (Some(AttributeValue::N(_)), "N")
                )
            })
        })
        .map(|it| match projected {
            None => it.clone(),
            Some(extra) => it
                .iter()
                .filter(|(n, _)| {
                    table_keys.contains(&n.as_str())
                        || keys.iter().any(|(k, _)| k == n)
                        || extra.contains(&n.as_str())
                })
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
        })
        .collect();
    let order: Vec<&str> = keys.iter().map(|(n, _)| *n).chain(table_keys).collect();
    out.sort_by(|a, b| {
        order
            .iter()
            .map(|n| match (a.get(*n), b.get(*n)) {
                (Some(x), Some(y)) => scalar_cmp(x, y),
                _ => Ordering::Equal,
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn indexes_match_the_base_table(ops in proptest::collection::vec(op(), 1..40)) {
        let f = fixture();
        for op in &ops {
            apply(&f, op);
        }
        let base = f.engine.items(&f.ns, "t").unwrap_or_else(|e| panic!("items: {e}"));
        let expect = [
            ("by_l", model(&base, &[("pk", "S"), ("l", "N")], Some(&[]))),
            ("by_g", model(&base, &[("g", "S"), ("r", "N")], None)),
            ("by_h", model(&base, &[("h", "S")], Some(&["x"]))),
        ];
        for (name, expect) in expect {
            let actual = f.index(name);
            prop_assert_eq!(&actual, &expect, "index {}", name);
            let size: usize = expect.iter().map(ddb_engine::item_size).sum();
            prop_assert_eq!(f.counts(name), (expect.len() as u64, size as u64), "counts of {}", name);
        }
    }
}
