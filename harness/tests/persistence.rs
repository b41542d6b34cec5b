//! The real `ddb-harness serve` binary: data survives a restart, bad requests get AWS's
//! answer, and a corrupt data file is refused cleanly.
//!
//! Cargo builds the binary for this test (`CARGO_BIN_EXE_ddb-harness`).
//!
//! Requests are hand-written HTTP/1.1 over `std::net::TcpStream` with a syntactically valid,
//! unsigned SigV4 header (the server parses the header but does not verify signatures).
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// locating the binary and a scratch directory
// ---------------------------------------------------------------------------------------------

fn harness_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ddb-harness"))
}

/// A unique directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "ddb-tests-{label}-{}-{n}-{nanos}",
            std::process::id()
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

// ---------------------------------------------------------------------------------------------
// the server process
// ---------------------------------------------------------------------------------------------

/// A running `ddb-harness serve`; killed on drop if still running.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

fn serve_command(data_dir: &Path) -> Command {
    let mut cmd = Command::new(harness_bin());
    cmd.arg("serve")
        .args(["--host", "127.0.0.1", "--port", "0", "--data-dir"])
        .arg(data_dir)
        .env_remove("DDB_HARNESS_HOST")
        .env_remove("DDB_HARNESS_PORT")
        .env_remove("DDB_HARNESS_DATA_DIR")
        .env("DDB_HARNESS_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Collects a pipe into a shared string on a thread.
fn collect(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
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
    })
}

