//! Sending a DynamoDB JSON request to a [`Router`] without a socket.

use bytes::Bytes;
use ddb_harness::Router;
use ddb_harness::http::Request;

/// A response as the client sees it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed JSON body (`Null` when the body is not JSON).
    pub body: serde_json::Value,
}

impl Reply {
    /// The short error type of the body's `__type` (the part after `#`, e.g.
    /// `ResourceNotFoundException`), or "".
    pub fn error_type(&self) -> &str {
        let t = self
            .body
            .get("__type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        t.rsplit('#').next().unwrap_or(t)
    }
}

/// Sends `body` as operation `op` (e.g. `"PutItem"`) with a dummy SigV4 header.
pub fn call(router: &Router, op: &str, body: &serde_json::Value) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    call_raw(
        router,
        &format!("DynamoDB_20120810.{op}"),
        Bytes::from(bytes),
    )
}

/// Sends raw bytes with the given `X-Amz-Target`.
pub fn call_raw(router: &Router, target: &str, body: Bytes) -> Reply {
    let req = Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", target)
        .header("x-amz-date", "20240101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDCONFORMANCE/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        )
        .body(body);
    let Ok(req) = req else {
        return Reply {
            status: 0,
            body: serde_json::Value::Null,
        };
    };
    let resp = router.handle(req);
    Reply {
        status: resp.status().as_u16(),
        body: serde_json::from_slice(resp.body()).unwrap_or(serde_json::Value::Null),
    }
}
