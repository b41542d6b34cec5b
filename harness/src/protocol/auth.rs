//! SigV4 `Authorization` header (or presigned query string) parsing: who is calling and in
//! which region.
//!
//! Signatures are parsed here; `sigv4::verify` checks them when the router has credentials
//! (`serve --require-sigv4`). The account comes from the access key: a 12-digit access key is
//! taken as the account id itself; any other key maps to a stable 12-digit id derived from it,
//! so different keys see different tables, as different AWS accounts would.

use bytes::Bytes;
use hyper::http::Request;

use super::WireError;

/// The caller, as named by the SigV4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id.
    pub access_key: String,
    /// The region of the credential scope.
    pub region: String,
}

impl Credentials {
    /// The account id this access key belongs to.
    pub fn account_id(&self) -> String {
        if self.access_key.len() == 12 && self.access_key.bytes().all(|b| b.is_ascii_digit()) {
            return self.access_key.clone();
        }
        // FNV-1a: stable across runs and platforms.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.access_key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{:012}", h % 1_000_000_000_000)
    }
}

/// Checks that the request carries a complete SigV4 header and extracts the caller.
pub fn check(req: &Request<Bytes>) -> Result<Credentials, WireError> {
    let query_auth = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("X-Amz-Algorithm")));
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let Some(header) = header else {
        if query_auth {
            return from_query(req.uri().query().unwrap_or(""));
        }
        return Err(WireError::coral_lower(
            "MissingAuthenticationTokenException",
            "Request is missing Authentication Token",
        ));
    };
    if query_auth {
        return Err(WireError::coral_lower(
            "InvalidSignatureException",
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        ));
    }
    let Some(params) = header.strip_prefix("AWS4-") else {
        return Err(WireError::coral_lower(
            "MissingAuthenticationTokenException",
            "Request is missing Authentication Token",
        ));
    };
    let params = params.split_once(' ').map(|(_, p)| p).unwrap_or("");
    let field = |name: &str| {
        params
            .split([',', ' '])
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let mut missing = Vec::new();
    for name in ["Credential", "Signature", "SignedHeaders"] {
        if field(name).is_none() {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let has_date = req.headers().contains_key("x-amz-date") || req.headers().contains_key("date");
    if !has_date {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        );
    }
    if !missing.is_empty() {
        return Err(WireError::coral_lower(
            "IncompleteSignatureException",
            &format!("{} Authorization={header}", missing.join(" ")),
        ));
    }
    Ok(from_credential(field("Credential").unwrap_or("")))
}

/// The caller of a presigned request, from `X-Amz-Credential`; the other parameters are
/// checked by `sigv4::verify` when signatures are verified.
fn from_query(query: &str) -> Result<Credentials, WireError> {
    let pairs = super::sigv4::query_pairs(query);
    match pairs.iter().find(|(k, _)| k == "X-Amz-Credential") {
        Some((_, credential)) => Ok(from_credential(credential)),
        None => Err(WireError::coral_lower(
            "IncompleteSignatureException",
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.",
        )),
    }
}

/// Access key and region of a credential scope `key/date/region/service/aws4_request`.
fn from_credential(credential: &str) -> Credentials {
    let mut parts = credential.split('/');
    let access_key = parts.next().unwrap_or("").to_string();
    let _date = parts.next();
    let region = parts
        .next()
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1")
        .to_string();
    Credentials { access_key, region }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(auth: Option<&str>) -> Request<Bytes> {
        let mut b = Request::builder()
            .method("POST")
            .uri("/")
            .header("x-amz-date", "20240101T000000Z");
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        b.body(Bytes::new()).unwrap()
    }

    #[test]
    fn credential_scope_gives_key_and_region() {
        let c = check(&req(Some(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc",
        )))
        .unwrap();
        assert_eq!(c.access_key, "AKIDEXAMPLE");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.account_id().len(), 12);
    }

    #[test]
    fn presigned_query_gives_key_and_region() {
        let r = Request::builder()
            .method("POST")
            .uri("/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Feu-west-2%2Fdynamodb%2Faws4_request")
            .body(Bytes::new())
            .unwrap();
        let c = check(&r).unwrap();
        assert_eq!(
            (c.access_key.as_str(), c.region.as_str()),
            ("AKID", "eu-west-2")
        );
    }

    #[test]
    fn numeric_access_key_is_the_account() {
        let c = Credentials {
            access_key: "123456789012".into(),
            region: "us-east-1".into(),
        };
        assert_eq!(c.account_id(), "123456789012");
    }

    #[test]
    fn missing_header_is_missing_token() {
        let e = check(&req(None)).unwrap_err();
        assert_eq!(
            e.type_,
            "com.amazon.coral.service#MissingAuthenticationTokenException"
        );
        assert_eq!(
            e.message.as_deref(),
            Some("Request is missing Authentication Token")
        );
    }

    #[test]
    fn incomplete_header_lists_what_is_missing() {
        let e = check(&req(Some("AWS4- Signature=b Credential=a"))).unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some(
                "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b Credential=a"
            )
        );
    }
}
