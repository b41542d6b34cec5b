//! `ddb-harness proxy`: a recording proxy in front of DynamoDB (real AWS, DynamoDB Local, or
//! any endpoint speaking its JSON protocol).
//!
//! Every request is forwarded to the upstream and its response is handed back unchanged
//! (status, headers other than hop-by-hop ones, body bytes); each exchange is appended to a
//! [`Cassette`] in completion order. When the upstream is AWS
//! (`*.amazonaws.com`), requests are re-signed with SigV4 using the standard AWS credential
//! chain (environment, profile files, SSO cache, IMDS, …) and DynamoDB Streams requests go to
//! the region's `streams.dynamodb` endpoint; otherwise the client's own signature is forwarded
//! as is. Secrets never reach a cassette or a log line (see [`crate::cassette`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::http::{HeaderMap, HeaderValue, Request, Response, Uri};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cassette::{
    Body, Cassette, CassetteError, Exchange, KEPT_RESPONSE_HEADERS, RecordedRequest,
    RecordedResponse, operation_of, region_of_authorization, request_body,
};

/// The largest request or response body the proxy and the replay server accept.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Headers that describe one hop, not the message; never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// What the proxy needs to know.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The upstream endpoint, e.g. `https://dynamodb.us-east-1.amazonaws.com` or
    /// `http://127.0.0.1:8000`.
    pub upstream: String,
    /// The cassette file to write (created, or replaced).
    pub cassette: PathBuf,
    /// The region to sign for; when absent, the region of the AWS configuration or, for other
    /// upstreams, of the first request's credential scope.
    pub region: Option<String>,
    /// What the upstream is, for the cassette header (`DynamoDB Local 3.3.1`); `unknown` when
    /// not given.
    pub upstream_version: Option<String>,
}

/// Errors starting the proxy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The upstream URL is not an absolute http(s) URL.
    #[error("invalid upstream URL {0:?}: expected http://host[:port] or https://host[:port]")]
    Upstream(String),
    /// TLS roots could not be loaded.
    #[error("cannot load TLS root certificates: {0}")]
    Tls(std::io::Error),
    /// The listener could not be bound.
    #[error("cannot listen: {0}")]
    Bind(std::io::Error),
    /// The cassette could not be written.
    #[error(transparent)]
    Cassette(#[from] CassetteError),
}

pub(crate) type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Signs requests for AWS with the standard credential chain.
pub(crate) struct Signer {
    pub(crate) credentials: aws_credential_types::provider::SharedCredentialsProvider,
    pub(crate) region: String,
}

struct Shared {
    upstream: Uri,
    client: HttpsClient,
    signer: Option<Signer>,
    cassette_path: PathBuf,
    /// The cassette; the lock also serializes its writes to disk.
    cassette: Mutex<Cassette>,
}

/// A running proxy; stops on [`ProxyHandle::shutdown`] or drop.
#[derive(Debug)]
pub struct ProxyHandle {
    server: Served,
    cassette: PathBuf,
}

impl ProxyHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `http://host:port` of the proxy.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The cassette being written.
    pub fn cassette(&self) -> &Path {
        &self.cassette
    }

    /// Stops accepting, lets in-flight exchanges finish and be written.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Whether `host` is an AWS endpoint whose requests must be signed by the proxy.
pub fn is_aws_host(host: &str) -> bool {
    host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")
}

/// Starts the proxy on `addr`.
pub async fn start(config: ProxyConfig, addr: SocketAddr) -> Result<ProxyHandle, ProxyError> {
    let upstream: Uri = config
        .upstream
        .trim_end_matches('/')
        .parse()
        .map_err(|_| ProxyError::Upstream(config.upstream.clone()))?;
    let host = upstream
        .host()
        .ok_or_else(|| ProxyError::Upstream(config.upstream.clone()))?
        .to_string();
    if !matches!(upstream.scheme_str(), Some("http" | "https")) {
        return Err(ProxyError::Upstream(config.upstream.clone()));
    }
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(ProxyError::Tls)?
        .https_or_http()
        .enable_http1()
        .build();
    let client: HttpsClient = Client::builder(TokioExecutor::new()).build(connector);
    let aws = is_aws_host(&host);
    let (signer, region) = if aws {
        let signer = aws_signer(config.region.as_deref(), &host).await;
        let region = signer.region.clone();
        (Some(signer), region)
    } else {
        (None, config.region.clone().unwrap_or_default())
    };
    let version = match (&config.upstream_version, aws) {
        (Some(v), _) => v.clone(),
        (None, true) => "AWS".to_string(),
        (None, false) => "unknown".to_string(),
    };
    let cassette = Cassette::new(&config.upstream, &region, &version);
    if let Some(dir) = config
        .cassette
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| CassetteError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    cassette.save(&config.cassette)?;
    let shared = Arc::new(Shared {
        upstream,
        client,
        signer,
        cassette_path: config.cassette.clone(),
        cassette: Mutex::new(cassette),
    });
    let server = serve(addr, move |req| forward(shared.clone(), req))
        .await
        .map_err(ProxyError::Bind)?;
    Ok(ProxyHandle {
        server,
        cassette: config.cassette,
    })
}

