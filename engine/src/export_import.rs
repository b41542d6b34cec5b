//! Exports to and imports from S3: ExportTableToPointInTime, DescribeExport, ListExports,
//! ImportTable, DescribeImport, ListImports — through the engine's local S3 directory
//! ([`crate::S3Dir`]).
//!
//! **Exports** read the table as it was at `ExportTime` from the PITR undo log
//! (`pitr::items_at`), so PITR must be on, and write AWS's layout
//! (developer guide, "DynamoDB table export output format"):
//! `<S3Prefix>/AWSDynamoDB/<ExportId>/` holding `_started`, `manifest-summary.json`,
//! `manifest-summary.checksum`, `manifest-files.json`, `manifest-files.checksum` and one gzip
//! data file `data/<id>.json.gz` (`.ion.gz` for ION). A FULL export's lines are `{"Item":…}`
//! (DynamoDB JSON) or `$ion_1_0 {Item:{…}}` (Ion text); an INCREMENTAL export's lines are
//! `{"Metadata":{"WriteTimestampMicros":…},"Keys":…,"NewImage":…,"OldImage":…}` for every item
//! changed in `[ExportFromTime, ExportToTime)`: `NewImage` absent for a deleted item, `OldImage`
//! only with `NEW_AND_OLD_IMAGES` and an item that existed before. The export runs inside the
//! request; the response says `IN_PROGRESS`, as AWS's does, and DescribeExport says
//! `COMPLETED` (or `FAILED` with `S3NoSuchBucket` when the bucket's directory does not exist).
//!
//! **Imports** read every object under `S3KeyPrefix` (DYNAMODB_JSON and ION with the readers of
//! `bulk.rs`, CSV here), create the new table from `TableCreationParameters` and put the items
//! in the same write transaction. A record that cannot be parsed or that PutItem would reject
//! counts in `ErrorCount` (AWS writes it to CloudWatch Logs; here it is only counted). A missing
//! bucket or an empty prefix fails the import without creating the table.
//!
//! `ClientToken`s are kept 8 hours of engine time; a reused token with other parameters is
//! `ExportConflictException` (export; the model's ClientToken documentation) or
//! `ImportConflictException` "Import conflict: Duplicate request detected with conflicting
//! parameters" (import: AWS's answer in terraform-provider-aws PR #34335's acceptance run,
//! although the model's documentation says IdempotentParameterMismatch). An ImportTable whose
//! table exists is `ResourceInUseException` even when it repeats an earlier request's token, as
//! AWS answers (boto3 issue #3463), so a token replay only answers while the table is gone.
//! Error texts: `TableNotFoundException` and `PointInTimeRecoveryUnavailableException` are
//! AWS's (moto's AWS-verified tests), the import conflict text as above; the export conflict
//! text mirrors it, and the others use the exception's documented description or are ours.
//!
//! Layout in redb: `exports` / `imports`: ARN → record as JSON; `export_tokens` /
//! `import_tokens`: namespace and token → (ARN, request fingerprint, time).

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::bulk::{parse_records, put_record, read_text};
use crate::catalog::TableMeta;
use crate::clock::Timestamp;
use crate::codec::decode_item;
use crate::engine::{Engine, Namespace};
use crate::error::{Error, Result};
use crate::ids::iso8601_millis;
use crate::pitr::seconds_to_timestamp;
use crate::s3dir::S3Dir;
use crate::table_ops::CreateTableInput;
use crate::value::{AttributeValue, Item, item_size};

/// How long an export or import `ClientToken` is remembered, in milliseconds of engine time.
pub const EXPORT_IMPORT_TOKEN_WINDOW_MS: i64 = 8 * 3600 * 1000;
/// Most entries per ListExports / ListImports page (the model's maximum).
pub const MAX_LIST_EXPORTS_IMPORTS: usize = 25;

const EXPORTS: TableDefinition<&str, &str> = TableDefinition::new("exports");
const IMPORTS: TableDefinition<&str, &str> = TableDefinition::new("imports");
const EXPORT_TOKENS: TableDefinition<&str, (&str, &str, i64)> =
    TableDefinition::new("export_tokens");
const IMPORT_TOKENS: TableDefinition<&str, (&str, &str, i64)> =
    TableDefinition::new("import_tokens");

const MINUTE_MS: i64 = 60_000;

/// `IncrementalExportSpecification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IncrementalExportSpecification {
    /// Inclusive start of the exported changes, epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_from_time: Option<f64>,
    /// Exclusive end of the exported changes, epoch seconds (default: now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_to_time: Option<f64>,
    /// `NEW_IMAGE` or `NEW_AND_OLD_IMAGES` (default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_view_type: Option<String>,
}

/// ExportTableToPointInTime request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExportTableToPointInTimeInput {
    pub table_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub s3_bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_sse_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_sse_kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental_export_specification: Option<IncrementalExportSpecification>,
}

/// `ExportDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExportDescription {
    pub export_arn: String,
    pub export_status: String,
    pub start_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_manifest: Option<String>,
    pub table_arn: String,
    pub table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub s3_bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_prefix: Option<String>,
    pub s3_sse_algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_sse_kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    pub export_format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
    pub export_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental_export_specification: Option<IncrementalExportSpecification>,
}

/// ExportTableToPointInTime / DescribeExport output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportDescriptionOutput {
    /// The export.
    pub export_description: ExportDescription,
}

/// DescribeExport request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeExportInput {
    /// The export's ARN.
    pub export_arn: String,
}

