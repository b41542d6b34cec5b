//! Contention: 32 clients, each with its own aws-sdk-dynamodb client over HTTP to a served
//! router, plus 8 in-process clients on the same router, hammer four hot counters with
//! conditional read-modify-write increments (UpdateItem with a ConditionExpression on the
//! version, retried on ConditionalCheckFailedException) and read-modify-write transactions
//! (TransactWriteItems: two conditional Updates of hot counters, a ConditionCheck of a guard
//! item and a Put into a second table; retried on TransactionCanceledException).
//!
//! The final state must equal the acknowledged successes exactly: every counter's `n` and
//! `v` equal the increments and transactions acknowledged for it, the ledger table holds one
//! item per acknowledged transaction, and nothing else was written. The SDK's own retries are
//! off (`max_attempts(1)`), so every attempt is accounted for by the test.
//!
//! `DDB_CONTENTION_ROUNDS` sets the operations per client (default 12).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, KeySchemaElement, KeyType,
    Put, ScalarAttributeType, TransactWriteItem, Update,
};
use ddb_harness::Router;
use ddb_harness::engine::Engine;

const HOT: [&str; 4] = ["c0", "c1", "c2", "c3"];
const HTTP_CLIENTS: usize = 32;
const IN_PROCESS_CLIENTS: usize = 8;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn no_retries(config: aws_sdk_dynamodb::config::Builder) -> Client {
    Client::from_conf(
        config
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .build(),
    )
}

fn http_client(endpoint: &str) -> Client {
    no_retries(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("111122223333", "x", None, None, "test"))
            .endpoint_url(endpoint)
            .http_client(aws_smithy_http_client::Builder::new().build_http()),
    )
}

fn in_process_client(router: &Router) -> Client {
    let c = ddb_harness::in_process::client(router.clone(), "111122223333", "us-east-1");
    no_retries(c.config().to_builder())
}

async fn create(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
}

/// Acknowledged successes and retries, shared by all clients.
#[derive(Default)]
struct Tally {
    /// Acknowledged increments per hot item (from either kind of operation).
    per_item: [AtomicU64; 4],
    increments: AtomicU64,
    transactions: AtomicU64,
    conditional_failures: AtomicU64,
    cancellations: AtomicU64,
}

/// The current version of a hot item (a strongly consistent read).
async fn version(client: &Client, id: &str) -> u64 {
    let out = client
        .get_item()
        .table_name("counters")
        .key("id", s(id))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    match out.item().and_then(|i| i.get("v")) {
        Some(AttributeValue::N(v)) => v.parse().expect("numeric version"),
        other => panic!("item {id} has no version: {other:?}"),
    }
}

