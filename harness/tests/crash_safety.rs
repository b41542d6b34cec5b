//! Crash safety of `ddb-harness serve --data-dir`: concurrent clients write (PutItem, UpdateItem
//! counters, TransactWriteItems over two tables, puts/updates/deletes on a table with a GSI and
//! a stream), the server is killed with SIGKILL at a random moment, restarted on the same data
//! dir, and checked:
//! - every write acknowledged (HTTP 200 received) before the kill is present;
//! - counters lie between the acknowledged and the attempted increments;
//! - no transaction is half-applied (both tables hold the same transaction ids, and the
//!   counter the transactions increment equals their number);
//! - the GSI holds exactly the table's items (Query per customer against a Scan);
//! - the stream's records, replayed in order from the trim horizon, rebuild the table exactly.
//!
//! Then clients write again and the next kill comes. `DDB_CRASH_CYCLES` sets the number of
//! kill-restart cycles (default 3, a few seconds), `DDB_CRASH_SEED` the seed of the kill times.
//!
//! A second test starts the server on damaged or foreign data dirs (a truncated data file, a
//! file of another format, a directory where the data file should be, a file where the dir
//! should be) and expects exit code 1 with a message naming the problem, never a panic.
#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const IO_TIMEOUT: Duration = Duration::from_secs(30);
const CUSTOMERS: usize = 4;

// ---------------------------------------------------------------------------------------------
// Scratch dirs and the server process.

struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "ddb-crash-{label}-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn serve_command(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ddb-harness"));
    cmd.arg("serve")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-ttl-sweep",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("DDB_HARNESS_HOST")
        .env_remove("DDB_HARNESS_PORT")
        .env_remove("DDB_HARNESS_DATA_DIR")
        .env_remove("DDB_HARNESS_REQUIRE_SIGV4")
        .env("DDB_HARNESS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn collect(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    });
}

struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let mut child = serve_command(data_dir).spawn().expect("start ddb-harness");
        let stderr = Arc::new(Mutex::new(String::new()));
        collect(child.stderr.take().unwrap(), stderr.clone());
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "ddb-harness did not start ({other:?}); stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        let addr = line
            .strip_prefix("ddb-harness listening on http://")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Server {
            child,
            addr,
            stderr,
        }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(
            !stderr.contains("panicked"),
            "the server panicked:\n{stderr}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1 JSON client: one connection per request.

/// Sends `op` (a `DynamoDB_20120810` or `DynamoDBStreams_20120810` target); `Err` when the
/// connection fails before a complete answer (the request may or may not have been applied).
fn try_call(addr: SocketAddr, target: &str, body: &Value) -> Result<(u16, Value), String> {
    let body = body.to_string();
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(IO_TIMEOUT)).ok();
    s.set_write_timeout(Some(IO_TIMEOUT)).ok();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: {target}\r\nX-Amz-Date: 20240101T000000Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=111122223333/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no complete response")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(usize::MAX))
        })
        .ok_or("no content-length")?;
    let rest = &raw[split + 4..];
    if rest.len() < len {
        return Err("truncated body".into());
    }
    let json = serde_json::from_slice(&rest[..len]).map_err(|e| e.to_string())?;
    Ok((status, json))
}

fn call(addr: SocketAddr, op: &str, body: Value) -> Value {
    let target = format!("DynamoDB_20120810.{op}");
    match try_call(addr, &target, &body) {
        Ok((200, v)) => v,
        other => panic!("{op} {body} failed: {other:?}"),
    }
}

