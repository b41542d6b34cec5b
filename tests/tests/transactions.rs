//! TransactWriteItems and TransactGetItems end to end through aws-sdk-dynamodb over real HTTP:
//! the SDK parses our `CancellationReasons` and idempotency errors into its typed errors.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Get, Put, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, TransactGetItem, TransactWriteItem, Update,
};
use ddb_tests::{create_id_table, s, start};

async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    create_id_table(client, name).await;
}

fn put(table: &str, id: &str, condition: Option<&str>) -> TransactWriteItem {
    let mut p = Put::builder()
        .table_name(table)
        .item("id", s(id))
        .item("v", s("new"));
    if let Some(c) = condition {
        p = p
            .condition_expression(c)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    }
    TransactWriteItem::builder().put(p.build().unwrap()).build()
}

fn get(table: &str, id: &str) -> TransactGetItem {
    TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(table)
                .key("id", s(id))
                .build()
                .unwrap(),
        )
        .build()
}

fn increment(by: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name("users")
                .key("id", s("ctr"))
                .update_expression("ADD hits :by")
                .expression_attribute_values(":by", AttributeValue::N(by.to_string()))
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn transact_write_then_transact_get_across_tables() {
    let t = start().await;
    create_table(&t.client, "users").await;
    create_table(&t.client, "orders").await;
    let out = t
        .client
        .transact_write_items()
        .transact_items(put("users", "a", None))
        .transact_items(put("orders", "o1", Some("attribute_not_exists(id)")))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("transact write");
    let capacity: Vec<(&str, Option<f64>)> = out
        .consumed_capacity()
        .iter()
        .map(|c| (c.table_name().unwrap_or(""), c.write_capacity_units()))
        .collect();
    assert_eq!(capacity, [("users", Some(2.0)), ("orders", Some(2.0))]);

    let out = t
        .client
        .transact_get_items()
        .transact_items(get("orders", "o1"))
        .transact_items(get("users", "missing"))
        .transact_items(get("users", "a"))
        .send()
        .await
        .expect("transact get");
    let ids: Vec<Option<&str>> = out
        .responses()
        .iter()
        .map(|r| {
            r.item()
                .and_then(|i| i.get("id"))
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
        })
        .collect();
    assert_eq!(ids, [Some("o1"), None, Some("a")]);
}

#[tokio::test]
async fn cancellation_reasons_reach_the_sdk() {
    let t = start().await;
    create_table(&t.client, "users").await;
    t.client
        .transact_write_items()
        .transact_items(put("users", "a", None))
        .send()
        .await
        .expect("seed");
    let err = t
        .client
        .transact_write_items()
        .transact_items(put("users", "a", Some("attribute_not_exists(id)")))
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("users")
                        .key("id", s("b"))
                        .condition_expression("attribute_not_exists(id)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("condition fails");
    assert_eq!(
        err.message(),
        Some(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]"
        )
    );
    let TransactWriteItemsError::TransactionCanceledException(e) = err.into_service_error() else {
        panic!("expected TransactionCanceledException");
    };
    let reasons = e.cancellation_reasons();
    let codes: Vec<Option<&str>> = reasons.iter().map(|r| r.code()).collect();
    assert_eq!(codes, [Some("ConditionalCheckFailed"), Some("None")]);
    assert_eq!(reasons[0].item().and_then(|i| i.get("id")), Some(&s("a")));
}

#[tokio::test]
async fn a_client_request_token_makes_a_retry_idempotent() {
    let t = start().await;
    create_table(&t.client, "users").await;
    for _ in 0..2 {
        t.client
            .transact_write_items()
            .client_request_token("token-1")
            .transact_items(increment("1"))
            .send()
            .await
            .expect("write");
    }
    let err = t
        .client
        .transact_write_items()
        .client_request_token("token-1")
        .transact_items(increment("5"))
        .send()
        .await
        .expect_err("mismatch");
    assert!(matches!(
        err.into_service_error(),
        TransactWriteItemsError::IdempotentParameterMismatchException(_)
    ));
    let out = t
        .client
        .transact_get_items()
        .transact_items(get("users", "ctr"))
        .send()
        .await
        .expect("get");
    let hits = out.responses()[0].item().and_then(|i| i.get("hits"));
    assert_eq!(hits, Some(&AttributeValue::N("1".into())));
}
