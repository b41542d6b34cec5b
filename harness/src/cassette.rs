//! Cassettes: DynamoDB and DynamoDB Streams exchanges recorded by `ddb-harness proxy`, served
//! by `ddb-harness replay` and checked against the engine by `ddb-conformance`.
//!
//! One cassette is one JSON file (one recording session), pretty-printed so that a re-recording
//! shows up in review as a readable diff:
//!
//! ```json
//! {
//!   "format": 1,
//!   "upstream": "http://127.0.0.1:18401",
//!   "region": "us-east-1",
//!   "upstream_version": "DynamoDB Local 3.3.1",
//!   "tool": "ddb-harness 0.1.0",
//!   "recorded_at": "2026-11-24T21:30:00.000Z",
//!   "exchanges": [
//!     {
//!       "seq": 1,
//!       "operation": "CreateTable",
//!       "request": { "target": "DynamoDB_20120810.CreateTable", "body": { "TableName": "t" } },
//!       "response": { "status": 200, "headers": { "content-type": "…" }, "body": { … } }
//!     }
//!   ]
//! }
//! ```
//!
//! Exchanges are numbered in completion order. Bodies are stored as JSON when they parse and as
//! a string in `body_text` otherwise. No request header other than `X-Amz-Target` is stored, so
//! `Authorization` and `X-Amz-Security-Token` never reach a cassette; body members whose names
//! look like credentials ([`SECRET_MEMBERS`]) are replaced by `"<redacted>"`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The cassette format version written by this build.
pub const FORMAT: u32 = 1;

/// Body members (case-insensitive) whose values are replaced by [`REDACTED`] before a body is
/// written or matched.
pub const SECRET_MEMBERS: &[&str] = &[
    "authorization",
    "x-amz-security-token",
    "awsaccesskeyid",
    "accesskeyid",
    "secretaccesskey",
    "secretkey",
    "sessiontoken",
    "password",
    "credentials",
];

/// What a redacted value becomes.
pub const REDACTED: &str = "<redacted>";

/// Response headers kept in a cassette (lower case); the rest are transport details.
pub const KEPT_RESPONSE_HEADERS: &[&str] = &["content-type", "x-amzn-requestid"];

/// One recorded session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cassette {
    /// Format version ([`FORMAT`]).
    pub format: u32,
    /// The endpoint the exchanges came from, as given to `--upstream`.
    pub upstream: String,
    /// The region requests were signed for.
    pub region: String,
    /// What answered: `DynamoDB Local 3.3.1`, `AWS`, or `unknown`.
    pub upstream_version: String,
    /// The recording tool and its version (`ddb-harness 0.1.0`).
    pub tool: String,
    /// When the session started (UTC, RFC 3339).
    pub recorded_at: String,
    /// The exchanges, in completion order.
    pub exchanges: Vec<Exchange>,
}

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Position in completion order, from 1.
    pub seq: u64,
    /// The operation (`PutItem`, `GetRecords`), from the target.
    pub operation: String,
    /// What the client sent.
    pub request: RecordedRequest,
    /// What the upstream answered.
    pub response: RecordedResponse,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The `X-Amz-Target` header (`DynamoDB_20120810.PutItem`).
    pub target: String,
    /// The body, redacted; JSON when it parsed.
    #[serde(flatten)]
    pub body: Body,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// The [`KEPT_RESPONSE_HEADERS`] the upstream sent.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub headers: serde_json::Map<String, Value>,
    /// The body; JSON when it parsed.
    #[serde(flatten)]
    pub body: Body,
}

/// A message body: JSON (`body`), or text that is not JSON (`body_text`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// A JSON body.
    #[serde(rename = "body")]
    Json(Value),
    /// Anything else, lossily decoded as UTF-8.
    #[serde(rename = "body_text")]
    Text(String),
}

impl Body {
    /// Reads raw bytes: JSON when they parse, text otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Body {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Body::Json(v),
            Err(_) => Body::Text(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// The bytes to send: compact JSON, or the text.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Body::Text(t) => t.as_bytes().to_vec(),
        }
    }

    /// The JSON value, or the text as a JSON string.
    pub fn as_value(&self) -> Value {
        match self {
            Body::Json(v) => v.clone(),
            Body::Text(t) => Value::String(t.clone()),
        }
    }
}

/// What went wrong reading or writing cassettes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CassetteError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not a cassette.
    #[error("{path}: not a cassette: {source}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A directory holds no cassette.
    #[error("{0}: no cassette (*.json) found")]
    Empty(PathBuf),
}

