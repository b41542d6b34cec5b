//! Query and Scan through aws-sdk-dynamodb: paginators walk complete result sets, filters,
//! projections and `Select::Count`.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, Select,
};

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

/// A table `qs_table` (pk S, sk N) with partitions `a` (40 items, sk -20..20) and `b` (5 items).
async fn setup() -> ddb_tests::TestServer {
    let server = ddb_tests::start().await;
    let c = &server.client;
    c.create_table()
        .table_name("qs_table")
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("def"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .expect("def"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    for (pk, range) in [("a", -20..20), ("b", 0..5)] {
        for i in range {
            c.put_item()
                .table_name("qs_table")
                .item("pk", s(pk))
                .item("sk", n(i))
                .item("parity", s(if i % 2 == 0 { "even" } else { "odd" }))
                .item("payload", s(&"x".repeat(10)))
                .send()
                .await
                .expect("put");
        }
    }
    server
}

fn sk_of(item: &std::collections::HashMap<String, AttributeValue>) -> i64 {
    match item.get("sk") {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(i64::MIN),
        _ => i64::MIN,
    }
}

#[tokio::test]
async fn query_paginator_walks_the_partition_in_order() {
    let server = setup().await;
    let items: Vec<_> = server
        .client
        .query()
        .table_name("qs_table")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .limit(7)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("query pages");
    let sks: Vec<i64> = items.iter().map(sk_of).collect();
    assert_eq!(sks, (-20..20).collect::<Vec<_>>());
}

#[tokio::test]
async fn reverse_query_with_range_condition_pages_backwards() {
    let server = setup().await;
    let items: Vec<_> = server
        .client
        .query()
        .table_name("qs_table")
        .key_condition_expression("pk = :p AND sk BETWEEN :lo AND :hi")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":lo", n(-5))
        .expression_attribute_values(":hi", n(5))
        .scan_index_forward(false)
        .limit(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("query pages");
    let sks: Vec<i64> = items.iter().map(sk_of).collect();
    assert_eq!(sks, (-5..=5).rev().collect::<Vec<_>>());
}

#[tokio::test]
async fn query_filter_and_projection_apply_after_the_limit() {
    let server = setup().await;
    let page = server
        .client
        .query()
        .table_name("qs_table")
        .key_condition_expression("pk = :p")
        .filter_expression("parity = :odd")
        .projection_expression("sk")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":odd", s("odd"))
        .limit(10)
        .send()
        .await
        .expect("query");
    assert_eq!(page.scanned_count(), 10);
    assert_eq!(page.count(), 5);
    for item in page.items() {
        assert_eq!(item.len(), 1, "only sk is projected: {item:?}");
        assert_eq!(sk_of(item).rem_euclid(2), 1);
    }
    assert!(page.last_evaluated_key().is_some());
}

#[tokio::test]
async fn select_count_returns_no_items() {
    let server = setup().await;
    let page = server
        .client
        .query()
        .table_name("qs_table")
        .key_condition_expression("pk = :p AND sk >= :zero")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":zero", n(0))
        .select(Select::Count)
        .send()
        .await
        .expect("query");
    assert_eq!(page.count(), 20);
    assert!(page.items.is_none());
    let scan = server
        .client
        .scan()
        .table_name("qs_table")
        .select(Select::Count)
        .filter_expression("parity = :e")
        .expression_attribute_values(":e", s("even"))
        .send()
        .await
        .expect("scan");
    assert_eq!(scan.count(), 23);
    assert_eq!(scan.scanned_count(), 45);
}

#[tokio::test]
async fn scan_paginator_and_segments_see_every_item_once() {
    let server = setup().await;
    let all: Vec<_> = server
        .client
        .scan()
        .table_name("qs_table")
        .limit(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("scan pages");
    assert_eq!(all.len(), 45);
    let mut seen = Vec::new();
    for segment in 0..3 {
        let items: Vec<_> = server
            .client
            .scan()
            .table_name("qs_table")
            .segment(segment)
            .total_segments(3)
            .limit(5)
            .projection_expression("pk, sk")
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("segment pages");
        seen.extend(
            items
                .iter()
                .map(|i| (format!("{:?}", i.get("pk")), sk_of(i))),
        );
    }
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(before, 45);
    assert_eq!(seen.len(), 45);
}

#[tokio::test]
async fn query_errors_carry_aws_messages() {
    let server = setup().await;
    let err = server
        .client
        .query()
        .table_name("qs_table")
        .key_condition_expression("sk = :v")
        .expression_attribute_values(":v", n(1))
        .send()
        .await
        .expect_err("no partition key");
    let service = err.into_service_error();
    assert_eq!(
        service.meta().message(),
        Some("Query condition missed key schema element: pk")
    );
}