fn streams(addr: SocketAddr, op: &str, body: Value) -> Value {
    let target = format!("DynamoDBStreams_20120810.{op}");
    match try_call(addr, &target, &body) {
        Ok((200, v)) => v,
        other => panic!("{op} {body} failed: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The workload.

fn create_tables(addr: SocketAddr) {
    let simple = |name: &str| {
        json!({"TableName": name,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"})
    };
    for name in ["puts", "counters", "tx_a", "tx_b"] {
        call(addr, "CreateTable", simple(name));
    }
    call(
        addr,
        "CreateTable",
        json!({"TableName": "orders",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                     {"AttributeName": "customer", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{"IndexName": "by_customer",
                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"},
                              {"AttributeName": "id", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}],
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "BillingMode": "PAY_PER_REQUEST"}),
    );
}

/// What the clients know: acknowledged writes and attempted ones, across all cycles.
#[derive(Default)]
struct Ledger {
    kv_acked: BTreeSet<String>,
    counter_attempts: BTreeMap<String, u64>,
    counter_acked: BTreeMap<String, u64>,
    tx_attempts: u64,
    tx_acked: BTreeSet<String>,
    /// Orders whose last attempted write was acknowledged: `Some(amount)` present, `None`
    /// deleted.
    orders_settled: BTreeMap<String, Option<u64>>,
    /// Orders with a write whose outcome is unknown (it may or may not have been applied).
    orders_unknown: BTreeSet<String>,
    requests: u64,
    unknown: u64,
}

/// Sends one write; `Some(true)` acknowledged, `Some(false)` refused with a 4xx (a bug here:
/// every write in this workload is valid), `None` unknown (the server died mid-request).
fn write(addr: SocketAddr, ledger: &Mutex<Ledger>, op: &str, body: &Value) -> Option<bool> {
    ledger.lock().unwrap().requests += 1;
    match try_call(addr, &format!("DynamoDB_20120810.{op}"), body) {
        Ok((200, _)) => Some(true),
        Ok((status, v)) => panic!("{op} {body} answered {status} {v}"),
        Err(_) => {
            ledger.lock().unwrap().unknown += 1;
            None
        }
    }
}

fn kv_writer(addr: SocketAddr, ledger: &Mutex<Ledger>, stop: &AtomicBool, tag: String) {
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let id = format!("{tag}-{i}");
        let body = json!({"TableName": "puts",
            "Item": {"id": {"S": id}, "n": {"N": i.to_string()}, "pad": {"S": "x".repeat(300)}}});
        match write(addr, ledger, "PutItem", &body) {
            Some(_) => {
                ledger.lock().unwrap().kv_acked.insert(id);
            }
            None => return,
        }
    }
}

fn counter_writer(addr: SocketAddr, ledger: &Mutex<Ledger>, stop: &AtomicBool) {
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let id = format!("c{}", i % 3);
        *ledger
            .lock()
            .unwrap()
            .counter_attempts
            .entry(id.clone())
            .or_default() += 1;
        let body = json!({"TableName": "counters", "Key": {"id": {"S": id}},
            "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}});
        match write(addr, ledger, "UpdateItem", &body) {
            Some(_) => *ledger.lock().unwrap().counter_acked.entry(id).or_default() += 1,
            None => return,
        }
    }
}

fn tx_writer(addr: SocketAddr, ledger: &Mutex<Ledger>, stop: &AtomicBool, tag: String) {
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let id = format!("{tag}-{i}");
        ledger.lock().unwrap().tx_attempts += 1;
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "tx_a", "Item": {"id": {"S": id}, "side": {"S": "a"}},
                     "ConditionExpression": "attribute_not_exists(id)"}},
            {"Put": {"TableName": "tx_b", "Item": {"id": {"S": id}, "side": {"S": "b"}}}},
            {"Update": {"TableName": "counters", "Key": {"id": {"S": "txc"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}]});
        match write(addr, ledger, "TransactWriteItems", &body) {
            Some(_) => {
                ledger.lock().unwrap().tx_acked.insert(id);
            }
            None => return,
        }
    }
}

fn orders_writer(addr: SocketAddr, ledger: &Mutex<Ledger>, stop: &AtomicBool, tag: String) {
    let mut mine: Vec<String> = Vec::new();
    for i in 0u64.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let (id, body, op, outcome) = if i % 5 == 4 && !mine.is_empty() {
            let id = mine.remove((i as usize * 7) % mine.len());
            let body = json!({"TableName": "orders", "Key": {"id": {"S": id}}});
            (id, body, "DeleteItem", None)
        } else if i % 3 == 2 && !mine.is_empty() {
            let id = mine[(i as usize * 3) % mine.len()].clone();
            let body = json!({"TableName": "orders", "Key": {"id": {"S": id}},
                "UpdateExpression": "SET amount = :a, note = :n",
                "ExpressionAttributeValues": {":a": {"N": i.to_string()}, ":n": {"S": format!("update {i}")}}});
            (id, body, "UpdateItem", Some(i))
        } else {
            let id = format!("{tag}-{i}");
            mine.push(id.clone());
            let body = json!({"TableName": "orders", "Item": {"id": {"S": id},
                "customer": {"S": format!("cu{}", i as usize % CUSTOMERS)},
                "amount": {"N": i.to_string()}}});
            (id, body, "PutItem", Some(i))
        };
        let result = write(addr, ledger, op, &body);
        let mut l = ledger.lock().unwrap();
        match result {
            Some(_) if !l.orders_unknown.contains(&id) => {
                l.orders_settled.insert(id, outcome);
            }
            Some(_) => {}
            None => {
                l.orders_settled.remove(&id);
                l.orders_unknown.insert(id);
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checking the restarted server.

fn scan(addr: SocketAddr, table: &str, index: Option<&str>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut body = json!({"TableName": table, "ConsistentRead": index.is_none()});
        if let Some(i) = index {
            body["IndexName"] = json!(i);
        }
        if let Some(s) = start.take() {
            body["ExclusiveStartKey"] = s;
        }
        let page = call(addr, "Scan", body);
        out.extend(page["Items"].as_array().cloned().unwrap_or_default());
        match page.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

fn query_customer(addr: SocketAddr, customer: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut body = json!({"TableName": "orders", "IndexName": "by_customer",
            "KeyConditionExpression": "customer = :c",
            "ExpressionAttributeValues": {":c": {"S": customer}}});
        if let Some(s) = start.take() {
            body["ExclusiveStartKey"] = s;
        }
        let page = call(addr, "Query", body);
        out.extend(page["Items"].as_array().cloned().unwrap_or_default());
        match page.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

fn id_of(item: &Value) -> String {
    item["id"]["S"].as_str().expect("id").to_string()
}

fn by_id(items: Vec<Value>) -> BTreeMap<String, Value> {
    items.into_iter().map(|i| (id_of(&i), i)).collect()
}

fn number(item: &Value, name: &str) -> u64 {
    item[name]["N"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name} of {item}"))
}

/// Every stream record of `orders`, all shards, in sequence-number order.
fn stream_records(addr: SocketAddr) -> Vec<Value> {
    let table = call(addr, "DescribeTable", json!({"TableName": "orders"}));
    let arn = table["Table"]["LatestStreamArn"]
        .as_str()
        .expect("stream arn")
        .to_string();
    let mut shards = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let mut body = json!({"StreamArn": arn});
        if let Some(s) = start.take() {
            body["ExclusiveStartShardId"] = json!(s);
        }
        let d = streams(addr, "DescribeStream", body);
        for s in d["StreamDescription"]["Shards"].as_array().unwrap() {
            shards.push(s["ShardId"].as_str().unwrap().to_string());
        }
        match d["StreamDescription"]["LastEvaluatedShardId"].as_str() {
            Some(s) => start = Some(s.to_string()),
            None => break,
        }
    }
    let mut records = Vec::new();
    for shard in shards {
        let it = streams(
            addr,
            "GetShardIterator",
            json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
        );
        let mut iterator = it["ShardIterator"].as_str().map(str::to_string);
        while let Some(i) = iterator.take() {
            let page = streams(
                addr,
                "GetRecords",
                json!({"ShardIterator": i, "Limit": 1000}),
            );
            let got = page["Records"].as_array().cloned().unwrap_or_default();
            if got.is_empty() {
                break;
            }
            records.extend(got);
            iterator = page["NextShardIterator"].as_str().map(str::to_string);
        }
    }
    let seq = |r: &Value| -> u128 {
        r["dynamodb"]["SequenceNumber"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("sequence number")
    };
    records.sort_by_key(seq);
    records
}

fn verify(addr: SocketAddr, ledger: &Ledger, cycle: usize) {
    let ctx = format!("after kill {cycle}");
    // Acknowledged puts survive.
    let kv: BTreeSet<String> = scan(addr, "puts", None).iter().map(id_of).collect();
    let lost: Vec<&String> = ledger.kv_acked.difference(&kv).collect();
    assert!(
        lost.is_empty(),
        "{ctx}: {} acknowledged PutItems lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );

    // Counters: every acknowledged increment, and no more than were attempted.
    let counters = by_id(scan(addr, "counters", None));
    for (id, attempts) in &ledger.counter_attempts {
        let acked = ledger.counter_acked.get(id).copied().unwrap_or(0);
        let n = counters.get(id).map(|c| number(c, "n")).unwrap_or(0);
        assert!(
            acked <= n && n <= *attempts,
            "{ctx}: counter {id} = {n}, acknowledged {acked}, attempted {attempts}"
        );
    }

    // Transactions: all or nothing.
    let a: BTreeSet<String> = scan(addr, "tx_a", None).iter().map(id_of).collect();
    let b: BTreeSet<String> = scan(addr, "tx_b", None).iter().map(id_of).collect();
    assert_eq!(a, b, "{ctx}: a transaction is half-applied");
    let txc = counters.get("txc").map(|c| number(c, "n")).unwrap_or(0);
    assert_eq!(
        txc,
        a.len() as u64,
        "{ctx}: the transactions' counter disagrees with their puts"
    );
    let lost: Vec<&String> = ledger.tx_acked.difference(&a).collect();
    assert!(
        lost.is_empty(),
        "{ctx}: acknowledged transactions lost: {lost:?}"
    );
    assert!(a.len() as u64 <= ledger.tx_attempts);

    // Orders: acknowledged state, GSI = table, stream replay = table.
    let orders = by_id(scan(addr, "orders", None));
    for (id, expected) in &ledger.orders_settled {
        match expected {
            Some(amount) => {
                let item = orders
                    .get(id)
                    .unwrap_or_else(|| panic!("{ctx}: order {id} lost"));
                assert_eq!(number(item, "amount"), *amount, "{ctx}: order {id}");
            }
            None => assert!(
                !orders.contains_key(id),
                "{ctx}: deleted order {id} is back"
            ),
        }
    }
    let mut indexed = BTreeMap::new();
    for c in 0..CUSTOMERS {
        for item in query_customer(addr, &format!("cu{c}")) {
            assert!(
                indexed.insert(id_of(&item), item).is_none(),
                "{ctx}: an order is indexed twice"
            );
        }
    }
    assert_eq!(indexed, orders, "{ctx}: the GSI disagrees with the table");
    assert_eq!(
        by_id(scan(addr, "orders", Some("by_customer"))),
        orders,
        "{ctx}: GSI scan"
    );
    let mut replayed: BTreeMap<String, Value> = BTreeMap::new();
    let records = stream_records(addr);
    for r in &records {
        let id = r["dynamodb"]["Keys"]["id"]["S"]
            .as_str()
            .expect("key")
            .to_string();
        match r["eventName"].as_str() {
            Some("INSERT") | Some("MODIFY") => {
                replayed.insert(id, r["dynamodb"]["NewImage"].clone());
            }
            Some("REMOVE") => {
                assert!(
                    replayed.remove(&id).is_some(),
                    "{ctx}: REMOVE of an order never inserted"
                );
            }
            other => panic!("{ctx}: event {other:?}"),
        }
    }
    assert_eq!(
        replayed,
        orders,
        "{ctx}: the stream ({} records) does not rebuild the table",
        records.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Tests.

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_write() {
    let cycles = env_u64("DDB_CRASH_CYCLES", 3) as usize;
    let mut rng = Rng(env_u64("DDB_CRASH_SEED", 0x5eed_c0de) | 1);
    let dir = TempDir::new("sigkill");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut server = Server::start(dir.path());
    create_tables(server.addr);
    let started = Instant::now();
    for cycle in 1..=cycles {
        let addr = server.addr;
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        let spawn = |f: Box<dyn FnOnce() + Send>| std::thread::spawn(f);
        for w in 0..2 {
            let (l, s) = (ledger.clone(), stop.clone());
            writers.push(spawn(Box::new(move || {
                kv_writer(addr, &l, &s, format!("k{cycle}-{w}"))
            })));
            let (l, s) = (ledger.clone(), stop.clone());
            writers.push(spawn(Box::new(move || {
                tx_writer(addr, &l, &s, format!("t{cycle}-{w}"))
            })));
            let (l, s) = (ledger.clone(), stop.clone());
            writers.push(spawn(Box::new(move || {
                orders_writer(addr, &l, &s, format!("o{cycle}-{w}"))
            })));
        }
        let (l, s) = (ledger.clone(), stop.clone());
        writers.push(spawn(Box::new(move || counter_writer(addr, &l, &s))));

        std::thread::sleep(Duration::from_millis(150 + rng.below(900)));
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().expect("writer thread");
        }
        server = Server::start(dir.path());
        let l = ledger.lock().unwrap();
        verify(server.addr, &l, cycle);
    }
    let l = ledger.lock().unwrap();
    eprintln!(
        "crash safety: {cycles} SIGKILL/restart cycles in {:?}: {} write requests, {} cut off by the kill; \
         verified {} acknowledged PutItems, {} counter increments, {} transactions, {} settled orders",
        started.elapsed(),
        l.requests,
        l.unknown,
        l.kv_acked.len(),
        l.counter_acked.values().sum::<u64>(),
        l.tx_acked.len(),
        l.orders_settled.len(),
    );
    drop(l);
    server.kill();
}

/// Starts the server on `dir` and expects a clean refusal: exit code 1, a `ddb-harness:` line
/// containing `expect`, no panic.
#[track_caller]
fn refuses(dir: &Path, expect: &str) {
    let mut child = serve_command(dir).spawn().expect("start ddb-harness");
    let stderr = Arc::new(Mutex::new(String::new()));
    collect(child.stderr.take().unwrap(), stderr.clone());
    collect(
        child.stdout.take().unwrap(),
        Arc::new(Mutex::new(String::new())),
    );
    let started = Instant::now();
    let status: ExitStatus = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ddb-harness kept running on {}; stderr:\n{}",
                dir.display(),
                stderr.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(50));
    let stderr = stderr.lock().unwrap().clone();
    assert_eq!(
        status.code(),
        Some(1),
        "{}: {status}; stderr:\n{stderr}",
        dir.display()
    );
    assert!(
        !stderr.contains("panicked"),
        "panic on {}:\n{stderr}",
        dir.display()
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("ddb-harness:") && l.contains(expect)),
        "{}: expected an error line containing {expect:?}; stderr:\n{stderr}",
        dir.display()
    );
}

#[test]
fn damaged_or_foreign_data_dirs_are_refused_cleanly() {
    // A real data file cut in half, as a full disk or a bad copy would leave it.
    let real = TempDir::new("real");
    let server = Server::start(real.path());
    create_tables(server.addr);
    for i in 0..200 {
        call(
            server.addr,
            "PutItem",
            json!({"TableName": "puts",
            "Item": {"id": {"S": format!("k{i}")}, "pad": {"S": "y".repeat(2000)}}}),
        );
    }
    server.kill();
    let data = std::fs::read(real.path().join("ddb-harness.redb")).expect("data file");
    let truncated = TempDir::new("truncated");
    std::fs::write(
        truncated.path().join("ddb-harness.redb"),
        &data[..data.len() / 2],
    )
    .unwrap();
    refuses(truncated.path(), "ddb-harness.redb");

    // Another program's file (an SQLite header) under our name.
    let foreign = TempDir::new("foreign");
    let mut sqlite = b"SQLite format 3\0".to_vec();
    sqlite.resize(8192, 0);
    std::fs::write(foreign.path().join("ddb-harness.redb"), &sqlite).unwrap();
    refuses(foreign.path(), "ddb-harness.redb");

    // A directory where the data file should be.
    let dir_in_place = TempDir::new("dir-in-place");
    std::fs::create_dir(dir_in_place.path().join("ddb-harness.redb")).unwrap();
    refuses(dir_in_place.path(), "ddb-harness.redb");

    // A regular file given as the data dir.
    let holder = TempDir::new("file-as-dir");
    let file = holder.path().join("not-a-dir");
    std::fs::write(&file, b"hello").unwrap();
    refuses(&file, "not-a-dir");
}
