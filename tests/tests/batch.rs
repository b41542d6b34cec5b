//! BatchWriteItem and BatchGetItem end to end through aws-sdk-dynamodb over real HTTP.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, WriteRequest,
};
use ddb_tests::{create_id_table, s, start};

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    create_id_table(client, name).await;
}

fn put(id: &str, v: &str) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .item("id", s(id))
                .item("v", s(v))
                .build()
                .unwrap(),
        )
        .build()
}

fn delete(id: &str) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(DeleteRequest::builder().key("id", s(id)).build().unwrap())
        .build()
}

fn keys(ids: &[&str]) -> KeysAndAttributes {
    let mut b = KeysAndAttributes::builder();
    for id in ids {
        b = b.keys(HashMap::from([("id".to_string(), s(id))]));
    }
    b.build().unwrap()
}

#[tokio::test]
async fn batch_write_then_batch_get_across_tables() {
    let t = start().await;
    create_table(&t.client, "users").await;
    create_table(&t.client, "orders").await;
    let out = t
        .client
        .batch_write_item()
        .request_items("users", vec![put("a", "1"), put("b", "2"), delete("c")])
        .request_items("orders", vec![put("o1", "x")])
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("batch write");
    assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    let mut capacity: Vec<(String, f64)> = out
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap_or("").to_string(),
                c.capacity_units().unwrap_or(0.0),
            )
        })
        .collect();
    capacity.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        capacity,
        vec![("orders".to_string(), 1.0), ("users".to_string(), 3.0)]
    );

    let out = t
        .client
        .batch_get_item()
        .request_items("users", keys(&["a", "b", "missing"]))
        .request_items(
            "orders",
            KeysAndAttributes::builder()
                .keys(HashMap::from([("id".to_string(), s("o1"))]))
                .projection_expression("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("batch get");
    let responses = out.responses().expect("responses");
    let mut users: Vec<&str> = responses["users"]
        .iter()
        .filter_map(|i| i.get("v").and_then(|v| v.as_s().ok()).map(String::as_str))
        .collect();
    users.sort();
    assert_eq!(users, ["1", "2"]);
    assert_eq!(
        responses["orders"],
        vec![HashMap::from([("v".to_string(), s("x"))])]
    );
    assert!(out.unprocessed_keys().is_none_or(|u| u.is_empty()));
}

#[tokio::test]
async fn batch_errors_reach_the_sdk_with_aws_messages() {
    let t = start().await;
    create_table(&t.client, "users").await;
    let err = t
        .client
        .batch_write_item()
        .request_items("users", vec![put("a", "1"), delete("a")])
        .send()
        .await
        .expect_err("duplicate keys");
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Provided list of item keys contains duplicates")
    );
    let err = t
        .client
        .batch_get_item()
        .request_items("nope", keys(&["a"]))
        .send()
        .await
        .expect_err("missing table");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = t
        .client
        .batch_get_item()
        .request_items("users", keys(&many[..60]))
        .request_items("other", keys(&many[60..]))
        .send()
        .await
        .expect_err("too many keys");
    assert_eq!(
        err.message(),
        Some("Too many items requested for the BatchGetItem call")
    );
}
