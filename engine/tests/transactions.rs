//! TransactWriteItems and TransactGetItems against a real engine: all or nothing, cancellation
//! reasons in request order, request-level errors, capacity, idempotency tokens (also across a
//! restart) and the 4 MB payload.

use std::sync::Arc;
use std::time::Duration;

use ddb_engine::{
    Engine, Error, ManualClock, Namespace, Timestamp, TransactGetItemsOutput,
    TransactWriteItemsOutput,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

struct Fixture {
    engine: Engine,
    clock: Arc<ManualClock>,
    ns: Namespace,
}

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

fn tables() -> [Value; 2] {
    [
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
    ]
}

/// An engine with `h` (hash key `id`, S) and `r` (hash `pk` S, range `sk` N), items
/// `h/a {n: 1}` and `r/(p, 1)`.
fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let engine = Engine::builder()
        .seed(1)
        .clock(clock.clone())
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let f = Fixture {
        engine,
        clock,
        ns: Namespace::default(),
    };
    for table in tables() {
        f.engine
            .create_table(&f.ns, input(table))
            .unwrap_or_else(|e| panic!("create table: {e}"));
    }
    f.write(json!([
        {"Put": {"TableName": "h", "Item": {"id": {"S": "a"}, "n": {"N": "1"}}}},
        {"Put": {"TableName": "r", "Item": {"pk": {"S": "p"}, "sk": {"N": "1"}}}}
    ]))
    .unwrap_or_else(|e| panic!("seed items: {e}"));
    f
}

fn put(table: &str, id: &str) -> Value {
    json!({"Put": {"TableName": table, "Item": {"id": {"S": id}}}})
}

impl Fixture {
    fn write(&self, items: Value) -> Result<TransactWriteItemsOutput, Error> {
        self.write_request(json!({ "TransactItems": items }))
    }

    fn write_request(&self, request: Value) -> Result<TransactWriteItemsOutput, Error> {
        self.engine.transact_write_items(&self.ns, input(request))
    }

    fn get(&self, request: Value) -> Result<TransactGetItemsOutput, Error> {
        self.engine.transact_get_items(&self.ns, input(request))
    }

    /// The item `h/id` as JSON, `null` when missing.
    fn h(&self, id: &str) -> Value {
        let out = self
            .engine
            .get_item(
                &self.ns,
                input(json!({"TableName": "h", "Key": {"id": {"S": id}}})),
            )
            .unwrap_or_else(|e| panic!("get: {e}"));
        serde_json::to_value(out.item).unwrap()
    }

    /// The error of a write, as AWS's type, message and reasons.
    #[track_caller]
    fn write_fails(&self, items: Value) -> (String, String, Value) {
        match self.write(items) {
            Err(e) => describe(e),
            Ok(out) => panic!("expected an error, got {out:?}"),
        }
    }
}

fn describe(e: Error) -> (String, String, Value) {
    let reasons = match &e {
        Error::TransactionCanceled { reasons, .. } => serde_json::to_value(reasons).unwrap(),
        _ => Value::Null,
    };
    (e.aws_type().to_string(), e.to_string(), reasons)
}

#[test]
fn actions_across_tables_apply_together() {
    let f = fixture();
    f.write(json!([
        {"ConditionCheck": {"TableName": "r", "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}},
                            "ConditionExpression": "attribute_exists(pk)"}},
        {"Update": {"TableName": "h", "Key": {"id": {"S": "a"}},
                    "UpdateExpression": "SET n = n + :one", "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": "h", "Key": {"id": {"S": "nothing"}}}},
        put("h", "b")
    ]))
    .unwrap();
    assert_eq!(f.h("a"), json!({"id": {"S": "a"}, "n": {"N": "2"}}));
    assert_eq!(f.h("b"), json!({"id": {"S": "b"}}));
}

