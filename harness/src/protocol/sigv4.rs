//! SigV4 signature verification for `serve --require-sigv4`.
//!
//! [`CredentialStore`] maps access key ids to secret keys; [`verify`] recomputes the signature
//! of a request exactly as the SigV4 specification describes it (canonical request over the
//! request's own `SignedHeaders`, SHA-256 of the body as the payload hash, the
//! `AWS4-HMAC-SHA256` string to sign and the derived signing key) and compares it with the one
//! the client sent, in the `Authorization` header or in the query string (presigned form).
//!
//! Errors are AWS's, with the texts DynamoDB sends (all `com.amazon.coral.service#…`, status
//! 400, member `message`):
//! - `UnrecognizedClientException`, "The security token included in the request is invalid."
//!   for an access key the store does not hold;
//! - `InvalidSignatureException`, "The request signature we calculated does not match the
//!   signature you provided. Check your AWS Secret Access Key and signing method. Consult the
//!   service documentation for details." for a wrong secret, a changed body or header;
//! - `InvalidSignatureException`, "Signature expired: 20240101T000000Z is now earlier than
//!   20240101T001000Z (20240101T001500Z - 5 min.)" (or "Signature not yet current: … is still
//!   later than … (… + 5 min.)") when the signing time is more than five minutes away from the
//!   server's clock (texts as quoted in aws-sdk-js issue #254 and many others);
//! - `InvalidSignatureException`, "Credential should be scoped to correct service: 'dynamodb'. "
//!   (trailing space included, as AWS sends it) for a credential scope of another service;
//! - `IncompleteSignatureException` for a credential or date that cannot be read, or presigned
//!   query parameters that are missing.
//!
//! The presigned form has no AWS-recorded expiry text for DynamoDB; an `X-Amz-Expires` that
//! has passed answers with the header form's "Signature expired" wording, measured from the
//! end of the validity window.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use hyper::http::Request;
use sha2::{Digest, Sha256};

use super::WireError;

/// The signing algorithm SigV4 names in requests.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service name a DynamoDB credential scope must carry (DynamoDB Streams signs with the
/// same name).
const SERVICE: &str = "dynamodb";
/// How far the signing time may be from the server's clock, in seconds (AWS: 5 minutes).
pub const MAX_CLOCK_SKEW_SECS: i64 = 5 * 60;

/// Access key ids and their secret keys, for verifying signatures.
///
/// Read from a file by [`CredentialStore::from_file`], in either of two formats:
/// - the AWS shared-credentials INI file (`~/.aws/credentials`): every section holding
///   `aws_access_key_id` and `aws_secret_access_key` adds that pair;
/// - a JSON object mapping access key ids to secret keys: `{"AKIDEXAMPLE": "secret"}`.
///
/// `Debug` never prints the secrets.
#[derive(Clone, Default)]
pub struct CredentialStore {
    secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("access_keys", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl CredentialStore {
    /// An empty store (every request is then an unrecognized client).
    pub fn new() -> Self {
        CredentialStore::default()
    }

    /// Adds (or replaces) the secret of `access_key`, builder style.
    pub fn with(mut self, access_key: impl Into<String>, secret: impl Into<String>) -> Self {
        self.insert(access_key, secret);
        self
    }

    /// Adds (or replaces) the secret of `access_key`.
    pub fn insert(&mut self, access_key: impl Into<String>, secret: impl Into<String>) {
        self.secrets.insert(access_key.into(), secret.into());
    }

    /// The number of access keys held.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether the store holds no access key.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    fn secret(&self, access_key: &str) -> Option<&str> {
        self.secrets.get(access_key).map(String::as_str)
    }

    /// Reads a credentials file (see the type's documentation for the formats).
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read credentials file {}: {e}", path.display()))?;
        CredentialStore::parse(&text)
            .map_err(|e| format!("credentials file {}: {e}", path.display()))
    }

