//! Fault injection seen through the in-process `aws_sdk_dynamodb::Client` of a fixture: the
//! SDK's own retries, triggers, filters, and the exact AWS errors on the wire.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use ddb_harness::{
    Fault, FaultRule, Faults, Fixture, FixtureError, OperationClass, Trigger, ddb_test,
};

const TABLES: &str = r#"[
  {"TableName": "users", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"},
  {"TableName": "orders", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}
]"#;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

async fn fixture(rules: &[FaultRule]) -> Fixture {
    let mut builder = Fixture::builder().table_json(TABLES);
    for rule in rules {
        builder = builder.fault(rule.clone());
    }
    builder.build().await.unwrap()
}

/// The fixture's client with retries off, so that each SDK call is exactly one request.
fn no_retries(f: &Fixture) -> Client {
    Client::from_conf(
        f.client()
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

/// Puts an item; `Ok(())` or the error code.
async fn put(client: &Client, table: &str, id: &str) -> Result<(), String> {
    client
        .put_item()
        .table_name(table)
        .item("id", s(id))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("?").to_string())
}

/// Gets an item; `Ok(())` or the error code.
async fn get(client: &Client, table: &str, id: &str) -> Result<(), String> {
    client
        .get_item()
        .table_name(table)
        .key("id", s(id))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("?").to_string())
}

#[tokio::test]
async fn sdk_default_retries_recover_from_a_throttled_first_call() {
    let f = fixture(&[]).await;
    let id = f.faults().add(
        FaultRule::new(Trigger::NthCall(1), Fault::ProvisionedThroughputExceeded)
            .operation("PutItem"),
    );
    // The fixture's own client, with the SDK's default retry configuration.
    put(f.client(), "users", "u1").await.unwrap();
    let stats = f.faults().stats(id).unwrap();
    assert_eq!(
        (stats.calls, stats.injected),
        (2, 1),
        "one throttled try, one retry"
    );
    assert_eq!(f.items("users").unwrap().len(), 1);
}

#[tokio::test]
async fn nth_call_faults_exactly_the_nth_matching_call() {
    let f = fixture(&[]).await;
    let id = f
        .faults()
        .add(FaultRule::new(Trigger::NthCall(3), Fault::TransactionConflict).operation("PutItem"));
    let client = no_retries(&f);
    let mut puts = Vec::new();
    for i in 0..5 {
        // Reads in between do not match, so they do not count.
        get(&client, "users", "x").await.unwrap();
        puts.push(put(&client, "users", &format!("u{i}")).await);
    }
    let conflict = Err("TransactionConflictException".to_string());
    assert_eq!(puts, [Ok(()), Ok(()), conflict, Ok(()), Ok(())]);
    assert_eq!(f.faults().calls(id), 5);
    assert_eq!(f.faults().injected(id), 1);
    // The faulted write never reached the engine.
    assert_eq!(f.items("users").unwrap().len(), 4);
}

#[tokio::test]
async fn first_n_faults_the_first_n_matching_calls() {
    let f = fixture(&[FaultRule::new(
        Trigger::FirstN(2),
        Fault::RequestLimitExceeded,
    )])
    .await;
    let client = no_retries(&f);
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(get(&client, "users", "x").await);
    }
    let limited = Err("RequestLimitExceeded".to_string());
    assert_eq!(out, [limited.clone(), limited, Ok(()), Ok(())]);
}

/// Which of `n` GetItem calls a seeded probability rule faults.
async fn probability_pattern(p: f64, seed: u64, n: usize) -> Vec<bool> {
    let f = fixture(&[FaultRule::new(
        Trigger::Probability { p, seed },
        Fault::InternalServerError,
    )])
    .await;
    let client = no_retries(&f);
    let mut pattern = Vec::with_capacity(n);
    for _ in 0..n {
        pattern.push(get(&client, "users", "x").await.is_err());
    }
    pattern
}

#[tokio::test]
async fn probability_with_a_seed_is_reproducible() {
    let a = probability_pattern(0.5, 42, 64).await;
    let b = probability_pattern(0.5, 42, 64).await;
    assert_eq!(a, b);
    let faulted = a.iter().filter(|&&x| x).count();
    assert!(
        (16..=48).contains(&faulted),
        "{faulted} of 64 faulted at p = 0.5"
    );
    assert_ne!(a, probability_pattern(0.5, 43, 64).await, "another seed");
    assert!(probability_pattern(0.0, 1, 16).await.iter().all(|&x| !x));
    assert!(probability_pattern(1.0, 1, 16).await.iter().all(|&x| x));
}

