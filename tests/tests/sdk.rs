//! End-to-end tests through aws-sdk-dynamodb over real HTTP.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ProvisionedThroughput, ReturnValue, ScalarAttributeType,
};
use ddb_tests::{client_for, start};

fn id_definition() -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name("id")
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap()
}

fn id_hash_key() -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name("id")
        .key_type(KeyType::Hash)
        .build()
        .unwrap()
}

/// A CreateTable request for an on-demand table keyed by string `id`.
fn users_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(id_definition())
        .key_schema(id_hash_key())
}

async fn create_users(client: &aws_sdk_dynamodb::Client, name: &str) {
    users_table(client, name)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[tokio::test]
async fn create_describe_list_delete_table() {
    let t = start().await;
    create_users(&t.client, "users").await;
    let desc = t
        .client
        .describe_table()
        .table_name("users")
        .send()
        .await
        .unwrap();
    let table = desc.table().unwrap();
    assert_eq!(table.table_name(), Some("users"));
    assert_eq!(table.table_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert!(table.table_arn().unwrap().ends_with(":table/users"));
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );

    let list = t.client.list_tables().send().await.unwrap();
    assert_eq!(list.table_names(), ["users"]);

    let err = users_table(&t.client, "users")
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceInUseException"));

    t.client
        .delete_table()
        .table_name("users")
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .describe_table()
        .table_name("users")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        err.message(),
        Some("Requested resource not found: Table: users not found")
    );
}

#[tokio::test]
async fn list_tables_paginates() {
    let t = start().await;
    for i in 0..7 {
        create_users(&t.client, &format!("t{i:02}")).await;
    }
    let page = t.client.list_tables().limit(3).send().await.unwrap();
    assert_eq!(page.table_names(), ["t00", "t01", "t02"]);
    assert_eq!(page.last_evaluated_table_name(), Some("t02"));
    let page = t
        .client
        .list_tables()
        .limit(3)
        .exclusive_start_table_name("t05")
        .send()
        .await
        .unwrap();
    assert_eq!(page.table_names(), ["t06"]);
    assert_eq!(page.last_evaluated_table_name(), None);
    let all: Vec<String> = t
        .client
        .list_tables()
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
}

#[tokio::test]
async fn put_get_delete_item_roundtrip() {
    let t = start().await;
    create_users(&t.client, "users").await;
    t.client
        .put_item()
        .table_name("users")
        .item("id", s("u1"))
        .item("age", n("30.50"))
        .item("tags", AttributeValue::Ss(vec!["a".into(), "b".into()]))
        .item(
            "blob",
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![0u8, 1, 2])),
        )
        .item(
            "nested",
            AttributeValue::M(
                [(
                    "l".to_string(),
                    AttributeValue::L(vec![
                        AttributeValue::Null(true),
                        AttributeValue::Bool(false),
                    ]),
                )]
                .into(),
            ),
        )
        .send()
        .await
        .unwrap();
    let got = t
        .client
        .get_item()
        .table_name("users")
        .key("id", s("u1"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let item = got.item().unwrap();
    assert_eq!(
        item.get("age"),
        Some(&n("30.5")),
        "numbers come back canonical"
    );
    assert_eq!(
        item.get("tags"),
        Some(&AttributeValue::Ss(vec!["a".into(), "b".into()]))
    );
    assert_eq!(item.len(), 5);

    let old = t
        .client
        .delete_item()
        .table_name("users")
        .key("id", s("u1"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(old.attributes().unwrap().get("id"), Some(&s("u1")));
    let got = t
        .client
        .get_item()
        .table_name("users")
        .key("id", s("u1"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());
}

#[tokio::test]
async fn key_errors_are_aws_validation_errors() {
    let t = start().await;
    create_users(&t.client, "users").await;
    let err = t
        .client
        .get_item()
        .table_name("users")
        .key("id", n("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("The provided key element does not match the schema")
    );
    let err = t
        .client
        .put_item()
        .table_name("users")
        .item("x", s("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        Some("One or more parameter values were invalid: Missing the key id in the item")
    );
    let err = t
        .client
        .put_item()
        .table_name("missing")
        .item("id", s("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn update_item_with_expressions() {
    let t = start().await;
    create_users(&t.client, "users").await;
    let out = t
        .client
        .update_item()
        .table_name("users")
        .key("id", s("u1"))
        .update_expression("SET #n = :n, hits = if_not_exists(hits, :zero) + :one")
        .expression_attribute_names("#n", "name")
        .expression_attribute_values(":n", s("Alice"))
        .expression_attribute_values(":zero", n("0"))
        .expression_attribute_values(":one", n("1"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let attrs = out.attributes().unwrap();
    assert_eq!(attrs.get("hits"), Some(&n("1")));
    assert_eq!(attrs.get("name"), Some(&s("Alice")));

    let err = t
        .client
        .put_item()
        .table_name("users")
        .item("id", s("u1"))
        .condition_expression("attribute_not_exists(id)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ConditionalCheckFailedException"));
    assert_eq!(err.message(), Some("The conditional request failed"));
}

#[tokio::test]
async fn accounts_and_regions_are_isolated() {
    let t = start().await;
    create_users(&t.client, "shared-name").await;
    let endpoint = t.handle.endpoint();
    let other_region = client_for(&endpoint, "AKIDTEST", "eu-west-1");
    assert!(
        other_region
            .list_tables()
            .send()
            .await
            .unwrap()
            .table_names()
            .is_empty()
    );
    let other_account = client_for(&endpoint, "AKIDOTHER", "us-east-1");
    assert!(
        other_account
            .list_tables()
            .send()
            .await
            .unwrap()
            .table_names()
            .is_empty()
    );
    assert_eq!(
        t.client.list_tables().send().await.unwrap().table_names(),
        ["shared-name"]
    );
}

#[tokio::test]
async fn update_table_changes_billing_and_protection() {
    let t = start().await;
    users_table(&t.client, "protected")
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .unwrap(),
        )
        .deletion_protection_enabled(true)
        .send()
        .await
        .unwrap();
    let err = t
        .client
        .delete_table()
        .table_name("protected")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    let out = t
        .client
        .update_table()
        .table_name("protected")
        .billing_mode(BillingMode::PayPerRequest)
        .deletion_protection_enabled(false)
        .send()
        .await
        .unwrap();
    let d = out.table_description().unwrap();
    assert_eq!(d.deletion_protection_enabled(), Some(false));
    assert_eq!(
        d.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    t.client
        .delete_table()
        .table_name("protected")
        .send()
        .await
        .unwrap();
}
