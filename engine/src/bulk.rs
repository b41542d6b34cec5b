//! Bulk operations: StartBulkPutItems, DescribeBulkOperation, ListBulkOperations,
//! CancelBulkOperation.
//!
//! An operation reads the objects under `S3Bucket`/`S3KeyPrefix` of the engine's local S3
//! directory ([`crate::S3Dir`]), in key order, and puts their items into the table.
//! Supported input: `DYNAMODB_JSON` (JSON Lines, one `{"Item": {…}}` per line, the format of
//! DynamoDB's S3 export) and `ION` (the text subset described in `bulk/ion.rs`: `{Item: {…}}`
//! records as DynamoDB's Ion export writes them), uncompressed or `GZIP`. Binary Ion and
//! `ZSTD` are not supported: `ZSTD` is rejected when the operation starts, binary Ion objects
//! fail as unreadable.
//!
//! Progress is driven by the engine clock, so it is deterministic: by `t` seconds after it
//! started, an operation has processed `t × rate` input items (rate: `MaxWriteRequestUnits`
//! when given, else [`DEFAULT_ITEMS_PER_SECOND`]). [`Engine::run_pending_bulk`] applies what
//! is due; DescribeBulkOperation and ListBulkOperations run it first, and `ddb-harness serve`
//! runs it every second. Each step is one redb write transaction that writes the items and the
//! operation's progress together.
//!
//! A line that is not valid JSON, or an item that PutItem would reject (missing or mistyped
//! key, too large, malformed vector …), counts as failed; when `OutputType` includes `ERROR`,
//! the failures are written as JSON Lines to `<S3KeyPrefix>/<operation id>/errors.json` in the
//! output bucket when the operation ends. `ClientToken`s are kept for 8 hours of engine time.
//!
//! Layout in redb: `bulk_ops`: operation ARN → [`BulkOp`] as JSON; `bulk_tokens`: namespace and
//! token → (ARN, request fingerprint, time).

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Namespace};
use crate::error::{Error, Result};
use crate::item_ops::{ItemSlot, check_item_size};
use crate::keys::check_index_keys;
use crate::s3dir::S3Dir;
use crate::value::{Item, check_nesting};

/// Input items per second of engine time when `MaxWriteRequestUnits` is not given.
pub const DEFAULT_ITEMS_PER_SECOND: u64 = 10_000;
/// How long a `ClientToken` is remembered, in milliseconds of engine time.
pub const BULK_TOKEN_WINDOW_MS: i64 = 8 * 3600 * 1000;
/// Items written per redb transaction while an operation runs.
const BATCH: usize = 1_000;

const OPS: TableDefinition<&str, &str> = TableDefinition::new("bulk_ops");
const TOKENS: TableDefinition<&str, (&str, &str, i64)> = TableDefinition::new("bulk_tokens");

/// `InputS3Configuration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct InputS3Configuration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_owner: Option<String>,
    pub s3_bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    pub input_format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_compression_type: Option<String>,
}

/// `OutputS3Configuration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct OutputS3Configuration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_sse_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_sse_kms_key_id: Option<String>,
    pub output_type: Vec<String>,
}

/// StartBulkPutItems request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct StartBulkPutItemsInput {
    pub client_token: Option<String>,
    #[serde(rename = "InputS3Configuration")]
    pub input_s3_configuration: InputS3Configuration,
    #[serde(rename = "OutputS3Configuration")]
    pub output_s3_configuration: OutputS3Configuration,
    pub table_name: String,
    pub max_write_request_units: Option<i64>,
    pub performance_tier: Option<String>,
}

/// `BulkOperationTableDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BulkOperationTableDetail {
    pub table_name: String,
    pub table_id: String,
}

/// `BulkOperationDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BulkOperationDescription {
    pub bulk_operation_arn: String,
    pub bulk_operation_status: String,
    pub table_details: Vec<BulkOperationTableDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    #[serde(rename = "InputS3Configuration")]
    pub input_s3_configuration: InputS3Configuration,
    #[serde(rename = "OutputS3Configuration")]
    pub output_s3_configuration: OutputS3Configuration,
    pub start_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    pub processed_item_count: u64,
    pub processed_input_bytes: u64,
    pub total_input_bytes: u64,
    pub failed_item_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_write_request_units: Option<i64>,
    pub performance_tier: String,
}

