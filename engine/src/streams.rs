//! DynamoDB Streams: change records written with the change, shards, iterators and the four
//! Streams operations (ListStreams, DescribeStream, GetShardIterator, GetRecords).
//!
//! Layout in redb:
//! - `streams`: stream ARN → [`StreamState`] as JSON. An entry outlives its table: a disabled
//!   stream (or the stream of a deleted table) stays readable for 24 hours, as Streams.md says.
//! - `stream_records/<table_num>/<label>`: sequence number → [`StoredRecord`] as JSON. Key 0
//!   holds a [`TrimMark`], the highest sequence number trimmed away so far.
//!
//! A stream starts with one shard, opened with the stream. The open shard rolls over to a child
//! shard (its `ParentShardId` is the closed shard) when it is [`SHARD_ROLLOVER_MILLIS`] (4 hours)
//! of engine-clock time old, or when it holds the record count set with
//! [`Engine::set_stream_shard_records`]; the parent gets its `EndingSequenceNumber` and stays
//! listed for 24 hours. Rollover is decided when a record is written: a shard that receives no
//! record is not closed by time alone (AWS would show an empty child). So there is always exactly
//! one open shard, and its ancestors form a single line, which is what consumers that follow
//! parent/child lineage (the KCL adapter, Lambda) must handle. The open shard is closed when the
//! stream is disabled or its table deleted; re-enabling makes a new stream with a new label, ARN
//! and shard (Streams.md, "Enabling a stream"). Sequence numbers are global, so the shards of a
//! stream share one records table and each covers a range of it.
//!
//! Records are written by [`record`], called from `Engine::store` inside the write transaction
//! of the change, so a change and its record commit together or not at all. A write that leaves
//! the item unchanged writes no record (Streams.md: "If you perform a PutItem or UpdateItem
//! operation that does not change any data in an item, DynamoDB Streams does not write a stream
//! record").
//!
//! Record shapes follow AWS-recorded records (localstack snapshots
//! `lambda___event_source_mapping__test_lambda_integration_dynamodbstreams` and
//! `dynamodbstreams__test_dynamodb_streams`): `SizeBytes` is the billed size of `Keys` plus
//! the images present (70 for a 27-byte key and a 43-byte new image there).
//!
//! Error texts and their sources:
//! - "Requested resource not found: Stream: ARN not found" (AWS, recorded in the localstack
//!   snapshot `test_non_existent_stream`).
//! - "Requested resource not found: Shard does not exist" (AWS, quoted from GetShardIterator in
//!   ironSource/node-dynamodb-stream#16 and opensearch-project/data-prepper#4401).
//! - "Shard iterator has expired" (AWS, quoted from AmazonDynamoDBStreams in
//!   spring-attic/spring-integration-aws#59); iterators live 15 minutes (API_streams_GetShardIterator).
//! - "The data you are trying to access has been trimmed" (quoted in
//!   ironSource/node-dynamodb-stream#13).
//! - The remaining ValidationException texts (bad iterator, missing or foreign sequence number)
//!   are ours until a recording shows AWS's.

use std::cell::Cell;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;
use crate::clock::Timestamp;
use crate::engine::{COUNTERS, Engine, Namespace};
use crate::error::Error;
use crate::ids::IdSource;
use crate::item_ops::ItemSlot;
use crate::keys::KeySchemaElement;
use crate::value::{Item, item_size};

/// Stream ARN → [`StreamState`] as JSON.
const STREAMS: TableDefinition<&str, &str> = TableDefinition::new("streams");

/// The counter naming sequence numbers; shared by all streams, so numbers only grow.
const SEQUENCE_COUNTER: &str = "stream_seq";

/// Engine-wide stream settings (name → value).
const STREAM_SETTINGS: TableDefinition<&str, u64> = TableDefinition::new("stream_settings");

/// The setting holding the record count after which a shard rolls over (absent: no limit).
const SHARD_RECORDS_SETTING: &str = "shard_records";

/// How long a shard stays open: 4 hours of engine-clock time (AWS's shards roll over about
/// every four hours; Streams.md, "Reading and processing a stream").
pub const SHARD_ROLLOVER_MILLIS: i64 = 4 * 60 * 60 * 1000;

/// How long records stay readable: 24 hours (Streams.md, "Data retention limit").
pub const STREAM_RETENTION_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// How long a shard iterator stays valid: 15 minutes (API_streams_GetShardIterator: "A shard
/// iterator expires 15 minutes after it is returned to the requester").
pub const ITERATOR_LIFETIME_MILLIS: i64 = 15 * 60 * 1000;

/// The largest `Limit` GetRecords accepts (API_streams_GetRecords: "The upper limit is 1000").
pub const MAX_GET_RECORDS_LIMIT: i64 = 1000;

/// Added to every sequence number so that each has 21 digits, like AWS's
/// (`SequenceNumber` has a minimum length of 21 in the Streams model).
const SEQUENCE_BASE: u128 = 100_000_000_000_000_000_000;

/// At most this many expired records are removed per write, so one write never pays for a
/// long backlog; reads skip what is left.
const TRIM_BATCH: usize = 64;

thread_local! {
    /// Whether the deletes running on this thread are TTL expiries.
    static TTL_DELETES: Cell<bool> = const { Cell::new(false) };
}

/// While alive, deletes on this thread are recorded as TTL expiries, with the service's
/// `userIdentity` (Streams.md, "DynamoDB Streams and Time to Live").
pub(crate) struct TtlDeleteScope(bool);

impl TtlDeleteScope {
    /// Marks the deletes that follow as TTL expiries.
    pub(crate) fn enter() -> TtlDeleteScope {
        TtlDeleteScope(TTL_DELETES.with(|c| c.replace(true)))
    }
}

impl Drop for TtlDeleteScope {
    fn drop(&mut self) {
        let previous = self.0;
        TTL_DELETES.with(|c| c.set(previous));
    }
}

