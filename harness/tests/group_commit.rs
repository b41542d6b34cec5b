//! Group commit through the server: many aws-sdk-dynamodb clients over HTTP write the same few
//! items at once, so that single-item writes queue and are committed in shared transactions
//! (`engine/src/group_commit.rs`). Every answer must be the one the writes would get one at a
//! time in some order: of the conditional puts of one key exactly one succeeds, of the deletes
//! of one key exactly one returns the old item, and of the counter updates none is lost.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType,
};
use ddb_harness::Router;
use ddb_harness::engine::Engine;

const KEYS: usize = 8;
const CLIENTS: usize = 64;

fn client(endpoint: &str) -> Client {
    Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("111122223333", "x", None, None, "test"))
            .endpoint_url(endpoint)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .build(),
    )
}

fn key(i: usize) -> AttributeValue {
    AttributeValue::S(format!("k{}", i % KEYS))
}

/// Runs `f(client i)` for each of [`CLIENTS`] clients at once and returns the results in order.
async fn all_at_once<T, F, Fut>(clients: &[Client], f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, Client) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(clients.len()));
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let barrier = Arc::clone(&barrier);
            let call = f(i, c.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                call.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[test]
fn concurrent_single_item_writes_answer_as_if_one_at_a_time() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = Engine::builder().seed(5).build().expect("engine");
        let router = Router::new(Arc::new(engine));
        let server = ddb_harness::bind("127.0.0.1:0".parse().expect("addr"), router)
            .await
            .expect("bind");
        let clients: Vec<Client> = (0..CLIENTS).map(|_| client(&server.endpoint())).collect();
        clients[0]
            .create_table()
            .table_name("items")
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key"),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("create");

        // Conditional puts: one winner per key, the others fail with AWS's error.
        let puts = all_at_once(&clients, |i, c| async move {
            c.put_item()
                .table_name("items")
                .item("id", key(i))
                .item("writer", AttributeValue::N(i.to_string()))
                .item("n", AttributeValue::N("0".into()))
                .condition_expression("attribute_not_exists(id)")
                .send()
                .await
                .map_err(|e| {
                    (
                        e.code().unwrap_or_default().to_string(),
                        e.message().unwrap_or_default().to_string(),
                    )
                })
        })
        .await;
        let mut winners = vec![Vec::new(); KEYS];
        for (i, r) in puts.iter().enumerate() {
            match r {
                Ok(_) => winners[i % KEYS].push(i),
                Err((code, message)) => {
                    assert_eq!(code, "ConditionalCheckFailedException", "put {i}");
                    assert_eq!(message, "The conditional request failed", "put {i}");
                }
            }
        }
        for (k, w) in winners.iter().enumerate() {
            assert_eq!(w.len(), 1, "key k{k}: winners {w:?}");
        }

        // Counter updates: every increment is kept.
        let updates = all_at_once(&clients, |i, c| async move {
            c.update_item()
                .table_name("items")
                .key("id", key(i))
                .update_expression("ADD n :one")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await
                .expect("update")
        })
        .await;
        // Each key's answers are 1..=CLIENTS/KEYS, each once: the increments were serialized.
        for k in 0..KEYS {
            let mut seen: Vec<u64> = updates
                .iter()
                .enumerate()
                .filter(|(i, _)| i % KEYS == k)
                .map(|(_, out)| {
                    let n = out.attributes().and_then(|a| a.get("n")).expect("n");
                    n.as_n().expect("number").parse().expect("integer")
                })
                .collect();
            seen.sort_unstable();
            let expected: Vec<u64> = (1..=(CLIENTS / KEYS) as u64).collect();
            assert_eq!(seen, expected, "key k{k}");
        }

        // Deletes returning the old item: exactly one per key finds it, with the winner's put
        // and every increment in it.
        let deletes = all_at_once(&clients, |i, c| async move {
            c.delete_item()
                .table_name("items")
                .key("id", key(i))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .expect("delete")
        })
        .await;
        for (k, winner) in winners.iter().enumerate() {
            let found: Vec<_> = deletes
                .iter()
                .enumerate()
                .filter(|(i, out)| i % KEYS == k && out.attributes().is_some())
                .map(|(_, out)| out.attributes().cloned().unwrap_or_default())
                .collect();
            assert_eq!(found.len(), 1, "key k{k}");
            let writer = winner[0].to_string();
            assert_eq!(found[0].get("writer"), Some(&AttributeValue::N(writer)));
            assert_eq!(
                found[0].get("n"),
                Some(&AttributeValue::N((CLIENTS / KEYS).to_string()))
            );
        }
        let left = clients[0]
            .scan()
            .table_name("items")
            .send()
            .await
            .expect("scan");
        assert_eq!(left.count(), 0);
        server.shutdown().await;
    });
}