/// StartBulkPutItems / DescribeBulkOperation output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BulkOperationOutput {
    pub bulk_operation_description: BulkOperationDescription,
}

/// DescribeBulkOperation / CancelBulkOperation request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BulkOperationArnInput {
    pub bulk_operation_arn: String,
}

/// CancelBulkOperation output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CancelBulkOperationOutput {
    pub bulk_operation_arn: String,
    pub bulk_operation_status: String,
}

/// ListBulkOperations request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListBulkOperationsInput {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// `BulkOperationSummary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BulkOperationSummary {
    pub bulk_operation_arn: String,
    pub bulk_operation_status: String,
    pub start_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
}

/// ListBulkOperations output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListBulkOperationsOutput {
    pub bulk_operations_summary_list: Vec<BulkOperationSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One operation's persisted state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BulkOp {
    desc: BulkOperationDescription,
    account: String,
    region: String,
    table: String,
    started_ms: i64,
    /// Input objects (key, size), in key order.
    objects: Vec<(String, u64)>,
    /// Index of the object being read.
    next_object: usize,
    /// Lines of that object already processed.
    next_line: usize,
    /// Failure records for the ERROR output.
    failures: Vec<serde_json::Value>,
}

const IN_PROGRESS: &str = "IN_PROGRESS";
const CANCELLING: &str = "CANCELLING";

fn not_found(arn: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: BulkOperation: {arn} not found"
    ))
}

fn load(ops: &impl ReadableTable<&'static str, &'static str>, arn: &str) -> Result<Option<BulkOp>> {
    match ops.get(arn)? {
        None => Ok(None),
        Some(v) => serde_json::from_str(v.value())
            .map(Some)
            .map_err(|e| Error::Internal(format!("bulk operation record is corrupt: {e}"))),
    }
}

fn save(txn: &redb::WriteTransaction, op: &BulkOp) -> Result<()> {
    let json = serde_json::to_string(op).map_err(|e| Error::Internal(e.to_string()))?;
    txn.open_table(OPS)?
        .insert(op.desc.bulk_operation_arn.as_str(), json.as_str())?;
    Ok(())
}

/// The lines of one input object, decompressed.
fn read_object(s3: &S3Dir, input: &InputS3Configuration, key: &str) -> Result<String> {
    read_text(
        s3,
        &input.s3_bucket,
        input.input_compression_type.as_deref(),
        key,
    )
}

/// The text of object `key` in `bucket`, gunzipped when `compression` is `GZIP` (shared with
/// ImportTable).
pub(crate) fn read_text(
    s3: &S3Dir,
    bucket: &str,
    compression: Option<&str>,
    key: &str,
) -> Result<String> {
    let bytes = match compression {
        Some("GZIP") => s3.read_gzip(bucket, key)?,
        _ => s3.get(bucket, key)?,
    };
    String::from_utf8(bytes)
        .map_err(|_| Error::Validation(format!("object {key} is not valid UTF-8")))
}