/// A failure of a Streams operation: an engine error or one of the two Streams-only errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamsError {
    /// An error shared with DynamoDB (validation, resource not found, storage).
    #[error(transparent)]
    Engine(#[from] Error),
    /// `ExpiredIteratorException`: the shard iterator is older than 15 minutes.
    #[error("{0}")]
    ExpiredIterator(String),
    /// `TrimmedDataAccessException`: the position lies before the 24-hour retention window.
    #[error("{0}")]
    TrimmedDataAccess(String),
}

impl StreamsError {
    /// AWS's short error type name, e.g. `ExpiredIteratorException`.
    pub fn aws_type(&self) -> &'static str {
        match self {
            StreamsError::Engine(e) => e.aws_type(),
            StreamsError::ExpiredIterator(_) => "ExpiredIteratorException",
            StreamsError::TrimmedDataAccess(_) => "TrimmedDataAccessException",
        }
    }
}

impl From<redb::Error> for StreamsError {
    fn from(e: redb::Error) -> Self {
        StreamsError::Engine(e.into())
    }
}

macro_rules! streams_from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StreamsError {
            fn from(e: $t) -> Self {
                StreamsError::Engine(e.into())
            }
        }
    )*};
}
streams_from_redb!(redb::TransactionError, redb::TableError, redb::StorageError);

/// Result of a Streams operation.
pub type StreamsResult<T> = std::result::Result<T, StreamsError>;

/// What the engine keeps about one stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StreamState {
    arn: String,
    account: String,
    region: String,
    table_name: String,
    label: String,
    view_type: String,
    key_schema: Vec<KeySchemaElement>,
    created: Timestamp,
    /// The redb table holding the records.
    records_table: String,
    shard_id: String,
    /// Sequence number before which the shard has no records.
    start_seq: u64,
    /// Set when the shard is closed: no record has a higher number.
    end_seq: Option<u64>,
    /// When the shard was closed; the stream is forgotten 24 hours later.
    closed_at: Option<Timestamp>,
    /// The parent of the open shard (the shard it rolled over from).
    #[serde(default)]
    parent_shard_id: Option<String>,
    /// When the open shard was opened (`created` when absent).
    #[serde(default)]
    shard_opened: Option<Timestamp>,
    /// How many records the open shard holds.
    #[serde(default)]
    shard_records: u64,
    /// The sequence number of the open shard's last record.
    #[serde(default)]
    last_seq: Option<u64>,
    /// Shards closed by rollover, oldest first; each is dropped 24 hours after it closed.
    #[serde(default)]
    closed_shards: Vec<ClosedShard>,
}

/// A shard closed by rollover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ClosedShard {
    shard_id: String,
    parent_shard_id: Option<String>,
    start_seq: u64,
    end_seq: u64,
    closed_at: Timestamp,
}

/// One shard of a stream as the operations see it.
#[derive(Debug, Clone, PartialEq)]
struct ShardInfo {
    shard_id: String,
    parent_shard_id: Option<String>,
    start_seq: u64,
    end_seq: Option<u64>,
}

/// A record as stored: its engine-clock time (for retention) and its wire form.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredRecord {
    t: i64,
    r: Record,
}

/// The value at key 0 of a records table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TrimMark {
    trimmed_through: u64,
}

/// A stream record (`Record` in the Streams API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// A unique id of this record: 32 hex digits.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName")]
    pub event_name: String,
    /// `1.1`.
    #[serde(rename = "eventVersion")]
    pub event_version: String,
    /// `aws:dynamodb`.
    #[serde(rename = "eventSource")]
    pub event_source: String,
    /// The table's region.
    #[serde(rename = "awsRegion")]
    pub aws_region: String,
    /// The change itself.
    pub dynamodb: StreamRecord,
    /// Who made the change; only TTL deletes carry one (the DynamoDB service).
    #[serde(rename = "userIdentity", skip_serializing_if = "Option::is_none")]
    pub user_identity: Option<Identity>,
}

/// `StreamRecord`: keys, images and position of one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamRecord {
    /// When the change happened, in whole epoch seconds of the engine clock.
    pub approximate_creation_date_time: i64,
    /// The item's primary key.
    pub keys: Item,
    /// The item after the change (`NEW_IMAGE`, `NEW_AND_OLD_IMAGES`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_image: Option<Item>,
    /// The item before the change (`OLD_IMAGE`, `NEW_AND_OLD_IMAGES`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_image: Option<Item>,
    /// The record's position: a decimal string of 21 or more digits.
    pub sequence_number: String,
    /// Billed size of the keys and images.
    pub size_bytes: u64,
    /// The stream's view type.
    pub stream_view_type: String,
}

/// `Identity` of a record (members as the Streams model names them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Identity {
    /// `dynamodb.amazonaws.com` for TTL deletes.
    pub principal_id: String,
    /// `Service` for TTL deletes.
    #[serde(rename = "Type")]
    pub type_: String,
}

/// ListStreams request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsInput {
    /// Only streams of this table.
    #[serde(default)]
    pub table_name: Option<String>,
    /// At most this many streams (default 100).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Start after this stream.
    #[serde(default)]
    pub exclusive_start_stream_arn: Option<String>,
}

/// `Stream` summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSummary {
    /// The stream's ARN.
    pub stream_arn: String,
    /// Its table.
    pub table_name: String,
    /// Its label.
    pub stream_label: String,
}

/// ListStreams output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsOutput {
    /// The streams.
    pub streams: Vec<StreamSummary>,
    /// Where the next page starts, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_stream_arn: Option<String>,
}

/// `ShardFilter` of DescribeStream.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShardFilter {
    /// `CHILD_SHARDS`.
    #[serde(default, rename = "Type")]
    pub type_: Option<String>,
    /// The parent shard.
    #[serde(default)]
    pub shard_id: Option<String>,
}

/// DescribeStream request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamInput {
    /// The stream's ARN.
    pub stream_arn: String,
    /// At most this many shards (default 100).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Start after this shard.
    #[serde(default)]
    pub exclusive_start_shard_id: Option<String>,
    /// Only the children of a shard.
    #[serde(default)]
    pub shard_filter: Option<ShardFilter>,
}

