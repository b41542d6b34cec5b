//! Slow and silent clients must not starve the server: with ~50 connections that send nothing,
//! dribble partial headers (slowloris), dribble a body, send TLS or garbage, or pipeline
//! requests without reading the answers, normal requests from other connections keep being
//! answered within a few seconds.
//!
//! The server's 30 s header-read timeout eventually closes the idle connections; the test does
//! not wait for it. Everything is on 127.0.0.1 and every socket operation has a timeout.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ddb_harness::Router;
use ddb_harness::engine::Engine;

/// A normal request must be answered within this.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// How long normal traffic runs while the slow clients hold their connections (at least).
const TRAFFIC_FOR: Duration = Duration::from_secs(3);
/// Rounds of normal traffic (PutItem, ListTables, GetItem) that must be answered, however
/// long a loaded machine takes for them: the test counts answers, not requests per second.
const ROUNDS: usize = 10;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect to the server");
    s.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
    s.set_write_timeout(Some(IO_TIMEOUT))
        .expect("write timeout");
    s.set_nodelay(true).ok();
    s
}

fn request(op: &str, body: &str, keep_alive: bool) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDB_20120810.{op}\r\nX-Amz-Date: 20240101T000000Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=111122223333/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n\
         Connection: {}\r\nContent-Length: {}\r\n\r\n{body}",
        if keep_alive { "keep-alive" } else { "close" },
        body.len()
    )
    .into_bytes()
}

/// Reads one HTTP/1.1 response with a `Content-Length`; returns the status and the body.
fn read_response(s: &mut TcpStream) -> std::io::Result<(u16, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before the headers ended",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((status, buf[header_end..].to_vec()))
}

/// One normal request on a fresh connection; panics unless it is answered 200 in time.
fn normal_request(addr: SocketAddr, op: &str, body: &str) -> Duration {
    let started = Instant::now();
    let mut s = connect(addr);
    s.write_all(&request(op, body, false))
        .unwrap_or_else(|e| panic!("{op}: cannot send: {e}"));
    let (status, reply) = read_response(&mut s).unwrap_or_else(|e| panic!("{op}: no answer: {e}"));
    let elapsed = started.elapsed();
    assert_eq!(
        status,
        200,
        "{op} answered {status} {}",
        String::from_utf8_lossy(&reply)
    );
    assert!(elapsed < ANSWER_WITHIN, "{op} took {elapsed:?}");
    elapsed
}

/// What a misbehaving client does with its connection.
#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    /// Connects and sends nothing.
    Silent,
    /// Sends a request line and headers one byte at a time, never ending them.
    Slowloris,
    /// Sends complete headers announcing a 1 MB body, then dribbles the body.
    SlowBody,
    /// Sends half a request line with no newline, then nothing.
    PartialLine,
    /// Sends a TLS ClientHello to the plain HTTP port.
    Tls,
    /// Sends a request and half-closes without reading.
    HalfClose,
    /// Pipelines many requests and never reads the answers.
    NeverReads,
}

const MISBEHAVIOURS: [Misbehaviour; 7] = [
    Misbehaviour::Silent,
    Misbehaviour::Slowloris,
    Misbehaviour::SlowBody,
    Misbehaviour::PartialLine,
    Misbehaviour::Tls,
    Misbehaviour::HalfClose,
    Misbehaviour::NeverReads,
];

struct SlowClient {
    kind: Misbehaviour,
    stream: TcpStream,
    /// The bytes it still dribbles, one per tick.
    pending: Vec<u8>,
    sent: usize,
}

impl SlowClient {
    fn open(addr: SocketAddr, kind: Misbehaviour) -> SlowClient {
        let mut stream = connect(addr);
        // Writes never block the dribbler for long, even when the server stops reading.
        stream
            .set_write_timeout(Some(Duration::from_millis(200)))
            .expect("write timeout");
        let mut pending = Vec::new();
        match kind {
            Misbehaviour::Silent => {}
            Misbehaviour::Slowloris => {
                pending = b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                    .to_vec();
                pending.extend(b"X-Slow: ".iter().chain(&[b'a'; 4096]));
            }
            Misbehaviour::SlowBody => {
                let head = "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n\
                    X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000000\r\n\r\n{\"Limit\":";
                let _ = stream.write_all(head.as_bytes());
                pending = vec![b' '; 4096];
            }
            Misbehaviour::PartialLine => {
                let _ = stream.write_all(b"POST /a-very-long-path-that-never-ends");
            }
            Misbehaviour::Tls => {
                let _ = stream.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
            }
            Misbehaviour::HalfClose => {
                let _ = stream.write_all(&request("ListTables", "{}", true));
                let _ = stream.shutdown(Shutdown::Write);
            }
            Misbehaviour::NeverReads => {
                let one = request("ListTables", "{}", true);
                // About 2 MB of pipelined requests: far more answers than socket buffers hold.
                let many: Vec<u8> = one
                    .iter()
                    .copied()
                    .cycle()
                    .take(one.len() * 8_000)
                    .collect();
                pending = many;
            }
        }
        SlowClient {
            kind,
            stream,
            pending,
            sent: 0,
        }
    }