    /// Parses the text of a credentials file: JSON when it starts with `{`, INI otherwise.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut store = CredentialStore::new();
        if text.trim_start().starts_with('{') {
            let map: BTreeMap<String, String> = serde_json::from_str(text).map_err(|e| {
                format!("expected a JSON object of access key ids to secret keys: {e}")
            })?;
            for (k, v) in map {
                store.insert(k, v);
            }
        } else {
            store.parse_ini(text)?;
        }
        if store.is_empty() {
            return Err("no credentials found".into());
        }
        if store
            .secrets
            .iter()
            .any(|(k, v)| k.is_empty() || v.is_empty())
        {
            return Err("an access key id or secret key is empty".into());
        }
        Ok(store)
    }

    fn parse_ini(&mut self, text: &str) -> Result<(), String> {
        let mut section: Option<String> = None;
        let mut key: Option<String> = None;
        let mut secret: Option<String> = None;
        let mut flush = |section: &Option<String>,
                         key: &mut Option<String>,
                         secret: &mut Option<String>|
         -> Result<(), String> {
            match (key.take(), secret.take()) {
                (Some(k), Some(s)) => {
                    self.insert(k, s);
                    Ok(())
                }
                (None, None) => Ok(()),
                _ => Err(format!(
                    "section [{}] needs both aws_access_key_id and aws_secret_access_key",
                    section.as_deref().unwrap_or("")
                )),
            }
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                flush(&section, &mut key, &mut secret)?;
                section = Some(name.trim().to_string());
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                return Err(format!("line {}: expected `name = value`", n + 1));
            };
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "aws_access_key_id" => key = Some(value),
                "aws_secret_access_key" => secret = Some(value),
                _ => {}
            }
        }
        flush(&section, &mut key, &mut secret)
    }
}