/// `SequenceNumberRange` of a shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SequenceNumberRange {
    /// The first sequence number the shard can hold.
    pub starting_sequence_number: String,
    /// The last one, once the shard is closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending_sequence_number: Option<String>,
}

/// `Shard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shard {
    /// `shardId-<20 digits>-<8 hex>`.
    pub shard_id: String,
    /// Its range.
    pub sequence_number_range: SequenceNumberRange,
    /// The shard this one rolled over from, while that shard is still listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
}

/// `StreamDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDescription {
    /// The stream's ARN.
    pub stream_arn: String,
    /// Its label.
    pub stream_label: String,
    /// `ENABLED` or `DISABLED`.
    pub stream_status: String,
    /// Its view type.
    pub stream_view_type: String,
    /// When it was enabled, epoch seconds.
    pub creation_request_date_time: f64,
    /// Its table.
    pub table_name: String,
    /// The table's key schema.
    pub key_schema: Vec<KeySchemaElement>,
    /// Its shards.
    pub shards: Vec<Shard>,
    /// Where the next page of shards starts, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_shard_id: Option<String>,
}

/// DescribeStream output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamOutput {
    /// The stream.
    pub stream_description: StreamDescription,
}

/// GetShardIterator request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetShardIteratorInput {
    /// The stream's ARN.
    pub stream_arn: String,
    /// The shard.
    pub shard_id: String,
    /// `TRIM_HORIZON`, `LATEST`, `AT_SEQUENCE_NUMBER`, `AFTER_SEQUENCE_NUMBER` or `AT_TIMESTAMP`.
    pub shard_iterator_type: String,
    /// For the `*_SEQUENCE_NUMBER` types.
    #[serde(default)]
    pub sequence_number: Option<String>,
    /// For `AT_TIMESTAMP`: epoch seconds.
    #[serde(default)]
    pub timestamp: Option<f64>,
}

/// GetShardIterator output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetShardIteratorOutput {
    /// The iterator, valid for 15 minutes.
    pub shard_iterator: String,
}

/// GetRecords request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsInput {
    /// Where to read.
    pub shard_iterator: String,
    /// At most this many records (1 to 1000, default 1000).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// GetRecords output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsOutput {
    /// The records, oldest first.
    pub records: Vec<Record>,
    /// Where to read next; absent once a closed shard has been read to its end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_shard_iterator: Option<String>,
}

/// A decoded shard iterator.
#[derive(Debug, Clone, PartialEq)]
struct Iterator {
    arn: String,
    shard_id: String,
    /// Whether this reads from the trim horizon (skipping trimmed records) rather than from a
    /// fixed position (which fails once records after it are trimmed).
    horizon: bool,
    /// Records with higher sequence numbers are next.
    after: u64,
    created: Timestamp,
}

impl Iterator {
    /// `ARN|1|payload`, the shape of AWS's iterators (localstack/localstack#8439).
    fn encode(&self) -> String {
        let payload = format!(
            "{}|{}|{}|{}",
            self.shard_id,
            if self.horizon { 'T' } else { 'P' },
            self.after,
            self.created.0
        );
        format!("{}|1|{}", self.arn, B64.encode(payload))
    }

    fn decode(s: &str) -> Option<Iterator> {
        let (rest, payload) = s.rsplit_once('|')?;
        let arn = rest.strip_suffix("|1")?;
        let payload = String::from_utf8(B64.decode(payload).ok()?).ok()?;
        let mut parts = payload.split('|');
        let shard_id = parts.next()?.to_string();
        let horizon = match parts.next()? {
            "T" => true,
            "P" => false,
            _ => return None,
        };
        let after = parts.next()?.parse().ok()?;
        let created = Timestamp(parts.next()?.parse().ok()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Iterator {
            arn: arn.to_string(),
            shard_id,
            horizon,
            after,
            created,
        })
    }
}

/// A sequence number as AWS writes it.
fn format_seq(n: u64) -> String {
    (SEQUENCE_BASE + u128::from(n)).to_string()
}

/// Parses a sequence number written by [`format_seq`].
fn parse_seq(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u128 = s.parse().ok()?;
    u64::try_from(n.checked_sub(SEQUENCE_BASE)?).ok()
}

/// 64 bits of FNV-1a over `parts`, mixed by splitmix64.
fn hash64(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn stream_not_found(arn: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

fn shard_not_found() -> Error {
    Error::ResourceNotFound("Requested resource not found: Shard does not exist".into())
}

fn trimmed() -> StreamsError {
    StreamsError::TrimmedDataAccess("The data you are trying to access has been trimmed".into())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{what} is corrupt: {e}"))
}

fn to_json<T: Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))
}

/// Opens a stream for `meta` when its stream is enabled: registers the stream and its shard.
/// If the stream's ARN was taken before (a stream re-enabled, or a table re-created, within the
/// same millisecond), the label moves forward a millisecond at a time until the ARN is new.
pub(crate) fn open_stream(
    txn: &redb::WriteTransaction,
    meta: &mut TableMeta,
    now: Timestamp,
    ids: &IdSource,
) -> Result<(), Error> {
    if !meta.stream.as_ref().is_some_and(|s| s.enabled) {
        return Ok(());
    }
    let mut streams = txn.open_table(STREAMS)?;
    let mut at = now;
    loop {
        let Some(arn) = meta.stream_arn() else {
            return Ok(());
        };
        if streams.get(arn.as_str())?.is_none() {
            break;
        }
        at = Timestamp(at.0 + 1);
        if let Some(s) = meta.stream.as_mut() {
            s.label = crate::ids::iso8601_millis(at.0);
        }
    }
    let (Some(arn), Some(stream)) = (meta.stream_arn(), meta.stream.as_ref()) else {
        return Ok(());
    };
    let last = txn
        .open_table(COUNTERS)?
        .get(SEQUENCE_COUNTER)?
        .map(|v| v.value())
        .unwrap_or(0);
    let state = StreamState {
        arn: arn.clone(),
        account: meta.account.clone(),
        region: meta.region.clone(),
        table_name: meta.name.clone(),
        label: stream.label.clone(),
        view_type: stream.view_type.clone(),
        key_schema: meta.key_schema.clone(),
        created: now,
        records_table: records_table_name(meta.table_num, &stream.label),
        shard_id: format!(
            "shardId-{:020}-{:08x}",
            now.0.max(0),
            ids.next_u64() & 0xFFFF_FFFF
        ),
        start_seq: last + 1,
        end_seq: None,
        closed_at: None,
        parent_shard_id: None,
        shard_opened: Some(now),
        shard_records: 0,
        last_seq: None,
        closed_shards: Vec::new(),
    };
    streams.insert(arn.as_str(), to_json(&state)?.as_str())?;
    let name = state.records_table.clone();
    txn.open_table(TableDefinition::<u64, &str>::new(&name))?;
    Ok(())
}

