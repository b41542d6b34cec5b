//! A small order service tested against a ddb-harness fixture: an orders table with a global
//! secondary index, conditional writes, TTL expiry on a manual clock, and a stream handler that
//! keeps per-customer totals the way a Lambda function subscribed to the stream would.
//!
//! Run it with `cargo run -p ddb-harness --example orders`. In a test suite, the same code goes
//! in `#[ddb_harness::ddb_test(tables = "…", clock = "…")] async fn …(f: Fixture)`.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use ddb_harness::engine::AttributeValue as StreamValue;
use ddb_harness::{DynamoDbEvent, Fixture, StreamHandlerConfig, Target};

type Error = Box<dyn std::error::Error + Send + Sync>;

const TABLES: &str = r#"[
  {"TableName": "orders",
   "AttributeDefinitions": [
     {"AttributeName": "customer", "AttributeType": "S"},
     {"AttributeName": "order_id", "AttributeType": "S"},
     {"AttributeName": "status", "AttributeType": "S"},
     {"AttributeName": "placed_at", "AttributeType": "N"}],
   "KeySchema": [
     {"AttributeName": "customer", "KeyType": "HASH"},
     {"AttributeName": "order_id", "KeyType": "RANGE"}],
   "GlobalSecondaryIndexes": [
     {"IndexName": "by_status",
      "KeySchema": [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "placed_at", "KeyType": "RANGE"}],
      "Projection": {"ProjectionType": "ALL"}}],
   "BillingMode": "PAY_PER_REQUEST",
   "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}},
  {"TableName": "customer_totals",
   "AttributeDefinitions": [{"AttributeName": "customer", "AttributeType": "S"}],
   "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
   "BillingMode": "PAY_PER_REQUEST"}
]"#;