/// The credential chain and region of the AWS configuration (`AWS_REGION`, profile, …), with
/// `region` overriding it, or the region in the upstream's host name.
pub(crate) async fn aws_signer(region: Option<&str>, host: &str) -> Signer {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await;
    let from_host = host
        .strip_prefix("dynamodb.")
        .or_else(|| host.strip_prefix("streams.dynamodb."))
        .and_then(|rest| rest.split('.').next())
        .map(str::to_string);
    let region = region
        .map(str::to_string)
        .or(from_host)
        .or_else(|| config.region().map(|r| r.to_string()))
        .unwrap_or_else(|| "us-east-1".to_string());
    let credentials = config.credentials_provider().unwrap_or_else(|| {
        aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("", "", None, None, "none"),
        )
    });
    Signer {
        credentials,
        region,
    }
}

/// An AWS-shaped error from the proxy itself (the upstream was not reached).
fn proxy_error(status: u16, type_: &str, message: &str) -> Response<Full<Bytes>> {
    let body =
        serde_json::json!({ "__type": format!("com.ddbharness#{type_}"), "message": message });
    json_response(status, &body)
}

/// A JSON response with the headers AWS sends (`x-amz-crc32` over the exact bytes).
pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    bytes_response(status, "application/x-amz-json-1.0", None, bytes)
}

/// A response with `content-type`, an optional request id and `x-amz-crc32`.
pub(crate) fn bytes_response(
    status: u16,
    content_type: &str,
    request_id: Option<&str>,
    bytes: Vec<u8>,
) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amz-crc32", crc32fast::hash(&bytes).to_string());
    if let Some(id) = request_id {
        builder = builder.header("x-amzn-RequestId", id);
    }
    builder
        .body(Full::new(Bytes::from(bytes)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn forward(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return Ok(proxy_error(
                413,
                "RequestTooLargeException",
                "The request body could not be read or exceeds 16 MiB",
            ));
        }
    };
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let streams = target.starts_with(crate::protocol::STREAMS_PREFIX);
    let mut headers = parts.headers.clone();
    HOP_BY_HOP.iter().for_each(|h| {
        headers.remove(*h);
    });
    let uri = match upstream_uri(
        &shared.upstream,
        streams && shared.signer.is_some(),
        &parts.uri,
    ) {
        Some(u) => u,
        None => {
            return Ok(proxy_error(
                400,
                "InvalidRequestException",
                "The request path cannot be forwarded",
            ));
        }
    };
    if let Some(signer) = &shared.signer
        && let Err(e) = sign(signer, &parts.method, &uri, &mut headers, &body).await
    {
        tracing::warn!(error = %e, "cannot sign the request for AWS");
        return Ok(proxy_error(
            500,
            "SigningException",
            &format!("The proxy could not sign the request: {e}"),
        ));
    }
    let mut out = Request::builder().method(parts.method.clone()).uri(uri);
    if let Some(h) = out.headers_mut() {
        *h = headers;
    }
    let Ok(out) = out.body(Full::new(body.clone())) else {
        return Ok(proxy_error(
            400,
            "InvalidRequestException",
            "The request cannot be forwarded",
        ));
    };
    let started = std::time::Instant::now();
    let resp = match shared.client.request(out).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, %target, "upstream request failed");
            return Ok(proxy_error(
                502,
                "UpstreamUnavailableException",
                &format!("The upstream {} did not answer: {e}", shared.upstream),
            ));
        }
    };
    let (rparts, rbody) = resp.into_parts();
    let rbytes = match Limited::new(rbody, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            return Ok(proxy_error(
                502,
                "UpstreamUnavailableException",
                &format!("The upstream's response could not be read: {e}"),
            ));
        }
    };
    tracing::info!(target: "ddb_harness::proxy", op = %operation_of(&target), status = rparts.status.as_u16(), micros = started.elapsed().as_micros() as u64);
    let region = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(region_of_authorization)
        .map(str::to_string);
    record(
        &shared,
        &target,
        &body,
        &rparts.headers,
        rparts.status.as_u16(),
        &rbytes,
        region,
    );
    let mut response = Response::builder().status(rparts.status);
    if let Some(h) = response.headers_mut() {
        for (name, value) in &rparts.headers {
            if !HOP_BY_HOP.contains(&name.as_str()) && name != "content-length" {
                h.append(name.clone(), value.clone());
            }
        }
    }
    Ok(response
        .body(Full::new(rbytes))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// Appends one exchange and rewrites the cassette (under the lock, so writes never interleave).
fn record(
    shared: &Shared,
    target: &str,
    body: &[u8],
    headers: &HeaderMap,
    status: u16,
    rbytes: &[u8],
    region: Option<String>,
) {
    let mut kept = serde_json::Map::new();
    for name in KEPT_RESPONSE_HEADERS {
        if let Some(v) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            kept.insert((*name).to_string(), serde_json::Value::String(v.into()));
        }
    }
    let Ok(mut cassette) = shared.cassette.lock() else {
        tracing::error!("cassette lock poisoned; exchange not recorded");
        return;
    };
    if cassette.region.is_empty()
        && let Some(r) = region
    {
        cassette.region = r;
    }
    let seq = cassette.exchanges.len() as u64 + 1;
    cassette.exchanges.push(Exchange {
        seq,
        operation: operation_of(target).to_string(),
        request: RecordedRequest {
            target: target.to_string(),
            body: request_body(body),
        },
        response: RecordedResponse {
            status,
            headers: kept,
            body: Body::from_bytes(rbytes),
        },
    });
    if let Err(e) = cassette.save(&shared.cassette_path) {
        tracing::error!(error = %e, "cannot write the cassette");
    }
}

