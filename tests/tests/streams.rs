//! DynamoDB Streams over the JSON protocol (`DynamoDBStreams_20120810.*` targets) through
//! `Router`: there is no Streams client in aws-sdk-dynamodb, so these tests speak JSON.

use std::sync::Arc;
use std::time::Duration;

use ddb_harness::Router;
use ddb_harness::engine::{Engine, ManualClock, Timestamp};
use ddb_harness::http;
use serde_json::{Value, json};

const START: i64 = 1_700_000_000_000;

fn router() -> (Router, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let engine = Engine::builder()
        .seed(3)
        .clock(clock.clone())
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    (Router::new(Arc::new(engine)), clock)
}

/// Sends one DynamoDB Streams operation; returns the status and the JSON body.
fn streams(router: &Router, op: &str, body: Value) -> (u16, Value) {
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDBStreams_20120810.{op}"))
        .header("x-amz-date", "20240101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        )
        .body(serde_json::to_vec(&body).unwrap_or_default().into())
        .unwrap_or_else(|e| panic!("request: {e}"));
    let response = router.handle(request);
    (
        response.status().as_u16(),
        serde_json::from_slice(response.body()).unwrap_or(Value::Null),
    )
}

#[track_caller]
fn ok(router: &Router, op: &str, body: Value) -> Value {
    let (status, out) = streams(router, op, body);
    assert_eq!(status, 200, "{op}: {out}");
    out
}

#[track_caller]
fn dynamodb(router: &Router, op: &str, body: Value) -> Value {
    let (status, out) = router.call_json("AKIDEXAMPLE", "us-east-1", op, &body);
    assert_eq!(status, 200, "{op}: {out}");
    out
}

/// Creates table `things` with a NEW_AND_OLD_IMAGES stream; returns its ARN.
fn table(router: &Router) -> String {
    let out = dynamodb(
        router,
        "CreateTable",
        json!({
            "TableName": "things",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }),
    );
    out["TableDescription"]["LatestStreamArn"]
        .as_str()
        .unwrap_or_else(|| panic!("no stream ARN in {out}"))
        .to_string()
}

fn trim_horizon(router: &Router, arn: &str) -> String {
    let d = ok(router, "DescribeStream", json!({"StreamArn": arn}));
    let shard = d["StreamDescription"]["Shards"][0]["ShardId"].clone();
    let it = ok(
        router,
        "GetShardIterator",
        json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    );
    it["ShardIterator"].as_str().unwrap_or_default().to_string()
}

#[test]
fn list_describe_iterate_and_read_records() {
    let (router, _) = router();
    let arn = table(&router);
    dynamodb(
        &router,
        "PutItem",
        json!({"TableName": "things", "Item": {"id": {"S": "a"}, "n": {"N": "1"}}}),
    );
    dynamodb(
        &router,
        "PutItem",
        json!({"TableName": "things", "Item": {"id": {"S": "a"}, "n": {"N": "2"}}}),
    );
    let listed = ok(&router, "ListStreams", json!({"TableName": "things"}));
    assert_eq!(listed["Streams"][0]["StreamArn"], arn.as_str());
    assert_eq!(listed["Streams"][0]["TableName"], "things");
    let iterator = trim_horizon(&router, &arn);
    assert!(iterator.starts_with(&format!("{arn}|1|")), "{iterator}");
    let out = ok(&router, "GetRecords", json!({"ShardIterator": iterator}));
    let records = out["Records"].as_array().cloned().unwrap_or_default();
    assert_eq!(records.len(), 2);
    let r = &records[1];
    assert_eq!(r["eventName"], "MODIFY");
    assert_eq!(r["eventSource"], "aws:dynamodb");
    assert_eq!(r["eventVersion"], "1.1");
    assert_eq!(r["awsRegion"], "us-east-1");
    assert_eq!(r["dynamodb"]["ApproximateCreationDateTime"], START / 1000);
    assert_eq!(r["dynamodb"]["OldImage"]["n"], json!({"N": "1"}));
    assert_eq!(r["dynamodb"]["NewImage"]["n"], json!({"N": "2"}));
    assert!(out["NextShardIterator"].is_string());
}

#[test]
fn streams_errors_on_the_wire() {
    let (router, clock) = router();
    let arn = table(&router);
    let missing = format!("{arn}0");
    let (status, out) = streams(&router, "DescribeStream", json!({"StreamArn": missing}));
    assert_eq!(status, 400);
    assert_eq!(
        out,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            "message": format!("Requested resource not found: Stream: {missing} not found")
        })
    );
    let iterator = trim_horizon(&router, &arn);
    clock.advance(Duration::from_secs(15 * 60 + 1));
    let (status, out) = streams(&router, "GetRecords", json!({"ShardIterator": iterator}));
    assert_eq!(status, 400);
    assert_eq!(
        out,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException",
            "message": "Shard iterator has expired"
        })
    );
    let (status, out) = streams(&router, "GetRecords", json!({}));
    assert_eq!(status, 400, "{out}");
    assert_eq!(
        out["__type"],
        "com.amazon.coral.validate#ValidationException"
    );
}