/// ListExports request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListExportsInput {
    pub table_arn: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// `ExportSummary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExportSummary {
    pub export_arn: String,
    pub export_status: String,
    pub export_type: String,
}

/// ListExports output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListExportsOutput {
    pub export_summaries: Vec<ExportSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `S3BucketSource`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct S3BucketSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_owner: Option<String>,
    pub s3_bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
}

/// `CsvOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CsvOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_list: Option<Vec<String>>,
}

/// `InputFormatOptions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputFormatOptions {
    /// Options of CSV input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvOptions>,
}

/// ImportTable request. `TableCreationParameters` is kept as sent (it is echoed back) and
/// decoded as a CreateTable request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ImportTableInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub s3_bucket_source: S3BucketSource,
    pub input_format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_format_options: Option<InputFormatOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_compression_type: Option<String>,
    pub table_creation_parameters: serde_json::Value,
}

/// `ImportTableDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ImportTableDescription {
    pub import_arn: String,
    pub import_status: String,
    pub table_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub s3_bucket_source: S3BucketSource,
    pub error_count: u64,
    pub cloud_watch_log_group_arn: String,
    pub input_format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_format_options: Option<InputFormatOptions>,
    pub input_compression_type: String,
    pub table_creation_parameters: serde_json::Value,
    pub start_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// Absent until the import ends (AWS's initial ImportTable answer has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_size_bytes: Option<u64>,
    pub processed_item_count: u64,
    pub imported_item_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
}

/// ImportTable / DescribeImport output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportTableOutput {
    /// The import.
    pub import_table_description: ImportTableDescription,
}

/// DescribeImport request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImportInput {
    /// The import's ARN.
    pub import_arn: String,
}

/// ListImports request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListImportsInput {
    pub table_arn: Option<String>,
    pub page_size: Option<i64>,
    pub next_token: Option<String>,
}

/// `ImportSummary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ImportSummary {
    pub import_arn: String,
    pub import_status: String,
    pub table_arn: String,
    pub s3_bucket_source: S3BucketSource,
    pub cloud_watch_log_group_arn: String,
    pub input_format: String,
    pub start_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
}

/// ListImports output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListImportsOutput {
    pub import_summary_list: Vec<ImportSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One export as stored: its description and the namespace it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExportRecord {
    desc: ExportDescription,
    account: String,
    region: String,
    started_ms: i64,
}

/// One import as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ImportRecord {
    desc: ImportTableDescription,
    account: String,
    region: String,
    started_ms: i64,
}

/// What export and import records share: an owner, a table, an ARN and a start time.
trait Job: for<'de> Deserialize<'de> {
    fn owned_by(&self, ns: &Namespace) -> bool;
    fn table_arn(&self) -> &str;
    /// Start time, then ARN: the order of List answers (oldest first).
    fn order(&self) -> (i64, &str);
}

impl Job for ExportRecord {
    fn owned_by(&self, ns: &Namespace) -> bool {
        self.account == ns.account && self.region == ns.region
    }
    fn table_arn(&self) -> &str {
        &self.desc.table_arn
    }
    fn order(&self) -> (i64, &str) {
        (self.started_ms, &self.desc.export_arn)
    }
}

impl Job for ImportRecord {
    fn owned_by(&self, ns: &Namespace) -> bool {
        self.account == ns.account && self.region == ns.region
    }
    fn table_arn(&self) -> &str {
        &self.desc.table_arn
    }
    fn order(&self) -> (i64, &str) {
        (self.started_ms, &self.desc.import_arn)
    }
}

/// The record `arn` of `def` if `ns` owns it.
fn job<R: Job>(
    engine: &Engine,
    def: TableDefinition<&str, &str>,
    ns: &Namespace,
    arn: &str,
) -> Result<Option<R>> {
    Ok(load_one::<R>(engine, def, arn)?.filter(|r| r.owned_by(ns)))
}

/// The records of `def` that `ns` owns, of one table when `table_arn` is given, oldest first.
fn jobs<R: Job>(
    engine: &Engine,
    def: TableDefinition<&str, &str>,
    ns: &Namespace,
    table_arn: Option<&str>,
) -> Result<Vec<R>> {
    let mut all: Vec<R> = load_all(engine, def)?;
    all.retain(|r| r.owned_by(ns) && table_arn.is_none_or(|t| t == r.table_arn()));
    all.sort_by(|a, b| a.order().cmp(&b.order()));
    Ok(all)
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("export/import record is corrupt: {e}"))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))
}

/// Every record of a redb table of JSON records, decoded.
fn load_all<T: for<'de> Deserialize<'de>>(
    engine: &Engine,
    def: TableDefinition<&str, &str>,
) -> Result<Vec<T>> {
    let txn = engine.db.begin_read()?;
    let table = match txn.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(serde_json::from_str(v.value()).map_err(corrupt)?);
    }
    Ok(out)
}

/// One record by ARN.
fn load_one<T: for<'de> Deserialize<'de>>(
    engine: &Engine,
    def: TableDefinition<&str, &str>,
    arn: &str,
) -> Result<Option<T>> {
    let txn = engine.db.begin_read()?;
    let table = match txn.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match table.get(arn)? {
        None => Ok(None),
        Some(v) => serde_json::from_str(v.value()).map(Some).map_err(corrupt),
    }
}

