//! The test harness as users see it: `#[ddb_test]` and `Fixture` with an in-process client.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use ddb_harness::{Fixture, ddb_test};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

#[ddb_test(
    tables = "tests/fixtures/users_tables.json",
    items = "tests/fixtures/users_items.json"
)]
async fn seeded_items_are_readable_through_the_in_process_client(client: Client) {
    let out = client
        .get_item()
        .table_name("users")
        .key("id", s("u1"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.item().unwrap().get("name"), Some(&s("Ada")));
}

#[ddb_test(
    tables = "tests/fixtures/users_tables.json",
    clock = "2024-01-01T00:00:00Z",
    seed = 7
)]
async fn manual_clock_stamps_tables(f: Fixture) {
    let desc = f
        .client()
        .describe_table()
        .table_name("users")
        .send()
        .await
        .unwrap();
    let created = desc.table().unwrap().creation_date_time().unwrap();
    assert_eq!(created.secs(), 1_704_067_200);
    f.clock()
        .unwrap()
        .advance(std::time::Duration::from_secs(60));
    assert_eq!(f.engine().clock().now().0, 1_704_067_260_000);
}

#[ddb_test(tables = "tests/fixtures/users_tables.json")]
async fn each_test_gets_its_own_state(client: Client) -> Result<(), aws_sdk_dynamodb::Error> {
    // The other tests' writes are invisible here: the table starts empty.
    let out = client
        .get_item()
        .table_name("users")
        .key("id", s("u1"))
        .send()
        .await?;
    assert!(out.item().is_none());
    client
        .put_item()
        .table_name("users")
        .item("id", s("mine"))
        .send()
        .await?;
    Ok(())
}

#[ddb_test]
async fn errors_are_aws_errors(client: Client) {
    let err = client
        .describe_table()
        .table_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn builder_endpoint_and_dump() {
    let f = Fixture::builder()
        .tables_file("tests/fixtures/users_tables.json")
        .items_file("tests/fixtures/users_items.json")
        .seed(1)
        .build()
        .await
        .unwrap();
    assert_eq!(f.items("users").unwrap().len(), 2);
    let dump = f.dump().unwrap();
    let items = &dump["000000000000/us-east-1/users"]["Items"];
    assert_eq!(items[0]["id"]["S"], "u1");
    // A real listener for clients in other languages, started on demand.
    let endpoint = f.endpoint().await.unwrap();
    assert!(endpoint.starts_with("http://127.0.0.1:"));
    assert_eq!(
        f.endpoint().await.unwrap(),
        endpoint,
        "one listener per fixture"
    );
}

#[tokio::test]
async fn bad_fixture_definitions_say_what_is_wrong() {
    let err = Fixture::builder()
        .table_json("{not json")
        .build()
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("invalid fixture definition"),
        "{err}"
    );
    let err = Fixture::builder()
        .table_json(r#"{"TableName":"ab","KeySchema":[],"AttributeDefinitions":[]}"#)
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ValidationException"), "{err}");
    let err = Fixture::builder()
        .clock("yesterday")
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("RFC 3339"), "{err}");
}

#[ddb_test(
    tables = "tests/fixtures/users_tables.json",
    clock = "2024-01-01T00:00:00Z"
)]
async fn advancing_the_clock_expires_ttl_items(f: Fixture) {
    let client = f.client();
    client
        .update_time_to_live()
        .table_name("users")
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
    // Expires one hour after the fixture's start (epoch seconds).
    let soon = (1_704_067_200 + 3600).to_string();
    client
        .put_item()
        .table_name("users")
        .item("id", s("temp"))
        .item("expires", AttributeValue::N(soon))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name("users")
        .item("id", s("keep"))
        .send()
        .await
        .unwrap();
    assert_eq!(f.advance(std::time::Duration::from_secs(3599)).unwrap(), 0);
    assert_eq!(f.advance(std::time::Duration::from_secs(1)).unwrap(), 1);
    let ids: Vec<_> = f
        .items("users")
        .unwrap()
        .into_iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![ddb_harness::engine::AttributeValue::S("keep".into())]
    );
}

#[ddb_test(
    tables = "tests/fixtures/users_tables.json",
    clock = "2024-01-01T00:00:00Z"
)]
async fn advancing_the_manual_clock_itself_expires_ttl_items(f: Fixture) {
    f.client()
        .update_time_to_live()
        .table_name("users")
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
    let at = (1_704_067_200 + 60).to_string();
    f.client()
        .put_item()
        .table_name("users")
        .item("id", s("temp"))
        .item("expires", AttributeValue::N(at))
        .send()
        .await
        .unwrap();
    f.clock()
        .unwrap()
        .advance(std::time::Duration::from_secs(60));
    assert!(
        f.items("users").unwrap().is_empty(),
        "expired during ManualClock::advance"
    );
}

#[ddb_test(
    tables = "tests/fixtures/orders_tables.yaml",
    items = "tests/fixtures/orders_items.yaml"
)]
async fn yaml_tables_and_plain_items_seed_a_fixture(client: Client) {
    let open = client
        .query()
        .table_name("orders")
        .index_name("by_status")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("OPEN"))
        .send()
        .await
        .unwrap();
    assert_eq!(open.count(), 2);
    let ada = client
        .get_item()
        .table_name("orders")
        .key("customer", s("ada"))
        .key("order_id", s("0001"))
        .send()
        .await
        .unwrap();
    let item = ada.item().unwrap();
    assert_eq!(item.get("total"), Some(&AttributeValue::N("12.5".into())));
    let line = &item["lines"].as_l().unwrap()[0];
    assert_eq!(
        line.as_m().unwrap().get("qty"),
        Some(&AttributeValue::N("2".into()))
    );
    let grace = client
        .get_item()
        .table_name("orders")
        .key("customer", s("grace"))
        .key("order_id", s("0001"))
        .send()
        .await
        .unwrap();
    assert_eq!(grace.item().unwrap()["tags"].as_ss().unwrap().len(), 2);
}

#[tokio::test]
async fn fixture_files_pick_their_syntax_by_extension() {
    let f = Fixture::builder()
        .tables_file("tests/fixtures/orders_tables.yaml")
        .items_file("tests/fixtures/users_items.json")
        .tables_file("tests/fixtures/users_tables.json")
        .items_file("tests/fixtures/orders_items.yaml")
        .build()
        .await
        .unwrap();
    assert_eq!(f.items("orders").unwrap().len(), 3);
    assert_eq!(f.items("users").unwrap().len(), 2);
    let err = Fixture::builder()
        .table_yaml("- TableName: [unclosed")
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("YAML"), "{err}");
}

/// `Fixture::streams_client` reads a table's stream in process.
#[tokio::test]
async fn streams_client_reads_the_fixture_tables_stream() {
    let f = Fixture::builder()
        .table_json(
            r#"{"TableName":"events","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
                "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
                "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}}"#,
        )
        .build()
        .await
        .unwrap();
    f.client()
        .put_item()
        .table_name("events")
        .item("id", s("e1"))
        .send()
        .await
        .unwrap();
    let streams = f.streams_client();
    let listed = streams
        .list_streams()
        .table_name("events")
        .send()
        .await
        .unwrap();
    let arn = listed.streams()[0].stream_arn().unwrap().to_string();
    let described = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    let shard = described.stream_description().unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_string();
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(shard)
        .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let records = streams
        .get_records()
        .shard_iterator(iterator.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(records.records().len(), 1);
    assert_eq!(
        records.records()[0].event_name(),
        Some(&aws_sdk_dynamodbstreams::types::OperationType::Insert)
    );
}
