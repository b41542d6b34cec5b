//! Stream handlers: functions that receive a table's DynamoDB Streams records in batches shaped
//! exactly like the event AWS Lambda passes to a function subscribed to the stream, delivered
//! deterministically by [`Fixture::drain_streams`](crate::Fixture::drain_streams).
//!
//! ```no_run
//! # async fn demo(f: ddb_harness::Fixture) -> Result<(), Box<dyn std::error::Error>> {
//! use ddb_harness::{DynamoDbEvent, StreamHandlerConfig};
//! let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
//! let log = seen.clone();
//! f.on_stream("users", StreamHandlerConfig::default(), move |event: DynamoDbEvent| {
//!     let mut log = log.lock().map_err(|e| e.to_string())?;
//!     log.extend(event.records.into_iter().map(|r| r.event_name));
//!     Ok::<(), String>(())
//! })?;
//! // … writes through f.client() …
//! f.drain_streams().await?;
//! # Ok(()) }
//! ```
//!
//! Delivery follows Lambda's DynamoDB event source mapping: records of one shard arrive in
//! order, at most [`StreamHandlerConfig::batch_size`] per invocation; a parent shard is read to
//! its end before its children; a handler that returns `Err` is invoked again with the same
//! batch, up to [`StreamHandlerConfig::max_retries`] times, after which the batch is given up
//! (reported in [`DrainReport::failed_batches`]) and delivery moves on, as Lambda does once
//! `MaximumRetryAttempts` is spent. Nothing runs in the background: records wait in the stream
//! until a drain.
//!
//! The event shape is the one AWS recorded in the localstack snapshot
//! `lambda___event_source_mapping__test_lambda_integration_dynamodbstreams`: `eventID`,
//! `eventName`, `eventVersion`, `eventSource`, `awsRegion`, `dynamodb`, `eventSourceARN`
//! (and `userIdentity` on TTL deletes).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use ddb_engine::{
    DescribeStreamInput, Engine, GetRecordsInput, GetShardIteratorInput, Identity,
    ListStreamsInput, Namespace, Record, StreamRecord, StreamsError,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Lambda's default `BatchSize` for DynamoDB streams.
const DEFAULT_BATCH_SIZE: usize = 100;
/// Drain passes after which handlers that keep writing to their own streams are reported.
const MAX_PASSES: usize = 1000;

/// Where a new handler starts reading its table's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartingPosition {
    /// Every record still in the stream, including those written before the handler was added.
    #[default]
    TrimHorizon,
    /// Only records written after the handler was added.
    Latest,
}

/// How a stream handler is fed, after Lambda's event source mapping settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHandlerConfig {
    /// At most this many records per invocation (Lambda's `BatchSize`; at least 1, at most
    /// 1000, the Streams `GetRecords` limit). Default 100, as Lambda's.
    pub batch_size: usize,
    /// Where to start reading (Lambda's `StartingPosition`). Default `TrimHorizon`.
    pub starting_position: StartingPosition,
    /// How often a failing batch is retried before it is given up (Lambda's
    /// `MaximumRetryAttempts`). Default 3; Lambda's default (-1) retries until the records
    /// expire, which would never end a drain.
    pub max_retries: u32,
}

impl Default for StreamHandlerConfig {
    fn default() -> Self {
        StreamHandlerConfig {
            batch_size: DEFAULT_BATCH_SIZE,
            starting_position: StartingPosition::TrimHorizon,
            max_retries: 3,
        }
    }
}

/// The event a handler receives: `{"Records": [...]}`, as Lambda sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamoDbEvent {
    /// The batch, oldest first.
    #[serde(rename = "Records")]
    pub records: Vec<EventRecord>,
}

/// One record of a [`DynamoDbEvent`]: the Streams record plus `eventSourceARN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// A unique id of the record.
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
    /// Keys, images, sequence number, size and view type.
    pub dynamodb: StreamRecord,
    /// The stream's ARN.
    #[serde(rename = "eventSourceARN")]
    pub event_source_arn: String,
    /// Who made the change; only TTL deletes carry one.
    #[serde(
        rename = "userIdentity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_identity: Option<EventIdentity>,
}

/// `userIdentity` of a TTL delete in a Lambda event. Lambda spells the members in camel case
/// (`Records[].userIdentity.type` and `.principalId` in the Streams `Record` reference and in
/// Lambda's event-filtering examples), unlike the PascalCase `Identity` of `GetRecords`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventIdentity {
    /// `Service` for TTL deletes.
    #[serde(rename = "type")]
    pub type_: String,
    /// `dynamodb.amazonaws.com` for TTL deletes.
    #[serde(rename = "principalId")]
    pub principal_id: String,
}

impl From<Identity> for EventIdentity {
    fn from(i: Identity) -> Self {
        EventIdentity {
            type_: i.type_,
            principal_id: i.principal_id,
        }
    }
}

impl EventRecord {
    fn from_record(r: Record, arn: &str) -> Self {
        EventRecord {
            event_id: r.event_id,
            event_name: r.event_name,
            event_version: r.event_version,
            event_source: r.event_source,
            aws_region: r.aws_region,
            dynamodb: r.dynamodb,
            event_source_arn: arn.to_string(),
            user_identity: r.user_identity.map(EventIdentity::from),
        }
    }
}