    /// Sends the next byte (or, for the pipeliner, the next chunk); errors are ignored: the
    /// server may have closed the connection, which is its right.
    fn tick(&mut self) {
        if self.sent >= self.pending.len() {
            return;
        }
        let step = match self.kind {
            Misbehaviour::NeverReads => 64 * 1024,
            _ => 1,
        };
        let end = (self.sent + step).min(self.pending.len());
        match self.stream.write(&self.pending[self.sent..end]) {
            Ok(n) => self.sent += n,
            Err(_) => self.sent = self.pending.len(),
        }
    }
}

#[test]
fn slow_and_silent_clients_do_not_starve_normal_requests() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let engine = Engine::builder().seed(1).build().expect("engine");
    let router = Router::new(Arc::new(engine));
    let server = runtime
        .block_on(ddb_harness::bind("127.0.0.1:0".parse().unwrap(), router))
        .expect("bind");
    let addr = server.local_addr();

    normal_request(
        addr,
        "CreateTable",
        r#"{"TableName":"slow","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
    );

    let clients: Vec<SlowClient> = (0..49)
        .map(|i| SlowClient::open(addr, MISBEHAVIOURS[i % MISBEHAVIOURS.len()]))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let dribbler = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut clients = clients;
            while !stop.load(Ordering::Relaxed) {
                for c in &mut clients {
                    c.tick();
                }
                thread::sleep(Duration::from_millis(50));
            }
            clients
        })
    };

    // Meanwhile: fresh connections, and one keep-alive connection reused throughout.
    let mut keep_alive = connect(addr);
    let started = Instant::now();
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    let mut n = 0;
    while n < ROUNDS || started.elapsed() < TRAFFIC_FOR {
        n += 1;
        let item =
            format!(r#"{{"TableName":"slow","Item":{{"pk":{{"S":"k{n}"}},"n":{{"N":"{n}"}}}}}}"#);
        slowest = slowest.max(normal_request(addr, "PutItem", &item));
        slowest = slowest.max(normal_request(addr, "ListTables", "{}"));
        let t = Instant::now();
        keep_alive
            .write_all(&request(
                "GetItem",
                &format!(
                    r#"{{"TableName":"slow","Key":{{"pk":{{"S":"k{n}"}}}},"ConsistentRead":true}}"#
                ),
                true,
            ))
            .expect("keep-alive write");
        let (status, body) = read_response(&mut keep_alive).expect("keep-alive answer");
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "GetItem on the keep-alive connection: {body}");
        assert!(
            body.contains(&format!(r#""N":"{n}""#)),
            "GetItem k{n}: {body}"
        );
        slowest = slowest.max(t.elapsed());
        answered += 3;
        thread::sleep(Duration::from_millis(20));
    }
    eprintln!("{answered} normal requests answered beside 49 slow clients; slowest {slowest:?}");

    stop.store(true, Ordering::Relaxed);
    let clients = dribbler.join().expect("dribbler");
    // The slow clients are still connected (the header timeout is 30 s); a server that had
    // given up would not have answered above. Close them, then stop the server in bounded time.
    drop(clients);
    drop(keep_alive);
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), server.shutdown())
            .await
            .expect("shutdown within 10 s");
    });
}

/// A client that opens many connections at once and holds them all does not stop others.
#[test]
fn a_burst_of_idle_connections_does_not_block_accepting() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let router = Router::new(Arc::new(Engine::builder().seed(2).build().expect("engine")));
    let server = runtime
        .block_on(ddb_harness::bind("127.0.0.1:0".parse().unwrap(), router))
        .expect("bind");
    let addr = server.local_addr();
    let idle: Vec<TcpStream> = (0..200).map(|_| connect(addr)).collect();
    for _ in 0..10 {
        normal_request(addr, "ListTables", "{}");
    }
    drop(idle);
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), server.shutdown())
            .await
            .expect("shutdown within 10 s");
    });
}
