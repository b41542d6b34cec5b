//! SearchVectors latency: an exact search scores every entry of the index, so its cost grows
//! linearly with the index.
//!
//! `cargo bench -p ddb-engine --bench vector`. Loads in-memory tables of 10,000 and 100,000
//! items with 768-dimension vectors (COSINE index, pseudo-random components), then times
//! SearchVectors with `TopK` 10: the median and the 90th percentile of several runs, in
//! milliseconds. Numbers compare builds on one machine.

use std::hint::black_box;
use std::time::Instant;

use ddb_engine::{
    AttributeValue, BatchWriteItemInput, Engine, Item, Namespace, PutRequest, SearchVectorsInput,
    TableMap, WriteRequest,
};
use serde_json::json;

const DIMS: usize = 768;

/// A deterministic pseudo-random component in [-1, 1) (xorshift64*).
fn next(state: &mut u64) -> f32 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
    (x as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

fn vector(state: &mut u64) -> AttributeValue {
    AttributeValue::L(
        (0..DIMS)
            .map(|_| {
                let f = next(state);
                AttributeValue::N(format!("{f:e}").parse().expect("a number"))
            })
            .collect(),
    )
}

fn load(engine: &Engine, ns: &Namespace, name: &str, items: usize) {
    engine
        .create_table(
            ns,
            serde_json::from_value(json!({
                "TableName": name,
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "VectorIndexes": [{
                    "IndexName": "emb-index",
                    "VectorAttribute": {"AttributeName": "emb"},
                    "Dimensions": DIMS,
                    "DistanceFunction": "COSINE",
                    "Projection": {"ProjectionType": "KEYS_ONLY"}
                }]
            }))
            .expect("input"),
        )
        .expect("create table");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for chunk in (0..items).collect::<Vec<_>>().chunks(25) {
        let requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                let mut item = Item::new();
                item.insert(
                    "id".into(),
                    AttributeValue::N(i.to_string().parse().expect("a number")),
                );
                item.insert("emb".into(), vector(&mut state));
                WriteRequest {
                    put_request: Some(PutRequest { item }),
                    delete_request: None,
                }
            })
            .collect();
        let mut map = TableMap::default();
        map.0.push((name.to_string(), requests));
        engine
            .batch_write_item(
                ns,
                BatchWriteItemInput {
                    request_items: map,
                    return_consumed_capacity: None,
                    return_item_collection_metrics: None,
                },
            )
            .expect("load");
    }
}

fn time(engine: &Engine, ns: &Namespace, name: &str, runs: usize) -> (f64, f64) {
    let mut state = 42u64;
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let query: Vec<serde_json::Value> = (0..DIMS)
            .map(|_| json!({"N": format!("{:e}", next(&mut state))}))
            .collect();
        let input: SearchVectorsInput = serde_json::from_value(json!({
            "TableName": name, "IndexName": "emb-index", "TopK": 10, "SearchVector": query
        }))
        .expect("input");
        let start = Instant::now();
        let out = engine.search_vectors(ns, input).expect("search");
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(black_box(out).search_results.len(), 10);
    }
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[ms.len() * 9 / 10])
}

fn main() {
    let engine = Engine::in_memory().expect("engine");
    let ns = Namespace::default();
    for (name, items, runs) in [("v10k", 10_000, 21), ("v100k", 100_000, 11)] {
        let start = Instant::now();
        load(&engine, &ns, name, items);
        let loaded = start.elapsed().as_secs_f64();
        let (median, p90) = time(&engine, &ns, name, runs);
        println!(
            "SearchVectors {items:>7} items x {DIMS} dims, TopK 10: median {median:.1} ms, p90 {p90:.1} ms (load {loaded:.1} s)"
        );
    }
}
