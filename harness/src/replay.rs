//! `ddb-harness replay`: serves recorded responses from cassettes (see [`crate::cassette`]).
//!
//! A request is matched by its `X-Amz-Target` and its body, parsed and redacted the way the
//! proxy stored it, compared as JSON values (member order does not matter). Each recorded
//! exchange answers once; repeated identical requests consume their recordings in order. With
//! `strict_order`, a request must match the next unused exchange in recorded order. A request
//! nothing matches gets a 400 `com.ddbharness#CassetteMissException` whose message names the
//! closest recorded request and whose `similar` member is a unified diff from it to the
//! request received.
//!
//! [`ReplayServer`] serves a [`Replayer`] on a local port and hands out an
//! `aws_sdk_dynamodb::Client` for it, so Rust tests can run offline from a cassette
//! ([`Fixture::replay`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::http::{Request, Response};
use serde_json::Value;

use crate::Fixture;
use crate::cassette::{Body, Cassette, CassetteError, Exchange, operation_of, request_body};
use crate::proxy::{MAX_BODY, Served, bytes_response, json_response, serve};

/// The `__type` of a request no recording matches.
pub const MISS_TYPE: &str = "com.ddbharness#CassetteMissException";

/// How to match requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayOptions {
    /// Requests must come in the recorded order.
    pub strict_order: bool,
}

/// Errors starting a replay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The cassettes could not be read.
    #[error(transparent)]
    Cassette(#[from] CassetteError),
    /// The listener could not be bound.
    #[error("cannot listen: {0}")]
    Bind(std::io::Error),
}

/// A recorded exchange not used by the end of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedExchange {
    /// The cassette file it comes from.
    pub cassette: String,
    /// Its sequence number there.
    pub seq: u64,
    /// Its operation.
    pub operation: String,
}

impl std::fmt::Display for UnusedExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} #{} {}", self.cassette, self.seq, self.operation)
    }
}

/// A replay's answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `content-type` to send.
    pub content_type: String,
    /// The recorded request id, if any.
    pub request_id: Option<String>,
    /// The body bytes.
    pub body: Vec<u8>,
}

struct Entry {
    cassette: String,
    exchange: Exchange,
    used: bool,
}

