//! DynamoDB Streams through the official Rust SDK for Streams (aws-sdk-dynamodbstreams): the
//! records of a put, an update and a delete, with the images each view type promises.

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Region};
use aws_sdk_dynamodbstreams::types::OperationType;
use ddb_tests::{create_id_table_with, start, stream_records};

fn streams_client(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "ddb-tests",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}

async fn records_for(view: StreamViewType) -> Vec<aws_sdk_dynamodbstreams::types::Record> {
    let t = start().await;
    let table = format!("s_{}", view.as_str().to_lowercase());
    create_id_table_with(&t.client, &table, Some(view)).await;
    let id = AttributeValue::S("u1".into());
    t.client
        .put_item()
        .table_name(&table)
        .item("id", id.clone())
        .item("v", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    t.client
        .update_item()
        .table_name(&table)
        .key("id", id.clone())
        .update_expression("SET v = :two")
        .expression_attribute_values(":two", AttributeValue::N("2".into()))
        .send()
        .await
        .unwrap();
    t.client
        .delete_item()
        .table_name(&table)
        .key("id", id)
        .send()
        .await
        .unwrap();

    let streams = streams_client(&t.handle.endpoint());
    let listed = streams
        .list_streams()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let arn = listed.streams()[0].stream_arn().unwrap().to_string();
    stream_records(&streams, &arn).await
}

#[tokio::test]
async fn new_and_old_images_show_each_change() {
    let records = records_for(StreamViewType::NewAndOldImages).await;
    let names: Vec<_> = records.iter().map(|r| r.event_name().cloned()).collect();
    assert_eq!(
        names,
        [
            Some(OperationType::Insert),
            Some(OperationType::Modify),
            Some(OperationType::Remove)
        ]
    );
    let n = |v: &str| aws_sdk_dynamodbstreams::types::AttributeValue::N(v.into());
    let modify = records[1].dynamodb().unwrap();
    assert_eq!(modify.old_image().unwrap().get("v"), Some(&n("1")));
    assert_eq!(modify.new_image().unwrap().get("v"), Some(&n("2")));
    let remove = records[2].dynamodb().unwrap();
    assert_eq!(remove.old_image().unwrap().get("v"), Some(&n("2")));
    assert!(remove.new_image().is_none());
    for r in &records {
        assert_eq!(r.event_source(), Some("aws:dynamodb"));
        assert_eq!(r.event_version(), Some("1.1"));
        assert_eq!(r.aws_region(), Some("us-east-1"));
    }
    let seq: Vec<u128> = records
        .iter()
        .map(|r| {
            r.dynamodb()
                .unwrap()
                .sequence_number()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        seq.windows(2).all(|w| w[0] < w[1]),
        "sequence numbers increase: {seq:?}"
    );
}

#[tokio::test]
async fn keys_only_records_carry_no_images() {
    let records = records_for(StreamViewType::KeysOnly).await;
    assert_eq!(records.len(), 3);
    for r in &records {
        let d = r.dynamodb().unwrap();
        assert!(d.keys().unwrap().contains_key("id"));
        assert!(d.new_image().is_none() && d.old_image().is_none());
    }
}