/// What a `ClientToken` already names: `Some(arn)` for a replay of the same request within
/// the window, an error for a different one, `None` when the token is new or expired.
fn check_token(
    engine: &Engine,
    def: TableDefinition<&str, (&str, &str, i64)>,
    key: &str,
    fingerprint: &str,
    now: Timestamp,
    mismatch: impl FnOnce() -> Error,
) -> Result<Option<String>> {
    let txn = engine.db.begin_read()?;
    let tokens = match txn.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let seen = tokens.get(key)?.map(|v| {
        let (a, f, t) = v.value();
        (a.to_string(), f.to_string(), t)
    });
    match seen {
        Some((seen_arn, f, t)) if now.0 - t < EXPORT_IMPORT_TOKEN_WINDOW_MS => {
            if f != fingerprint {
                return Err(mismatch());
            }
            Ok(Some(seen_arn))
        }
        _ => Ok(None),
    }
}

/// Saves a finished export or import record and, in the same transaction, its `ClientToken`
/// (key, fingerprint): a request that failed remembers no token.
fn save_record(
    engine: &Engine,
    records: TableDefinition<&str, &str>,
    tokens: TableDefinition<&str, (&str, &str, i64)>,
    arn: &str,
    json: &str,
    token: Option<(String, &str)>,
    now: Timestamp,
) -> Result<()> {
    engine.write(|txn| {
        txn.open_table(records)?.insert(arn, json)?;
        if let Some((key, fingerprint)) = &token {
            txn.open_table(tokens)?
                .insert(key.as_str(), (arn, *fingerprint, now.0))?;
        }
        Ok(())
    })
}

/// The key of a `ClientToken` in its namespace.
fn token_key(ns: &Namespace, token: &str) -> String {
    format!("{}\x1f{}\x1f{token}", ns.account, ns.region)
}

/// The start index a `NextToken` names (our tokens: hex index, repeated to the model's length).
fn page_start(token: Option<&str>, unit: usize) -> Result<usize> {
    let Some(t) = token else { return Ok(0) };
    let first = t.get(..16).filter(|_| t.len() == 16 * unit);
    first
        .filter(|f| t.as_bytes().chunks(16).all(|c| c == f.as_bytes()))
        .and_then(|f| usize::from_str_radix(f, 16).ok())
        .ok_or_else(|| Error::validation("Invalid NextToken"))
}

fn next_token(next: usize, unit: usize) -> String {
    format!("{next:016x}").repeat(unit)
}

fn page_size(requested: Option<i64>) -> usize {
    requested
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(MAX_LIST_EXPORTS_IMPORTS)
        .clamp(1, MAX_LIST_EXPORTS_IMPORTS)
}

/// An export or import id: 14-digit epoch milliseconds, `-`, 8 hex digits.
fn operation_id(engine: &Engine, now: Timestamp) -> String {
    format!("{:014}-{:08x}", now.0.max(0), engine.ids.next_u64() as u32)
}

fn iso(ms: i64) -> String {
    format!("{}Z", iso8601_millis(ms))
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .map_err(|e| Error::Internal(format!("gzip failed: {e}")))
}

impl Engine {
    fn s3_for_export_import(&self) -> Result<&S3Dir> {
        self.s3_dir.as_ref().ok_or_else(|| {
            Error::validation(
                "This ddb-harness engine has no local S3 directory (EngineBuilder::s3_dir, serve --s3-dir)",
            )
        })
    }