/// Answers requests from recorded exchanges; safe to share between threads.
pub struct Replayer {
    entries: Mutex<Vec<Entry>>,
    options: ReplayOptions,
    region: Option<String>,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Replayer {
    /// Loads a cassette file, or every cassette in a directory (in file-name order).
    pub fn load(path: &Path, options: ReplayOptions) -> Result<Replayer, CassetteError> {
        let cassettes = Cassette::load_all(path)?;
        Ok(Replayer::new(cassettes, options))
    }

    /// A replayer over cassettes already loaded, each named by its path.
    pub fn new(cassettes: Vec<(PathBuf, Cassette)>, options: ReplayOptions) -> Replayer {
        let region = cassettes
            .iter()
            .map(|(_, c)| c.region.clone())
            .find(|r| !r.is_empty());
        let mut entries = Vec::new();
        for (path, cassette) in cassettes {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            for exchange in cassette.exchanges {
                entries.push(Entry {
                    cassette: name.clone(),
                    exchange,
                    used: false,
                });
            }
        }
        Replayer {
            entries: Mutex::new(entries),
            options,
            region,
        }
    }

    /// The region the cassettes were recorded in, if they say.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Answers one request with the `X-Amz-Target` `target` and body `body`.
    pub fn answer(&self, target: &str, body: &[u8]) -> Answer {
        let received = request_body(body);
        let Ok(mut entries) = self.entries.lock() else {
            return miss(
                "The replay state is unusable after a panic".into(),
                String::new(),
            );
        };
        let found = if self.options.strict_order {
            entries.iter().position(|e| !e.used).filter(|&i| {
                let e = &entries[i];
                e.exchange.request.target == target && e.exchange.request.body == received
            })
        } else {
            entries.iter().position(|e| {
                !e.used
                    && e.exchange.request.target == target
                    && e.exchange.request.body == received
            })
        };
        if let Some(i) = found {
            let entry = &mut entries[i];
            entry.used = true;
            let response = &entry.exchange.response;
            let header = |name: &str| {
                response
                    .headers
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            return Answer {
                status: response.status,
                content_type: header("content-type")
                    .unwrap_or_else(|| "application/x-amz-json-1.0".into()),
                request_id: header("x-amzn-requestid"),
                body: response.body.to_bytes(),
            };
        }
        let op = operation_of(target);
        let received_text = pretty(target, &received);
        let closest = if self.options.strict_order {
            entries.iter().find(|e| !e.used)
        } else {
            closest(&entries, target, &received_text)
        };
        match closest {
            None => miss(
                format!(
                    "No recorded exchange matches this {op} request, and none is left to replay"
                ),
                String::new(),
            ),
            Some(e) => {
                let recorded = pretty(&e.exchange.request.target, &e.exchange.request.body);
                let diff = similar::TextDiff::from_lines(&recorded, &received_text)
                    .unified_diff()
                    .context_radius(3)
                    .header("recorded", "received")
                    .to_string();
                let what = if self.options.strict_order {
                    "the next exchange in recorded order is"
                } else {
                    "the closest recorded request is"
                };
                miss(
                    format!(
                        "No recorded exchange matches this {op} request; {what} {} #{} {}{} (diff in `similar`)",
                        e.cassette,
                        e.exchange.seq,
                        e.exchange.operation,
                        if e.used { ", already used" } else { "" }
                    ),
                    diff,
                )
            }
        }
    }

    /// The exchanges not used so far, in recorded order.
    pub fn unused(&self) -> Vec<UnusedExchange> {
        let Ok(entries) = self.entries.lock() else {
            return Vec::new();
        };
        entries
            .iter()
            .filter(|e| !e.used)
            .map(|e| UnusedExchange {
                cassette: e.cassette.clone(),
                seq: e.exchange.seq,
                operation: e.exchange.operation.clone(),
            })
            .collect()
    }
}

/// The recorded request most like the one received: same target first, unused first, then the
/// highest line similarity.
fn closest<'a>(entries: &'a [Entry], target: &str, received: &str) -> Option<&'a Entry> {
    let score = |e: &Entry| {
        let text = pretty(&e.exchange.request.target, &e.exchange.request.body);
        let ratio = similar::TextDiff::from_lines(&text, received).ratio();
        (
            e.exchange.request.target == target,
            !e.used,
            (ratio * 1_000_000.0) as u32,
        )
    };
    let mut best: Option<(&Entry, (bool, bool, u32))> = None;
    for e in entries {
        let s = score(e);
        if best.as_ref().is_none_or(|(_, b)| s > *b) {
            best = Some((e, s));
        }
    }
    best.map(|(e, _)| e)
}

fn pretty(target: &str, body: &Body) -> String {
    let v = serde_json::json!({ "target": target, "body": body.as_value() });
    let mut s = serde_json::to_string_pretty(&sorted(&v)).unwrap_or_default();
    s.push('\n');
    s
}

/// `v` with object members in name order, so that diffs ignore member order.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn miss(message: String, diff: String) -> Answer {
    let body = serde_json::json!({ "__type": MISS_TYPE, "message": message, "similar": diff });
    Answer {
        status: 400,
        content_type: "application/x-amz-json-1.0".into(),
        request_id: None,
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

/// A [`Replayer`] served over HTTP on a local port.
#[derive(Debug)]
pub struct ReplayServer {
    served: Served,
    replayer: Arc<Replayer>,
}

impl ReplayServer {
    /// Loads the cassette(s) at `path` and serves them on `addr` (port 0 picks a free port).
    pub async fn start(
        path: &Path,
        options: ReplayOptions,
        addr: SocketAddr,
    ) -> Result<ReplayServer, ReplayError> {
        let replayer = Arc::new(Replayer::load(path, options)?);
        let shared = replayer.clone();
        let served = serve(addr, move |req| handle(shared.clone(), req))
            .await
            .map_err(ReplayError::Bind)?;
        Ok(ReplayServer { served, replayer })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.served.addr
    }

    /// `http://host:port` of the server.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.served.addr)
    }

    /// The replayer behind the server.
    pub fn replayer(&self) -> &Replayer {
        &self.replayer
    }

    /// The exchanges not used so far.
    pub fn unused(&self) -> Vec<UnusedExchange> {
        self.replayer.unused()
    }

    /// An `aws_sdk_dynamodb::Client` for this server, in the cassettes' region.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let region = self.replayer.region().unwrap_or("us-east-1").to_string();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(Credentials::new(
                "replay",
                "replay",
                None,
                None,
                "ddb-harness",
            ))
            .endpoint_url(self.endpoint())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// Stops the server and returns the exchanges never used.
    pub async fn shutdown(self) -> Vec<UnusedExchange> {
        let unused = self.replayer.unused();
        self.served.shutdown().await;
        unused
    }
}