impl Cassette {
    /// A new, empty cassette.
    pub fn new(upstream: &str, region: &str, upstream_version: &str) -> Cassette {
        Cassette {
            format: FORMAT,
            upstream: upstream.to_string(),
            region: region.to_string(),
            upstream_version: upstream_version.to_string(),
            tool: format!("ddb-harness {}", env!("CARGO_PKG_VERSION")),
            recorded_at: now_rfc3339(),
            exchanges: Vec::new(),
        }
    }

    /// Reads one cassette file.
    pub fn load(path: &Path) -> Result<Cassette, CassetteError> {
        let text = std::fs::read_to_string(path).map_err(|source| CassetteError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| CassetteError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a cassette file, or every `*.json` cassette directly in a directory (sorted by
    /// name), paired with its path.
    pub fn load_all(path: &Path) -> Result<Vec<(PathBuf, Cassette)>, CassetteError> {
        if path.is_file() {
            return Ok(vec![(path.to_path_buf(), Cassette::load(path)?)]);
        }
        let entries = std::fs::read_dir(path).map_err(|source| CassetteError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(CassetteError::Empty(path.to_path_buf()));
        }
        files
            .into_iter()
            .map(|f| Cassette::load(&f).map(|c| (f, c)))
            .collect()
    }

    /// Writes the cassette, pretty-printed, through a temporary file and a rename so that a
    /// reader never sees half a cassette.
    pub fn save(&self, path: &Path) -> Result<(), CassetteError> {
        let io = |source| CassetteError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut text = serde_json::to_string_pretty(self).map_err(|e| io(e.into()))?;
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// The operation named by an `X-Amz-Target` (`DynamoDB_20120810.PutItem` → `PutItem`).
pub fn operation_of(target: &str) -> &str {
    target.rsplit('.').next().unwrap_or(target)
}

/// Replaces the values of [`SECRET_MEMBERS`] anywhere in `v` by [`REDACTED`].
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if SECRET_MEMBERS.contains(&k.to_ascii_lowercase().as_str()) {
                    *child = Value::String(REDACTED.into());
                } else {
                    redact(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A request body as stored and matched: parsed and redacted.
pub fn request_body(bytes: &[u8]) -> Body {
    match Body::from_bytes(bytes) {
        Body::Json(mut v) => {
            redact(&mut v);
            Body::Json(v)
        }
        text => text,
    }
}

/// The region of a SigV4 `Authorization` header's credential scope.
pub fn region_of_authorization(header: &str) -> Option<&str> {
    let scope = header.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    scope.split('/').nth(2)
}

/// Now, in UTC, as RFC 3339 with milliseconds.
pub fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_members_are_redacted_at_any_depth() {
        let mut v = json!({"TableName": "t", "Nested": [{"SecretAccessKey": "abc", "x": 1}],
                           "SessionToken": "tok", "ClientRequestToken": "keep"});
        redact(&mut v);
        assert_eq!(
            v,
            json!({"TableName": "t", "Nested": [{"SecretAccessKey": REDACTED, "x": 1}],
                   "SessionToken": REDACTED, "ClientRequestToken": "keep"})
        );
    }

    #[test]
    fn cassette_round_trips_through_json() {
        let mut c = Cassette::new("http://127.0.0.1:1", "us-east-1", "unknown");
        c.exchanges.push(Exchange {
            seq: 1,
            operation: "ListTables".into(),
            request: RecordedRequest {
                target: "DynamoDB_20120810.ListTables".into(),
                body: Body::Json(json!({})),
            },
            response: RecordedResponse {
                status: 200,
                headers: serde_json::Map::new(),
                body: Body::Text("not json".into()),
            },
        });
        let text = serde_json::to_string_pretty(&c).unwrap();
        assert!(text.contains("\"body_text\": \"not json\""), "{text}");
        assert_eq!(serde_json::from_str::<Cassette>(&text).unwrap(), c);
    }

    #[test]
    fn region_comes_from_the_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0";
        assert_eq!(region_of_authorization(h), Some("eu-west-1"));
        assert_eq!(region_of_authorization("Bearer x"), None);
    }

    #[test]
    fn operation_is_the_last_part_of_the_target() {
        assert_eq!(operation_of("DynamoDB_20120810.PutItem"), "PutItem");
        assert_eq!(
            operation_of("DynamoDBStreams_20120810.GetRecords"),
            "GetRecords"
        );
    }
}