/// Puts one input item the way PutItem would store it (size, nesting, key, index-key and
/// vector checks, then `Engine::store`), inside `txn` (shared with ImportTable).
pub(crate) fn put_record(
    txn: &redb::WriteTransaction,
    meta: &crate::catalog::TableMeta,
    table_key: &str,
    item: Item,
) -> Result<()> {
    check_item_size(&item)?;
    check_nesting(&item)?;
    let key_bytes = meta.primary_key().encode_item_key(&item)?;
    check_index_keys(&item, &meta.index_key_types())?;
    crate::vector::check_item(meta, &item)?;
    let old = Engine::load_item(txn, meta, &key_bytes)?;
    let slot = ItemSlot {
        meta: meta.clone(),
        table_key: table_key.to_string(),
        key_bytes,
        old,
    };
    Engine::store(txn, &slot, Some(&item))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Line {
    item: Item,
}

/// One input record: where it is, its text, and its item or why it has none.
pub(crate) struct Record {
    /// 1-based line (DYNAMODB_JSON) or record (ION) number in its object.
    pub(crate) ordinal: usize,
    pub(crate) raw: String,
    pub(crate) item: Result<Item>,
}

/// The records of one object's text in `format` (`DYNAMODB_JSON` or `ION`).
pub(crate) fn parse_records(format: &str, text: &str) -> Vec<Record> {
    if format == "ION" {
        return ion::records(text)
            .into_iter()
            .enumerate()
            .map(|(i, r)| Record {
                ordinal: i + 1,
                item: r
                    .item
                    .map_err(|m| Error::Validation(format!("Invalid ION record: {m}")))
                    .and_then(|v| {
                        serde_json::from_value::<Item>(v)
                            .map_err(|e| Error::Validation(format!("Invalid ION record: {e}")))
                    }),
                raw: r.raw,
            })
            .collect();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Record {
            ordinal: i + 1,
            raw: l.to_string(),
            item: serde_json::from_str::<Line>(l)
                .map(|l| l.item)
                .map_err(|e| Error::Validation(format!("Invalid DYNAMODB_JSON record: {e}"))),
        })
        .collect()
}

impl Engine {
    fn s3(&self) -> Result<&S3Dir> {
        self.s3_dir.as_ref().ok_or_else(|| {
            Error::validation(
                "This ddb-harness engine has no local S3 directory (EngineBuilder::s3_dir, serve --s3-dir)",
            )
        })
    }

    /// StartBulkPutItems: registers the operation (`IN_PROGRESS`); items are written as the
    /// engine clock advances ([`Engine::run_pending_bulk`]).
    pub fn start_bulk_put_items(
        &self,
        ns: &Namespace,
        input: StartBulkPutItemsInput,
    ) -> Result<BulkOperationOutput> {
        let s3 = self.s3()?.clone();
        let cfg = &input.input_s3_configuration;
        if !matches!(cfg.input_format.as_str(), "DYNAMODB_JSON" | "ION") {
            return Err(Error::validation(format!(
                "InputFormat {} is not supported; supported: DYNAMODB_JSON, ION",
                cfg.input_format
            )));
        }
        if matches!(cfg.input_compression_type.as_deref(), Some(c) if c != "GZIP" && c != "NONE") {
            return Err(Error::validation(
                "InputCompressionType ZSTD is not supported; supported: GZIP, NONE",
            ));
        }
        let out = &input.output_s3_configuration;
        if out.s3_bucket.is_none() {
            return Err(Error::validation(
                "OutputS3Configuration.S3Bucket must be specified",
            ));
        }
        if out.output_type.is_empty() {
            return Err(Error::validation(
                "OutputS3Configuration.OutputType must contain ERROR, CONDITION_CHECK_FAILURE or both",
            ));
        }
        let now = self.clock.now();
        let mut fingerprint = input.clone();
        fingerprint.client_token = None;
        let fingerprint = serde_json::to_string(&fingerprint).unwrap_or_default();
        let prefix = cfg.s3_key_prefix.clone().unwrap_or_default();
        let objects: Vec<(String, u64)> = s3
            .list(&cfg.s3_bucket, &prefix)?
            .into_iter()
            .map(|o| (o.key, o.size))
            .collect();
        let op = self.write(|txn| {
            let meta = Engine::meta_in(txn, ns, &input.table_name)?;
            let arn = self.bulk_arn(ns, &meta.name, now.0);
            if let Some(token) = &input.client_token {
                let tkey = format!("{}\x1f{}\x1f{token}", ns.account, ns.region);
                let tokens = txn.open_table(TOKENS)?;
                let seen = tokens
                    .get(tkey.as_str())?
                    .map(|v| {
                        let (a, f, t) = v.value();
                        (a.to_string(), f.to_string(), t)
                    });
                if let Some((arn, f, t)) = seen
                    && now.0 - t < BULK_TOKEN_WINDOW_MS
                {
                    if f != fingerprint {
                        return Err(Error::IdempotentParameterMismatch(
                            "ClientToken was used in a previous StartBulkPutItems request with different parameters".into(),
                        ));
                    }
                    drop(tokens);
                    return load(&txn.open_table(OPS)?, &arn)?.ok_or_else(|| not_found(&arn));
                }
                drop(tokens);
                txn.open_table(TOKENS)?
                    .insert(tkey.as_str(), (arn.as_str(), fingerprint.as_str(), now.0))?;
            }
            let mut op = BulkOp {
                desc: BulkOperationDescription {
                    bulk_operation_arn: arn,
                    bulk_operation_status: IN_PROGRESS.into(),
                    table_details: vec![BulkOperationTableDetail {
                        table_name: meta.name.clone(),
                        table_id: meta.table_id.clone(),
                    }],
                    client_token: input.client_token.clone(),
                    input_s3_configuration: cfg.clone(),
                    output_s3_configuration: out.clone(),
                    start_time: now.as_epoch_seconds(),
                    end_time: None,
                    processed_item_count: 0,
                    processed_input_bytes: 0,
                    total_input_bytes: objects.iter().map(|o| o.1).sum(),
                    failed_item_count: 0,
                    failure_code: None,
                    failure_message: None,
                    max_write_request_units: input.max_write_request_units,
                    performance_tier: input
                        .performance_tier
                        .clone()
                        .unwrap_or_else(|| "STANDARD".into()),
                },
                account: ns.account.clone(),
                region: ns.region.clone(),
                table: meta.name.clone(),
                started_ms: now.0,
                objects: objects.clone(),
                next_object: 0,
                next_line: 0,
                failures: Vec::new(),
            };
            if !s3.bucket_exists(&cfg.s3_bucket) {
                op.desc.bulk_operation_status = "FAILED".into();
                op.desc.end_time = Some(now.as_epoch_seconds());
                op.desc.failure_code = Some("S3NoSuchBucket".into());
                op.desc.failure_message = Some(format!(
                    "The specified bucket does not exist: {}",
                    cfg.s3_bucket
                ));
            }
            save(txn, &op)?;
            Ok(op)
        })?;
        Ok(BulkOperationOutput {
            bulk_operation_description: op.desc,
        })
    }

    /// The ARN of a new operation on `table`, unique per (time, random id).
    fn bulk_arn(&self, ns: &Namespace, table: &str, now_ms: i64) -> String {
        let id = self.ids.uuid().replace('-', "");
        format!(
            "arn:aws:dynamodb:{}:{}:table/{table}/bulk-operation/{now_ms:013}-{}",
            ns.region,
            ns.account,
            &id[..8.min(id.len())]
        )
    }

    /// Applies every due step of every running bulk operation; returns the number of input
    /// items processed. Deterministic under a manual clock.
    pub fn run_pending_bulk(&self) -> Result<u64> {
        let running: Vec<BulkOp> = {
            let txn = self.db.begin_read()?;
            let ops = match txn.open_table(OPS) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(e) => return Err(e.into()),
            };
            let mut out = Vec::new();
            for row in ops.iter()? {
                let (_, v) = row?;
                let op: BulkOp = serde_json::from_str(v.value()).map_err(|e| {
                    Error::Internal(format!("bulk operation record is corrupt: {e}"))
                })?;
                if matches!(
                    op.desc.bulk_operation_status.as_str(),
                    IN_PROGRESS | CANCELLING
                ) {
                    out.push(op);
                }
            }
            out
        };
        let mut total = 0;
        for op in running {
            total += self.step(op)?;
        }
        Ok(total)
    }

    /// Advances one operation to what the clock makes due.
    fn step(&self, mut op: BulkOp) -> Result<u64> {
        let now = self.clock.now();
        if op.desc.bulk_operation_status == CANCELLING {
            op.desc.bulk_operation_status = "CANCELLED".into();
            op.desc.end_time = Some(now.as_epoch_seconds());
            op.desc.failure_code = Some("BulkOperationCancelled".into());
            op.desc.failure_message = Some("The bulk operation was cancelled by request".into());
            self.write(|txn| save(txn, &op))?;
            self.write_failures(&op)?;
            return Ok(0);
        }
        let rate = op
            .desc
            .max_write_request_units
            .and_then(|r| u64::try_from(r).ok())
            .unwrap_or(DEFAULT_ITEMS_PER_SECOND);
        let elapsed = u64::try_from(now.0 - op.started_ms).unwrap_or(0);
        let due = (u128::from(elapsed) * u128::from(rate) / 1000) as u64;
        let ns = Namespace::new(op.account.clone(), op.region.clone());
        let s3 = self.s3()?.clone();
        let mut processed = 0;
        // The records of the object being read (index, records), parsed once per step.
        let mut cache: Option<(usize, Vec<Record>)> = None;
        let format = op.desc.input_s3_configuration.input_format.clone();
        while op.desc.bulk_operation_status == IN_PROGRESS
            && op.desc.processed_item_count < due
            && op.next_object < op.objects.len()
        {
            let idx = op.next_object;
            let key = op.objects[idx].0.clone();
            if cache.as_ref().is_none_or(|(i, _)| *i != idx) {
                match read_object(&s3, &op.desc.input_s3_configuration, &key) {
                    Ok(text) => cache = Some((idx, parse_records(&format, &text))),
                    Err(e) => {
                        // An unreadable object (not gzip, not UTF-8) is one failed record.
                        op.failures.push(serde_json::json!({
                            "object": key, "errorType": e.aws_type(), "errorMessage": e.to_string()
                        }));
                        op.desc.processed_item_count += 1;
                        op.desc.failed_item_count += 1;
                        op.desc.processed_input_bytes += op.objects[idx].1;
                        op.next_object += 1;
                        op.next_line = 0;
                        self.write(|txn| save(txn, &op))?;
                        continue;
                    }
                }
            }
            let Some((_, records)) = &cache else { break };
            let budget = usize::try_from(due - op.desc.processed_item_count).unwrap_or(usize::MAX);
            let end = records
                .len()
                .min(op.next_line.saturating_add(budget.min(BATCH)));
            let batch = records.get(op.next_line..end).unwrap_or(&[]);
            processed += self.apply_batch(&ns, &mut op, &key, batch)?;
            if end >= records.len() {
                op.desc.processed_input_bytes += op.objects[idx].1;
                op.next_object += 1;
                op.next_line = 0;
            } else {
                op.next_line = end;
            }
            self.write(|txn| save(txn, &op))?;
        }
        if op.desc.bulk_operation_status == IN_PROGRESS && op.next_object >= op.objects.len() {
            op.desc.bulk_operation_status = if op.desc.failed_item_count > 0 {
                "COMPLETED_WITH_ERRORS".into()
            } else {
                "COMPLETED".into()
            };
            op.desc.end_time = Some(now.as_epoch_seconds());
        }
        if op.desc.bulk_operation_status != IN_PROGRESS {
            self.write(|txn| save(txn, &op))?;
            self.write_failures(&op)?;
        }
        Ok(processed)
    }

    /// Puts one batch of records in one write transaction; returns the records processed.
    /// Records that PutItem would reject count as failed; a deleted table fails the operation.
    fn apply_batch(
        &self,
        ns: &Namespace,
        op: &mut BulkOp,
        object: &str,
        batch: &[Record],
    ) -> Result<u64> {
        let mut failures = Vec::new();
        let result = self.write(|txn| {
            let meta = Engine::meta_in(txn, ns, &op.table)?;
            let table_key = meta.catalog_key();
            for record in batch {
                let put = record
                    .item
                    .clone()
                    .and_then(|item| put_record(txn, &meta, &table_key, item));
                match put {
                    Ok(()) => {}
                    // A storage failure fails the step, not the record.
                    Err(e @ Error::Internal(_)) => return Err(e),
                    Err(e) => failures.push(serde_json::json!({
                        "object": object, "record": record.ordinal, "errorType": e.aws_type(),
                        "errorMessage": e.to_string(), "input": record.raw
                    })),
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                let n = batch.len() as u64;
                op.desc.processed_item_count += n;
                op.desc.failed_item_count += failures.len() as u64;
                op.failures.extend(failures);
                Ok(n)
            }
            Err(Error::ResourceNotFound(_)) => {
                op.desc.bulk_operation_status = "FAILED".into();
                op.desc.end_time = Some(self.clock.now().as_epoch_seconds());
                op.desc.failure_code = Some("TableNotFound".into());
                op.desc.failure_message = Some(format!("Table {} does not exist", op.table));
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the ERROR output of a finished operation, when asked for and there is any.
    fn write_failures(&self, op: &BulkOp) -> Result<()> {
        let out = &op.desc.output_s3_configuration;
        if op.failures.is_empty() || !out.output_type.iter().any(|t| t == "ERROR") {
            return Ok(());
        }
        let Some(bucket) = &out.s3_bucket else {
            return Ok(());
        };
        let id = op
            .desc
            .bulk_operation_arn
            .rsplit('/')
            .next()
            .unwrap_or("operation");
        let prefix = out
            .s3_key_prefix
            .as_deref()
            .map(|p| p.trim_end_matches('/'))
            .filter(|p| !p.is_empty());
        let key = match prefix {
            Some(p) => format!("{p}/{id}/errors.json"),
            None => format!("{id}/errors.json"),
        };
        let mut body = String::new();
        for f in &op.failures {
            body.push_str(&f.to_string());
            body.push('\n');
        }
        self.s3()?.put(bucket, &key, body.as_bytes())
    }

    fn find_op(&self, ns: &Namespace, arn: &str) -> Result<BulkOp> {
        let txn = self.db.begin_read()?;
        let op = match txn.open_table(OPS) {
            Ok(t) => load(&t, arn)?,
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        };
        op.filter(|o| o.account == ns.account && o.region == ns.region)
            .ok_or_else(|| not_found(arn))
    }

    /// DescribeBulkOperation (after applying what the clock makes due).
    pub fn describe_bulk_operation(
        &self,
        ns: &Namespace,
        input: BulkOperationArnInput,
    ) -> Result<BulkOperationOutput> {
        self.run_pending_bulk()?;
        Ok(BulkOperationOutput {
            bulk_operation_description: self.find_op(ns, &input.bulk_operation_arn)?.desc,
        })
    }

    /// CancelBulkOperation: `CANCELLING` now, `CANCELLED` at the next step; written items stay.
    pub fn cancel_bulk_operation(
        &self,
        ns: &Namespace,
        input: BulkOperationArnInput,
    ) -> Result<CancelBulkOperationOutput> {
        self.run_pending_bulk()?;
        let mut op = self.find_op(ns, &input.bulk_operation_arn)?;
        if op.desc.bulk_operation_status != IN_PROGRESS {
            return Err(Error::validation(format!(
                "Bulk operation {} cannot be cancelled in status {}",
                op.desc.bulk_operation_arn, op.desc.bulk_operation_status
            )));
        }
        op.desc.bulk_operation_status = CANCELLING.into();
        self.write(|txn| save(txn, &op))?;
        Ok(CancelBulkOperationOutput {
            bulk_operation_arn: op.desc.bulk_operation_arn,
            bulk_operation_status: CANCELLING.into(),
        })
    }

    /// ListBulkOperations: newest first, `MaxResults` (default 10) per page.
    pub fn list_bulk_operations(
        &self,
        ns: &Namespace,
        input: ListBulkOperationsInput,
    ) -> Result<ListBulkOperationsOutput> {
        self.run_pending_bulk()?;
        let limit = usize::try_from(input.max_results.unwrap_or(10).clamp(1, 25)).unwrap_or(10);
        let start = match &input.next_token {
            None => 0,
            Some(t) => usize::from_str_radix(t, 16)
                .ok()
                .filter(|_| t.len() == 16)
                .ok_or_else(|| Error::validation("Invalid NextToken"))?,
        };
        let txn = self.db.begin_read()?;
        let mut ops = Vec::new();
        if let Ok(t) = txn.open_table(OPS) {
            for row in t.iter()? {
                let (_, v) = row?;
                let op: BulkOp = serde_json::from_str(v.value()).map_err(|e| {
                    Error::Internal(format!("bulk operation record is corrupt: {e}"))
                })?;
                if op.account == ns.account && op.region == ns.region {
                    ops.push(op);
                }
            }
        }
        ops.sort_by(|a, b| {
            b.started_ms
                .cmp(&a.started_ms)
                .then_with(|| b.desc.bulk_operation_arn.cmp(&a.desc.bulk_operation_arn))
        });
        let page: Vec<BulkOperationSummary> = ops
            .iter()
            .skip(start)
            .take(limit)
            .map(|o| BulkOperationSummary {
                bulk_operation_arn: o.desc.bulk_operation_arn.clone(),
                bulk_operation_status: o.desc.bulk_operation_status.clone(),
                start_time: o.desc.start_time,
                end_time: o.desc.end_time,
            })
            .collect();
        let next = start + page.len();
        Ok(ListBulkOperationsOutput {
            bulk_operations_summary_list: page,
            next_token: (next < ops.len()).then(|| format!("{next:016x}")),
        })
    }
}

mod ion;

#[cfg(test)]
mod tests;