/// Closes the shard of `meta`'s stream if it is enabled (the stream is being disabled or its
/// table deleted). Its records stay readable for 24 hours.
pub(crate) fn close_stream(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    now: Timestamp,
) -> Result<(), Error> {
    if !meta.stream.as_ref().is_some_and(|s| s.enabled) {
        return Ok(());
    }
    let Some(arn) = meta.stream_arn() else {
        return Ok(());
    };
    let mut streams = txn.open_table(STREAMS)?;
    let Some(mut state) = load_state(&streams, &arn)? else {
        // A stream enabled before streams were recorded: nothing to close.
        return Ok(());
    };
    let last = {
        let records = txn.open_table(TableDefinition::<u64, &str>::new(&state.records_table))?;
        records.last()?.map(|(k, _)| k.value()).filter(|k| *k > 0)
    };
    state.end_seq = Some(last.unwrap_or(0).max(state.start_seq));
    state.closed_at = Some(now);
    streams.insert(arn.as_str(), to_json(&state)?.as_str())?;
    Ok(())
}

fn records_table_name(table_num: u64, label: &str) -> String {
    format!("stream_records/{table_num}/{label}")
}

fn load_state<T: ReadableTable<&'static str, &'static str>>(
    streams: &T,
    arn: &str,
) -> Result<Option<StreamState>, Error> {
    match streams.get(arn)? {
        None => Ok(None),
        Some(v) => serde_json::from_str(v.value())
            .map(Some)
            .map_err(|e| corrupt("stream state", e)),
    }
}

/// Appends the stream record of the change in `slot` (to `new`, or a delete with `None`), when
/// the table's stream is enabled and the item actually changes. Runs inside the change's write
/// transaction.
pub(crate) fn record(
    txn: &redb::WriteTransaction,
    slot: &ItemSlot,
    new: Option<&Item>,
) -> Result<(), Error> {
    let meta = &slot.meta;
    let Some(stream) = meta.stream.as_ref().filter(|s| s.enabled) else {
        return Ok(());
    };
    let old = slot.old.as_ref();
    let event_name = match (old, new) {
        (None, None) => return Ok(()),
        (None, Some(_)) => "INSERT",
        (Some(o), Some(n)) if o == n => return Ok(()),
        (Some(_), Some(_)) => "MODIFY",
        (Some(_), None) => "REMOVE",
    };
    let Some(image) = new.or(old) else {
        return Ok(());
    };
    let keys: Item = meta
        .key_schema
        .iter()
        .filter_map(|k| {
            image
                .get(&k.attribute_name)
                .map(|v| (k.attribute_name.clone(), v.clone()))
        })
        .collect();
    let view = stream.view_type.as_str();
    let new_image = matches!(view, "NEW_IMAGE" | "NEW_AND_OLD_IMAGES")
        .then(|| new.cloned())
        .flatten();
    let old_image = matches!(view, "OLD_IMAGE" | "NEW_AND_OLD_IMAGES")
        .then(|| old.cloned())
        .flatten();
    let size_bytes = [Some(&keys), new_image.as_ref(), old_image.as_ref()]
        .into_iter()
        .flatten()
        .map(|i| item_size(i) as u64)
        .sum();
    let now = crate::clock::write_now();
    let seq = Engine::next_counter(txn, SEQUENCE_COUNTER)?;
    let seq_bytes = seq.to_be_bytes();
    let event_id = format!(
        "{:016x}{:016x}",
        hash64(
            1,
            &[
                meta.table_id.as_bytes(),
                stream.label.as_bytes(),
                &seq_bytes
            ]
        ),
        hash64(
            2,
            &[
                meta.table_id.as_bytes(),
                stream.label.as_bytes(),
                &seq_bytes
            ]
        )
    );
    let ttl_delete = new.is_none() && TTL_DELETES.with(Cell::get);
    let stored = StoredRecord {
        t: now.0,
        r: Record {
            event_id,
            event_name: event_name.into(),
            event_version: "1.1".into(),
            event_source: "aws:dynamodb".into(),
            aws_region: meta.region.clone(),
            dynamodb: StreamRecord {
                approximate_creation_date_time: now.0.div_euclid(1000),
                keys,
                new_image,
                old_image,
                sequence_number: format_seq(seq),
                size_bytes,
                stream_view_type: stream.view_type.clone(),
            },
            user_identity: ttl_delete.then(|| Identity {
                principal_id: "dynamodb.amazonaws.com".into(),
                type_: "Service".into(),
            }),
        },
    };
    if let Some(arn) = meta.stream_arn() {
        advance_shard(txn, &arn, seq, now)?;
    }
    let name = records_table_name(meta.table_num, &stream.label);
    let mut records = txn.open_table(TableDefinition::<u64, &str>::new(&name))?;
    records.insert(seq, to_json(&stored)?.as_str())?;
    trim(&mut records, now)
}