    /// ExportTableToPointInTime: writes the table as it was at `ExportTime` (FULL_EXPORT) or
    /// its changes in a period (INCREMENTAL_EXPORT) to the S3 directory in AWS's layout.
    pub fn export_table_to_point_in_time(
        &self,
        ns: &Namespace,
        input: ExportTableToPointInTimeInput,
    ) -> Result<ExportDescriptionOutput> {
        let s3 = self.s3_for_export_import()?.clone();
        let format = input
            .export_format
            .clone()
            .unwrap_or_else(|| "DYNAMODB_JSON".into());
        let export_type = input
            .export_type
            .clone()
            .unwrap_or_else(|| "FULL_EXPORT".into());
        let meta = self
            .table_meta(ns, &input.table_arn)?
            .ok_or_else(|| Error::TableNotFound(format!("Table not found: {}", input.table_arn)))?;
        let Some(pitr) = meta.pitr else {
            return Err(Error::PointInTimeRecoveryUnavailable(format!(
                "Point in time recovery is not enabled for table '{}'",
                meta.name
            )));
        };
        let now = self.clock.now();
        let earliest = pitr.earliest(now);
        let invalid_time = || {
            Error::InvalidExportTime(
                "The specified ExportTime is outside of the point in time recovery window.".into(),
            )
        };
        // (export time, incremental (from, to, view type)).
        let (at, incremental) = match export_type.as_str() {
            "FULL_EXPORT" => {
                if input.incremental_export_specification.is_some() {
                    return Err(Error::validation(
                        "IncrementalExportSpecification can only be specified when ExportType is INCREMENTAL_EXPORT",
                    ));
                }
                let at = input.export_time.map_or(now, seconds_to_timestamp);
                if at < earliest || at > now {
                    return Err(invalid_time());
                }
                (at, None)
            }
            _ => {
                if input.export_time.is_some() {
                    return Err(Error::validation(
                        "ExportTime cannot be specified when ExportType is INCREMENTAL_EXPORT",
                    ));
                }
                let spec = input
                    .incremental_export_specification
                    .clone()
                    .unwrap_or_default();
                let from = spec.export_from_time.map(seconds_to_timestamp).ok_or_else(|| {
                    Error::validation(
                        "IncrementalExportSpecification.ExportFromTime must be specified when ExportType is INCREMENTAL_EXPORT",
                    )
                })?;
                let to = spec.export_to_time.map_or(now, seconds_to_timestamp);
                if from < earliest || to > now {
                    return Err(invalid_time());
                }
                // AWS: "an export period … from 15 minutes up to 24 hours" (AWS Database
                // Blog, "Introducing incremental export from Amazon DynamoDB to Amazon S3").
                let period = to.0 - from.0;
                if period < 15 * MINUTE_MS {
                    return Err(Error::validation(
                        "The incremental export period must be at least 15 minutes: ExportToTime must be at least 15 minutes after ExportFromTime",
                    ));
                }
                if period > 24 * 60 * MINUTE_MS {
                    return Err(Error::validation(
                        "The incremental export period must be at most 24 hours: ExportToTime must be at most 24 hours after ExportFromTime",
                    ));
                }
                let view = spec
                    .export_view_type
                    .clone()
                    .unwrap_or_else(|| "NEW_AND_OLD_IMAGES".into());
                (to, Some((from, to, view)))
            }
        };
        let kms = input.s3_sse_algorithm.as_deref() == Some("KMS");
        if input.s3_sse_kms_key_id.is_some() && !kms {
            return Err(Error::validation(
                "S3SseKmsKeyId can only be specified when S3SseAlgorithm is KMS",
            ));
        }

        let id = operation_id(self, now);
        let arn = format!("{}/export/{id}", meta.arn());
        // A bucket or prefix no S3 key can name is refused before anything is written.
        let base = export_base(input.s3_prefix.as_deref(), &id);
        s3.object_path(&input.s3_bucket, &format!("{base}/_started"))?;
        let mut fingerprint = input.clone();
        fingerprint.client_token = None;
        let fingerprint = to_json(&fingerprint)?;
        let mut desc = ExportDescription {
            export_arn: arn.clone(),
            export_status: "IN_PROGRESS".into(),
            start_time: now.as_epoch_seconds(),
            end_time: None,
            export_manifest: None,
            table_arn: meta.arn(),
            table_id: meta.table_id.clone(),
            export_time: incremental.is_none().then(|| at.as_epoch_seconds()),
            client_token: input.client_token.clone(),
            s3_bucket: input.s3_bucket.clone(),
            s3_bucket_owner: input.s3_bucket_owner.clone(),
            s3_prefix: input.s3_prefix.clone(),
            s3_sse_algorithm: input
                .s3_sse_algorithm
                .clone()
                .unwrap_or_else(|| "AES256".into()),
            s3_sse_kms_key_id: input.s3_sse_kms_key_id.clone(),
            failure_code: None,
            failure_message: None,
            export_format: format.clone(),
            billed_size_bytes: None,
            item_count: None,
            export_type: export_type.clone(),
            incremental_export_specification: incremental.as_ref().map(|(from, to, view)| {
                IncrementalExportSpecification {
                    export_from_time: Some(from.as_epoch_seconds()),
                    export_to_time: Some(to.as_epoch_seconds()),
                    export_view_type: Some(view.clone()),
                }
            }),
        };
        if let Some(token) = &input.client_token {
            let replay = check_token(
                self,
                EXPORT_TOKENS,
                &token_key(ns, token),
                &fingerprint,
                now,
                || {
                    Error::ExportConflict(
                        "Export conflict: Duplicate request detected with conflicting parameters"
                            .into(),
                    )
                },
            )?;
            if let Some(seen) = replay {
                let rec: ExportRecord =
                    load_one(self, EXPORTS, &seen)?.ok_or_else(|| export_not_found(&seen))?;
                return Ok(ExportDescriptionOutput {
                    export_description: rec.desc,
                });
            }
        }
        let response = desc.clone();
        // The export itself: read the table at the time, write the objects.
        let written = if s3.bucket_exists(&input.s3_bucket) {
            let lines = self.export_lines(&meta, at, incremental.as_ref(), &format)?;
            Some(write_export(&s3, &desc, &id, &lines, now)?)
        } else {
            None
        };
        let end = self.clock.now();
        desc.end_time = Some(end.as_epoch_seconds());
        match written {
            Some((manifest, count, bytes)) => {
                desc.export_status = "COMPLETED".into();
                desc.export_manifest = Some(manifest);
                desc.item_count = Some(count);
                desc.billed_size_bytes = Some(bytes);
            }
            None => {
                desc.export_status = "FAILED".into();
                desc.failure_code = Some("S3NoSuchBucket".into());
                desc.failure_message = Some("The specified bucket does not exist".into());
            }
        }
        let rec = ExportRecord {
            desc,
            account: ns.account.clone(),
            region: ns.region.clone(),
            started_ms: now.0,
        };
        let json = to_json(&rec)?;
        let token = input
            .client_token
            .as_deref()
            .map(|t| (token_key(ns, t), fingerprint.as_str()));
        save_record(self, EXPORTS, EXPORT_TOKENS, &arn, &json, token, now)?;
        Ok(ExportDescriptionOutput {
            export_description: response,
        })
    }

