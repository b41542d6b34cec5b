//! The DynamoDB JSON 1.0 protocol: from an HTTP request to an engine call and back.
//!
//! [`Router::handle`] is the entry point of the in-process client and of the server's blocking
//! pool; [`Router::handle_async`], the same with single-item writes left to the engine's group
//! commit, is the server's for quick operations. Neither panics on input: every failure becomes
//! an AWS-shaped error response, produced in one place ([`error_response`]).

mod auth;
pub mod pattern;
mod sigv4;
pub mod validate;

use std::sync::Arc;

use bytes::Bytes;
use ddb_engine::{Engine, Error as EngineError, Namespace};
use hyper::http::{self, HeaderValue, Method, Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::faults::Faults;
pub use auth::Credentials;
pub use sigv4::{CredentialStore, MAX_CLOCK_SKEW_SECS};
use validate::{ServiceModel, Violation};

/// The largest request body accepted (DynamoDB's own cap is 16 MB for batch requests).
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// The AWS JSON protocol target prefix of DynamoDB.
pub const DYNAMODB_PREFIX: &str = "DynamoDB_20120810.";
/// The AWS JSON protocol target prefix of DynamoDB Streams.
pub const STREAMS_PREFIX: &str = "DynamoDBStreams_20120810.";

/// An AWS error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// HTTP status.
    pub status: u16,
    /// Full `__type`, e.g. `com.amazon.coral.validate#ValidationException`.
    pub type_: String,
    /// Message; `None` for errors AWS sends without one.
    pub message: Option<String>,
    /// `message` or `Message`: AWS uses both, depending on the error.
    pub message_key: &'static str,
    /// Extra JSON members (e.g. `Item` of a conditional check failure).
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl WireError {
    fn coral(name: &str, message: Option<String>) -> Self {
        WireError {
            status: 400,
            type_: format!("com.amazon.coral.service#{name}"),
            message,
            message_key: "Message",
            extra: None,
        }
    }

    fn coral_lower(name: &str, message: &str) -> Self {
        WireError {
            message_key: "message",
            ..WireError::coral(name, Some(message.to_string()))
        }
    }

    fn unknown_operation() -> Self {
        WireError::coral("UnknownOperationException", None)
    }
}

impl From<EngineError> for WireError {
    fn from(e: EngineError) -> Self {
        let name = e.aws_type();
        let (status, namespace, key) = match &e {
            EngineError::Validation(_) => (400, "com.amazon.coral.validate", "message"),
            EngineError::Serialization(_) => (400, "com.amazon.coral.service", "Message"),
            EngineError::Internal(_) => (500, "com.amazonaws.dynamodb.v20120810", "message"),
            // The transaction errors' model members are `Message`, as DynamoDB Local sends.
            EngineError::TransactionCanceled { .. }
            | EngineError::IdempotentParameterMismatch(_)
            | EngineError::TransactionInProgress(_) => {
                (400, "com.amazonaws.dynamodb.v20120810", "Message")
            }
            _ => (400, "com.amazonaws.dynamodb.v20120810", "message"),
        };
        let extra = match &e {
            EngineError::ConditionalCheckFailed {
                item: Some(item), ..
            } => {
                let mut m = serde_json::Map::new();
                if let Ok(v) = serde_json::to_value(item) {
                    m.insert("Item".into(), v);
                }
                Some(Box::new(m))
            }
            EngineError::TransactionCanceled { reasons, .. } => {
                let mut m = serde_json::Map::new();
                if let Ok(v) = serde_json::to_value(reasons) {
                    m.insert("CancellationReasons".into(), v);
                }
                Some(Box::new(m))
            }
            _ => None,
        };
        WireError {
            status,
            type_: format!("{namespace}#{name}"),
            message: Some(e.to_string()),
            message_key: key,
            extra,
        }
    }
}

impl From<Violation> for WireError {
    fn from(v: Violation) -> Self {
        match v {
            Violation::Serialization(m) => WireError::coral("SerializationException", Some(m)),
            Violation::Validation(m) => WireError::from(EngineError::Validation(m)),
        }
    }
}

/// Routes DynamoDB and DynamoDB Streams requests to an engine.
#[derive(Debug, Clone)]
pub struct Router {
    engine: Arc<Engine>,
    max_body: usize,
    /// Fault injection rules consulted before every engine call; none when `None`.
    faults: Option<Faults>,
    /// When set, every request's SigV4 signature is verified against these secrets
    /// (`serve --require-sigv4`); when `None`, signatures are parsed but not checked.
    credentials: Option<Arc<CredentialStore>>,
}

impl Router {
    /// A router over `engine`.
    pub fn new(engine: Arc<Engine>) -> Self {
        Router {
            engine,
            max_body: DEFAULT_MAX_BODY,
            faults: None,
            credentials: None,
        }
    }

    /// The engine behind this router.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The body size cap in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Sets the body size cap in bytes.
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Consults `faults` for every request once it is routed, authenticated and validated,
    /// before the engine sees it (see [`Faults`]). Clones of the set steer this router.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = Some(faults);
        self
    }

    /// Verifies the SigV4 signature of every HTTP request against `store`: unknown access
    /// keys, wrong signatures and clocks more than five minutes off are refused as AWS refuses
    /// them. [`Router::call_json`] stays unsigned and unchecked.
    pub fn with_credentials(mut self, store: CredentialStore) -> Self {
        self.credentials = Some(Arc::new(store));
        self
    }

    /// The credentials signatures are verified against, if verification is on.
    pub fn credentials(&self) -> Option<&CredentialStore> {
        self.credentials.as_deref()
    }

    /// The fault injection rules of this router, if any.
    pub fn faults(&self) -> Option<&Faults> {
        self.faults.as_ref()
    }

    /// Sends one DynamoDB operation as `access_key` in `region` without HTTP framing; returns
    /// the status and the JSON body (an AWS error body when the status is not 200).
    pub fn call_json(
        &self,
        access_key: &str,
        region: &str,
        op: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/20240101/{region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
        );
        let request = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", format!("{DYNAMODB_PREFIX}{op}"))
            .header("x-amz-date", "20240101T000000Z")
            .header(http::header::AUTHORIZATION, auth)
            .body(Bytes::from(bytes));
        let response = match request {
            // In-process calls carry no real signature; they are trusted like the engine.
            Ok(r) if self.credentials.is_some() => Router {
                credentials: None,
                ..self.clone()
            }
            .handle(r),
            Ok(r) => self.handle(r),
            Err(e) => return (400, serde_json::json!({ "message": e.to_string() })),
        };
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Answers one HTTP request. Never panics on input.
    pub fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let request_id = request_id(&self.engine);
        let resp = match self.route(&req) {
            Ok(Routed::Answer(resp)) => Ok(resp),
            Ok(Routed::Write(w)) => self.write_now(w),
            Err(e) => Err(e),
        };
        stamp(request_id, resp)
    }

    /// Answers one HTTP request like [`Router::handle`], except that PutItem, UpdateItem and
    /// DeleteItem use the engine's group commit: while another such write runs, this one
    /// waits without blocking the thread and is committed together with the others waiting.
    /// The answers are those of [`Router::handle`].
    pub async fn handle_async(&self, req: Request<Bytes>) -> Response<Bytes> {
        let request_id = request_id(&self.engine);
        let resp = match self.route(&req) {
            Ok(Routed::Answer(resp)) => Ok(resp),
            Ok(Routed::Write(w)) => self.write_grouped(w).await,
            Err(e) => Err(e),
        };
        stamp(request_id, resp)
    }

    /// A single-item write, applied in its own transaction.
    fn write_now(&self, w: DeferredWrite) -> Result<Response<Bytes>, WireError> {
        let e = &*self.engine;
        let ns = &w.ns;
        let out = match w.op {
            WriteOp::Put => run(w.body, |i| e.put_item(ns, i)),
            WriteOp::Update => run(w.body, |i| e.update_item(ns, i)),
            WriteOp::Delete => run(w.body, |i| e.delete_item(ns, i)),
        }?;
        Ok(json_ok(out, w.content_type))
    }

    /// A single-item write, applied with group commit.
    async fn write_grouped(&self, w: DeferredWrite) -> Result<Response<Bytes>, WireError> {
        let e = &*self.engine;
        let ns = &w.ns;
        let out = match w.op {
            WriteOp::Put => run_async(w.body, |i| e.put_item_grouped(ns, i)).await,
            WriteOp::Update => run_async(w.body, |i| e.update_item_grouped(ns, i)).await,
            WriteOp::Delete => run_async(w.body, |i| e.delete_item_grouped(ns, i)).await,
        }?;
        Ok(json_ok(out, w.content_type))
    }

    /// Routes a request to its answer, or, for PutItem, UpdateItem and DeleteItem, to a validated
    /// write that the caller applies alone or with group commit.
    fn route(&self, req: &Request<Bytes>) -> Result<Routed, WireError> {
        if req.method() == Method::GET {
            // AWS's regional endpoints answer a plain GET with a health line.
            return Ok(Routed::Answer(plain(
                StatusCode::OK,
                "healthy: dynamodb.us-east-1.amazonaws.com ",
            )));
        }
        if req.method() != Method::POST {
            return Ok(Routed::Answer(plain(
                StatusCode::NOT_FOUND,
                "<UnknownOperationException/>\n",
            )));
        }
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let json_ct = match content_type.as_deref() {
            Some("application/x-amz-json-1.0") => "application/x-amz-json-1.0",
            Some("application/json") => "application/json",
            _ => {
                return Ok(Routed::Answer(plain(
                    StatusCode::NOT_FOUND,
                    "<UnknownOperationException/>\n",
                )));
            }
        };
        self.route_json(req, json_ct)
    }

    /// Routes a JSON request; answers are in `content_type`, the request's.
    fn route_json(
        &self,
        req: &Request<Bytes>,
        content_type: &'static str,
    ) -> Result<Routed, WireError> {
        if req.body().len() > self.max_body {
            return Err(WireError {
                status: 413,
                ..WireError::coral(
                    "SerializationException",
                    Some(format!(
                        "Request body exceeds the limit of {} bytes",
                        self.max_body
                    )),
                )
            });
        }
        let body: serde_json::Value = if req.body().is_empty() {
            serde_json::Value::Object(serde_json::Map::new())
        } else {
            parse_json(req.body())
                .ok_or_else(|| WireError::coral("SerializationException", None))?
        };
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(WireError::unknown_operation)?;
        let (model, op, streams) = if let Some(op) = target.strip_prefix(DYNAMODB_PREFIX) {
            (ServiceModel::dynamodb(), op, false)
        } else if let Some(op) = target.strip_prefix(STREAMS_PREFIX) {
            (ServiceModel::streams(), op, true)
        } else {
            return Err(WireError::unknown_operation());
        };
        if !model.has_operation(op) {
            return Err(WireError::unknown_operation());
        }
        let creds = auth::check(req)?;
        if let Some(store) = &self.credentials {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            sigv4::verify(req, store, now)?;
        }
        if !body.is_object() {
            return Err(WireError::coral(
                "SerializationException",
                Some("Unexpected field type".into()),
            ));
        }
        // AWS authorizes a tagging request's ResourceArn before it validates the rest of the
        // request: an ARN it cannot parse is an AccessDeniedException (dynalite's AWS-validated
        // tagging tuples), even when other members break constraints.
        if matches!(op, "TagResource" | "UntagResource" | "ListTagsOfResource")
            && let Some(arn) = body.get("ResourceArn").and_then(|v| v.as_str())
            && model.validate_types(op, &body).is_ok()
            && let Some(m) = ddb_engine::tagging_access_denied(
                op,
                &Namespace::new(creds.account_id(), creds.region.clone()),
                Some(arn),
            )
        {
            return Err(WireError::coral("AccessDeniedException", Some(m)));
        }
        model.validate(op, &body)?;
        if let Some(faults) = &self.faults {
            faults.inject(op, &body)?;
        }
        let ns = Namespace::new(creds.account_id(), creds.region.clone());
        ddb_engine::precheck_request(op, &body)?;
        if !streams {
            let write = match op {
                "PutItem" => Some(WriteOp::Put),
                "UpdateItem" => Some(WriteOp::Update),
                "DeleteItem" => Some(WriteOp::Delete),
                _ => None,
            };
            if let Some(op) = write {
                return Ok(Routed::Write(DeferredWrite {
                    op,
                    ns,
                    body,
                    content_type,
                }));
            }
        }
        let out = if streams {
            self.call_streams(op, &ns, body)?
        } else {
            self.call(op, &ns, body)?
        };
        Ok(Routed::Answer(json_ok(out, content_type)))
    }

    fn call(
        &self,
        op: &str,
        ns: &Namespace,
        body: serde_json::Value,
    ) -> Result<Vec<u8>, WireError> {
        let e = &*self.engine;
        match op {
            "CreateTable" => run(body, |i| e.create_table(ns, i)),
            "DescribeTable" => run(body, |i| e.describe_table(ns, i)),
            "ListTables" => run(body, |i| e.list_tables(ns, i)),
            "DeleteTable" => run(body, |i| e.delete_table(ns, i)),
            "UpdateTable" => run(body, |i| e.update_table(ns, i)),
            // PutItem, UpdateItem and DeleteItem are `Routed::Write`s (see `route_json`).
            "GetItem" => run(body, |i| e.get_item(ns, i)),
            "BatchGetItem" => run(body, |i| e.batch_get_item(ns, i)),
            "BatchWriteItem" => run(body, |i| e.batch_write_item(ns, i)),
            "TransactWriteItems" => run(body, |i| e.transact_write_items(ns, i)),
            "TransactGetItems" => run(body, |i| e.transact_get_items(ns, i)),
            "ExecuteStatement" => run(body, |i| e.execute_statement(ns, i)),
            "BatchExecuteStatement" => run(body, |i| e.batch_execute_statement(ns, i)),
            "ExecuteTransaction" => run(body, |i| e.execute_transaction(ns, i)),
            "Query" => run(body, |i| e.query(ns, i)),
            "Scan" => run(body, |i| e.scan(ns, i)),
            "SearchVectors" => run(body, |i| e.search_vectors(ns, i)),
            "StartBulkPutItems" => run(body, |i| e.start_bulk_put_items(ns, i)),
            "DescribeBulkOperation" => run(body, |i| e.describe_bulk_operation(ns, i)),
            "ListBulkOperations" => run(body, |i| e.list_bulk_operations(ns, i)),
            "CancelBulkOperation" => run(body, |i| e.cancel_bulk_operation(ns, i)),
            "UpdateTimeToLive" => run(body, |i| e.update_time_to_live(ns, i)),
            "DescribeTimeToLive" => run(body, |i| e.describe_time_to_live(ns, i)),
            // AWS authorizes the ResourceArn before it validates the request; an ARN it cannot
            // parse is an AccessDeniedException (see `ddb_engine::tagging_access_denied`).
            "TagResource" | "UntagResource" | "ListTagsOfResource" => {
                let arn = body.get("ResourceArn").and_then(|v| v.as_str());
                if let Some(m) = ddb_engine::tagging_access_denied(op, ns, arn) {
                    return Err(WireError::coral("AccessDeniedException", Some(m)));
                }
                match op {
                    "TagResource" => run(body, |i| e.tag_resource(ns, i)),
                    "UntagResource" => run(body, |i| e.untag_resource(ns, i)),
                    _ => run(body, |i| e.list_tags_of_resource(ns, i)),
                }
            }
            "DescribeLimits" => run(body, |i| e.describe_limits(ns, i)),
            "DescribeEndpoints" => run(body, |i| e.describe_endpoints(ns, i)),
            "EnableKinesisStreamingDestination" => {
                run(body, |i| e.enable_kinesis_streaming_destination(ns, i))
            }
            "DisableKinesisStreamingDestination" => {
                run(body, |i| e.disable_kinesis_streaming_destination(ns, i))
            }
            "DescribeKinesisStreamingDestination" => {
                run(body, |i| e.describe_kinesis_streaming_destination(ns, i))
            }
            "UpdateKinesisStreamingDestination" => {
                run(body, |i| e.update_kinesis_streaming_destination(ns, i))
            }
            "CreateBackup" => run(body, |i| e.create_backup(ns, i)),
            "DescribeBackup" => run(body, |i| e.describe_backup(ns, i)),
            "ListBackups" => run(body, |i| e.list_backups(ns, i)),
            "DeleteBackup" => run(body, |i| e.delete_backup(ns, i)),
            "RestoreTableFromBackup" => run(body, |i| e.restore_table_from_backup(ns, i)),
            "UpdateContinuousBackups" => run(body, |i| e.update_continuous_backups(ns, i)),
            "DescribeContinuousBackups" => run(body, |i| e.describe_continuous_backups(ns, i)),
            "RestoreTableToPointInTime" => run(body, |i| e.restore_table_to_point_in_time(ns, i)),
            "DescribeContributorInsights" => run(body, |i| e.describe_contributor_insights(ns, i)),
            "UpdateContributorInsights" => run(body, |i| e.update_contributor_insights(ns, i)),
            "ListContributorInsights" => run(body, |i| e.list_contributor_insights(ns, i)),
            "PutResourcePolicy" => run(body, |i| e.put_resource_policy(ns, i)),
            "GetResourcePolicy" => run(body, |i| e.get_resource_policy(ns, i)),
            "DeleteResourcePolicy" => run(body, |i| e.delete_resource_policy(ns, i)),
            "ExportTableToPointInTime" => run(body, |i| e.export_table_to_point_in_time(ns, i)),
            "DescribeExport" => run(body, |i| e.describe_export(ns, i)),
            "ListExports" => run(body, |i| e.list_exports(ns, i)),
            "ImportTable" => run(body, |i| e.import_table(ns, i)),
            "DescribeImport" => run(body, |i| e.describe_import(ns, i)),
            "ListImports" => run(body, |i| e.list_imports(ns, i)),
            "CreateGlobalTable" => run(body, |i| e.create_global_table(ns, i)),
            "UpdateGlobalTable" => run(body, |i| e.update_global_table(ns, i)),
            "DescribeGlobalTable" => run(body, |i| e.describe_global_table(ns, i)),
            "ListGlobalTables" => run(body, |i| e.list_global_tables(ns, i)),
            "DescribeGlobalTableSettings" => run(body, |i| e.describe_global_table_settings(ns, i)),
            "UpdateGlobalTableSettings" => run(body, |i| e.update_global_table_settings(ns, i)),
            "DescribeTableReplicaAutoScaling" => {
                run(body, |i| e.describe_table_replica_auto_scaling(ns, i))
            }
            "UpdateTableReplicaAutoScaling" => {
                run(body, |i| e.update_table_replica_auto_scaling(ns, i))
            }
            _ => Err(WireError::unknown_operation()),
        }
    }

    fn call_streams(
        &self,
        op: &str,
        ns: &Namespace,
        body: serde_json::Value,
    ) -> Result<Vec<u8>, WireError> {
        /// Decodes the input, runs a Streams operation and encodes its output. Shared errors
        /// map as DynamoDB's do; the Streams-only ones go out as
        /// `com.amazonaws.dynamodb.v20120810#…` with a `message` member.
        fn run_streams<I: DeserializeOwned, O: Serialize>(
            body: serde_json::Value,
            op: impl FnOnce(I) -> ddb_engine::StreamsResult<O>,
        ) -> Result<Vec<u8>, WireError> {
            let input: I = serde_json::from_value(body)
                .map_err(|e| WireError::from(EngineError::Validation(e.to_string())))?;
            let out = op(input).map_err(|err| match err {
                ddb_engine::StreamsError::Engine(e) => WireError::from(e),
                other => WireError {
                    status: 400,
                    type_: format!("com.amazonaws.dynamodb.v20120810#{}", other.aws_type()),
                    message: Some(other.to_string()),
                    message_key: "message",
                    extra: None,
                },
            })?;
            serde_json::to_vec(&out)
                .map_err(|e| WireError::from(EngineError::Internal(e.to_string())))
        }
        let e = &*self.engine;
        match op {
            "ListStreams" => run_streams(body, |i| e.list_streams(ns, i)),
            "DescribeStream" => run_streams(body, |i| e.describe_stream(ns, i)),
            "GetShardIterator" => run_streams(body, |i| e.get_shard_iterator(ns, i)),
            "GetRecords" => run_streams(body, |i| e.get_records(ns, i)),
            _ => Err(WireError::unknown_operation()),
        }
    }
}

