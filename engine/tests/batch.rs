//! BatchGetItem and BatchWriteItem against a real engine: results, capacity, the limits and
//! duplicate checks with AWS's messages, one transaction per batch, and the 16 MB cut.

use ddb_engine::{
    BatchGetItemOutput, BatchWriteItemOutput, Engine, Error, Item, KeysAndAttributes, Namespace,
    item_size,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

struct Fixture {
    engine: Engine,
    ns: Namespace,
}

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

fn item(v: Value) -> Item {
    input(v)
}

/// An engine with `h` (hash key `id`, S) and `r` (hash `pk` S, range `sk` N).
fn fixture() -> Fixture {
    let engine = Engine::builder()
        .seed(1)
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let ns = Namespace::default();
    for table in [
        json!({"TableName": "h",
               "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
               "BillingMode": "PAY_PER_REQUEST"}),
        json!({"TableName": "r",
               "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                        {"AttributeName": "sk", "AttributeType": "N"}],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                             {"AttributeName": "sk", "KeyType": "RANGE"}],
               "BillingMode": "PAY_PER_REQUEST"}),
    ] {
        engine
            .create_table(&ns, input(table))
            .unwrap_or_else(|e| panic!("create table: {e}"));
    }
    Fixture { engine, ns }
}

impl Fixture {
    fn write(&self, request: Value) -> Result<BatchWriteItemOutput, Error> {
        self.engine.batch_write_item(&self.ns, input(request))
    }

    fn get(&self, request: Value) -> Result<BatchGetItemOutput, Error> {
        self.engine.batch_get_item(&self.ns, input(request))
    }

    fn item_count(&self, table: &str) -> u64 {
        let out = self
            .engine
            .describe_table(&self.ns, input(json!({"TableName": table})))
            .unwrap_or_else(|e| panic!("describe: {e}"));
        serde_json::to_value(out).unwrap()["Table"]["ItemCount"]
            .as_u64()
            .unwrap()
    }

    #[track_caller]
    fn write_fails(&self, request: Value, message: &str) {
        match self.write(request) {
            Err(e) => assert_eq!(e.to_string(), message),
            Ok(out) => panic!("expected {message:?}, got {out:?}"),
        }
    }

    #[track_caller]
    fn get_fails(&self, request: Value, message: &str) {
        match self.get(request) {
            Err(e) => assert_eq!(e.to_string(), message),
            Ok(out) => panic!("expected {message:?}, got {out:?}"),
        }
    }
}

fn put(v: Value) -> Value {
    json!({"PutRequest": {"Item": v}})
}

fn delete(v: Value) -> Value {
    json!({"DeleteRequest": {"Key": v}})
}

#[test]
fn writes_and_reads_across_two_tables() {
    let f = fixture();
    let out = f
        .write(json!({"RequestItems": {
            "h": [put(json!({"id": {"S": "a"}, "n": {"N": "1"}})),
                  put(json!({"id": {"S": "b"}, "n": {"N": "2"}}))],
            "r": [put(json!({"pk": {"S": "p"}, "sk": {"N": "1.50"}, "v": {"S": "x"}}))]
        }}))
        .unwrap();
    assert!(out.unprocessed_items.is_empty());
    assert!(out.consumed_capacity.is_none());
    let out = f
        .get(json!({"RequestItems": {
            "r": {"Keys": [{"pk": {"S": "p"}, "sk": {"N": "1.5"}}], "ProjectionExpression": "v"},
            "h": {"Keys": [{"id": {"S": "b"}}, {"id": {"S": "nope"}}, {"id": {"S": "a"}}],
                  "AttributesToGet": ["n"]}
        }}))
        .unwrap();
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(
        json,
        json!({
            "Responses": {"r": [{"v": {"S": "x"}}], "h": [{"n": {"N": "2"}}, {"n": {"N": "1"}}]},
            "UnprocessedKeys": {}
        })
    );
    assert_eq!(f.item_count("h"), 2);
    assert_eq!(f.item_count("r"), 1);
}

#[test]
fn deletes_remove_items_and_keep_stats() {
    let f = fixture();
    f.write(
        json!({"RequestItems": {"h": [put(json!({"id": {"S": "a"}})),
                                         put(json!({"id": {"S": "b"}}))]}}),
    )
    .unwrap();
    f.write(
        json!({"RequestItems": {"h": [delete(json!({"id": {"S": "a"}})),
                                         delete(json!({"id": {"S": "never"}})),
                                         put(json!({"id": {"S": "b"}, "x": {"BOOL": true}}))]}}),
    )
    .unwrap();
    assert_eq!(f.item_count("h"), 1);
    let out = f
        .get(json!({"RequestItems": {"h": {"Keys": [{"id": {"S": "a"}}, {"id": {"S": "b"}}]}}}))
        .unwrap();
    assert_eq!(
        out.responses.get("h").unwrap(),
        &vec![item(json!({"id": {"S": "b"}, "x": {"BOOL": true}}))]
    );
}

#[test]
fn consumed_capacity_is_per_table() {
    let f = fixture();
    let big = "x".repeat(3000);
    let out = f
        .write(json!({"RequestItems": {
            "h": [put(json!({"id": {"S": "a"}, "big": {"S": big}})),
                  delete(json!({"id": {"S": "none"}}))],
            "r": [put(json!({"pk": {"S": "p"}, "sk": {"N": "1"}}))]
        }, "ReturnConsumedCapacity": "TOTAL"}))
        .unwrap();
    assert_eq!(
        serde_json::to_value(out.consumed_capacity).unwrap(),
        json!([{"TableName": "h", "CapacityUnits": 4.0}, {"TableName": "r", "CapacityUnits": 1.0}])
    );
    // A key with no item costs nothing in a batch; the 3 KB item costs half a unit.
    let out = f
        .get(
            json!({"RequestItems": {"h": {"Keys": [{"id": {"S": "a"}}, {"id": {"S": "b"}}]}},
                    "ReturnConsumedCapacity": "INDEXES"}),
        )
        .unwrap();
    assert_eq!(
        serde_json::to_value(out.consumed_capacity).unwrap(),
        json!([{"TableName": "h", "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}}])
    );
}

#[test]
fn a_failing_batch_writes_nothing() {
    let f = fixture();
    f.write_fails(
        json!({"RequestItems": {
            "h": [put(json!({"id": {"S": "a"}}))],
            "missing": [put(json!({"id": {"S": "a"}}))]
        }}),
        "Requested resource not found",
    );
    f.write_fails(
        json!({"RequestItems": {"h": [put(json!({"id": {"S": "a"}})),
                                      put(json!({"id": {"N": "1"}}))]}}),
        "The provided key element does not match the schema",
    );
    assert_eq!(f.item_count("h"), 0);
}

#[test]
fn write_limits_and_duplicates() {
    let f = fixture();
    let many = |table: &str, n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| put(json!({"id": {"S": format!("{table}{i}")}})))
            .collect()
    };
    f.write_fails(
        json!({"RequestItems": {"h": many("h", 13), "r": (0..13).map(|i|
            put(json!({"pk": {"S": "p"}, "sk": {"N": i.to_string()}}))).collect::<Vec<_>>()}}),
        "Too many items requested for the BatchWriteItem call",
    );
    f.write(json!({"RequestItems": {"h": many("h", 25)}}))
        .unwrap();
    f.write_fails(
        json!({"RequestItems": {"h": [put(json!({"id": {"S": "a"}})),
                                      delete(json!({"id": {"S": "a"}}))]}}),
        "Provided list of item keys contains duplicates",
    );
    f.write_fails(
        json!({"RequestItems": {"r": [put(json!({"pk": {"S": "p"}, "sk": {"N": "1"}})),
                                      put(json!({"pk": {"S": "p"}, "sk": {"N": "1.0"}}))]}}),
        "Provided list of item keys contains duplicates",
    );
    f.write_fails(
        json!({"RequestItems": {"h": [{}]}}),
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
    );
    f.write_fails(
        json!({"RequestItems": {"h": [put(json!({"id": {"S": "a"}, "b": {"S": "x".repeat(400 * 1024)}}))]}}),
        "Item size has exceeded the maximum allowed size",
    );
    f.write_fails(
        json!({"RequestItems": {"h": [put(json!({"n": {"S": "a"}}))]}}),
        "The provided key element does not match the schema",
    );
    f.write_fails(
        json!({"RequestItems": {"h": [put(json!({"id": {"S": ""}}))]}}),
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id",
    );
    f.write_fails(
        json!({"RequestItems": {"r": [delete(json!({"pk": {"S": "p"}}))]}}),
        "The provided key element does not match the schema",
    );
}

#[test]
fn get_limits_and_duplicates() {
    let f = fixture();
    let keys = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": {"S": i.to_string()}}))
            .collect()
    };
    f.get_fails(
        json!({"RequestItems": {"h": {"Keys": keys(60)},
                                "r": {"Keys": (0..41).map(|i| json!({"pk": {"S": "p"}, "sk": {"N": i.to_string()}})).collect::<Vec<_>>()}}}),
        "Too many items requested for the BatchGetItem call",
    );
    f.get(json!({"RequestItems": {"h": {"Keys": keys(100)}}}))
        .unwrap();
    // Duplicates are found before the table is looked up (dynalite, AWS-validated).
    f.get_fails(
        json!({"RequestItems": {"missing": {"Keys": [{"a": {"S": "1"}, "b": {"N": "2"}},
                                                     {"b": {"N": "2"}, "a": {"S": "1"}}]}}}),
        "Provided list of item keys contains duplicates",
    );
    f.get_fails(
        json!({"RequestItems": {"h": {"Keys": keys(2), "AttributesToGet": ["a", "a"]}}}),
        "One or more parameter values were invalid: Duplicate value in attribute name: a",
    );
    f.get_fails(
        json!({"RequestItems": {"h": {"Keys": keys(1), "AttributesToGet": ["a"], "ProjectionExpression": "a"}}}),
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
    );
    f.get_fails(
        json!({"RequestItems": {"h": {"Keys": keys(1)}, "missing": {"Keys": keys(1)}}}),
        "Requested resource not found",
    );
    f.get_fails(
        json!({"RequestItems": {"h": {"Keys": [{"id": {"N": "1"}}]}}}),
        "The provided key element does not match the schema",
    );
}

/// AWS's BatchGetItem page: 100 items of 300 KB come back as 52 items and `UnprocessedKeys`
/// for the rest; retrying the unprocessed keys returns them.
#[test]
fn responses_are_cut_at_16_mb() {
    let f = fixture();
    // "id" + "k000" + "p" take 7 bytes.
    let fill = "x".repeat(300 * 1024 - 7);
    let keys: Vec<Value> = (0..100)
        .map(|i| json!({"id": {"S": format!("k{i:03}")}}))
        .collect();
    for chunk in keys.chunks(25) {
        let requests: Vec<Value> = chunk
            .iter()
            .map(|k| {
                let mut v = k.clone();
                v["p"] = json!({"S": fill});
                put(v)
            })
            .collect();
        f.write(json!({"RequestItems": {"h": requests}})).unwrap();
    }
    let one = item(json!({"id": {"S": "k000"}, "p": {"S": fill}}));
    assert_eq!(item_size(&one), 300 * 1024);
    let out = f
        .get(
            json!({"RequestItems": {"h": {"Keys": keys, "ConsistentRead": true}},
                    "ReturnConsumedCapacity": "TOTAL"}),
        )
        .unwrap();
    assert_eq!(out.responses.get("h").unwrap().len(), 52);
    let rest: &KeysAndAttributes = out.unprocessed_keys.get("h").unwrap();
    assert_eq!(rest.keys.len(), 48);
    assert_eq!(rest.consistent_read, Some(true));
    assert_eq!(
        serde_json::to_value(out.consumed_capacity).unwrap(),
        json!([{"TableName": "h", "CapacityUnits": 52.0 * 75.0}])
    );
    let again = f
        .get(json!({"RequestItems": {"h": serde_json::to_value(rest).unwrap()}}))
        .unwrap();
    assert_eq!(again.responses.get("h").unwrap().len(), 48);
    assert!(again.unprocessed_keys.is_empty());
}