#[test]
fn a_failed_condition_cancels_everything_with_reasons_in_order() {
    let f = fixture();
    let (ty, message, reasons) = f.write_fails(json!([
        put("h", "new"),
        {"Update": {"TableName": "h", "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET x = :x",
                    "ConditionExpression": "n = :x", "ExpressionAttributeValues": {":x": {"N": "5"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Delete": {"TableName": "h", "Key": {"id": {"S": "gone"}},
                    "ConditionExpression": "attribute_exists(id)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
    ]));
    assert_eq!(ty, "TransactionCanceledException");
    assert_eq!(
        message,
        "Transaction cancelled, please refer cancellation reasons for specific reasons \
         [None, ConditionalCheckFailed, ConditionalCheckFailed]"
    );
    assert_eq!(
        reasons,
        json!([
            {"Code": "None"},
            {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
             "Item": {"id": {"S": "a"}, "n": {"N": "1"}}},
            {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
        ])
    );
    assert_eq!(f.h("new"), Value::Null);
    assert_eq!(f.h("a"), json!({"id": {"S": "a"}, "n": {"N": "1"}}));
}

#[test]
fn key_shape_errors_cancel_and_empty_keys_fail_the_request() {
    let f = fixture();
    let (_, _, reasons) = f.write_fails(json!([
        {"Put": {"TableName": "h", "Item": {"id": {"N": "5"}}}},
        {"Delete": {"TableName": "h", "Key": {"id": {"N": "5"}}}}
    ]));
    assert_eq!(
        reasons,
        json!([
            {"Code": "ValidationError", "Message": "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N"},
            {"Code": "ValidationError", "Message": "The provided key element does not match the schema"}
        ])
    );
    let empty = "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id";
    for action in [
        json!({"Put": {"TableName": "h", "Item": {"id": {"S": ""}}}}),
        json!({"ConditionCheck": {"TableName": "h", "Key": {"id": {"S": ""}},
                                  "ConditionExpression": "attribute_exists(id)"}}),
    ] {
        let (ty, message, _) = f.write_fails(json!([action]));
        assert_eq!(
            (ty.as_str(), message.as_str()),
            ("ValidationException", empty)
        );
    }
}

#[test]
fn two_actions_on_one_item_are_rejected() {
    let f = fixture();
    let (ty, message, _) = f.write_fails(json!([
        {"Update": {"TableName": "r", "Key": {"sk": {"N": "1.0"}, "pk": {"S": "p"}},
                    "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "v"}}}},
        {"ConditionCheck": {"TableName": "r", "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}},
                            "ConditionExpression": "attribute_exists(pk)"}}
    ]));
    assert_eq!(ty, "ValidationException");
    assert_eq!(
        message,
        "Transaction request cannot include multiple operations on one item"
    );
}

#[test]
fn request_errors_come_before_tables_in_request_order() {
    let f = fixture();
    let (ty, message, _) = f.write_fails(json!([
        put("missing", "x"),
        {"ConditionCheck": {"TableName": "h", "Key": {"id": {"S": "a"}},
                            "ConditionExpression": "attribute_not_exists("}}
    ]));
    assert_eq!(ty, "ValidationException");
    assert_eq!(
        message,
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"(\""
    );
    let (ty, message, _) = f.write_fails(json!([put("missing", "x")]));
    assert_eq!(
        (ty.as_str(), message.as_str()),
        ("ResourceNotFoundException", "Requested resource not found")
    );
}

#[test]
fn payload_over_4_mb_is_rejected() {
    let f = fixture();
    let big = "x".repeat(390_000);
    let items: Vec<Value> = (0..11)
        .map(|i| json!({"Put": {"TableName": "h", "Item": {"id": {"S": format!("big{i}")}, "b": {"S": big}}}}))
        .collect();
    let (ty, message, _) = f.write_fails(Value::Array(items));
    assert_eq!(ty, "ValidationException");
    assert_eq!(
        message,
        "Transaction payload size cannot exceed 4MB. Payload Size: 4290078"
    );
}

#[test]
fn writes_cost_two_write_units_per_kb_per_table() {
    let f = fixture();
    let out = f
        .write_request(json!({"TransactItems": [
            {"Put": {"TableName": "h", "Item": {"id": {"S": "k"}, "b": {"S": "x".repeat(1500)}}}},
            put("h", "small"),
            {"ConditionCheck": {"TableName": "r", "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}},
                                "ConditionExpression": "attribute_exists(pk)"}}
        ], "ReturnConsumedCapacity": "INDEXES"}))
        .unwrap();
    assert_eq!(
        serde_json::to_value(out).unwrap(),
        json!({"ConsumedCapacity": [
            {"TableName": "h", "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0,
             "Table": {"CapacityUnits": 6.0, "WriteCapacityUnits": 6.0}},
            {"TableName": "r", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0,
             "Table": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}}
        ]})
    );
}

#[test]
fn gets_read_in_request_order_with_projection_and_capacity() {
    let f = fixture();
    let out = f
        .get(json!({"TransactItems": [
            {"Get": {"TableName": "h", "Key": {"id": {"S": "a"}}, "ProjectionExpression": "#n",
                     "ExpressionAttributeNames": {"#n": "n"}}},
            {"Get": {"TableName": "h", "Key": {"id": {"S": "missing"}}}},
            {"Get": {"TableName": "r", "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}}}}
        ], "ReturnConsumedCapacity": "TOTAL"}))
        .unwrap();
    assert_eq!(
        serde_json::to_value(out).unwrap(),
        json!({
            "ConsumedCapacity": [
                {"TableName": "h", "CapacityUnits": 4.0, "ReadCapacityUnits": 4.0},
                {"TableName": "r", "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}
            ],
            "Responses": [
                {"Item": {"n": {"N": "1"}}},
                {},
                {"Item": {"pk": {"S": "p"}, "sk": {"N": "1"}}}
            ]
        })
    );
}

#[test]
fn get_with_a_bad_key_is_cancelled() {
    let f = fixture();
    let e = f
        .get(json!({"TransactItems": [
            {"Get": {"TableName": "h", "Key": {"id": {"S": "a"}}}},
            {"Get": {"TableName": "h", "Key": {}}}
        ]}))
        .unwrap_err();
    let (ty, _, reasons) = describe(e);
    assert_eq!(ty, "TransactionCanceledException");
    assert_eq!(
        reasons,
        json!([{"Code": "None"},
               {"Code": "ValidationError", "Message": "The provided key element does not match the schema"}])
    );
}

fn counter(token: &str, by: &str) -> Value {
    json!({"ClientRequestToken": token, "TransactItems": [
        {"Update": {"TableName": "h", "Key": {"id": {"S": "ctr"}}, "UpdateExpression": "ADD hits :by",
                    "ExpressionAttributeValues": {":by": {"N": by}}}}
    ]})
}

#[test]
fn a_repeated_token_replays_without_writing() {
    let f = fixture();
    f.write_request(counter("t1", "1")).unwrap();
    let mut replay = counter("t1", "1");
    replay["ReturnConsumedCapacity"] = json!("TOTAL");
    let out = f.write_request(replay).unwrap();
    assert_eq!(
        serde_json::to_value(out).unwrap(),
        json!({"ConsumedCapacity": [{"TableName": "h", "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}]})
    );
    assert_eq!(f.h("ctr")["hits"], json!({"N": "1"}));
    let e = f.write_request(counter("t1", "2")).unwrap_err();
    assert_eq!(e.aws_type(), "IdempotentParameterMismatchException");
    assert_eq!(f.h("ctr")["hits"], json!({"N": "1"}));
}

#[test]
fn a_token_expires_after_ten_minutes() {
    let f = fixture();
    f.write_request(counter("t2", "1")).unwrap();
    f.clock.advance(Duration::from_secs(9 * 60));
    f.write_request(counter("t2", "1")).unwrap();
    assert_eq!(f.h("ctr")["hits"], json!({"N": "1"}));
    f.clock.advance(Duration::from_secs(61));
    f.write_request(counter("t2", "1")).unwrap();
    assert_eq!(f.h("ctr")["hits"], json!({"N": "2"}));
}

#[test]
fn a_cancelled_transaction_does_not_use_up_its_token() {
    let f = fixture();
    let mut request = counter("t3", "1");
    request["TransactItems"][0]["Update"]["ConditionExpression"] = json!("attribute_exists(id)");
    assert!(f.write_request(request.clone()).is_err());
    f.write(json!([put("h", "ctr")])).unwrap();
    f.write_request(request).unwrap();
    assert_eq!(f.h("ctr")["hits"], json!({"N": "1"}));
}

/// Tokens live in redb, so a restarted server still recognizes a retry.
#[test]
fn tokens_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("ddb-transactions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ns = Namespace::default();
    let open = || {
        Engine::builder()
            .data_dir(&dir)
            .clock(Arc::new(ManualClock::new(Timestamp(1_700_000_000_000))))
            .build()
            .unwrap_or_else(|e| panic!("engine: {e}"))
    };
    {
        let engine = open();
        let [h, _] = tables();
        engine.create_table(&ns, input(h)).unwrap();
        engine
            .transact_write_items(&ns, input(counter("t4", "1")))
            .unwrap();
    }
    let engine = open();
    engine
        .transact_write_items(&ns, input(counter("t4", "1")))
        .unwrap();
    let e = engine
        .transact_write_items(&ns, input(counter("t4", "3")))
        .unwrap_err();
    assert_eq!(e.aws_type(), "IdempotentParameterMismatchException");
    let item = engine
        .get_item(
            &ns,
            input(json!({"TableName": "h", "Key": {"id": {"S": "ctr"}}})),
        )
        .unwrap()
        .item;
    assert_eq!(
        serde_json::to_value(item).unwrap()["hits"],
        json!({"N": "1"})
    );
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_update_that_makes_the_item_too_deep_cancels() {
    let f = fixture();
    let mut deep = json!({"S": "leaf"});
    for _ in 0..32 {
        deep = json!({"M": {"n": deep}});
    }
    let (ty, _, reasons) = f.write_fails(json!([
        {"Update": {"TableName": "h", "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET d = :d",
                    "ExpressionAttributeValues": {":d": deep}}}
    ]));
    assert_eq!(ty, "TransactionCanceledException");
    assert_eq!(reasons[0]["Code"], json!("ValidationError"));
}