    /// The data lines of an export and their billed size: items at `at`, or the changes of an
    /// incremental export.
    fn export_lines(
        &self,
        meta: &TableMeta,
        at: Timestamp,
        incremental: Option<&(Timestamp, Timestamp, String)>,
        format: &str,
    ) -> Result<Vec<(String, u64)>> {
        let txn = self.db.begin_read()?;
        let Some((from, to, view)) = incremental else {
            let items = crate::pitr::items_at(&txn, meta, at)?;
            let mut out = Vec::with_capacity(items.len());
            for bytes in items.values() {
                let item = decode_item(bytes)?;
                let size = item_size(&item) as u64;
                out.push((item_line(format, &item)?, size));
            }
            return Ok(out);
        };
        // Old images: the state just before `from`; new images: just before `to`.
        let before = crate::pitr::items_at(&txn, meta, Timestamp(from.0 - 1))?;
        let after = crate::pitr::items_at(&txn, meta, Timestamp(to.0 - 1))?;
        let changed = crate::pitr::changes_between(&txn, meta, *from, *to)?;
        let key_names = meta.primary_key();
        let key_names = key_names.names();
        let mut out = Vec::new();
        for (key, when) in changed {
            let old = before.get(&key).map(|b| decode_item(b)).transpose()?;
            let new = after.get(&key).map(|b| decode_item(b)).transpose()?;
            let Some(any) = new.as_ref().or(old.as_ref()) else {
                continue; // Created and deleted within the period.
            };
            let keys: Item = key_names
                .iter()
                .filter_map(|k| any.get(*k).map(|v| ((*k).to_string(), v.clone())))
                .collect();
            let old = old.filter(|_| view == "NEW_AND_OLD_IMAGES");
            let size = new.as_ref().map_or(0, item_size) + old.as_ref().map_or(0, item_size);
            let line = change_line(format, when, &keys, new.as_ref(), old.as_ref())?;
            out.push((line, size.max(item_size(&keys)) as u64));
        }
        Ok(out)
    }

    /// DescribeExport.
    pub fn describe_export(
        &self,
        ns: &Namespace,
        input: DescribeExportInput,
    ) -> Result<ExportDescriptionOutput> {
        let rec: ExportRecord = job(self, EXPORTS, ns, &input.export_arn)?
            .ok_or_else(|| export_not_found(&input.export_arn))?;
        Ok(ExportDescriptionOutput {
            export_description: rec.desc,
        })
    }