/// Verifies the SigV4 signature of `req` against `store` at `now` (seconds since the epoch).
pub fn verify(req: &Request<Bytes>, store: &CredentialStore, now: i64) -> Result<(), WireError> {
    let parts = SignatureParts::read(req)?;
    let scope: Vec<&str> = parts.credential.split('/').collect();
    let [access_key, scope_date, region, service, terminator] = scope[..] else {
        return Err(incomplete(&format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            parts.credential
        )));
    };
    if service != SERVICE {
        return Err(invalid(&format!(
            "Credential should be scoped to correct service: '{SERVICE}'. "
        )));
    }
    if terminator != "aws4_request" {
        return Err(invalid(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
        )));
    }
    let Some(time) = parse_basic(&parts.date) else {
        return Err(incomplete(&format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            parts.date
        )));
    };
    if scope_date != &parts.date[..8] {
        return Err(invalid(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{}'.",
            &parts.date[..8],
            parts.date
        )));
    }
    // The presigned form is valid until its expiry; the header form for five minutes either way.
    let latest = match parts.expires {
        Some(expires) => time.saturating_add(expires),
        None => time,
    };
    if latest < now - MAX_CLOCK_SKEW_SECS {
        return Err(invalid(&format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            format_basic(latest),
            format_basic(now - MAX_CLOCK_SKEW_SECS),
            format_basic(now)
        )));
    }
    if time > now + MAX_CLOCK_SKEW_SECS {
        return Err(invalid(&format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            parts.date,
            format_basic(now + MAX_CLOCK_SKEW_SECS),
            format_basic(now)
        )));
    }
    let Some(secret) = store.secret(access_key) else {
        return Err(WireError::coral_lower(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };
    if !parts.signed_headers.iter().any(|h| h == "host") {
        return Err(invalid(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let canonical = canonical_request(req, &parts);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope_date}/{region}/{service}/{terminator}\n{}",
        parts.date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(secret, scope_date, region, service);
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), parts.signature.as_bytes()) {
        return Err(invalid(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(())
}

fn invalid(message: &str) -> WireError {
    WireError::coral_lower("InvalidSignatureException", message)
}

fn incomplete(message: &str) -> WireError {
    WireError::coral_lower("IncompleteSignatureException", message)
}

/// What a signed request says about its signature, from either form.
#[derive(Debug)]
struct SignatureParts {
    credential: String,
    signed_headers: Vec<String>,
    signature: String,
    /// `X-Amz-Date` (or the `Date` header converted) in ISO-8601 basic format.
    date: String,
    /// `X-Amz-Expires` of the presigned form, in seconds.
    expires: Option<i64>,
    /// Whether the signature came in the query string (which is then signed without it).
    presigned: bool,
}

impl SignatureParts {
    fn read(req: &Request<Bytes>) -> Result<Self, WireError> {
        let query = query_pairs(req.uri().query().unwrap_or(""));
        let q = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        if let Some(header) = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            // `auth::check` has already made sure the header has every part.
            let rest = header.split_once(' ').map(|(_, p)| p).unwrap_or("");
            let field = |name: &str| {
                rest.split([',', ' '])
                    .map(str::trim)
                    .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                    .unwrap_or("")
                    .to_string()
            };
            let algorithm = header.split(' ').next().unwrap_or("");
            if algorithm != ALGORITHM {
                return Err(incomplete(&format!(
                    "Unsupported AWS 'algorithm': '{algorithm}'"
                )));
            }
            let date = match req
                .headers()
                .get("x-amz-date")
                .and_then(|v| v.to_str().ok())
            {
                Some(d) => d.to_string(),
                None => {
                    let raw = req
                        .headers()
                        .get("date")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    match parse_http_date(raw) {
                        Some(t) => format_basic(t),
                        None => {
                            return Err(incomplete(&format!(
                                "Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
                            )));
                        }
                    }
                }
            };
            return Ok(SignatureParts {
                credential: field("Credential"),
                signed_headers: field("SignedHeaders")
                    .split(';')
                    .map(str::to_ascii_lowercase)
                    .collect(),
                signature: field("Signature"),
                date,
                expires: None,
                presigned: false,
            });
        }
        let required = [
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Signature",
            "X-Amz-Date",
            "X-Amz-SignedHeaders",
        ];
        if required.iter().any(|name| q(name).is_none()) {
            return Err(incomplete(
                "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.",
            ));
        }
        let algorithm = q("X-Amz-Algorithm").unwrap_or_default();
        if algorithm != ALGORITHM {
            return Err(incomplete(&format!(
                "Unsupported AWS 'algorithm': '{algorithm}'"
            )));
        }
        let expires = match q("X-Amz-Expires") {
            None => None,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (0..=604_800).contains(&n) => Some(n),
                _ => {
                    return Err(incomplete(&format!(
                        "X-Amz-Expires must be a number of seconds from 0 to 604800, got '{v}'"
                    )));
                }
            },
        };
        Ok(SignatureParts {
            credential: q("X-Amz-Credential").unwrap_or_default(),
            signed_headers: q("X-Amz-SignedHeaders")
                .unwrap_or_default()
                .split(';')
                .map(str::to_ascii_lowercase)
                .collect(),
            signature: q("X-Amz-Signature").unwrap_or_default(),
            date: q("X-Amz-Date").unwrap_or_default(),
            expires,
            presigned: true,
        })
    }
}

/// The SigV4 canonical request of `req`.
fn canonical_request(req: &Request<Bytes>, parts: &SignatureParts) -> String {
    let path = req.uri().path();
    let path = if path.is_empty() { "/" } else { path };
    // Every service but S3 encodes the (already encoded) path once more.
    let canonical_uri = encode(path, true);
    let mut query: Vec<(String, String)> = query_pairs(req.uri().query().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| !(parts.presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (encode(&k, false), encode(&v, false)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in &parts.signed_headers {
        let values: Vec<String> = req
            .headers()
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{headers}\n{signed}\n{payload}",
        method = req.method().as_str(),
        signed = parts.signed_headers.join(";"),
        payload = hex::encode(Sha256::digest(req.body())),
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; an empty tag if it did
    // would simply never match.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits a raw query string into percent-decoded pairs (`a` alone is `a=`).
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex_at = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex_at(i + 1), hex_at(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// SigV4's URI encoding: unreserved characters stay, everything else is `%XX` (upper case);
/// `/` stays when `keep_slash`.
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn seconds(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let valid = (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..61).contains(&s);
    valid.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// `20240101T000000Z` → seconds since the epoch.
fn parse_basic(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    seconds(
        digits(0..4)?,
        digits(4..6)?,
        digits(6..8)?,
        digits(9..11)?,
        digits(11..13)?,
        digits(13..15)?,
    )
}

/// Seconds since the epoch → `20240101T000000Z`.
pub(super) fn format_basic(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let rem = t.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An RFC 7231 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) → seconds since the epoch.
fn parse_http_date(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let day: i64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || it.next().is_some() {
        return None;
    }
    seconds(year, month, day, h, mi, sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing key of the SigV4 documentation's worked example ("Deriving the signing
    /// key": secret `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, 20120215, us-east-1, iam).
    #[test]
    fn derives_the_published_signing_key_and_signature() {
        // From the SigV4 documentation ("Examples of how to derive a signing key").
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    fn signed(secret: &str, date: &str, body: &str) -> Request<Bytes> {
        let mut req = Request::builder()
            .method("POST")
            .uri("/")
            .header("host", "localhost:8000")
            .header("x-amz-date", date)
            .header("x-amz-target", "DynamoDB_20120810.ListTables")
            .body(Bytes::from(body.to_string()))
            .unwrap();
        let parts = SignatureParts {
            credential: format!("AKID/{}/us-east-1/dynamodb/aws4_request", &date[..8]),
            signed_headers: vec!["host".into(), "x-amz-date".into(), "x-amz-target".into()],
            signature: String::new(),
            date: date.into(),
            expires: None,
            presigned: false,
        };
        let sts = format!(
            "{ALGORITHM}\n{date}\n{}/us-east-1/dynamodb/aws4_request\n{}",
            &date[..8],
            hex::encode(Sha256::digest(canonical_request(&req, &parts)))
        );
        let sig = hex::encode(hmac(
            &signing_key(secret, &date[..8], "us-east-1", "dynamodb"),
            sts.as_bytes(),
        ));
        let auth = format!(
            "{ALGORITHM} Credential={}, SignedHeaders=host;x-amz-date;x-amz-target, Signature={sig}",
            parts.credential
        );
        req.headers_mut()
            .insert("authorization", auth.parse().unwrap());
        req
    }

    const NOW: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z

    fn store() -> CredentialStore {
        CredentialStore::new().with("AKID", "secret")
    }

    #[test]
    fn right_secret_verifies() {
        verify(&signed("secret", "20240101T000000Z", "{}"), &store(), NOW).unwrap();
    }

    #[test]
    fn wrong_secret_is_invalid_signature() {
        let e = verify(&signed("other", "20240101T000000Z", "{}"), &store(), NOW).unwrap_err();
        assert_eq!(
            e.type_,
            "com.amazon.coral.service#InvalidSignatureException"
        );
        assert!(
            e.message
                .unwrap()
                .starts_with("The request signature we calculated")
        );
    }

    #[test]
    fn changed_body_is_invalid_signature() {
        let mut req = signed("secret", "20240101T000000Z", "{}");
        *req.body_mut() = Bytes::from_static(b"{\"Limit\":1}");
        let e = verify(&req, &store(), NOW).unwrap_err();
        assert_eq!(
            e.type_,
            "com.amazon.coral.service#InvalidSignatureException"
        );
    }

    #[test]
    fn unknown_key_is_unrecognized_client() {
        let e = verify(
            &signed("secret", "20240101T000000Z", "{}"),
            &CredentialStore::new().with("OTHER", "x"),
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            e.type_,
            "com.amazon.coral.service#UnrecognizedClientException"
        );
        assert_eq!(
            e.message.as_deref(),
            Some("The security token included in the request is invalid.")
        );
    }

    #[test]
    fn clock_skew_beyond_five_minutes_is_rejected() {
        let req = signed("secret", "20240101T000000Z", "{}");
        verify(&req, &store(), NOW + 300).unwrap();
        verify(&req, &store(), NOW - 300).unwrap();
        let e = verify(&req, &store(), NOW + 600).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some(
                "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)"
            )
        );
        let e = verify(&req, &store(), NOW - 600).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some(
                "Signature not yet current: 20240101T000000Z is still later than 20231231T235500Z (20231231T235000Z + 5 min.)"
            )
        );
    }

    #[test]
    fn dates_round_trip() {
        for t in [0, NOW, 951_782_400 /* 2000-02-29 */, 4_102_444_799] {
            assert_eq!(parse_basic(&format_basic(t)), Some(t));
        }
        assert_eq!(parse_http_date("Mon, 01 Jan 2024 00:00:00 GMT"), Some(NOW));
        assert_eq!(parse_basic("2024-01-01T00:00:00Z"), None);
        assert_eq!(parse_basic("20241301T000000Z"), None);
    }

    #[test]
    fn credential_files_in_both_formats() {
        let ini = "[default]\naws_access_key_id = AKID\naws_secret_access_key = s1\n\n[other]\naws_access_key_id=K2\naws_secret_access_key=s2\nregion=eu-west-1\n";
        let s = CredentialStore::parse(ini).unwrap();
        assert_eq!(s.secret("AKID"), Some("s1"));
        assert_eq!(s.secret("K2"), Some("s2"));
        let j = CredentialStore::parse(r#"{"AKID": "s1"}"#).unwrap();
        assert_eq!(j.secret("AKID"), Some("s1"));
        assert!(CredentialStore::parse("[x]\naws_access_key_id = A\n").is_err());
        assert!(CredentialStore::parse("").is_err());
        assert!(!format!("{s:?}").contains("s1"));
    }

    #[test]
    fn query_pairs_are_decoded_and_reencoded() {
        assert_eq!(
            query_pairs("X-Amz-Credential=AKID%2F20240101%2Fus-east-1&a"),
            vec![
                ("X-Amz-Credential".into(), "AKID/20240101/us-east-1".into()),
                ("a".into(), String::new())
            ]
        );
        assert_eq!(encode("AKID/2024 x+", false), "AKID%2F2024%20x%2B");
    }
}
