//! Does a Query cost the same on a big table as on a small one? A Query reads one partition as
//! a redb key range, so its cost should grow with the B-tree's depth (logarithmically), not
//! with the table.
//!
//! `cargo bench -p ddb-engine --bench query_scaling`. Loads an in-memory table of 1,000 items
//! (10 partitions of 100) and one of 1,000,000 (10,000 partitions of 100) through
//! `batch_write_item`, then times a Query of one 100-item partition on each: the median of many
//! runs, in microseconds, and the ratio of the two. Numbers compare builds on one machine.

use std::hint::black_box;
use std::time::Instant;

use ddb_engine::{
    AttributeValue, BatchWriteItemInput, CreateTableInput, Engine, Item, Namespace, PutRequest,
    QueryInput, TableMap, WriteRequest,
};
use serde_json::json;

const PARTITION_SIZE: u64 = 100;
const RUNS: usize = 2_001;

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string().parse().expect("a number"))
}

/// Creates table `name` and fills it with `partitions` × [`PARTITION_SIZE`] items of about 100
/// bytes, 25 to a BatchWriteItem, partitions interleaved so the B-tree is built in no
/// particular key order.
fn load(engine: &Engine, ns: &Namespace, name: &str, partitions: u64) {
    let input: CreateTableInput = serde_json::from_value(json!({
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"}
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"}
        ],
        "BillingMode": "PAY_PER_REQUEST"
    }))
    .expect("create input");
    engine.create_table(ns, input).expect("create table");
    let total = partitions * PARTITION_SIZE;
    let start = Instant::now();
    let mut batch = Vec::with_capacity(25);
    for k in 0..total {
        // A permutation of the partitions (7919 is prime and does not divide them).
        let p = (k * 7919) % partitions;
        let item: Item = [
            ("pk".to_string(), AttributeValue::S(format!("p{p:06}"))),
            ("sk".to_string(), n(k / partitions)),
            ("v".to_string(), n(k)),
            ("pad".to_string(), AttributeValue::S("x".repeat(64))),
        ]
        .into();
        batch.push(WriteRequest {
            put_request: Some(PutRequest { item }),
            delete_request: None,
        });
        if batch.len() == 25 || k + 1 == total {
            let input = BatchWriteItemInput {
                request_items: TableMap(vec![(name.to_string(), std::mem::take(&mut batch))]),
                return_consumed_capacity: None,
                return_item_collection_metrics: None,
            };
            engine.batch_write_item(ns, input).expect("batch write");
        }
    }
    eprintln!(
        "loaded {total} items into {name} in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// Median microseconds of a Query of partition `p` of `table`, which must return
/// [`PARTITION_SIZE`] items.
fn time_query(engine: &Engine, ns: &Namespace, table: &str, p: u64) -> f64 {
    let input: QueryInput = serde_json::from_value(json!({
        "TableName": table,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": format!("p{p:06}")}}
    }))
    .expect("query input");
    let mut samples: Vec<f64> = (0..RUNS)
        .map(|_| {
            let query = input.clone();
            let start = Instant::now();
            let out = engine.query(ns, black_box(query)).expect("query");
            let elapsed = start.elapsed().as_secs_f64() * 1e6;
            assert_eq!(out.count, PARTITION_SIZE);
            elapsed
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[RUNS / 2]
}

fn main() {
    let engine = Engine::builder().seed(1).build().expect("engine");
    let ns = Namespace::default();
    load(&engine, &ns, "small", 10);
    load(&engine, &ns, "large", 10_000);
    // Warm both tables, then measure each twice in alternation to even out noise.
    time_query(&engine, &ns, "small", 3);
    time_query(&engine, &ns, "large", 4_321);
    let small = time_query(&engine, &ns, "small", 7).min(time_query(&engine, &ns, "small", 3));
    let large =
        time_query(&engine, &ns, "large", 9_876).min(time_query(&engine, &ns, "large", 4_321));
    println!("query of one 100-item partition, median of {RUNS} runs:");
    println!("  table of     1,000 items: {small:8.1} µs");
    println!("  table of 1,000,000 items: {large:8.1} µs");
    println!("  ratio large / small:      {:8.2}", large / small);
}