/// The upstream URI for a request path; Streams requests to AWS go to `streams.dynamodb.*`.
fn upstream_uri(upstream: &Uri, streams_host: bool, path: &Uri) -> Option<Uri> {
    let scheme = upstream.scheme_str()?;
    let mut authority = upstream.authority()?.as_str().to_string();
    if streams_host && let Some(rest) = authority.strip_prefix("dynamodb.") {
        authority = format!("streams.dynamodb.{rest}");
    }
    let pq = path.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{scheme}://{authority}{pq}").parse().ok()
}

/// Replaces the client's signature by one made with the proxy's AWS credentials.
pub(crate) async fn sign(
    signer: &Signer,
    method: &hyper::http::Method,
    uri: &Uri,
    headers: &mut HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    use aws_credential_types::provider::ProvideCredentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    for h in [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "host",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
    ] {
        headers.remove(h);
    }
    if let Some(authority) = uri.authority()
        && let Ok(v) = HeaderValue::from_str(authority.as_str())
    {
        headers.insert("host", v);
    }
    let credentials = signer
        .credentials
        .provide_credentials()
        .await
        .map_err(|e| format!("no AWS credentials from the standard chain: {e}"))?;
    let identity = credentials.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&signer.region)
        .name("dynamodb")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
        })
        .collect();
    let uri_text = uri.to_string();
    let signable = SignableRequest::new(
        method.as_str(),
        &uri_text,
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let (new_headers, _) = instructions.into_parts();
    for header in new_headers {
        let value = HeaderValue::from_str(header.value()).map_err(|e| e.to_string())?;
        headers.insert(
            hyper::http::HeaderName::from_bytes(header.name().as_bytes())
                .map_err(|e| e.to_string())?,
            value,
        );
    }
    Ok(())
}

/// A small HTTP/1.1 server running one handler, shared by the proxy and the replay server.
#[derive(Debug)]
pub(crate) struct Served {
    pub(crate) addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl Served {
    pub(crate) async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves `handler` on `addr` in a background task.
pub(crate) async fn serve<F, Fut>(addr: SocketAddr, handler: F) -> std::io::Result<Served>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = oneshot::channel::<()>();
    let join = tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let handler = handler.clone();
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(30))
                        .serve_connection(TokioIo::new(stream), service_fn(handler));
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                _ = &mut rx => break,
            }
        }
        drop(listener);
        let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    });
    Ok(Served {
        addr,
        shutdown: Some(tx),
        join: Some(join),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_hosts_are_recognized() {
        assert!(is_aws_host("dynamodb.us-east-1.amazonaws.com"));
        assert!(!is_aws_host("127.0.0.1"));
        assert!(!is_aws_host("amazonaws.com.example.org"));
    }

    #[test]
    fn streams_requests_to_aws_go_to_the_streams_endpoint() {
        let up: Uri = "https://dynamodb.eu-west-1.amazonaws.com".parse().unwrap();
        let path: Uri = "/".parse().unwrap();
        assert_eq!(
            upstream_uri(&up, true, &path).unwrap().to_string(),
            "https://streams.dynamodb.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            upstream_uri(&up, false, &path).unwrap().to_string(),
            "https://dynamodb.eu-west-1.amazonaws.com/"
        );
    }
}