#[tokio::test]
async fn table_filter_matches_only_requests_naming_the_table() {
    let f = fixture(&[FaultRule::new(
        Trigger::EveryCallUntilCleared,
        Fault::ItemCollectionSizeLimitExceeded,
    )
    .table("orders")])
    .await;
    let client = no_retries(&f);
    let too_big = Err("ItemCollectionSizeLimitExceededException".to_string());
    assert_eq!(put(&client, "users", "u1").await, Ok(()));
    assert_eq!(put(&client, "orders", "o1").await, too_big);
    // A batch names its tables in RequestItems.
    let write = WriteRequest::builder()
        .put_request(PutRequest::builder().item("id", s("o2")).build().unwrap())
        .build();
    let batch = client
        .batch_write_item()
        .request_items("orders", vec![write])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        batch.code(),
        Some("ItemCollectionSizeLimitExceededException")
    );
    // ListTables names no table, so it does not match.
    client.list_tables().send().await.unwrap();
}

#[tokio::test]
async fn operation_filter_matches_only_that_operation() {
    let f = fixture(&[
        FaultRule::new(Trigger::EveryCallUntilCleared, Fault::Throttling).operation("DeleteItem"),
    ])
    .await;
    let client = no_retries(&f);
    assert_eq!(put(&client, "users", "u1").await, Ok(()));
    assert_eq!(get(&client, "users", "u1").await, Ok(()));
    let err = client
        .delete_item()
        .table_name("users")
        .key("id", s("u1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(f.items("users").unwrap().len(), 1);
}

#[tokio::test]
async fn class_filter_separates_reads_from_writes() {
    let f = fixture(&[]).await;
    let client = no_retries(&f);
    let reads = f.faults().add(
        FaultRule::new(
            Trigger::EveryCallUntilCleared,
            Fault::ProvisionedThroughputExceeded,
        )
        .class(OperationClass::Read),
    );
    let throttled = Err("ProvisionedThroughputExceededException".to_string());
    assert_eq!(put(&client, "users", "u1").await, Ok(()));
    assert_eq!(get(&client, "users", "u1").await, throttled);
    let scan = client.scan().table_name("users").send().await.unwrap_err();
    assert_eq!(scan.code(), Some("ProvisionedThroughputExceededException"));
    let describe = client
        .describe_table()
        .table_name("users")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        describe.code(),
        Some("ProvisionedThroughputExceededException")
    );

    f.faults().clear(reads);
    f.faults().add(
        FaultRule::new(Trigger::EveryCallUntilCleared, Fault::InternalServerError)
            .class(OperationClass::Write),
    );
    assert_eq!(get(&client, "users", "u1").await, Ok(()));
    assert_eq!(
        put(&client, "users", "u2").await,
        Err("InternalServerError".to_string())
    );
}

#[tokio::test]
async fn internal_server_error_is_a_500() {
    let f = fixture(&[FaultRule::new(
        Trigger::EveryCallUntilCleared,
        Fault::InternalServerError,
    )])
    .await;
    let err = no_retries(&f)
        .get_item()
        .table_name("users")
        .key("id", s("u1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(err.code(), Some("InternalServerError"));
    assert_eq!(err.message(), Some("Internal server error"));
}

#[tokio::test]
async fn clearing_a_rule_stops_it() {
    let f = fixture(&[]).await;
    let client = no_retries(&f);
    let id = f.faults().add(FaultRule::new(
        Trigger::EveryCallUntilCleared,
        Fault::InternalServerError,
    ));
    assert!(put(&client, "users", "u1").await.is_err());
    assert!(put(&client, "users", "u1").await.is_err());
    assert!(f.faults().clear(id));
    assert!(!f.faults().clear(id), "already cleared");
    assert_eq!(put(&client, "users", "u1").await, Ok(()));
    let stats = f.faults().stats(id).unwrap();
    assert_eq!((stats.calls, stats.injected, stats.active), (2, 2, false));

    f.faults()
        .add(FaultRule::new(Trigger::FirstN(10), Fault::Throttling));
    f.faults()
        .add(FaultRule::new(Trigger::FirstN(10), Fault::Throttling));
    assert!(get(&client, "users", "u1").await.is_err());
    f.faults().clear_all();
    assert!(f.faults().rules().is_empty());
    assert_eq!(get(&client, "users", "u1").await, Ok(()));
}

#[tokio::test]
async fn latency_delays_then_answers() {
    let f = fixture(&[FaultRule::new(
        Trigger::NthCall(1),
        Fault::Latency(Duration::from_millis(60)),
    )])
    .await;
    let start = Instant::now();
    put(f.client(), "users", "u1").await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(60));
    assert_eq!(f.items("users").unwrap().len(), 1);
}

#[tokio::test]
async fn faults_do_not_touch_fixture_setup() {
    // Every write would fail, yet the fixture's CreateTable and seed PutItem calls succeed.
    let f = Fixture::builder()
        .table_json(TABLES)
        .items_json(r#"{"users": [{"id": {"S": "seed"}}]}"#)
        .faults_json(r#"[{"class": "write", "fault": "internal_server_error"}]"#)
        .build()
        .await
        .unwrap();
    assert_eq!(f.items("users").unwrap().len(), 1);
    assert!(put(&no_retries(&f), "users", "u1").await.is_err());
}

#[tokio::test]
async fn a_bad_fault_file_fails_the_build() {
    let err = Fixture::builder()
        .faults_json(r#"[{"operation": "PutItems", "fault": "throttling"}]"#)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FixtureError::Definition(m) if m.contains("PutItems")),
        "{err}"
    );
}

/// Sends GetItem through the router and returns the status and error body.
#[track_caller]
fn check(fault: Fault, status: u16, type_: &str, message: &str) {
    let router = ddb_harness::Router::new(std::sync::Arc::new(
        ddb_harness::engine::Engine::builder().build().unwrap(),
    ))
    .with_faults(Faults::new());
    router
        .faults()
        .unwrap()
        .add(FaultRule::new(Trigger::EveryCallUntilCleared, fault));
    let (got_status, body) = router.call_json(
        "000000000000",
        "us-east-1",
        "ListTables",
        &serde_json::json!({}),
    );
    assert_eq!(got_status, status);
    assert_eq!(
        body,
        serde_json::json!({ "__type": type_, "message": message })
    );
}

#[test]
fn wire_errors_are_aws_errors() {
    check(
        Fault::ProvisionedThroughputExceeded,
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. \
         Consider increasing your provisioning level with the UpdateTable API.",
    );
    check(
        Fault::Throttling,
        400,
        "com.amazon.coral.availability#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    );
    check(
        Fault::RequestLimitExceeded,
        400,
        "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded",
        "Throughput exceeds the current throughput limit for your account. To request a \
         limit increase, contact AWS Support at https://aws.amazon.com/support.",
    );
    check(
        Fault::InternalServerError,
        500,
        "com.amazonaws.dynamodb.v20120810#InternalServerError",
        "Internal server error",
    );
    check(
        Fault::TransactionConflict,
        400,
        "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
        "Transaction is ongoing for the item",
    );
    check(
        Fault::ItemCollectionSizeLimitExceeded,
        400,
        "com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException",
        "Collection size exceeded.",
    );
    check(
        Fault::Error {
            type_: "LimitExceededException".into(),
            message: Some("Too many operations for a given subscriber.".into()),
            status: 400,
        },
        400,
        "com.amazonaws.dynamodb.v20120810#LimitExceededException",
        "Too many operations for a given subscriber.",
    );
    check(
        Fault::Error {
            type_: "com.amazon.coral.service#ServiceUnavailableException".into(),
            message: Some("Service unavailable".into()),
            status: 503,
        },
        503,
        "com.amazon.coral.service#ServiceUnavailableException",
        "Service unavailable",
    );
}

#[test]
fn an_invalid_request_is_never_faulted() {
    let router = ddb_harness::Router::new(std::sync::Arc::new(
        ddb_harness::engine::Engine::builder().build().unwrap(),
    ))
    .with_faults(Faults::from_json(r#"{"fault": "internal_server_error"}"#).unwrap());
    // Model validation comes first: a bad request gets its ValidationException.
    let (status, body) = router.call_json(
        "000000000000",
        "us-east-1",
        "GetItem",
        &serde_json::json!({ "TableName": "x" }),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["__type"],
        "com.amazon.coral.validate#ValidationException"
    );
}

#[ddb_test(
    tables = "tests/fixtures/users_tables.json",
    faults = "tests/fixtures/faults.json"
)]
async fn ddb_test_loads_a_fault_file(f: Fixture) {
    let rules = f.faults().rules();
    assert_eq!(rules.len(), 1);
    let (id, rule) = &rules[0];
    assert_eq!(rule.trigger, Trigger::NthCall(2));
    // The second GetItem is throttled (ThrottlingException) and the SDK's retry succeeds.
    get(f.client(), "users", "u1").await.unwrap();
    get(f.client(), "users", "u1").await.unwrap();
    assert_eq!(f.faults().calls(*id), 3);
    assert_eq!(f.faults().injected(*id), 1);
}