    /// ListExports: oldest first, optionally for one table, `MaxResults` (at most 25) a page.
    pub fn list_exports(
        &self,
        ns: &Namespace,
        input: ListExportsInput,
    ) -> Result<ListExportsOutput> {
        let start = page_start(input.next_token.as_deref(), 1)?;
        let limit = page_size(input.max_results);
        let all: Vec<ExportRecord> = jobs(self, EXPORTS, ns, input.table_arn.as_deref())?;
        let page: Vec<ExportSummary> = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| ExportSummary {
                export_arn: r.desc.export_arn.clone(),
                export_status: r.desc.export_status.clone(),
                export_type: r.desc.export_type.clone(),
            })
            .collect();
        let next = start + page.len();
        Ok(ListExportsOutput {
            export_summaries: page,
            next_token: (next < all.len()).then(|| next_token(next, 1)),
        })
    }

    /// ImportTable: creates the table from `TableCreationParameters` and fills it with the
    /// items of the objects under the S3 prefix, in one write transaction.
    pub fn import_table(
        &self,
        ns: &Namespace,
        input: ImportTableInput,
    ) -> Result<ImportTableOutput> {
        let s3 = self.s3_for_export_import()?.clone();
        let format = input.input_format.as_str();
        if !matches!(format, "DYNAMODB_JSON" | "ION" | "CSV") {
            return Err(Error::validation(format!(
                "InputFormat {format} is not supported; supported: DYNAMODB_JSON, ION, CSV"
            )));
        }
        let compression = input
            .input_compression_type
            .clone()
            .unwrap_or_else(|| "NONE".into());
        if compression == "ZSTD" {
            return Err(Error::validation(
                "InputCompressionType ZSTD is not supported by ddb-harness; supported: GZIP, NONE",
            ));
        }
        if input.input_format_options.is_some() && format != "CSV" {
            return Err(Error::validation(
                "InputFormatOptions can only be specified when InputFormat is CSV",
            ));
        }
        let create: CreateTableInput =
            serde_json::from_value(input.table_creation_parameters.clone())
                .map_err(|e| Error::validation(format!("Invalid TableCreationParameters: {e}")))?;
        let table_name = create.table_name.clone();
        if self.table_meta(ns, &table_name)?.is_some() {
            return Err(Error::ResourceInUse(format!(
                "Table already exists: {table_name}"
            )));
        }
        let now = self.clock.now();
        let table_arn = format!(
            "arn:aws:dynamodb:{}:{}:table/{table_name}",
            ns.region, ns.account
        );
        let arn = format!("{table_arn}/import/{}", operation_id(self, now));
        let mut fingerprint = input.clone();
        fingerprint.client_token = None;
        let fingerprint = to_json(&fingerprint)?;
        if let Some(token) = &input.client_token {
            let replay = check_token(
                self,
                IMPORT_TOKENS,
                &token_key(ns, token),
                &fingerprint,
                now,
                || {
                    Error::ImportConflict(
                        "Import conflict: Duplicate request detected with conflicting parameters"
                            .into(),
                    )
                },
            )?;
            if let Some(seen) = replay {
                let rec: ImportRecord =
                    load_one(self, IMPORTS, &seen)?.ok_or_else(|| import_not_found(&seen))?;
                return Ok(ImportTableOutput {
                    import_table_description: rec.desc,
                });
            }
        }
        let source = &input.s3_bucket_source;
        let mut desc = ImportTableDescription {
            import_arn: arn.clone(),
            import_status: "IN_PROGRESS".into(),
            table_arn,
            table_id: None,
            client_token: input.client_token.clone(),
            s3_bucket_source: source.clone(),
            error_count: 0,
            cloud_watch_log_group_arn: format!(
                "arn:aws:logs:{}:{}:log-group:/aws-dynamodb/imports:*",
                ns.region, ns.account
            ),
            input_format: format.to_string(),
            input_format_options: input.input_format_options.clone(),
            input_compression_type: compression.clone(),
            table_creation_parameters: input.table_creation_parameters.clone(),
            start_time: now.as_epoch_seconds(),
            end_time: None,
            processed_size_bytes: None,
            processed_item_count: 0,
            imported_item_count: 0,
            failure_code: None,
            failure_message: None,
        };
        let response;
        if !s3.bucket_exists(&source.s3_bucket) {
            response = desc.clone();
            desc.import_status = "FAILED".into();
            desc.failure_code = Some("S3NoSuchBucket".into());
            desc.failure_message = Some("The specified bucket does not exist".into());
        } else {
            let prefix = source.s3_key_prefix.clone().unwrap_or_default();
            let objects = s3.list(&source.s3_bucket, &prefix)?;
            if objects.is_empty() {
                response = desc.clone();
                desc.import_status = "FAILED".into();
                desc.failure_code = Some("ItemCountMismatch".into());
                desc.failure_message = Some(format!(
                    "No objects found in s3://{}/{prefix}",
                    source.s3_bucket
                ));
            } else {
                // Parse every object first: the table is created and filled in one transaction.
                let csv = input
                    .input_format_options
                    .as_ref()
                    .and_then(|o| o.csv.clone())
                    .unwrap_or_default();
                let mut items: Vec<Result<Item>> = Vec::new();
                let mut processed_bytes = 0u64;
                for object in &objects {
                    processed_bytes += object.size;
                    match read_text(&s3, &source.s3_bucket, Some(&compression), &object.key) {
                        Err(e) => items.push(Err(e)),
                        Ok(text) if format == "CSV" => {
                            items.extend(csv_items(&text, &csv, &create)?);
                        }
                        Ok(text) => {
                            items.extend(parse_records(format, &text).into_iter().map(|r| r.item))
                        }
                    }
                }
                let (mut imported, mut errors) = (0u64, 0u64);
                let processed = items.len() as u64;
                let out = self.create_table_then(ns, create, |txn, meta| {
                    let table_key = meta.catalog_key();
                    for item in items {
                        match item.and_then(|item| put_record(txn, meta, &table_key, item)) {
                            Ok(()) => imported += 1,
                            Err(e @ Error::Internal(_)) => return Err(e),
                            Err(_) => errors += 1,
                        }
                    }
                    Ok(())
                })?;
                desc.table_id = Some(out.table_description.table_id.clone());
                response = desc.clone();
                desc.import_status = "COMPLETED".into();
                desc.processed_size_bytes = Some(processed_bytes);
                desc.processed_item_count = processed;
                desc.imported_item_count = imported;
                desc.error_count = errors;
            }
        }
        desc.end_time = Some(self.clock.now().as_epoch_seconds());
        let rec = ImportRecord {
            desc,
            account: ns.account.clone(),
            region: ns.region.clone(),
            started_ms: now.0,
        };
        let json = to_json(&rec)?;
        let token = input
            .client_token
            .as_deref()
            .map(|t| (token_key(ns, t), fingerprint.as_str()));
        save_record(self, IMPORTS, IMPORT_TOKENS, &arn, &json, token, now)?;
        Ok(ImportTableOutput {
            import_table_description: response,
        })
    }

    /// DescribeImport.
    pub fn describe_import(
        &self,
        ns: &Namespace,
        input: DescribeImportInput,
    ) -> Result<ImportTableOutput> {
        let rec: ImportRecord = job(self, IMPORTS, ns, &input.import_arn)?
            .ok_or_else(|| import_not_found(&input.import_arn))?;
        Ok(ImportTableOutput {
            import_table_description: rec.desc,
        })
    }

    /// ListImports: oldest first, optionally for one table, `PageSize` (at most 25) a page.
    pub fn list_imports(
        &self,
        ns: &Namespace,
        input: ListImportsInput,
    ) -> Result<ListImportsOutput> {
        // The model's ImportNextToken is 112 to 1024 characters of 16-hex-digit groups.
        let start = page_start(input.next_token.as_deref(), 7)?;
        let limit = page_size(input.page_size);
        let all: Vec<ImportRecord> = jobs(self, IMPORTS, ns, input.table_arn.as_deref())?;
        let page: Vec<ImportSummary> = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| ImportSummary {
                import_arn: r.desc.import_arn.clone(),
                import_status: r.desc.import_status.clone(),
                table_arn: r.desc.table_arn.clone(),
                s3_bucket_source: r.desc.s3_bucket_source.clone(),
                cloud_watch_log_group_arn: r.desc.cloud_watch_log_group_arn.clone(),
                input_format: r.desc.input_format.clone(),
                start_time: r.desc.start_time,
                end_time: r.desc.end_time,
            })
            .collect();
        let next = start + page.len();
        Ok(ListImportsOutput {
            import_summary_list: page,
            next_token: (next < all.len()).then(|| next_token(next, 7)),
        })
    }
}

fn export_not_found(arn: &str) -> Error {
    Error::ExportNotFound(format!("Export not found: {arn}"))
}

fn import_not_found(arn: &str) -> Error {
    Error::ImportNotFound(format!("Import not found: {arn}"))
}

/// The folder of an export's objects: `<S3Prefix>/AWSDynamoDB/<ExportId>`.
fn export_base(prefix: Option<&str>, id: &str) -> String {
    match prefix
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{p}/AWSDynamoDB/{id}"),
        None => format!("AWSDynamoDB/{id}"),
    }
}

