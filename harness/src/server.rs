//! The HTTP/1.1 server: hyper on tokio, one [`Router`] behind it, within [`Limits`]:
//! a bounded number of open connections, a header-read timeout against slowloris clients,
//! the router's body cap, and a per-request timeout.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::http::{HeaderValue, Request, Response, StatusCode};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

use crate::protocol::{Router, WireError, error_response};

/// How long a client may take to send request headers before the connection is closed.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Resource limits of a server. [`Limits::default`] gives the `serve` defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most connections open at once; further clients wait in the listen backlog until
    /// one closes (default [`Limits::DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// How long one request may take from its headers to its answer: reading the body and
    /// running the operation (default [`Limits::DEFAULT_REQUEST_TIMEOUT`]). A body that is not
    /// received in time is answered with HTTP 408 `RequestTimeoutException`; an operation that
    /// runs over with HTTP 500 `InternalServerError` (the operation itself still completes or
    /// fails atomically, it is not cut off half-way).
    pub request_timeout: Duration,
}

impl Limits {
    /// Default of [`Limits::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// Default of [`Limits::request_timeout`].
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: Limits::DEFAULT_MAX_CONNECTIONS,
            request_timeout: Limits::DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` of the server.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `addr` and serves `router` on it in a background task, with the default [`Limits`].
pub async fn bind(addr: SocketAddr, router: Router) -> std::io::Result<ServerHandle> {
    bind_with_limits(addr, router, Limits::default()).await
}

/// Binds `addr` and serves `router` on it in a background task, within `limits`.
pub async fn bind_with_limits(
    addr: SocketAddr,
    router: Router,
    limits: Limits,
) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel();
    let join = tokio::spawn(accept_loop(listener, router, limits, rx));
    Ok(ServerHandle {
        addr,
        shutdown: Some(tx),
        join: Some(join),
    })
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // A connection is accepted only with a free slot; past the limit, clients wait in the
        // kernel's backlog rather than being refused.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                // Answers are one write each; don't let Nagle hold them for an ACK.
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let timeout = limits.request_timeout;
                let svc = service_fn(move |req| handle(router.clone(), timeout, req));
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain timeout");
    }
}

async fn handle(
    router: Router,
    timeout: Duration,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let deadline = tokio::time::Instant::now() + timeout;
    let engine = router.engine().clone();
    let (parts, body) = req.into_parts();
    let op = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let collected =
        tokio::time::timeout_at(deadline, Limited::new(body, router.max_body()).collect()).await;
    let Ok(collected) = collected else {
        tracing::info!(target: "ddb_harness::request", op = %op, "request body not received within the request timeout");
        let mut resp = error_response(&WireError {
            status: StatusCode::REQUEST_TIMEOUT.as_u16(),
            type_: "com.amazon.coral.service#RequestTimeoutException".into(),
            message: Some(format!(
                "The request was not received within {} seconds",
                timeout.as_secs()
            )),
            message_key: "message",
            extra: None,
        });
        resp.headers_mut().insert(
            hyper::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
        return Ok(stamped(&engine, resp));
    };
    let body = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let resp = if too_large {
                error_response(&WireError {
                    status: StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
                    type_: "com.amazon.coral.service#SerializationException".into(),
                    message: Some(format!(
                        "Request body exceeds the limit of {} bytes",
                        router.max_body()
                    )),
                    message_key: "Message",
                    extra: None,
                })
            } else {
                error_response(&WireError {
                    status: 400,
                    type_: "com.amazon.coral.service#SerializationException".into(),
                    message: Some("The request body could not be read".into()),
                    message_key: "Message",
                    extra: None,
                })
            };
            return Ok(stamped(&engine, resp));
        }
    };
    let req = Request::from_parts(parts, body);
    let started = std::time::Instant::now();
    // Injected latency sleeps in the router, so with fault rules every request takes the pool.
    let resp = if router.faults().is_none() && runs_inline(&op, req.body().len()) {
        // Single-item writes wait for the engine's group commit here, not on a blocked thread.
        router.handle_async(req).await
    } else {
        let call = tokio::time::timeout_at(
            deadline,
            tokio::task::spawn_blocking(move || router.handle(req)),
        );
        match call.await {
            Ok(Ok(resp)) => resp,
            Err(_) => {
                tracing::warn!(op = %op, "request exceeded the request timeout");
                internal_error()
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "request handler failed");
                internal_error()
            }
        }
    };
    tracing::info!(target: "ddb_harness::request", op = %op, status = resp.status().as_u16(), micros = started.elapsed().as_micros() as u64);
    Ok(stamped(&engine, resp))
}

/// AWS's InternalServerError, for a request that timed out or whose handler failed.
fn internal_error() -> Response<Bytes> {
    error_response(&WireError {
        status: 500,
        type_: "com.amazonaws.dynamodb.v20120810#InternalServerError".into(),
        message: Some("Internal server error".into()),
        message_key: "message",
        extra: None,
    })
}

/// Whether a request runs on the connection's own thread rather than the blocking pool: the
/// single-item and small-batch operations, which take microseconds, so that the hand-off to
/// another thread (most of their cost when measured) is saved. Everything that may read or
/// write a whole table (Scan, backups, restores, imports, …) goes to the blocking pool under
/// the per-request timeout.
fn runs_inline(target: &str, body_len: usize) -> bool {
    const SMALL: usize = 64 * 1024;
    let op = target.rsplit('.').next().unwrap_or(target);
    body_len <= SMALL
        && matches!(
            op,
            "GetItem"
                | "PutItem"
                | "UpdateItem"
                | "DeleteItem"
                | "BatchGetItem"
                | "TransactGetItems"
                | "DescribeTable"
                | "ListTables"
                | "GetRecords"
                | "GetShardIterator"
        )
}

/// Adds `x-amzn-RequestId` and `x-amz-crc32` to answers the router did not make (body cap,
/// timeouts), as every AWS answer carries them.
fn stamped(engine: &ddb_engine::Engine, mut resp: Response<Bytes>) -> Response<Full<Bytes>> {
    let headers = resp.headers_mut();
    if !headers.contains_key("x-amzn-requestid")
        && let Ok(v) = HeaderValue::from_str(&crate::protocol::request_id(engine))
    {
        headers.insert("x-amzn-requestid", v);
    }
    if !headers.contains_key("x-amz-crc32")
        && let Ok(v) = HeaderValue::from_str(&crc32fast::hash(resp.body()).to_string())
    {
        resp.headers_mut().insert("x-amz-crc32", v);
    }
    resp.map(Full::new)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};

    use super::*;

    const REQUEST_HEAD: &str = "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n\
        X-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: 20240101T000000Z\r\n\
        Authorization: AWS4-HMAC-SHA256 Credential=111122223333/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n";

    fn serve(limits: Limits) -> (tokio::runtime::Runtime, ServerHandle) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let engine = ddb_engine::Engine::builder().seed(1).build().unwrap();
        let router = Router::new(Arc::new(engine));
        let server = rt
            .block_on(bind_with_limits(
                "127.0.0.1:0".parse().unwrap(),
                router,
                limits,
            ))
            .unwrap();
        (rt, server)
    }

    fn connect(addr: SocketAddr, read_timeout: Duration) -> TcpStream {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(read_timeout)).unwrap();
        s
    }

    /// Sends a complete ListTables on `s` and reads the status line's code.
    fn list_tables(s: &mut TcpStream) -> std::io::Result<u16> {
        s.write_all(format!("{REQUEST_HEAD}Content-Length: 2\r\n\r\n{{}}").as_bytes())?;
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf)?;
        let text = String::from_utf8_lossy(&buf[..n]);
        Ok(text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    /// With two connections allowed and two held open, a third is not served until one of
    /// them closes; then it is.
    #[test]
    fn connections_past_the_limit_wait_for_a_free_slot() {
        let (rt, server) = serve(Limits {
            max_connections: 2,
            ..Limits::default()
        });
        let addr = server.local_addr();
        let mut a = connect(addr, Duration::from_secs(10));
        let mut b = connect(addr, Duration::from_secs(10));
        assert_eq!(list_tables(&mut a).unwrap(), 200);
        assert_eq!(list_tables(&mut b).unwrap(), 200);
        let mut c = connect(addr, Duration::from_millis(500));
        let waited = list_tables(&mut c);
        assert!(
            waited.is_err(),
            "a third connection was served past the limit: {waited:?}"
        );
        drop(a);
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 4096];
        let n = c.read(&mut buf).unwrap();
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "the waiting connection is served once a slot frees"
        );
        drop((b, c));
        rt.block_on(server.shutdown());
    }

    /// A body that never arrives is answered with 408 RequestTimeoutException once the request
    /// timeout passes, and the connection is closed.
    #[test]
    fn a_body_not_sent_in_time_is_a_request_timeout() {
        let (rt, server) = serve(Limits {
            request_timeout: Duration::from_millis(300),
            ..Limits::default()
        });
        let mut s = connect(server.local_addr(), Duration::from_secs(10));
        s.write_all(format!("{REQUEST_HEAD}Content-Length: 100\r\n\r\n{{").as_bytes())
            .unwrap();
        let started = std::time::Instant::now();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("RequestTimeoutException"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("x-amz-crc32"),
            "{answer}"
        );
        rt.block_on(server.shutdown());
    }
}
