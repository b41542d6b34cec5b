//! Stream handlers: Lambda-shaped batches from a table's stream, retries, starting positions,
//! handlers that write, TTL deletes, and drains that are deterministic.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use ddb_harness::engine::AttributeValue as Value;
use ddb_harness::{
    DynamoDbEvent, Fixture, StartingPosition, StreamHandlerConfig, StreamHandlerError, Target,
    ddb_test,
};

const ORDERS: &str = r#"{"TableName":"orders",
    "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
    "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],
    "BillingMode":"PAY_PER_REQUEST",
    "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}"#;
const AUDIT: &str = r#"{"TableName":"audit",
    "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
    "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],
    "BillingMode":"PAY_PER_REQUEST",
    "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}}"#;
const PLAIN: &str = r#"{"TableName":"plain",
    "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
    "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],
    "BillingMode":"PAY_PER_REQUEST"}"#;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A string as the events carry it (the engine's value type).
fn es(v: &str) -> Value {
    Value::S(v.into())
}

async fn fixture() -> Fixture {
    Fixture::builder()
        .target(Target::Memory)
        .table_json(&format!("[{ORDERS},{AUDIT},{PLAIN}]"))
        .clock("2024-01-01T00:00:00Z")
        .seed(3)
        .build()
        .await
        .unwrap()
}

async fn put(client: &Client, table: &str, id: &str) {
    client
        .put_item()
        .table_name(table)
        .item("id", s(id))
        .item("status", s("new"))
        .send()
        .await
        .unwrap();
}

fn config(batch_size: usize) -> StreamHandlerConfig {
    StreamHandlerConfig {
        batch_size,
        ..StreamHandlerConfig::default()
    }
}

/// The events a [`recorder`] accepted.
type Log<T> = Arc<Mutex<Vec<T>>>;

/// A handler that records every event it accepts.
fn recorder<T: Send + 'static>() -> (Log<T>, impl FnMut(T) -> Result<(), String>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    (log, move |event| {
        sink.lock().unwrap().push(event);
        Ok(())
    })
}

