//! What the `server` and `hot_path` benches send: the items and the DynamoDB JSON requests, so
//! that both measure the same payloads.

use hyper::http::{Request, request};
use serde_json::{Value, json};

/// A well-formed SigV4 header; `serve` parses it but verifies no signature by default.
pub const AUTH: &str = "AWS4-HMAC-SHA256 Credential=000000000000/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// The 160-character `data` attribute of item `n`: ~200 bytes per item with its key and
/// attribute names.
pub fn payload(n: u64) -> String {
    let mut s = format!("{n:016x}");
    while s.len() < 160 {
        s.push_str("-lorem-ipsum-dolor");
    }
    s.truncate(160);
    s
}

/// Item `n`: keyed `k{n}` alone, or `s{n}` in partition `p` of a table with a sort key.
pub fn item(n: u64, partition: Option<&str>) -> Value {
    match partition {
        Some(p) => {
            json!({"pk": {"S": p}, "sk": {"S": format!("s{n:08}")}, "data": {"S": payload(n)}})
        }
        None => {
            json!({"pk": {"S": format!("k{n}")}, "data": {"S": payload(n)}, "n": {"N": n.to_string()}})
        }
    }
}

/// A DynamoDB JSON 1.0 request for operation `op` to `host`, body still to be added.
pub fn dynamodb_request(host: &str, op: &str) -> request::Builder {
    Request::post("/")
        .header("host", host)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
        .header("x-amz-date", "20240101T000000Z")
        .header("authorization", AUTH)
}