/// Counts record `seq` into the open shard of the stream `arn`, first rolling the shard over to
/// a child when it is due (4 hours old, or full under the engine's record limit). A shard with
/// no record never rolls over, so a closed shard always holds at least one record.
fn advance_shard(
    txn: &redb::WriteTransaction,
    arn: &str,
    seq: u64,
    now: Timestamp,
) -> Result<(), Error> {
    let mut streams = txn.open_table(STREAMS)?;
    let Some(mut state) = load_state(&streams, arn)? else {
        // A stream enabled before streams were recorded: it has no shard state to keep.
        return Ok(());
    };
    if state.end_seq.is_some() {
        return Ok(());
    }
    let limit = txn
        .open_table(STREAM_SETTINGS)?
        .get(SHARD_RECORDS_SETTING)?
        .map(|v| v.value());
    let opened = state.shard_opened.unwrap_or(state.created);
    let due = state.shard_records > 0
        && (now.0.saturating_sub(opened.0) >= SHARD_ROLLOVER_MILLIS
            || limit.is_some_and(|n| state.shard_records >= n));
    if due && let Some(last) = state.last_seq {
        state.closed_shards.push(ClosedShard {
            shard_id: state.shard_id.clone(),
            parent_shard_id: state.parent_shard_id.take(),
            start_seq: state.start_seq,
            end_seq: last,
            closed_at: now,
        });
        state.parent_shard_id = Some(state.shard_id.clone());
        state.shard_id = format!(
            "shardId-{:020}-{:08x}",
            now.0.max(0),
            hash64(3, &[arn.as_bytes(), &seq.to_be_bytes()]) & 0xFFFF_FFFF
        );
        state.start_seq = seq;
        state.shard_opened = Some(now);
        state.shard_records = 0;
    }
    state.shard_records += 1;
    state.last_seq = Some(seq);
    state.closed_shards.retain(|c| shard_retained(c, now));
    if state
        .parent_shard_id
        .as_ref()
        .is_some_and(|p| !state.closed_shards.iter().any(|c| &c.shard_id == p))
    {
        // The parent is no longer listed; AWS drops the link with it.
        state.parent_shard_id = None;
    }
    streams.insert(arn, to_json(&state)?.as_str())?;
    Ok(())
}

/// Whether a shard closed by rollover is still listed at `now` (24 hours after closing).
fn shard_retained(shard: &ClosedShard, now: Timestamp) -> bool {
    now.0.saturating_sub(shard.closed_at.0) < STREAM_RETENTION_MILLIS
}

impl Engine {
    /// Makes the open shard of every stream roll over to a child shard once it holds `records`
    /// records (`None`: only the 4-hour rollover). For exercising consumers that follow shard
    /// lineage without waiting hours of clock time. The setting is kept in the database, so an
    /// engine on a data dir keeps it across restarts.
    pub fn set_stream_shard_records(&self, records: Option<u64>) -> crate::error::Result<()> {
        self.write(|txn| {
            let mut settings = txn.open_table(STREAM_SETTINGS)?;
            match records {
                Some(n) => {
                    settings.insert(SHARD_RECORDS_SETTING, n.max(1))?;
                }
                None => {
                    settings.remove(SHARD_RECORDS_SETTING)?;
                }
            }
            Ok(())
        })
    }

    /// [`Engine::set_stream_shard_records`] in builder style: `Engine::builder().build()?
    /// .with_stream_shard_records(100)?`.
    pub fn with_stream_shard_records(self, records: u64) -> crate::error::Result<Engine> {
        self.set_stream_shard_records(Some(records))?;
        Ok(self)
    }

    /// Reclaims stream storage by the engine clock: a stream closed (disabled, or its table
    /// deleted) more than 24 hours ago is forgotten with all its records, and every open
    /// stream drops a batch of records older than 24 hours (writes trim too, so this matters
    /// for streams that stopped receiving records). Readers already never see either; this
    /// bounds what is stored. `serve` runs it with every TTL sweep. Returns how many streams
    /// were forgotten.
    pub fn purge_streams(&self) -> crate::error::Result<usize> {
        let now = self.clock.now();
        self.write(|txn| {
            let mut streams = txn.open_table(STREAMS)?;
            let mut states = Vec::new();
            for entry in streams.iter()? {
                let (arn, state) = entry?;
                let state: StreamState =
                    serde_json::from_str(state.value()).map_err(|e| corrupt("stream state", e))?;
                states.push((arn.value().to_string(), state));
            }
            let mut forgotten = 0;
            for (arn, state) in states {
                let records = TableDefinition::<u64, &str>::new(&state.records_table);
                if visible(&state, now) {
                    trim(&mut txn.open_table(records)?, now)?;
                } else {
                    streams.remove(arn.as_str())?;
                    txn.delete_table(records)?;
                    forgotten += 1;
                }
            }
            Ok(forgotten)
        })
    }
}

/// Removes up to [`TRIM_BATCH`] records older than the retention window and remembers the
/// highest number removed at key 0.
fn trim(records: &mut redb::Table<u64, &str>, now: Timestamp) -> Result<(), Error> {
    let cutoff = now.0.saturating_sub(STREAM_RETENTION_MILLIS);
    let mut expired = Vec::new();
    for entry in records.range(1..)?.take(TRIM_BATCH) {
        let (k, v) = entry?;
        let rec: StoredRecord =
            serde_json::from_str(v.value()).map_err(|e| corrupt("stream record", e))?;
        if rec.t >= cutoff {
            break;
        }
        expired.push(k.value());
    }
    let Some(&highest) = expired.last() else {
        return Ok(());
    };
    for k in expired {
        records.remove(k)?;
    }
    records.insert(
        0,
        to_json(&TrimMark {
            trimmed_through: highest,
        })?
        .as_str(),
    )?;
    Ok(())
}

/// Whether a stream closed at `closed_at` is still visible at `now`.
fn visible(state: &StreamState, now: Timestamp) -> bool {
    state
        .closed_at
        .is_none_or(|c| now.0.saturating_sub(c.0) < STREAM_RETENTION_MILLIS)
}