/// Parses a JSON body; `None` when it is not JSON (or nests deeper than serde_json allows).
fn parse_json(body: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(body).ok()
}

/// Decodes the typed input, runs the operation and encodes its output.
fn run<I: DeserializeOwned, O: Serialize>(
    body: serde_json::Value,
    op: impl FnOnce(I) -> Result<O, EngineError>,
) -> Result<Vec<u8>, WireError> {
    // The model check has already caught wrong JSON types, so a failure here is a value
    // rule (bad number, empty set, …) and AWS reports those as ValidationException.
    let input: I = serde_json::from_value(body)
        .map_err(|e| WireError::from(EngineError::Validation(e.to_string())))?;
    let out = op(input)?;
    serde_json::to_vec(&out).map_err(|e| WireError::from(EngineError::Internal(e.to_string())))
}

/// [`run`] for an engine call that returns a future.
async fn run_async<I: DeserializeOwned, O: Serialize, F>(
    body: serde_json::Value,
    op: impl FnOnce(I) -> F,
) -> Result<Vec<u8>, WireError>
where
    F: std::future::Future<Output = Result<O, EngineError>>,
{
    let input: I = serde_json::from_value(body)
        .map_err(|e| WireError::from(EngineError::Validation(e.to_string())))?;
    let out = op(input).await?;
    serde_json::to_vec(&out).map_err(|e| WireError::from(EngineError::Internal(e.to_string())))
}