/// UpdateItem `n + 1, v + 1` if the version is still the one read; retried until it lands.
async fn increment(client: &Client, tally: &Tally, item: usize) {
    loop {
        let v = version(client, HOT[item]).await;
        let result = client
            .update_item()
            .table_name("counters")
            .key("id", s(HOT[item]))
            .update_expression("SET n = n + :one, v = :next")
            .condition_expression("v = :seen")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":next", n(v + 1))
            .expression_attribute_values(":seen", n(v))
            .send()
            .await;
        match result {
            Ok(_) => {
                tally.per_item[item].fetch_add(1, Ordering::SeqCst);
                tally.increments.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Err(e) => {
                let e = e.into_service_error();
                assert!(
                    e.is_conditional_check_failed_exception(),
                    "UpdateItem failed otherwise: {:?} {:?}",
                    e.code(),
                    e.message()
                );
                tally.conditional_failures.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

fn conditional_bump(id: &str, seen: u64) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name("counters")
                .key("id", s(id))
                .update_expression("SET n = n + :one, v = :next")
                .condition_expression("v = :seen")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":next", n(seen + 1))
                .expression_attribute_values(":seen", n(seen))
                .build()
                .unwrap(),
        )
        .build()
}

/// One transaction over two hot items, a guard and the ledger; retried until it commits.
async fn transfer(client: &Client, tally: &Tally, a: usize, b: usize, ledger_id: String) {
    loop {
        let va = version(client, HOT[a]).await;
        let vb = version(client, HOT[b]).await;
        let result = client
            .transact_write_items()
            .transact_items(conditional_bump(HOT[a], va))
            .transact_items(conditional_bump(HOT[b], vb))
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name("counters")
                            .key("id", s("guard"))
                            .condition_expression("attribute_exists(id)")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name("ledger")
                            .item("id", s(&ledger_id))
                            .item("a", s(HOT[a]))
                            .item("b", s(HOT[b]))
                            .condition_expression("attribute_not_exists(id)")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => {
                tally.per_item[a].fetch_add(1, Ordering::SeqCst);
                tally.per_item[b].fetch_add(1, Ordering::SeqCst);
                tally.transactions.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Err(e) => {
                let e = e.into_service_error();
                assert!(
                    e.is_transaction_canceled_exception(),
                    "TransactWriteItems failed otherwise: {:?} {:?}",
                    e.code(),
                    e.message()
                );
                tally.cancellations.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// What one client does: alternating increments and transactions over the hot items.
async fn worker(client: Client, tally: Arc<Tally>, id: usize, rounds: usize) {
    for r in 0..rounds {
        let item = (id + r) % HOT.len();
        if r % 3 == 2 {
            let other = (item + 1 + r % (HOT.len() - 1)) % HOT.len();
            transfer(&client, &tally, item, other, format!("w{id}-r{r}")).await;
        } else {
            increment(&client, &tally, item).await;
        }
    }
}

async fn scan_all(client: &Client, table: &str) -> Vec<BTreeMap<String, AttributeValue>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan");
        out.extend(
            page.items()
                .iter()
                .map(|i| i.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        );
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

#[test]
fn conditional_increments_and_transactions_lose_no_update() {
    let rounds: usize = std::env::var("DDB_CONTENTION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = Engine::builder().seed(11).build().expect("engine");
        let router = Router::new(Arc::new(engine));
        let server = ddb_harness::bind("127.0.0.1:0".parse().unwrap(), router.clone())
            .await
            .expect("bind");
        let setup = http_client(&server.endpoint());
        create(&setup, "counters").await;
        create(&setup, "ledger").await;
        for id in HOT.iter().chain(["guard"].iter()) {
            setup
                .put_item()
                .table_name("counters")
                .item("id", s(id))
                .item("n", n(0))
                .item("v", n(0))
                .send()
                .await
                .expect("seed counter");
        }

        let tally = Arc::new(Tally::default());
        let started = Instant::now();
        let mut tasks = Vec::new();
        for id in 0..HTTP_CLIENTS + IN_PROCESS_CLIENTS {
            let client = if id < HTTP_CLIENTS {
                http_client(&server.endpoint())
            } else {
                in_process_client(&router)
            };
            tasks.push(tokio::spawn(worker(client, tally.clone(), id, rounds)));
        }
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(300), t)
                .await
                .expect("clients finish within 5 minutes")
                .expect("client task");
        }
        let elapsed = started.elapsed();

        // Every acknowledged success is there, exactly once.
        let counters = scan_all(&setup, "counters").await;
        let read = |item: &BTreeMap<String, AttributeValue>, name: &str| -> u64 {
            match item.get(name) {
                Some(AttributeValue::N(v)) => v.parse().unwrap(),
                other => panic!("{name}: {other:?}"),
            }
        };
        let mut total = 0;
        for (i, id) in HOT.iter().enumerate() {
            let item = counters
                .iter()
                .find(|it| it.get("id") == Some(&s(id)))
                .unwrap_or_else(|| panic!("{id} is missing"));
            let acknowledged = tally.per_item[i].load(Ordering::SeqCst);
            assert_eq!(read(item, "n"), acknowledged, "n of {id}");
            assert_eq!(read(item, "v"), acknowledged, "v of {id}");
            total += acknowledged;
        }
        assert_eq!(counters.len(), HOT.len() + 1, "no other counter items");
        let guard = counters
            .iter()
            .find(|it| it.get("id") == Some(&s("guard")))
            .expect("guard");
        assert_eq!((read(guard, "n"), read(guard, "v")), (0, 0));

        let increments = tally.increments.load(Ordering::SeqCst);
        let transactions = tally.transactions.load(Ordering::SeqCst);
        let ledger = scan_all(&setup, "ledger").await;
        assert_eq!(ledger.len() as u64, transactions, "one ledger item per transaction");
        let clients = (HTTP_CLIENTS + IN_PROCESS_CLIENTS) as u64;
        let expected_tx = clients * (rounds as u64 / 3);
        assert_eq!(transactions, expected_tx);
        assert_eq!(increments, clients * rounds as u64 - expected_tx);
        assert_eq!(total, increments + 2 * transactions);
        eprintln!(
            "contention: {} clients ({HTTP_CLIENTS} over HTTP, {IN_PROCESS_CLIENTS} in process) x {rounds} rounds in {elapsed:?}: \
             {increments} increments ({} ConditionalCheckFailed retries), \
             {transactions} transactions ({} TransactionCanceled retries); final n per item {:?}",
            clients,
            tally.conditional_failures.load(Ordering::SeqCst),
            tally.cancellations.load(Ordering::SeqCst),
            tally.per_item.iter().map(|a| a.load(Ordering::SeqCst)).collect::<Vec<_>>(),
        );
        server.shutdown().await;
    });
}