/// Why stream handlers could not be added or drained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamHandlerError {
    /// The fixture talks to an endpoint, whose streams the harness does not read.
    #[error("stream handlers need the in-memory target (DDB_TEST_TARGET=memory)")]
    NotLocal,
    /// The table has no enabled stream (see `StreamSpecification` in CreateTable).
    #[error("table {0} has no enabled stream")]
    NoStream(String),
    /// The configuration is out of range.
    #[error("invalid stream handler config: {0}")]
    Config(String),
    /// A Streams call failed.
    #[error("streams: {0}")]
    Streams(#[from] StreamsError),
    /// A batch could not be turned into the handler's event type.
    #[error("cannot deserialize the event for the handler of {table}: {message}")]
    Event {
        /// The handler's table.
        table: String,
        /// The serde error.
        message: String,
    },
    /// Handlers kept producing records (for instance by writing to their own table).
    #[error("streams still had records after {0} drain passes; does a handler feed itself?")]
    Endless(usize),
}

/// A batch a handler failed on more often than its `max_retries` allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedBatch {
    /// The handler's table.
    pub table: String,
    /// The shard.
    pub shard_id: String,
    /// Sequence numbers of the batch's first and last record.
    pub sequence_numbers: (String, String),
    /// How many times the handler was invoked with it.
    pub attempts: u32,
    /// The last error the handler returned.
    pub error: String,
}

/// What a drain delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Handler invocations, retries included.
    pub invocations: usize,
    /// Records handlers accepted.
    pub delivered: usize,
    /// Batches given up after their retries.
    pub failed_batches: Vec<FailedBatch>,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Invoke = Box<dyn FnMut(serde_json::Value) -> Result<BoxFuture, String> + Send>;