impl StreamState {
    /// The shards listed at `now`, parents before children; the open (or last) shard last.
    fn shards(&self, now: Timestamp) -> Vec<ShardInfo> {
        let listed: Vec<&ClosedShard> = self
            .closed_shards
            .iter()
            .filter(|c| shard_retained(c, now))
            .collect();
        let is_listed = |id: &Option<String>| {
            id.as_ref()
                .filter(|p| listed.iter().any(|c| &&c.shard_id == p))
                .cloned()
        };
        let mut out: Vec<ShardInfo> = listed
            .iter()
            .map(|c| ShardInfo {
                shard_id: c.shard_id.clone(),
                parent_shard_id: is_listed(&c.parent_shard_id),
                start_seq: c.start_seq,
                end_seq: Some(c.end_seq),
            })
            .collect();
        out.push(ShardInfo {
            shard_id: self.shard_id.clone(),
            parent_shard_id: is_listed(&self.parent_shard_id),
            start_seq: self.start_seq,
            end_seq: self.end_seq,
        });
        out
    }

    /// The shard `id`, if it is listed at `now`.
    fn find_shard(&self, id: &str, now: Timestamp) -> Result<ShardInfo, Error> {
        self.shards(now)
            .into_iter()
            .find(|s| s.shard_id == id)
            .ok_or_else(shard_not_found)
    }
}

impl ShardInfo {
    fn to_shard(&self) -> Shard {
        Shard {
            shard_id: self.shard_id.clone(),
            sequence_number_range: SequenceNumberRange {
                starting_sequence_number: format_seq(self.start_seq),
                ending_sequence_number: self.end_seq.map(format_seq),
            },
            parent_shard_id: self.parent_shard_id.clone(),
        }
    }
}

impl Engine {
    /// Reads the state of the stream `arn` as seen from `ns`.
    fn stream_state(
        &self,
        txn: &redb::ReadTransaction,
        ns: &Namespace,
        arn: &str,
    ) -> Result<StreamState, Error> {
        let streams = match txn.open_table(STREAMS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Err(stream_not_found(arn)),
            Err(e) => return Err(e.into()),
        };
        match load_state(&streams, arn)? {
            Some(s)
                if s.account == ns.account
                    && s.region == ns.region
                    && visible(&s, self.clock.now()) =>
            {
                Ok(s)
            }
            _ => Err(stream_not_found(arn)),
        }
    }