/// 2024-01-01T00:00:00Z, the fixture clock's start.
const T0: i64 = 1_704_067_200;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The code under test: places an order unless its id is taken; unpaid orders expire after an
/// hour.
async fn place_order(
    client: &Client,
    customer: &str,
    order_id: &str,
    cents: i64,
    now: i64,
) -> Result<bool, Error> {
    let out = client
        .put_item()
        .table_name("orders")
        .item("customer", s(customer))
        .item("order_id", s(order_id))
        .item("status", s("PENDING"))
        .item("cents", n(cents))
        .item("placed_at", n(now))
        .item("expires_at", n(now + 3600))
        .condition_expression("attribute_not_exists(order_id)")
        .send()
        .await;
    match out {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The code under test: marks a pending order paid (once) and stops its expiry.
async fn pay(client: &Client, customer: &str, order_id: &str) -> Result<bool, Error> {
    let out = client
        .update_item()
        .table_name("orders")
        .key("customer", s(customer))
        .key("order_id", s(order_id))
        .update_expression("SET #s = :paid REMOVE expires_at")
        .condition_expression("#s = :pending")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":paid", s("PAID"))
        .expression_attribute_values(":pending", s("PENDING"))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await;
    match out {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The stream handler under test: adds the amount of each newly paid order to its customer's
/// total, and counts the orders TTL expired.
fn totals_handler(
    client: Client,
) -> impl FnMut(DynamoDbEvent) -> std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>
+ Send
+ 'static {
    move |event: DynamoDbEvent| {
        let client = client.clone();
        Box::pin(async move {
            for record in event.records {
                let (old, new) = (&record.dynamodb.old_image, &record.dynamodb.new_image);
                let status = |image: &Option<ddb_harness::engine::Item>| {
                    image.as_ref().and_then(|i| i.get("status").cloned())
                };
                let Some(StreamValue::S(customer)) = record.dynamodb.keys.get("customer") else {
                    return Err("order without a customer key".into());
                };
                let mut update = client
                    .update_item()
                    .table_name("customer_totals")
                    .key("customer", s(customer));
                if record.event_name == "MODIFY"
                    && status(old) == Some(StreamValue::S("PENDING".into()))
                    && status(new) == Some(StreamValue::S("PAID".into()))
                {
                    let cents = match new.as_ref().and_then(|i| i.get("cents")) {
                        Some(StreamValue::N(c)) => c.to_string(),
                        _ => return Err("paid order without cents".into()),
                    };
                    update = update
                        .update_expression("ADD paid_cents :c, paid_orders :one")
                        .expression_attribute_values(":c", AttributeValue::N(cents));
                } else if record.event_name == "REMOVE" && record.user_identity.is_some() {
                    update = update.update_expression("ADD expired_orders :one");
                } else {
                    continue;
                }
                update
                    .expression_attribute_values(":one", n(1))
                    .send()
                    .await?;
            }
            Ok(())
        })
    }
}

async fn totals(client: &Client) -> Result<HashMap<String, HashMap<String, String>>, Error> {
    let mut out = HashMap::new();
    for item in client
        .scan()
        .table_name("customer_totals")
        .send()
        .await?
        .items()
    {
        let customer = item
            .get("customer")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        let fields = item
            .iter()
            .filter_map(|(k, v)| v.as_n().ok().map(|n| (k.clone(), n.clone())))
            .collect();
        out.insert(customer, fields);
    }
    Ok(out)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let f = Fixture::builder()
        .target(Target::Memory)
        .table_json(TABLES)
        .clock("2024-01-01T00:00:00Z")
        .seed(1)
        .build()
        .await?;
    let client = f.client();
    client
        .update_time_to_live()
        .table_name("orders")
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()?,
        )
        .send()
        .await?;
    f.on_stream_async(
        "orders",
        StreamHandlerConfig {
            batch_size: 10,
            ..StreamHandlerConfig::default()
        },
        totals_handler(client.clone()),
    )?;

    // Conditional writes: an order id is placed once, and paid once.
    assert!(place_order(client, "ada", "o-1", 1250, T0).await?);
    assert!(place_order(client, "ada", "o-2", 500, T0 + 60).await?);
    assert!(place_order(client, "grace", "o-3", 9900, T0 + 120).await?);
    assert!(
        !place_order(client, "ada", "o-1", 1, T0 + 180).await?,
        "duplicate order id"
    );
    assert!(pay(client, "ada", "o-1").await?);
    assert!(!pay(client, "ada", "o-1").await?, "paid twice");
    assert!(pay(client, "grace", "o-3").await?);

    // The GSI: paid orders, oldest first.
    let paid = client
        .query()
        .table_name("orders")
        .index_name("by_status")
        .key_condition_expression("#s = :paid")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":paid", s("PAID"))
        .send()
        .await?;
    let paid_ids: Vec<&str> = paid
        .items()
        .iter()
        .filter_map(|i| i.get("order_id").and_then(|v| v.as_s().ok()))
        .map(String::as_str)
        .collect();
    assert_eq!(paid_ids, ["o-1", "o-3"]);

    // The stream handler sees the payments.
    let report = f.drain_streams().await?;
    println!(
        "first drain: {} records in {} invocations",
        report.delivered, report.invocations
    );
    let t = totals(client).await?;
    assert_eq!(t["ada"]["paid_cents"], "1250");
    assert_eq!(t["grace"]["paid_cents"], "9900");

    // Two hours later the unpaid order o-2 has expired; TTL deletes reach the handler as
    // service-made REMOVEs.
    let expired = f.advance(Duration::from_secs(2 * 3600))?;
    assert_eq!(expired, 1);
    f.drain_streams().await?;
    let t = totals(client).await?;
    assert_eq!(t["ada"]["expired_orders"], "1");
    assert!(!t["grace"].contains_key("expired_orders"));
    assert_eq!(f.items("orders")?.len(), 2);

    println!("customer totals: {:?}", {
        let mut t: Vec<_> = t.into_iter().collect();
        t.sort_by(|a, b| a.0.cmp(&b.0));
        t
    });
    println!("orders example: all checks passed");
    Ok(())
}
