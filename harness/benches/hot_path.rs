//! Where one PutItem or GetItem spends its time without a socket: the whole router
//! ([`Router::handle`]), the engine call alone, and the request decoding in front of it.
//! `cargo bench -p ddb-harness --bench hot_path` prints microseconds per operation, one thread;
//! `DDB_BENCH_OPS` sets the operations per figure (default 50000). Numbers compare builds on
//! one machine; the HTTP figures are in the `server` bench.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ddb_harness::Router;
use ddb_harness::engine::{Engine, GetItemInput, Namespace, PutItemInput};
use ddb_harness::http::Request;
use serde_json::json;

mod common;
use common::{dynamodb_request, item};

fn put_json(n: u64) -> serde_json::Value {
    json!({"TableName": "bench", "Item": item(n, None)})
}

fn get_json(n: u64) -> serde_json::Value {
    json!({"TableName": "bench", "Key": {"pk": {"S": format!("k{n}")}}})
}

fn request(op: &str, body: &serde_json::Value) -> Request<Bytes> {
    dynamodb_request("localhost", op)
        .body(Bytes::from(body.to_string()))
        .expect("request")
}

/// Nanoseconds this thread has run on a CPU (Linux), which a busy machine distorts less than
/// wall time; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Runs `f` for `ops` iterations and prints microseconds per call, wall and CPU.
fn time(label: &str, ops: u64, mut f: impl FnMut(u64)) {
    let began = Instant::now();
    let cpu = thread_cpu_ns();
    for i in 0..ops {
        f(i);
    }
    let per = began.elapsed().as_secs_f64() * 1e6 / ops as f64;
    let cpu_per = match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) => format!("{:>8.2}", b.saturating_sub(a) as f64 / 1e3 / ops as f64),
        _ => "       -".into(),
    };
    println!("{label:<44} {per:>8.2} µs/op wall {cpu_per} µs/op CPU");
}

fn main() {
    let ops = std::env::var("DDB_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000u64);
    let engine = Arc::new(Engine::in_memory().expect("engine"));
    let router = Router::new(engine.clone());
    let (status, body) = router.call_json(
        "000000000000",
        "us-east-1",
        "CreateTable",
        &json!({"TableName": "bench", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    );
    assert_eq!(status, 200, "{body}");
    let ns = Namespace::default();

    let puts: Vec<Request<Bytes>> = (0..ops).map(|n| request("PutItem", &put_json(n))).collect();
    let gets: Vec<Request<Bytes>> = (0..ops)
        .map(|n| request("GetItem", &get_json(n.wrapping_mul(7919) % ops)))
        .collect();
    let mut puts = puts.into_iter();
    let mut lat = Vec::with_capacity(ops as usize);
    time("PutItem through Router::handle", ops, |_| {
        if let Some(r) = puts.next() {
            let began = Instant::now();
            assert_eq!(router.handle(r).status(), 200);
            lat.push(began.elapsed());
        }
    });
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    println!(
        "  latency p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999)
    );
    let mut gets = gets.into_iter();
    time("GetItem through Router::handle", ops, |_| {
        if let Some(r) = gets.next() {
            assert_eq!(router.handle(r).status(), 200);
        }
    });

    let inputs: Vec<PutItemInput> = (0..ops)
        .map(|n| serde_json::from_value(put_json(ops + n)).expect("input"))
        .collect();
    let mut inputs = inputs.into_iter();
    time("PutItem, engine only (typed input)", ops, |_| {
        if let Some(i) = inputs.next() {
            engine.put_item(&ns, i).expect("put");
        }
    });
    let inputs: Vec<GetItemInput> = (0..ops)
        .map(|n| serde_json::from_value(get_json(n.wrapping_mul(7919) % ops)).expect("input"))
        .collect();
    let mut inputs = inputs.into_iter();
    time("GetItem, engine only (typed input)", ops, |_| {
        if let Some(i) = inputs.next() {
            engine.get_item(&ns, i).expect("get");
        }
    });

    let bodies: Vec<Vec<u8>> = (0..ops)
        .map(|n| put_json(n).to_string().into_bytes())
        .collect();
    time("PutItem body to serde_json::Value", ops, |i| {
        let v: serde_json::Value = serde_json::from_slice(&bodies[i as usize]).expect("json");
        std::hint::black_box(v);
    });
    time("PutItem body to Value to PutItemInput", ops, |i| {
        let v: serde_json::Value = serde_json::from_slice(&bodies[i as usize]).expect("json");
        let input: PutItemInput = serde_json::from_value(v).expect("input");
        std::hint::black_box(input);
    });
    time("PutItem body straight to PutItemInput", ops, |i| {
        let input: PutItemInput = serde_json::from_slice(&bodies[i as usize]).expect("input");
        std::hint::black_box(input);
    });
}