/// Writes an export's objects; returns (manifest-summary key, item count, billed bytes).
fn write_export(
    s3: &S3Dir,
    desc: &ExportDescription,
    id: &str,
    lines: &[(String, u64)],
    started: Timestamp,
) -> Result<(String, u64, u64)> {
    let bucket = &desc.s3_bucket;
    let base = export_base(desc.s3_prefix.as_deref(), id);
    s3.put(bucket, &format!("{base}/_started"), b"")?;
    let ext = if desc.export_format == "ION" {
        "ion.gz"
    } else {
        "json.gz"
    };
    let data_key = format!("{base}/data/{}.{ext}", data_file_name(id));
    let mut body = String::new();
    for (line, _) in lines {
        body.push_str(line);
        body.push('\n');
    }
    let data = gzip(body.as_bytes())?;
    s3.put(bucket, &data_key, &data)?;
    let digest = md5(&data);
    let count = lines.len() as u64;
    let billed: u64 = lines.iter().map(|(_, n)| n).sum();
    let files = serde_json::json!({
        "itemCount": count,
        "md5Checksum": B64.encode(digest),
        "etag": hex(&digest),
        "dataFileS3Key": data_key,
    });
    let files_body = format!("{files}\n");
    let files_key = format!("{base}/manifest-files.json");
    s3.put(bucket, &files_key, files_body.as_bytes())?;
    s3.put(
        bucket,
        &format!("{base}/manifest-files.checksum"),
        hex(&md5(files_body.as_bytes())).as_bytes(),
    )?;
    let mut summary = serde_json::json!({
        "version": if desc.export_type == "INCREMENTAL_EXPORT" { "2023-08-01" } else { "2020-06-30" },
        "exportArn": desc.export_arn,
        "startTime": iso(started.0),
        "endTime": iso(started.0),
        "tableArn": desc.table_arn,
        "tableId": desc.table_id,
        "s3Bucket": bucket,
        "s3Prefix": desc.s3_prefix,
        "s3SseAlgorithm": desc.s3_sse_algorithm,
        "s3SseKmsKeyId": desc.s3_sse_kms_key_id,
        "manifestFilesS3Key": files_key,
        "billedSizeBytes": billed,
        "itemCount": count,
        "outputFormat": desc.export_format,
        "exportType": desc.export_type,
    });
    if let Some(map) = summary.as_object_mut() {
        match &desc.incremental_export_specification {
            None => {
                let at = desc
                    .export_time
                    .map(seconds_to_timestamp)
                    .unwrap_or(started);
                map.insert("exportTime".into(), iso(at.0).into());
            }
            Some(spec) => {
                let from = spec.export_from_time.map(seconds_to_timestamp);
                let to = spec.export_to_time.map(seconds_to_timestamp);
                map.insert(
                    "exportFromTime".into(),
                    from.map(|t| iso(t.0)).unwrap_or_default().into(),
                );
                map.insert(
                    "exportToTime".into(),
                    to.map(|t| iso(t.0)).unwrap_or_default().into(),
                );
                map.insert(
                    "exportViewType".into(),
                    spec.export_view_type.clone().unwrap_or_default().into(),
                );
            }
        }
    }
    let summary_body =
        serde_json::to_string_pretty(&summary).map_err(|e| Error::Internal(e.to_string()))?;
    let summary_key = format!("{base}/manifest-summary.json");
    s3.put(bucket, &summary_key, summary_body.as_bytes())?;
    s3.put(
        bucket,
        &format!("{base}/manifest-summary.checksum"),
        hex(&md5(summary_body.as_bytes())).as_bytes(),
    )?;
    Ok((summary_key, count, billed))
}