#[tokio::test]
async fn batches_have_lambdas_event_shape() {
    let f = fixture().await;
    let (events, handler) = recorder::<serde_json::Value>();
    f.on_stream("orders", config(100), handler).unwrap();
    put(f.client(), "orders", "o1").await;
    let report = f.drain_streams().await.unwrap();
    assert_eq!((report.invocations, report.delivered), (1, 1));

    let arn = f
        .client()
        .describe_table()
        .table_name("orders")
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_string();
    let events = events.lock().unwrap();
    let event = &events[0];
    let top: Vec<&String> = event.as_object().unwrap().keys().collect();
    assert_eq!(top, ["Records"]);
    let record = &event["Records"][0];
    let keys: Vec<&String> = record.as_object().unwrap().keys().collect();
    // The member order of the AWS-recorded event (localstack snapshot
    // lambda___event_source_mapping__test_lambda_integration_dynamodbstreams).
    assert_eq!(
        keys,
        [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN"
        ]
    );
    assert_eq!(record["eventName"], "INSERT");
    assert_eq!(record["eventVersion"], "1.1");
    assert_eq!(record["eventSource"], "aws:dynamodb");
    assert_eq!(record["awsRegion"], "us-east-1");
    assert_eq!(record["eventSourceARN"], arn.as_str());
    let ddb = &record["dynamodb"];
    assert_eq!(ddb["ApproximateCreationDateTime"], 1_704_067_200);
    assert_eq!(ddb["Keys"], serde_json::json!({"id": {"S": "o1"}}));
    assert_eq!(
        ddb["NewImage"],
        serde_json::json!({"id": {"S": "o1"}, "status": {"S": "new"}})
    );
    assert!(ddb.get("OldImage").is_none());
    assert_eq!(ddb["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert!(ddb["SequenceNumber"].as_str().unwrap().len() >= 21);
    assert!(ddb["SizeBytes"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn typed_events_arrive_in_order_in_batches_of_batch_size() {
    let f = fixture().await;
    let (events, handler) = recorder::<DynamoDbEvent>();
    f.on_stream("orders", config(2), handler).unwrap();
    for id in ["o1", "o2", "o3", "o4", "o5"] {
        put(f.client(), "orders", id).await;
    }
    f.client()
        .update_item()
        .table_name("orders")
        .key("id", s("o2"))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("paid"))
        .send()
        .await
        .unwrap();
    f.client()
        .delete_item()
        .table_name("orders")
        .key("id", s("o5"))
        .send()
        .await
        .unwrap();
    let report = f.drain_streams().await.unwrap();
    assert_eq!(report.delivered, 7);
    assert_eq!(report.invocations, 4);
    assert!(report.failed_batches.is_empty());

    let events = events.lock().unwrap();
    let sizes: Vec<usize> = events.iter().map(|e| e.records.len()).collect();
    assert_eq!(sizes, [2, 2, 2, 1]);
    let names: Vec<(&str, &Value)> = events
        .iter()
        .flat_map(|e| &e.records)
        .map(|r| (r.event_name.as_str(), &r.dynamodb.keys["id"]))
        .collect();
    assert_eq!(
        names,
        [
            ("INSERT", &es("o1")),
            ("INSERT", &es("o2")),
            ("INSERT", &es("o3")),
            ("INSERT", &es("o4")),
            ("INSERT", &es("o5")),
            ("MODIFY", &es("o2")),
            ("REMOVE", &es("o5")),
        ]
    );
    let modify = &events[2].records[1];
    assert_eq!(
        modify.dynamodb.old_image.as_ref().unwrap()["status"],
        es("new")
    );
    assert_eq!(
        modify.dynamodb.new_image.as_ref().unwrap()["status"],
        es("paid")
    );
}

#[tokio::test]
async fn a_failing_handler_gets_the_same_batch_again() {
    let f = fixture().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut failures_left = 2;
    f.on_stream("orders", config(10), move |e: DynamoDbEvent| {
        let ids: Vec<String> = e
            .records
            .iter()
            .map(|r| r.dynamodb.sequence_number.clone())
            .collect();
        log.lock().unwrap().push(ids);
        if failures_left > 0 {
            failures_left -= 1;
            return Err("downstream unavailable");
        }
        Ok(())
    })
    .unwrap();
    put(f.client(), "orders", "o1").await;
    put(f.client(), "orders", "o2").await;
    let report = f.drain_streams().await.unwrap();
    assert_eq!((report.invocations, report.delivered), (3, 2));
    assert!(report.failed_batches.is_empty());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].len(), 2);
    assert!(seen.iter().all(|b| *b == seen[0]));
}

#[tokio::test]
async fn a_batch_is_given_up_after_max_retries_and_delivery_moves_on() {
    let f = fixture().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let cfg = StreamHandlerConfig {
        batch_size: 1,
        max_retries: 2,
        ..StreamHandlerConfig::default()
    };
    f.on_stream("orders", cfg, move |e: DynamoDbEvent| {
        let id = e.records[0].dynamodb.keys["id"].clone();
        log.lock().unwrap().push(id.clone());
        if id == es("poison") {
            Err(format!("cannot handle {id:?}"))
        } else {
            Ok(())
        }
    })
    .unwrap();
    put(f.client(), "orders", "poison").await;
    put(f.client(), "orders", "o2").await;
    let report = f.drain_streams().await.unwrap();
    assert_eq!(report.invocations, 4);
    assert_eq!(report.delivered, 1);
    assert_eq!(report.failed_batches.len(), 1);
    let failed = &report.failed_batches[0];
    assert_eq!(failed.table, "orders");
    assert_eq!(failed.attempts, 3);
    assert!(failed.error.contains("poison"), "{}", failed.error);
    assert_eq!(failed.sequence_numbers.0, failed.sequence_numbers.1);
    assert_eq!(
        *seen.lock().unwrap(),
        [es("poison"), es("poison"), es("poison"), es("o2")]
    );
    // Given up means given up: the next drain does not bring it back.
    assert_eq!(f.drain_streams().await.unwrap().invocations, 0);
}

#[tokio::test]
async fn latest_skips_what_was_written_before_the_handler() {
    let f = fixture().await;
    put(f.client(), "orders", "before").await;
    let (from_start, h1) = recorder::<DynamoDbEvent>();
    let (from_now, h2) = recorder::<DynamoDbEvent>();
    f.on_stream("orders", StreamHandlerConfig::default(), h1)
        .unwrap();
    f.on_stream(
        "orders",
        StreamHandlerConfig {
            starting_position: StartingPosition::Latest,
            ..StreamHandlerConfig::default()
        },
        h2,
    )
    .unwrap();
    put(f.client(), "orders", "after").await;
    f.drain_streams().await.unwrap();
    let ids = |log: &Log<DynamoDbEvent>| -> Vec<Value> {
        log.lock()
            .unwrap()
            .iter()
            .flat_map(|e| &e.records)
            .map(|r| r.dynamodb.keys["id"].clone())
            .collect()
    };
    assert_eq!(ids(&from_start), [es("before"), es("after")]);
    assert_eq!(ids(&from_now), [es("after")]);
}

#[tokio::test]
async fn drains_deliver_each_record_once() {
    let f = fixture().await;
    let (events, handler) = recorder::<DynamoDbEvent>();
    f.on_stream("orders", StreamHandlerConfig::default(), handler)
        .unwrap();
    assert_eq!(
        f.drain_streams().await.unwrap(),
        ddb_harness::DrainReport::default()
    );
    put(f.client(), "orders", "o1").await;
    assert_eq!(f.drain_streams().await.unwrap().delivered, 1);
    assert_eq!(f.drain_streams().await.unwrap().delivered, 0);
    put(f.client(), "orders", "o2").await;
    // A clone of the fixture drains the same handlers.
    assert_eq!(f.clone().drain_streams().await.unwrap().delivered, 1);
    assert_eq!(events.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn handler_writes_are_drained_in_the_same_call() {
    let f = fixture().await;
    let client = f.client().clone();
    // orders → (async handler writes) audit → second handler.
    f.on_stream_async(
        "orders",
        StreamHandlerConfig::default(),
        move |e: DynamoDbEvent| {
            let client = client.clone();
            async move {
                for r in e.records {
                    let id = match &r.dynamodb.keys["id"] {
                        Value::S(id) => id.clone(),
                        other => return Err(format!("unexpected key {other:?}")),
                    };
                    client
                        .put_item()
                        .table_name("audit")
                        .item("id", s(&format!("{}:{id}", r.event_name)))
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        },
    )
    .unwrap();
    let (audit, handler) = recorder::<DynamoDbEvent>();
    f.on_stream("audit", StreamHandlerConfig::default(), handler)
        .unwrap();
    put(f.client(), "orders", "o1").await;
    put(f.client(), "orders", "o2").await;
    let report = f.drain_streams().await.unwrap();
    assert_eq!(report.delivered, 4);
    let keys: Vec<Value> = audit
        .lock()
        .unwrap()
        .iter()
        .flat_map(|e| &e.records)
        .map(|r| r.dynamodb.keys["id"].clone())
        .collect();
    assert_eq!(keys, [es("INSERT:o1"), es("INSERT:o2")]);
    assert_eq!(f.items("audit").unwrap().len(), 2);
}

#[tokio::test]
async fn ttl_deletes_arrive_as_service_removes_after_the_clock_moves() {
    let f = fixture().await;
    f.client()
        .update_time_to_live()
        .table_name("orders")
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    f.client()
        .put_item()
        .table_name("orders")
        .item("id", s("cart"))
        .item("expires", AttributeValue::N("1704070800".into())) // 01:00
        .send()
        .await
        .unwrap();
    let (events, handler) = recorder::<serde_json::Value>();
    f.on_stream("orders", StreamHandlerConfig::default(), handler)
        .unwrap();
    assert_eq!(f.drain_streams().await.unwrap().delivered, 1);
    // Two hours on: the item expires, and the iterators of the first drain are long expired.
    assert_eq!(f.advance(Duration::from_secs(2 * 3600)).unwrap(), 1);
    assert_eq!(f.drain_streams().await.unwrap().delivered, 1);
    let events = events.lock().unwrap();
    let remove = &events[1]["Records"][0];
    assert_eq!(remove["eventName"], "REMOVE");
    assert_eq!(
        remove["userIdentity"],
        serde_json::json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
    );
    // Other records carry none.
    assert!(events[0]["Records"][0].get("userIdentity").is_none());
}

#[tokio::test]
async fn tables_without_streams_and_bad_configs_are_refused() {
    let f = fixture().await;
    let handler = |_: DynamoDbEvent| Ok::<(), String>(());
    assert!(matches!(
        f.on_stream("plain", StreamHandlerConfig::default(), handler),
        Err(StreamHandlerError::NoStream(t)) if t == "plain"
    ));
    assert!(matches!(
        f.on_stream("orders", config(0), handler),
        Err(StreamHandlerError::Config(_))
    ));
    assert!(matches!(
        f.on_stream("orders", config(1001), handler),
        Err(StreamHandlerError::Config(_))
    ));
}

#[ddb_test]
async fn works_from_ddb_test(f: Fixture) {
    // Under DDB_TEST_TARGET=http://… this test skips instead of failing.
    if f.skip_unless_local("stream handlers") {
        return;
    }
    f.client()
        .create_table()
        .table_name("things")
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::NewImage)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (events, handler) = recorder::<DynamoDbEvent>();
    f.on_stream("things", StreamHandlerConfig::default(), handler)
        .unwrap();
    put(f.client(), "things", "x").await;
    f.drain_streams().await.unwrap();
    assert_eq!(events.lock().unwrap()[0].records[0].event_name, "INSERT");
}

#[tokio::test]
async fn records_across_shard_rollovers_arrive_parent_first() {
    // Shards roll over after 4 hours of engine-clock time; a drain after several rollovers
    // still delivers in write order, each parent shard before its child.
    let f = fixture().await;
    let (events, handler) = recorder::<DynamoDbEvent>();
    f.on_stream("orders", config(2), handler).unwrap();
    let ids = ["a1", "a2", "a3", "b1", "c1", "c2"];
    for (i, id) in ids.iter().enumerate() {
        if i == 3 || i == 4 {
            f.advance(Duration::from_secs(5 * 3600)).unwrap();
        }
        put(f.client(), "orders", id).await;
    }
    let report = f.drain_streams().await.unwrap();
    assert_eq!(report.delivered, ids.len());
    let seen: Vec<Value> = events
        .lock()
        .unwrap()
        .iter()
        .flat_map(|e| &e.records)
        .map(|r| r.dynamodb.keys["id"].clone())
        .collect();
    assert_eq!(seen, ids.map(es));
    assert_eq!(f.drain_streams().await.unwrap().delivered, 0);
}