    /// ListStreams: the streams of the caller's account and region (optionally of one table),
    /// including disabled ones for 24 hours after they closed.
    pub fn list_streams(
        &self,
        ns: &Namespace,
        input: ListStreamsInput,
    ) -> StreamsResult<ListStreamsOutput> {
        let now = self.clock.now();
        let limit = usize::try_from(input.limit.unwrap_or(100).clamp(1, 100)).unwrap_or(100);
        let txn = self.db.begin_read()?;
        let streams = match txn.open_table(STREAMS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Ok(ListStreamsOutput {
                    streams: Vec::new(),
                    last_evaluated_stream_arn: None,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let table = input.table_name.as_deref().map(|t| {
            crate::engine::parse_table_arn(t)
                .map(|(_, _, name)| name)
                .unwrap_or(t)
        });
        let mut out = Vec::new();
        let mut more = false;
        for entry in streams.iter()? {
            let (k, v) = entry?;
            if let Some(start) = &input.exclusive_start_stream_arn
                && k.value() <= start.as_str()
            {
                continue;
            }
            let state: StreamState =
                serde_json::from_str(v.value()).map_err(|e| corrupt("stream state", e))?;
            if state.account != ns.account
                || state.region != ns.region
                || !visible(&state, now)
                || table.is_some_and(|t| t != state.table_name)
            {
                continue;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            out.push(StreamSummary {
                stream_arn: state.arn,
                table_name: state.table_name,
                stream_label: state.label,
            });
        }
        let last = if more {
            out.last().map(|s| s.stream_arn.clone())
        } else {
            None
        };
        Ok(ListStreamsOutput {
            streams: out,
            last_evaluated_stream_arn: last,
        })
    }

    /// DescribeStream: status, view type, key schema and the shard of a stream.
    pub fn describe_stream(
        &self,
        ns: &Namespace,
        input: DescribeStreamInput,
    ) -> StreamsResult<DescribeStreamOutput> {
        let now = self.clock.now();
        let limit = usize::try_from(input.limit.unwrap_or(100).clamp(1, 100)).unwrap_or(100);
        let txn = self.db.begin_read()?;
        let state = self.stream_state(&txn, ns, &input.stream_arn)?;
        let mut shards = state.shards(now);
        if let Some(filter) = &input.shard_filter {
            // CHILD_SHARDS: the children of the named shard (none when it names no shard).
            shards.retain(|s| {
                filter.shard_id.is_some()
                    && s.parent_shard_id.as_deref() == filter.shard_id.as_deref()
            });
        }
        if let Some(start) = &input.exclusive_start_shard_id {
            shards = match shards.iter().position(|s| &s.shard_id == start) {
                Some(i) => shards.split_off(i + 1),
                None => Vec::new(),
            };
        }
        let last_evaluated_shard_id = if shards.len() > limit {
            shards.truncate(limit);
            shards.last().map(|s| s.shard_id.clone())
        } else {
            None
        };
        let shards = shards.iter().map(ShardInfo::to_shard).collect();
        Ok(DescribeStreamOutput {
            stream_description: StreamDescription {
                stream_arn: state.arn.clone(),
                stream_label: state.label.clone(),
                stream_status: if state.end_seq.is_none() {
                    "ENABLED"
                } else {
                    "DISABLED"
                }
                .into(),
                stream_view_type: state.view_type.clone(),
                creation_request_date_time: state.created.as_epoch_seconds(),
                table_name: state.table_name.clone(),
                key_schema: state.key_schema.clone(),
                shards,
                last_evaluated_shard_id,
            },
        })
    }

    /// GetShardIterator: a position in a shard, valid for 15 minutes of engine-clock time.
    pub fn get_shard_iterator(
        &self,
        ns: &Namespace,
        input: GetShardIteratorInput,
    ) -> StreamsResult<GetShardIteratorOutput> {
        let now = self.clock.now();
        let txn = self.db.begin_read()?;
        let state = self.stream_state(&txn, ns, &input.stream_arn)?;
        let shard = state.find_shard(&input.shard_id, now)?;
        let seq = |ty: &str| -> StreamsResult<u64> {
            let s = input.sequence_number.as_deref().ok_or_else(|| {
                Error::validation(format!(
                    "SequenceNumber is required for ShardIteratorType {ty}"
                ))
            })?;
            parse_seq(s)
                .ok_or_else(|| Error::validation(format!("Invalid SequenceNumber: {s}")).into())
        };
        let view = RecordsView::open(&txn, &state)?;
        let (horizon, after) = match input.shard_iterator_type.as_str() {
            "TRIM_HORIZON" => (true, shard.start_seq.saturating_sub(1)),
            "LATEST" => {
                let last = match shard.end_seq {
                    Some(end) => end,
                    None => txn
                        .open_table(COUNTERS)?
                        .get(SEQUENCE_COUNTER)?
                        .map(|v| v.value())
                        .unwrap_or(0),
                };
                (false, last.max(shard.start_seq.saturating_sub(1)))
            }
            ty @ ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER") => {
                let n = seq(ty)?;
                if n < shard.start_seq || shard.end_seq.is_some_and(|end| n > end) {
                    return Err(Error::validation(format!(
                        "Invalid SequenceNumber {} for shard {}",
                        input.sequence_number.as_deref().unwrap_or_default(),
                        shard.shard_id
                    ))
                    .into());
                }
                let after = if ty == "AT_SEQUENCE_NUMBER" { n - 1 } else { n };
                view.check_not_trimmed(after, now)?;
                (false, after)
            }
            "AT_TIMESTAMP" => {
                let at = input.timestamp.ok_or_else(|| {
                    Error::validation("Timestamp is required for ShardIteratorType AT_TIMESTAMP")
                })?;
                let at_ms = (at * 1000.0) as i64;
                let last = view.last_before(at_ms, shard.start_seq)?;
                (true, shard.end_seq.map_or(last, |end| last.min(end)))
            }
            other => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{other}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON]"
                ))
                .into());
            }
        };
        Ok(GetShardIteratorOutput {
            shard_iterator: Iterator {
                arn: state.arn,
                shard_id: shard.shard_id,
                horizon,
                after,
                created: now,
            }
            .encode(),
        })
    }

    /// GetRecords: up to `Limit` records after the iterator's position, and the iterator to
    /// read on with (none once a closed shard has been read to its end).
    pub fn get_records(
        &self,
        ns: &Namespace,
        input: GetRecordsInput,
    ) -> StreamsResult<GetRecordsOutput> {
        let now = self.clock.now();
        let limit = input.limit.unwrap_or(MAX_GET_RECORDS_LIMIT);
        if limit > MAX_GET_RECORDS_LIMIT {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {MAX_GET_RECORDS_LIMIT}"
            ))
            .into());
        }
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        let it = Iterator::decode(&input.shard_iterator)
            .ok_or_else(|| Error::validation("Invalid ShardIterator"))?;
        if now.0.saturating_sub(it.created.0) > ITERATOR_LIFETIME_MILLIS {
            return Err(StreamsError::ExpiredIterator(
                "Shard iterator has expired".into(),
            ));
        }
        let txn = self.db.begin_read()?;
        let state = self.stream_state(&txn, ns, &it.arn)?;
        let shard = state.find_shard(&it.shard_id, now)?;
        let view = RecordsView::open(&txn, &state)?;
        let mut after = it.after;
        if it.horizon {
            after = after.max(view.horizon(now)?);
        } else {
            view.check_not_trimmed(after, now)?;
        }
        let (records, last, more) = view.read(after, limit, shard.end_seq)?;
        let next = if shard.end_seq.is_some() && !more {
            None
        } else {
            Some(
                Iterator {
                    arn: state.arn.clone(),
                    shard_id: shard.shard_id.clone(),
                    horizon: it.horizon && records.is_empty(),
                    after: last.unwrap_or(after),
                    created: now,
                }
                .encode(),
            )
        };
        Ok(GetRecordsOutput {
            records,
            next_shard_iterator: next,
        })
    }
}

/// The records table of one stream, read in a read transaction.
struct RecordsView {
    table: Option<redb::ReadOnlyTable<u64, &'static str>>,
}

impl RecordsView {
    fn open(txn: &redb::ReadTransaction, state: &StreamState) -> Result<RecordsView, Error> {
        let def = TableDefinition::<u64, &str>::new(&state.records_table);
        match txn.open_table(def) {
            Ok(t) => Ok(RecordsView { table: Some(t) }),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(RecordsView { table: None }),
            Err(e) => Err(e.into()),
        }
    }

    fn trimmed_through(&self) -> Result<u64, Error> {
        let Some(t) = &self.table else {
            return Ok(0);
        };
        match t.get(0)? {
            None => Ok(0),
            Some(v) => serde_json::from_str::<TrimMark>(v.value())
                .map(|m| m.trimmed_through)
                .map_err(|e| corrupt("stream trim mark", e)),
        }
    }

    /// The first record after `after`, if any.
    fn first_after(&self, after: u64) -> Result<Option<(u64, StoredRecord)>, Error> {
        let Some(t) = &self.table else {
            return Ok(None);
        };
        let Some(entry) = t.range(after.saturating_add(1).max(1)..)?.next() else {
            return Ok(None);
        };
        let (k, v) = entry?;
        let rec = serde_json::from_str(v.value()).map_err(|e| corrupt("stream record", e))?;
        Ok(Some((k.value(), rec)))
    }

    /// Fails with TrimmedDataAccessException when records right after `after` are gone or
    /// past the retention window.
    fn check_not_trimmed(&self, after: u64, now: Timestamp) -> StreamsResult<()> {
        if after < self.trimmed_through()? {
            return Err(trimmed());
        }
        let cutoff = now.0.saturating_sub(STREAM_RETENTION_MILLIS);
        match self.first_after(after)? {
            Some((_, rec)) if rec.t < cutoff => Err(trimmed()),
            _ => Ok(()),
        }
    }