/// A data file's name: 26 lowercase base32 characters, like AWS's, derived from the export id.
fn data_file_name(id: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let digest = md5(id.as_bytes());
    let mut bits: u128 = u128::from_be_bytes(digest);
    let mut out = String::with_capacity(26);
    for _ in 0..26 {
        out.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One FULL export line.
fn item_line(format: &str, item: &Item) -> Result<String> {
    if format == "ION" {
        return Ok(format!("$ion_1_0 {{Item:{}}}", ion_struct(item)));
    }
    to_json(&serde_json::json!({ "Item": item }))
}

/// One INCREMENTAL export line.
fn change_line(
    format: &str,
    when_ms: i64,
    keys: &Item,
    new: Option<&Item>,
    old: Option<&Item>,
) -> Result<String> {
    let micros = when_ms.saturating_mul(1000);
    if format == "ION" {
        let mut s = format!(
            "$ion_1_0 {{Metadata:{{WriteTimestampMicros:{micros}}},Keys:{}",
            ion_struct(keys)
        );
        if let Some(new) = new {
            s.push_str(&format!(",NewImage:{}", ion_struct(new)));
        }
        if let Some(old) = old {
            s.push_str(&format!(",OldImage:{}", ion_struct(old)));
        }
        s.push('}');
        return Ok(s);
    }
    let mut line = serde_json::json!({
        "Metadata": {"WriteTimestampMicros": {"N": micros.to_string()}},
        "Keys": keys,
    });
    if let Some(map) = line.as_object_mut() {
        if let Some(new) = new {
            map.insert(
                "NewImage".into(),
                serde_json::to_value(new).map_err(corrupt)?,
            );
        }
        if let Some(old) = old {
            map.insert(
                "OldImage".into(),
                serde_json::to_value(old).map_err(corrupt)?,
            );
        }
    }
    to_json(&line)
}

/// An item as an Ion struct (the export's type mapping: numbers as decimals, sets as annotated
/// lists, binaries as blobs).
fn ion_struct(item: &Item) -> String {
    let fields: Vec<String> = item
        .iter()
        .map(|(k, v)| format!("{}:{}", ion_string(k), ion_value(v)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn ion_string(s: &str) -> String {
    // JSON string escapes are valid Ion string escapes.
    serde_json::Value::from(s).to_string()
}

/// A number as an Ion decimal: `12` → `12.`, `1.5E+3` → `1.5d3`.
fn ion_decimal(n: &str) -> String {
    match n.split_once(['E', 'e']) {
        Some((m, e)) => format!("{m}d{}", e.trim_start_matches('+')),
        None if n.contains('.') => n.to_string(),
        None => format!("{n}."),
    }
}

fn ion_value(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => ion_string(s),
        AttributeValue::N(n) => ion_decimal(&n.to_string()),
        AttributeValue::B(b) => format!("{{{{{}}}}}", B64.encode(b)),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "null".into(),
        AttributeValue::M(m) => ion_struct(m),
        AttributeValue::L(l) => {
            let parts: Vec<String> = l.iter().map(ion_value).collect();
            format!("[{}]", parts.join(","))
        }
        AttributeValue::Ss(s) => {
            let parts: Vec<String> = s.iter().map(|x| ion_string(x)).collect();
            format!("$dynamodb_SS::[{}]", parts.join(","))
        }
        AttributeValue::Ns(s) => {
            let parts: Vec<String> = s.iter().map(|x| ion_decimal(&x.to_string())).collect();
            format!("$dynamodb_NS::[{}]", parts.join(","))
        }
        AttributeValue::Bs(s) => {
            let parts: Vec<String> = s
                .iter()
                .map(|x| format!("{{{{{}}}}}", B64.encode(x)))
                .collect();
            format!("$dynamodb_BS::[{}]", parts.join(","))
        }
    }
}

/// The items of one CSV object. The header is the first line unless `HeaderList` is given;
/// values are strings, except key attributes of the new table and its indexes, which take the
/// type their attribute definition gives (AWS: "Importing … CSV … all non-key attributes are
/// imported as strings"). Empty non-key values are omitted. A line with more values than
/// headers, or a key value that does not parse as its type, is an error record.
fn csv_items(
    text: &str,
    options: &CsvOptions,
    create: &CreateTableInput,
) -> Result<Vec<Result<Item>>> {
    let delimiter = match options.delimiter.as_deref() {
        None => ',',
        Some(d) => {
            let mut chars = d.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(Error::validation(
                        "CsvOptions.Delimiter must be one character",
                    ));
                }
            }
        }
    };
    let mut rows = csv_rows(text, delimiter).into_iter();
    let header: Vec<String> = match &options.header_list {
        Some(h) => h.clone(),
        None => match rows.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Ok(vec![Err(e)]),
            None => return Ok(Vec::new()),
        },
    };
    let types: BTreeMap<&str, crate::value::ScalarType> = create
        .attribute_definitions
        .iter()
        .map(|d| (d.attribute_name.as_str(), d.attribute_type))
        .collect();
    let mut out = Vec::new();
    for row in rows {
        out.push(row.and_then(|values| {
            if values.len() > header.len() {
                return Err(Error::validation(format!(
                    "CSV line has {} values but the header names {} columns",
                    values.len(),
                    header.len()
                )));
            }
            let mut item = Item::new();
            for (name, value) in header.iter().zip(values) {
                match types.get(name.as_str()) {
                    Some(ty) => {
                        item.insert(name.clone(), csv_key_value(name, *ty, value)?);
                    }
                    None if value.is_empty() => {}
                    None => {
                        item.insert(name.clone(), AttributeValue::S(value));
                    }
                }
            }
            Ok(item)
        }));
    }
    Ok(out)
}

/// A CSV value of a key attribute, as the type its attribute definition gives.
fn csv_key_value(
    name: &str,
    ty: crate::value::ScalarType,
    value: String,
) -> Result<AttributeValue> {
    let bad = || {
        Error::validation(format!(
            "CSV value {value:?} of key attribute {name} is not of type {}",
            ty.as_str()
        ))
    };
    match ty {
        crate::value::ScalarType::S => Ok(AttributeValue::S(value)),
        crate::value::ScalarType::N => value
            .parse::<crate::number::Number>()
            .map(AttributeValue::N)
            .map_err(|_| bad()),
        crate::value::ScalarType::B => B64
            .decode(value.as_bytes())
            .map(AttributeValue::B)
            .map_err(|_| bad()),
    }
}

/// Splits CSV text into rows of fields (RFC 4180 quoting: `"a ""b"""`, quoted delimiters and
/// newlines). Blank lines are skipped; an unterminated quote is an error row.
fn csv_rows(text: &str, delimiter: char) -> Vec<Result<Vec<String>>> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut row_has_content = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                row_has_content = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if row_has_content || !field.is_empty() || !fields.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    rows.push(Ok(std::mem::take(&mut fields)));
                }
                row_has_content = false;
            }
            c if c == delimiter => {
                fields.push(std::mem::take(&mut field));
                row_has_content = true;
            }
            _ => {
                field.push(c);
                row_has_content = true;
            }
        }
    }
    if in_quotes {
        rows.push(Err(Error::validation(
            "CSV has an unterminated quoted value",
        )));
    } else if row_has_content || !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        rows.push(Ok(fields));
    }
    rows
}

/// MD5 (RFC 1321), for the manifests' `md5Checksum` and `etag`.
fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i: i32| ((f64::from(i) + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    let (mut a0, mut b0, mut c0, mut d0) =
        (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    for chunk in msg.chunks_exact(64) {
        let m: Vec<u32> = chunk
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, w) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests;