impl ServerProcess {
    fn start(data_dir: &Path) -> ServerProcess {
        let mut child = serve_command(data_dir)
            .spawn()
            .expect("cannot start ddb-harness");
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_reader = collect(child.stderr.take().unwrap(), stderr.clone());

        // The first stdout line announces the endpoint; keep draining stdout after it.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let out_reader = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            for _ in lines {}
        });

        let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "ddb-harness did not announce its endpoint ({other:?}); stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        let addr = parse_listening_line(&line);
        ServerProcess {
            child,
            addr,
            stderr,
            readers: vec![err_reader, out_reader],
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the process to exit.
    fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = wait_timeout(&mut self.child, EXIT_TIMEOUT).unwrap_or_else(|| {
            let _ = self.child.kill();
            panic!(
                "ddb-harness did not exit within {EXIT_TIMEOUT:?} of SIGTERM; stderr:\n{}",
                self.stderr()
            )
        });
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        (status, self.stderr())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ddb-harness listening on http://127.0.0.1:PORT (...)` -> the address.
fn parse_listening_line(line: &str) -> SocketAddr {
    let rest = line
        .strip_prefix("ddb-harness listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line from ddb-harness: {line:?}"));
    let addr = rest.split_whitespace().next().unwrap_or("");
    addr.parse()
        .unwrap_or_else(|e| panic!("bad address {addr:?} in {line:?}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// a tiny HTTP/1.1 client
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// POSTs `body` as DynamoDB operation `op` with an unsigned SigV4 header.
fn post_raw(addr: SocketAddr, op: &str, body: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\n\
         Host: {addr}\r\n\
         Content-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDB_20120810.{op}\r\n\
         X-Amz-Date: 20240101T000000Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-target, Signature=x\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\
         \r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream.flush().unwrap();
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("reading the response to {op}: {e}"));
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).expect("headers are UTF-8");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let mut resp = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    resp.body = if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)
    } else if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().expect("content-length");
        assert!(rest.len() >= len, "body shorter than content-length");
        rest[..len].to_vec()
    } else {
        rest.to_vec()
    };
    resp
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&data[..eol]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("chunk size");
        data = &data[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Calls `op` with a JSON body; panics unless the answer is HTTP 200.
fn call(addr: SocketAddr, op: &str, body: Value) -> Value {
    let resp = post_raw(addr, op, body.to_string().as_bytes());
    assert_eq!(resp.status, 200, "{op} {body} failed: {}", resp.text());
    resp.json()
}

// ---------------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------------

fn item(id: &str, n: i64) -> Value {
    json!({
        "pk": {"S": id},
        "sk": {"N": n.to_string()},
        "s": {"S": format!("value of {id}/{n}")},
        "b": {"B": "AAEC/w=="},
        "ss": {"SS": ["x", "y"]},
        "m": {"M": {"l": {"L": [{"N": "1"}, {"BOOL": true}, {"NULL": true}]}}}
    })
}

fn key(id: &str, n: i64) -> Value {
    json!({"pk": {"S": id}, "sk": {"N": n.to_string()}})
}

fn sorted_ss(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["SS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn data_survives_restart() {
    let dir = TempDir::new("persist");
    let table = "persisted-table";
    let other = "persisted-other";

    // First run: create tables, write items, delete one, remember the description.
    let server = ServerProcess::start(dir.path());
    let addr = server.addr;
    let created = call(
        addr,
        "CreateTable",
        json!({
            "TableName": table,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"}
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"}
            ],
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            "DeletionProtectionEnabled": true
        }),
    );
    assert_eq!(created["TableDescription"]["TableName"], table);
    call(
        addr,
        "CreateTable",
        json!({
            "TableName": other,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    );
    for n in 0..5 {
        call(
            addr,
            "PutItem",
            json!({"TableName": table, "Item": item("user", n)}),
        );
    }
    call(
        addr,
        "DeleteItem",
        json!({"TableName": table, "Key": key("user", 4)}),
    );
    call(
        addr,
        "PutItem",
        json!({"TableName": other, "Item": {"id": {"S": "only"}}}),
    );
    // A table created and dropped in the first run stays dropped.
    call(
        addr,
        "CreateTable",
        json!({
            "TableName": "persisted-dropped",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    );
    call(
        addr,
        "DeleteTable",
        json!({"TableName": "persisted-dropped"}),
    );
    let before = call(addr, "DescribeTable", json!({"TableName": table}))["Table"].clone();
    assert_eq!(before["ItemCount"], 4);

    let (status, stderr) = server.terminate();
    assert!(
        status.success(),
        "ddb-harness exited with {status} on SIGTERM; stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "ddb-harness panicked:\n{stderr}"
    );
    assert!(
        dir.path().join("ddb-harness.redb").is_file(),
        "no data file in {}",
        dir.path().display()
    );

    // Second run on the same directory.
    let server = ServerProcess::start(dir.path());
    let addr = server.addr;
    assert_ne!(addr.port(), 0);

    let listed = call(addr, "ListTables", json!({}));
    assert_eq!(
        listed["TableNames"],
        json!([other, table]),
        "tables after restart"
    );

    let after = call(addr, "DescribeTable", json!({"TableName": table}))["Table"].clone();
    for field in [
        "TableName",
        "TableArn",
        "TableId",
        "KeySchema",
        "AttributeDefinitions",
        "CreationDateTime",
        "DeletionProtectionEnabled",
        "ItemCount",
        "TableSizeBytes",
    ] {
        assert_eq!(
            after[field], before[field],
            "DescribeTable {field} changed across the restart"
        );
    }
    assert_eq!(after["TableStatus"], "ACTIVE");
    assert_eq!(after["ProvisionedThroughput"]["ReadCapacityUnits"], 3);
    assert_eq!(after["ProvisionedThroughput"]["WriteCapacityUnits"], 4);
    assert_eq!(after["DeletionProtectionEnabled"], true);

    for n in 0..4 {
        let got = call(
            addr,
            "GetItem",
            json!({"TableName": table, "Key": key("user", n), "ConsistentRead": true}),
        );
        let want = item("user", n);
        let got = &got["Item"];
        assert_eq!(got["pk"], want["pk"], "item {n}");
        assert_eq!(got["sk"], want["sk"], "item {n}");
        assert_eq!(got["s"], want["s"], "item {n}");
        assert_eq!(got["b"], want["b"], "item {n}");
        assert_eq!(sorted_ss(&got["ss"]), vec!["x", "y"], "item {n}");
        assert_eq!(got["m"], want["m"], "item {n}");
    }
    let gone = call(
        addr,
        "GetItem",
        json!({"TableName": table, "Key": key("user", 4)}),
    );
    assert!(gone.get("Item").is_none(), "deleted item came back: {gone}");
    let only = call(
        addr,
        "GetItem",
        json!({"TableName": other, "Key": {"id": {"S": "only"}}}),
    );
    assert_eq!(only["Item"], json!({"id": {"S": "only"}}));
    let dropped = post_raw(
        addr,
        "DescribeTable",
        br#"{"TableName":"persisted-dropped"}"#,
    );
    assert_eq!(dropped.status, 400, "{}", dropped.text());
    assert_eq!(
        dropped.json()["__type"],
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    );

    // Writes keep working after the restart, and deletion protection still holds.
    call(
        addr,
        "PutItem",
        json!({"TableName": table, "Item": item("user", 9)}),
    );
    assert_eq!(
        call(addr, "DescribeTable", json!({"TableName": table}))["Table"]["ItemCount"],
        5
    );
    let protected = post_raw(
        addr,
        "DeleteTable",
        json!({"TableName": table}).to_string().as_bytes(),
    );
    assert_eq!(protected.status, 400, "{}", protected.text());
    let err = protected.json();
    assert_eq!(
        err["__type"],
        "com.amazon.coral.validate#ValidationException"
    );
    assert_eq!(
        err["message"],
        "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
    );

    let (status, stderr) = server.terminate();
    assert!(
        status.success(),
        "ddb-harness exited with {status} on SIGTERM; stderr:\n{stderr}"
    );
}

#[test]
fn non_json_body_is_a_serialization_exception() {
    let dir = TempDir::new("serialization");
    let server = ServerProcess::start(dir.path());
    let addr = server.addr;

    for body in [&b"this is not json"[..], b"{\"TableName\": "] {
        let resp = post_raw(addr, "ListTables", body);
        assert_eq!(
            resp.status,
            400,
            "body {:?}: {}",
            String::from_utf8_lossy(body),
            resp.text()
        );
        assert_eq!(
            resp.json(),
            json!({"__type": "com.amazon.coral.service#SerializationException"}),
            "body {:?}",
            String::from_utf8_lossy(body)
        );
        assert!(
            resp.header("content-type")
                .is_some_and(|v| v.starts_with("application/x-amz-json-1.0")),
            "content-type: {:?}",
            resp.header("content-type")
        );
        assert!(
            resp.header("x-amzn-requestid").is_some(),
            "no x-amzn-requestid: {resp:?}"
        );
    }

    // The server still answers.
    let listed = call(addr, "ListTables", json!({}));
    assert_eq!(listed, json!({"TableNames": []}));
    let created = call(
        addr,
        "CreateTable",
        json!({
            "TableName": "after-garbage",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    );
    assert_eq!(created["TableDescription"]["TableName"], "after-garbage");

    let (status, stderr) = server.terminate();
    assert!(
        status.success(),
        "ddb-harness exited with {status}; stderr:\n{stderr}"
    );
}

#[test]
fn corrupt_data_file_is_refused_without_panic() {
    let dir = TempDir::new("corrupt");
    let file = dir.path().join("ddb-harness.redb");
    std::fs::write(
        &file,
        b"this is not a redb database, just some garbage bytes\n".repeat(100),
    )
    .expect("write garbage");

    let mut child = serve_command(dir.path())
        .spawn()
        .expect("cannot start ddb-harness");
    let stdout = collect(
        child.stdout.take().unwrap(),
        Arc::new(Mutex::new(String::new())),
    );
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let stderr = collect(child.stderr.take().unwrap(), stderr_text.clone());
    let status = wait_timeout(&mut child, EXIT_TIMEOUT).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "ddb-harness kept running on a corrupt data file; stderr:\n{}",
            stderr_text.lock().unwrap()
        )
    });
    let _ = stdout.join();
    let _ = stderr.join();
    let stderr = stderr_text.lock().unwrap().clone();

    assert!(
        !status.success(),
        "ddb-harness exited successfully on a corrupt data file; stderr:\n{stderr}"
    );
    assert_eq!(
        status.code(),
        Some(1),
        "expected exit code 1 (an error, not a signal or panic); stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "ddb-harness panicked on a corrupt data file:\n{stderr}"
    );
    assert!(
        stderr.contains("ddb-harness:") && stderr.contains("ddb-harness.redb"),
        "the error should name the data file; stderr:\n{stderr}"
    );
    // The garbage is left alone.
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"this is not a redb database, just some garbage bytes\n".repeat(100),
        "the corrupt data file was modified"
    );
}