/// Where [`Router::route`] leaves a request: answered, or a write for the caller to apply.
enum Routed {
    Answer(Response<Bytes>),
    Write(DeferredWrite),
}

/// A validated single-item write whose engine call is left to the caller.
struct DeferredWrite {
    op: WriteOp,
    ns: Namespace,
    body: serde_json::Value,
    /// The content type to answer with (the request's).
    content_type: &'static str,
}

#[derive(Clone, Copy)]
enum WriteOp {
    Put,
    Update,
    Delete,
}

/// A 200 answer with a JSON body in `content_type`.
fn json_ok(body: impl Into<Bytes>, content_type: &'static str) -> Response<Bytes> {
    let mut resp = Response::new(body.into());
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    resp
}

/// The answer to a request, with the `x-amzn-RequestId` and `x-amz-crc32` headers every AWS
/// answer carries.
fn stamp(request_id: String, resp: Result<Response<Bytes>, WireError>) -> Response<Bytes> {
    let mut resp = resp.unwrap_or_else(|e| error_response(&e));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    let crc = crc32fast::hash(resp.body());
    if let Ok(v) = HeaderValue::from_str(&crc.to_string()) {
        resp.headers_mut().insert("x-amz-crc32", v);
    }
    resp
}

fn plain(status: StatusCode, body: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(body.as_bytes()));
    *r.status_mut() = status;
    r
}

/// The one place where an AWS error becomes an HTTP response.
pub fn error_response(e: &WireError) -> Response<Bytes> {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), serde_json::Value::String(e.type_.clone()));
    if let Some(m) = &e.message {
        body.insert(e.message_key.into(), serde_json::Value::String(m.clone()));
    }
    if let Some(extra) = &e.extra {
        body.extend(extra.as_ref().clone());
    }
    let bytes = serde_json::to_vec(&serde_json::Value::Object(body)).unwrap_or_default();
    let mut r = Response::new(Bytes::from(bytes));
    *r.status_mut() = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    r
}

/// A 52-character request id in AWS's alphabet.
pub(crate) fn request_id(engine: &Engine) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut s = String::with_capacity(52);
    let mut bits = 0u64;
    for i in 0..52 {
        if i % 10 == 0 {
            bits = engine.ids().next_u64();
        }
        s.push(ALPHABET[(bits % 36) as usize] as char);
        bits /= 36;
    }
    s
}