    /// The highest sequence number that is trimmed (or past the window) at `now`.
    fn horizon(&self, now: Timestamp) -> Result<u64, Error> {
        let cutoff = now.0.saturating_sub(STREAM_RETENTION_MILLIS);
        let mut horizon = self.trimmed_through()?;
        let Some(t) = &self.table else {
            return Ok(horizon);
        };
        for entry in t.range(1..)? {
            let (k, v) = entry?;
            let rec: StoredRecord =
                serde_json::from_str(v.value()).map_err(|e| corrupt("stream record", e))?;
            if rec.t >= cutoff {
                break;
            }
            horizon = k.value();
        }
        Ok(horizon)
    }

    /// The sequence number of the last record written before `at_ms` (or the position before
    /// the shard's start).
    fn last_before(&self, at_ms: i64, start_seq: u64) -> Result<u64, Error> {
        let mut last = start_seq.saturating_sub(1).max(self.trimmed_through()?);
        let Some(t) = &self.table else {
            return Ok(last);
        };
        for entry in t.range(1..)? {
            let (k, v) = entry?;
            let rec: StoredRecord =
                serde_json::from_str(v.value()).map_err(|e| corrupt("stream record", e))?;
            if rec.t >= at_ms {
                break;
            }
            last = k.value();
        }
        Ok(last)
    }

    /// Up to `limit` records after `after` and up to `end` (inclusive, when given): the
    /// records, the last number read, and whether more records follow within that range.
    fn read(
        &self,
        after: u64,
        limit: usize,
        end: Option<u64>,
    ) -> Result<(Vec<Record>, Option<u64>, bool), Error> {
        let Some(t) = &self.table else {
            return Ok((Vec::new(), None, false));
        };
        let mut out = Vec::new();
        let mut last = None;
        let mut more = false;
        for entry in t.range(after.saturating_add(1).max(1)..)? {
            let (k, v) = entry?;
            if end.is_some_and(|end| k.value() > end) {
                break;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            let rec: StoredRecord =
                serde_json::from_str(v.value()).map_err(|e| corrupt("stream record", e))?;
            out.push(rec.r);
            last = Some(k.value());
        }
        Ok((out, last, more))
    }
}

impl Engine {
    /// All retained records of the stream `arn`, oldest first.
    pub fn stream_records(&self, ns: &Namespace, arn: &str) -> StreamsResult<Vec<Record>> {
        let txn = self.db.begin_read()?;
        let state = self.stream_state(&txn, ns, arn)?;
        let view = RecordsView::open(&txn, &state)?;
        let after = view.horizon(self.clock.now())?;
        Ok(view.read(after, usize::MAX, None)?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream of a deleted table is forgotten, records and all, 24 hours after the delete;
    /// records older than 24 hours leave an open stream that receives no more writes.
    #[test]
    fn purge_forgets_closed_streams_and_trims_idle_ones() {
        let clock = std::sync::Arc::new(crate::ManualClock::new(Timestamp(1_700_000_000_000)));
        let engine = Engine::builder().clock(clock.clone()).build().unwrap();
        let ns = Namespace::default();
        let table = |name: &str| {
            serde_json::from_value(serde_json::json!({"TableName": name,
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"},
                "BillingMode": "PAY_PER_REQUEST"}))
            .unwrap()
        };
        engine.create_table(&ns, table("gone")).unwrap();
        engine.create_table(&ns, table("idle")).unwrap();
        for name in ["gone", "idle"] {
            for i in 0..10 {
                let put = serde_json::from_value(serde_json::json!({"TableName": name,
                    "Item": {"id": {"S": format!("i{i}")}}}))
                .unwrap();
                engine.put_item(&ns, put).unwrap();
            }
        }
        engine
            .delete_table(
                &ns,
                serde_json::from_value(serde_json::json!({"TableName": "gone"})).unwrap(),
            )
            .unwrap();
        let stored = |engine: &Engine| -> (usize, Vec<u64>) {
            engine
                .read(|txn| {
                    let streams = txn.open_table(STREAMS)?;
                    let mut counts = Vec::new();
                    for entry in streams.iter()? {
                        let (_, v) = entry?;
                        let state: StreamState = serde_json::from_str(v.value()).unwrap();
                        let records =
                            txn.open_table(TableDefinition::<u64, &str>::new(&state.records_table));
                        counts.push(match records {
                            // Key 0 is the trim mark, not a record.
                            Ok(t) => t.range(1..)?.count() as u64,
                            Err(redb::TableError::TableDoesNotExist(_)) => 0,
                            Err(e) => return Err(e.into()),
                        });
                    }
                    Ok((counts.len(), counts))
                })
                .unwrap()
        };
        assert_eq!(engine.purge_streams().unwrap(), 0);
        assert_eq!(stored(&engine), (2, vec![10, 10]));
        clock.advance(std::time::Duration::from_secs(25 * 3600));
        assert_eq!(engine.purge_streams().unwrap(), 1);
        assert_eq!(stored(&engine), (1, vec![0]));
        assert_eq!(engine.purge_streams().unwrap(), 0);
    }

    #[test]
    fn sequence_numbers_have_21_digits_and_round_trip() {
        assert_eq!(format_seq(1), "100000000000000000001");
        assert_eq!(parse_seq("100000000000000000001"), Some(1));
        assert_eq!(parse_seq("1"), None);
        assert_eq!(parse_seq("10000000000000000000a"), None);
        assert_eq!(parse_seq(""), None);
    }

    #[test]
    fn iterators_round_trip_and_reject_garbage() {
        let it = Iterator {
            arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
                .into(),
            shard_id: "shardId-00000001704067200000-0123abcd".into(),
            horizon: true,
            after: 41,
            created: Timestamp(1_704_067_200_000),
        };
        assert_eq!(Iterator::decode(&it.encode()), Some(it));
        assert_eq!(Iterator::decode("nope"), None);
        assert_eq!(Iterator::decode("arn|1|!!!"), None);
        assert_eq!(Iterator::decode("arn|2|YQ"), None);
    }
}