impl Fixture {
    /// Serves the cassette file, or every cassette in the directory, at `path` (any order),
    /// so a test runs offline against recorded responses: `Fixture::replay(dir).await?.client()`.
    pub async fn replay(path: impl AsRef<Path>) -> Result<ReplayServer, ReplayError> {
        ReplayServer::start(
            path.as_ref(),
            ReplayOptions::default(),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await
    }
}

async fn handle(
    replayer: Arc<Replayer>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            let body = serde_json::json!({
                "__type": "com.amazon.coral.service#SerializationException",
                "Message": "The request body could not be read or exceeds 16 MiB",
            });
            return Ok(json_response(413, &body));
        }
    };
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let answer = replayer.answer(target, &body);
    tracing::info!(target: "ddb_harness::replay", op = %operation_of(target), status = answer.status);
    Ok(bytes_response(
        answer.status,
        &answer.content_type,
        answer.request_id.as_deref(),
        answer.body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::{RecordedRequest, RecordedResponse};
    use serde_json::json;

    fn exchange(seq: u64, op: &str, req: Value, resp: Value) -> Exchange {
        Exchange {
            seq,
            operation: op.into(),
            request: RecordedRequest {
                target: format!("DynamoDB_20120810.{op}"),
                body: Body::Json(req),
            },
            response: RecordedResponse {
                status: 200,
                headers: serde_json::Map::new(),
                body: Body::Json(resp),
            },
        }
    }

    fn replayer(strict_order: bool) -> Replayer {
        let mut c = Cassette::new("http://x", "us-east-1", "unknown");
        c.exchanges = vec![
            exchange(
                1,
                "GetItem",
                json!({"TableName": "t", "Key": {"id": {"S": "a"}}}),
                json!({"n": 1}),
            ),
            exchange(
                2,
                "GetItem",
                json!({"TableName": "t", "Key": {"id": {"S": "a"}}}),
                json!({"n": 2}),
            ),
            exchange(3, "ListTables", json!({}), json!({"TableNames": ["t"]})),
        ];
        Replayer::new(
            vec![(PathBuf::from("c.json"), c)],
            ReplayOptions { strict_order },
        )
    }

    fn body(a: &Answer) -> Value {
        serde_json::from_slice(&a.body).unwrap()
    }

    #[test]
    fn identical_requests_consume_recordings_in_order_ignoring_member_order() {
        let r = replayer(false);
        let req = br#"{"Key":{"id":{"S":"a"}},"TableName":"t"}"#;
        assert_eq!(
            body(&r.answer("DynamoDB_20120810.GetItem", req)),
            json!({"n": 1})
        );
        assert_eq!(
            body(&r.answer("DynamoDB_20120810.GetItem", req)),
            json!({"n": 2})
        );
        let third = r.answer("DynamoDB_20120810.GetItem", req);
        assert_eq!(third.status, 400);
        assert!(
            body(&third)["message"]
                .as_str()
                .unwrap()
                .contains("already used")
        );
        assert_eq!(r.unused().len(), 1);
    }

    #[test]
    fn a_miss_names_the_closest_request_with_a_diff() {
        let r = replayer(false);
        let a = r.answer(
            "DynamoDB_20120810.GetItem",
            br#"{"TableName":"t","Key":{"id":{"S":"b"}}}"#,
        );
        assert_eq!(a.status, 400);
        let b = body(&a);
        assert_eq!(b["__type"], MISS_TYPE);
        assert!(
            b["message"].as_str().unwrap().contains("c.json #1 GetItem"),
            "{b}"
        );
        let diff = b["similar"].as_str().unwrap();
        assert!(
            diff.contains("-        \"S\": \"a\"") && diff.contains("+        \"S\": \"b\""),
            "{diff}"
        );
    }

    #[test]
    fn strict_order_rejects_a_request_out_of_turn() {
        let r = replayer(true);
        let a = r.answer("DynamoDB_20120810.ListTables", b"{}");
        assert_eq!(a.status, 400);
        assert!(
            body(&a)["message"]
                .as_str()
                .unwrap()
                .contains("next exchange in recorded order is c.json #1")
        );
        let relaxed = replayer(false);
        assert_eq!(
            relaxed.answer("DynamoDB_20120810.ListTables", b"{}").status,
            200
        );
    }
}
