//! The HTTP/1.1 server: hyper on tokio, one [`Router`] behind it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::http::{Request, Response, StatusCode};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::protocol::{Router, WireError, error_response};

/// How long a client may take to send request headers before the connection is closed.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Binds `addr` and serves `router` on it in a background task.
pub async fn bind(addr: SocketAddr, router: Router) -> std::io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel();
    let join = tokio::spawn(accept_loop(listener, router, rx));
    Ok(ServerHandle {
        addr,
        shutdown: Some(tx),
        join: Some(join),
    })
}

async fn accept_loop(listener: TcpListener, router: Router, mut shutdown: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    loop {
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
                let router = router.clone();
                let svc = service_fn(move |req| handle(router.clone(), req));
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
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
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let op = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let body = match Limited::new(body, router.max_body()).collect().await {
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
            return Ok(resp.map(Full::new));
        }
    };
    let req = Request::from_parts(parts, body);
    let started = std::time::Instant::now();
    let resp = match tokio::task::spawn_blocking(move || router.handle(req)).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = %e, "request handler failed");
            error_response(&WireError {
                status: 500,
                type_: "com.amazonaws.dynamodb.v20120810#InternalServerError".into(),
                message: Some("Internal server error".into()),
                message_key: "message",
                extra: None,
            })
        }
    };
    tracing::info!(target: "ddb_harness::request", op = %op, status = resp.status().as_u16(), micros = started.elapsed().as_micros() as u64);
    Ok(resp.map(Full::new))
}