/// A registered handler and its position in the stream.
pub(crate) struct Subscription {
    table: String,
    arn: String,
    config: StreamHandlerConfig,
    invoke: Invoke,
    /// Records up to this sequence number are never delivered (`Latest`).
    skip_through: Option<String>,
    /// The last sequence number handled, per shard.
    position: HashMap<String, String>,
    /// Closed shards read to their end.
    finished: HashSet<String>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("table", &self.table)
            .field("arn", &self.arn)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Orders decimal sequence numbers (no leading zeros) numerically.
fn seq_le(a: &str, b: &str) -> bool {
    (a.len(), a) <= (b.len(), b)
}

/// The ARN of the enabled stream of `table`.
fn stream_arn(engine: &Engine, ns: &Namespace, table: &str) -> Result<String, StreamHandlerError> {
    let mut start = None;
    let mut found = None;
    loop {
        let out = engine.list_streams(
            ns,
            ListStreamsInput {
                table_name: Some(table.to_string()),
                limit: None,
                exclusive_start_stream_arn: start,
            },
        )?;
        for s in out.streams {
            let d = engine.describe_stream(
                ns,
                DescribeStreamInput {
                    stream_arn: s.stream_arn.clone(),
                    limit: None,
                    exclusive_start_shard_id: None,
                    shard_filter: None,
                },
            )?;
            if d.stream_description.stream_status == "ENABLED" {
                found = Some(s.stream_arn);
            }
        }
        match out.last_evaluated_stream_arn {
            Some(next) => start = Some(next),
            None => break,
        }
    }
    found.ok_or_else(|| StreamHandlerError::NoStream(table.to_string()))
}

/// Makes a subscription for `handler` on `table`.
pub(crate) fn subscribe<T, E, Fut, F>(
    engine: &Engine,
    ns: &Namespace,
    table: &str,
    config: StreamHandlerConfig,
    mut handler: F,
) -> Result<Subscription, StreamHandlerError>
where
    T: DeserializeOwned,
    E: std::fmt::Display,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    F: FnMut(T) -> Fut + Send + 'static,
{
    if !(1..=1000).contains(&config.batch_size) {
        return Err(StreamHandlerError::Config(format!(
            "batch_size {} is not between 1 and 1000",
            config.batch_size
        )));
    }
    let arn = stream_arn(engine, ns, table)?;
    let skip_through = match config.starting_position {
        StartingPosition::TrimHorizon => None,
        StartingPosition::Latest => engine
            .stream_records(ns, &arn)?
            .last()
            .map(|r| r.dynamodb.sequence_number.clone()),
    };
    let invoke: Invoke = Box::new(move |event| {
        let event: T = serde_json::from_value(event).map_err(|e| e.to_string())?;
        let fut = handler(event);
        Ok(Box::pin(async move { fut.await.map_err(|e| e.to_string()) }) as BoxFuture)
    });
    Ok(Subscription {
        table: table.to_string(),
        arn,
        config,
        invoke,
        skip_through,
        position: HashMap::new(),
        finished: HashSet::new(),
    })
}

/// Delivers every pending record to every subscription, until a whole pass delivers nothing.
pub(crate) async fn drain(
    engine: &Engine,
    ns: &Namespace,
    subs: &mut [Subscription],
) -> Result<DrainReport, StreamHandlerError> {
    let mut report = DrainReport::default();
    for _ in 0..MAX_PASSES {
        let mut progressed = false;
        for sub in subs.iter_mut() {
            progressed |= drain_one(engine, ns, sub, &mut report).await?;
        }
        if !progressed {
            return Ok(report);
        }
    }
    Err(StreamHandlerError::Endless(MAX_PASSES))
}

/// One pass over one subscription's shards; whether any record was consumed.
async fn drain_one(
    engine: &Engine,
    ns: &Namespace,
    sub: &mut Subscription,
    report: &mut DrainReport,
) -> Result<bool, StreamHandlerError> {
    let shards = engine
        .describe_stream(
            ns,
            DescribeStreamInput {
                stream_arn: sub.arn.clone(),
                limit: None,
                exclusive_start_shard_id: None,
                shard_filter: None,
            },
        )?
        .stream_description
        .shards;
    let known: HashSet<&str> = shards.iter().map(|s| s.shard_id.as_str()).collect();
    let mut progressed = false;
    for shard in &shards {
        if sub.finished.contains(&shard.shard_id) {
            continue;
        }
        // Lambda finishes a parent shard before it reads the children.
        if let Some(parent) = &shard.parent_shard_id
            && known.contains(parent.as_str())
            && !sub.finished.contains(parent)
        {
            continue;
        }
        loop {
            let (records, closed_and_done) = read_batch(engine, ns, sub, &shard.shard_id)?;
            if closed_and_done {
                sub.finished.insert(shard.shard_id.clone());
            }
            let Some(last) = records.last() else {
                break;
            };
            let last_seq = last.dynamodb.sequence_number.clone();
            let first_seq = records
                .first()
                .map(|r| r.dynamodb.sequence_number.clone())
                .unwrap_or_else(|| last_seq.clone());
            let deliver: Vec<EventRecord> = records
                .into_iter()
                .filter(|r| {
                    sub.skip_through
                        .as_deref()
                        .is_none_or(|skip| !seq_le(&r.dynamodb.sequence_number, skip))
                })
                .map(|r| EventRecord::from_record(r, &sub.arn))
                .collect();
            progressed = true;
            if !deliver.is_empty() {
                invoke(
                    sub,
                    deliver,
                    &shard.shard_id,
                    (first_seq, &last_seq),
                    report,
                )
                .await?;
            }
            sub.position.insert(shard.shard_id.clone(), last_seq);
            if closed_and_done {
                break;
            }
        }
    }
    Ok(progressed)
}

/// Invokes the handler with one batch, retrying on errors.
async fn invoke(
    sub: &mut Subscription,
    records: Vec<EventRecord>,
    shard_id: &str,
    (first_seq, last_seq): (String, &str),
    report: &mut DrainReport,
) -> Result<(), StreamHandlerError> {
    let count = records.len();
    let event =
        serde_json::to_value(DynamoDbEvent { records }).map_err(|e| StreamHandlerError::Event {
            table: sub.table.clone(),
            message: e.to_string(),
        })?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        report.invocations += 1;
        let fut = (sub.invoke)(event.clone()).map_err(|message| StreamHandlerError::Event {
            table: sub.table.clone(),
            message,
        })?;
        match fut.await {
            Ok(()) => {
                report.delivered += count;
                return Ok(());
            }
            Err(error) if attempts > sub.config.max_retries => {
                report.failed_batches.push(FailedBatch {
                    table: sub.table.clone(),
                    shard_id: shard_id.to_string(),
                    sequence_numbers: (first_seq, last_seq.to_string()),
                    attempts,
                    error,
                });
                return Ok(());
            }
            Err(_) => {}
        }
    }
}

/// The next batch of a shard after the subscription's position, and whether the shard is
/// closed and read to its end.
fn read_batch(
    engine: &Engine,
    ns: &Namespace,
    sub: &Subscription,
    shard_id: &str,
) -> Result<(Vec<Record>, bool), StreamHandlerError> {
    let iterator = |ty: &str, seq: Option<&String>| {
        engine.get_shard_iterator(
            ns,
            GetShardIteratorInput {
                stream_arn: sub.arn.clone(),
                shard_id: shard_id.to_string(),
                shard_iterator_type: ty.to_string(),
                sequence_number: seq.cloned(),
                timestamp: None,
            },
        )
    };
    let it = match sub.position.get(shard_id) {
        None => iterator("TRIM_HORIZON", None)?,
        // Records past retention are lost, as they are for Lambda: read on from the horizon.
        Some(seq) => match iterator("AFTER_SEQUENCE_NUMBER", Some(seq)) {
            Err(StreamsError::TrimmedDataAccess(_)) => iterator("TRIM_HORIZON", None)?,
            other => other?,
        },
    };
    let limit = i64::try_from(sub.config.batch_size).unwrap_or(ddb_engine::MAX_GET_RECORDS_LIMIT);
    let out = engine.get_records(
        ns,
        GetRecordsInput {
            shard_iterator: it.shard_iterator,
            limit: Some(limit),
        },
    )?;
    Ok((out.records, out.next_shard_iterator.is_none()))
}
