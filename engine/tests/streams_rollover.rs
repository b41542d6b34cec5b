//! Shard rollover: the open shard of a stream rolls over to a child shard after 4 hours of
//! engine-clock time or after the engine's record limit; closed parents carry an
//! `EndingSequenceNumber`, are read to their end without a next iterator, are listed for 24
//! hours, and DescribeStream filters (`CHILD_SHARDS`) and pages over them.

use std::sync::Arc;
use std::time::Duration;

use ddb_engine::{Engine, ManualClock, Namespace, SHARD_ROLLOVER_MILLIS, StreamsError, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const START: i64 = 1_700_000_000_000;

struct Fixture {
    engine: Engine,
    clock: Arc<ManualClock>,
    ns: Namespace,
    arn: String,
}

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("cannot serialize: {e}"))
}

#[track_caller]
fn ok<T>(r: Result<T, impl std::fmt::Display>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// An engine on a manual clock with table `t` (hash key `id`) streaming NEW_AND_OLD_IMAGES;
/// shards roll over after `records` records when given.
fn fixture(records: Option<u64>) -> Fixture {
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let engine = ok(Engine::builder().seed(11).clock(clock.clone()).build());
    ok(engine.set_stream_shard_records(records));
    let ns = Namespace::default();
    let out = ok(engine.create_table(
        &ns,
        input(json!({
            "TableName": "t",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        })),
    ));
    let arn = out
        .table_description
        .latest_stream_arn
        .unwrap_or_else(|| panic!("no stream"));
    Fixture {
        engine,
        clock,
        ns,
        arn,
    }
}

impl Fixture {
    fn put(&self, id: &str) {
        ok(self.engine.put_item(
            &self.ns,
            input(json!({"TableName": "t", "Item": {"id": {"S": id}}})),
        ));
    }

    fn describe_with(&self, extra: Value) -> Value {
        let mut request = extra;
        request["StreamArn"] = json!(self.arn);
        to_value(&ok(self.engine.describe_stream(&self.ns, input(request))))["StreamDescription"]
            .clone()
    }

    fn shards(&self) -> Vec<Value> {
        self.describe_with(json!({}))["Shards"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn iterator(&self, shard: &Value, ty: &str) -> Result<String, StreamsError> {
        self.engine
            .get_shard_iterator(
                &self.ns,
                input(json!({"StreamArn": self.arn, "ShardId": shard["ShardId"],
                             "ShardIteratorType": ty})),
            )
            .map(|o| o.shard_iterator)
    }

    /// Reads a shard from its trim horizon to the end (or to the present for an open shard):
    /// the keys read and whether a next iterator was handed out at the end.
    fn read_shard(&self, shard: &Value) -> (Vec<String>, bool) {
        let mut it = ok(self.iterator(shard, "TRIM_HORIZON"));
        let mut keys = Vec::new();
        loop {
            let out = ok(self
                .engine
                .get_records(&self.ns, input(json!({"ShardIterator": it, "Limit": 1}))));
            for r in &out.records {
                keys.push(r.dynamodb.keys.get("id").map_or_else(String::new, |v| {
                    to_value(v)["S"].as_str().unwrap_or_default().to_string()
                }));
            }
            match out.next_shard_iterator {
                None => return (keys, false),
                Some(_) if out.records.is_empty() => return (keys, true),
                Some(next) => it = next,
            }
        }
    }
}

fn id(shard: &Value) -> &str {
    shard["ShardId"].as_str().unwrap_or_default()
}

#[test]
fn record_limit_rolls_shards_over_into_a_lineage() {
    let f = fixture(Some(2));
    for k in ["a", "b", "c", "d", "e"] {
        f.put(k);
    }
    let shards = f.shards();
    assert_eq!(shards.len(), 3, "{shards:?}");
    assert!(shards[0].get("ParentShardId").is_none());
    assert_eq!(shards[1]["ParentShardId"], shards[0]["ShardId"]);
    assert_eq!(shards[2]["ParentShardId"], shards[1]["ShardId"]);
    for closed in &shards[..2] {
        assert!(
            closed["SequenceNumberRange"]["EndingSequenceNumber"].is_string(),
            "{closed}"
        );
    }
    assert!(
        shards[2]["SequenceNumberRange"]
            .get("EndingSequenceNumber")
            .is_none()
    );
    assert!(id(&shards[2]).starts_with("shardId-00000001700000000000-"));

    // Closed shards end without a next iterator; the open one hands one out.
    let reads: Vec<_> = shards.iter().map(|s| f.read_shard(s)).collect();
    assert_eq!(reads[0], (vec!["a".to_string(), "b".into()], false));
    assert_eq!(reads[1], (vec!["c".to_string(), "d".into()], false));
    assert_eq!(reads[2], (vec!["e".to_string()], true));

    // The ending sequence number of a parent is its last record; the child starts after it.
    let parent_end: u128 = shards[0]["SequenceNumberRange"]["EndingSequenceNumber"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    let child_start: u128 = shards[1]["SequenceNumberRange"]["StartingSequenceNumber"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    assert!(parent_end < child_start);
}

#[test]
fn shards_roll_over_after_four_hours_of_clock_time() {
    let f = fixture(None);
    f.put("a");
    f.clock
        .advance(Duration::from_millis(SHARD_ROLLOVER_MILLIS as u64 - 1));
    f.put("b");
    assert_eq!(f.shards().len(), 1);
    f.clock.advance(Duration::from_millis(1));
    f.put("c");
    let shards = f.shards();
    assert_eq!(shards.len(), 2);
    assert_eq!(shards[1]["ParentShardId"], shards[0]["ShardId"]);
    assert_eq!(f.read_shard(&shards[0]).0, ["a", "b"]);
    assert_eq!(f.read_shard(&shards[1]).0, ["c"]);
    // The child's timestamp part is its opening time.
    assert!(id(&shards[1]).starts_with(&format!("shardId-{:020}-", START + SHARD_ROLLOVER_MILLIS)));
}

#[test]
fn an_empty_shard_does_not_roll_over() {
    let f = fixture(None);
    f.clock.advance(Duration::from_secs(10 * 3600));
    f.put("a");
    assert_eq!(f.shards().len(), 1);
}

#[test]
fn latest_on_a_closed_shard_reads_nothing_and_ends() {
    let f = fixture(Some(1));
    f.put("a");
    f.put("b");
    let shards = f.shards();
    let it = ok(f.iterator(&shards[0], "LATEST"));
    let out = ok(f
        .engine
        .get_records(&f.ns, input(json!({"ShardIterator": it}))));
    assert!(out.records.is_empty());
    assert_eq!(out.next_shard_iterator, None);
}

#[test]
fn sequence_numbers_of_another_shard_are_rejected() {
    let f = fixture(Some(1));
    f.put("a");
    f.put("b");
    let shards = f.shards();
    let out = ok(f.engine.get_records(
        &f.ns,
        input(json!({"ShardIterator": ok(f.iterator(&shards[1], "TRIM_HORIZON"))})),
    ));
    let seq = out.records[0].dynamodb.sequence_number.clone();
    let err = f
        .engine
        .get_shard_iterator(
            &f.ns,
            input(json!({"StreamArn": f.arn, "ShardId": shards[0]["ShardId"],
                         "ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": seq})),
        )
        .err();
    assert_eq!(err.map(|e| e.aws_type()), Some("ValidationException"));
}

#[test]
fn describe_stream_filters_children_and_pages_shards() {
    let f = fixture(Some(1));
    for k in ["a", "b", "c", "d"] {
        f.put(k);
    }
    let shards = f.shards();
    assert_eq!(shards.len(), 4);
    let children = f.describe_with(
        json!({"ShardFilter": {"Type": "CHILD_SHARDS", "ShardId": shards[1]["ShardId"]}}),
    );
    assert_eq!(children["Shards"], json!([shards[2]]));
    let page = f.describe_with(json!({"Limit": 2}));
    assert_eq!(page["Shards"], json!(shards[..2]));
    assert_eq!(page["LastEvaluatedShardId"], shards[1]["ShardId"]);
    let page = f.describe_with(json!({"Limit": 2, "ExclusiveStartShardId": shards[1]["ShardId"]}));
    assert_eq!(page["Shards"], json!(shards[2..]));
    assert!(page.get("LastEvaluatedShardId").is_none());
}

#[test]
fn closed_shards_are_listed_for_24_hours() {
    let f = fixture(Some(1));
    f.put("a");
    f.put("b");
    let first = f.shards();
    assert_eq!(first.len(), 2);
    f.clock.advance(Duration::from_secs(24 * 3600));
    let shards = f.shards();
    assert_eq!(shards.len(), 1, "{shards:?}");
    assert_eq!(shards[0]["ShardId"], first[1]["ShardId"]);
    assert!(shards[0].get("ParentShardId").is_none());
    let err = f.iterator(&first[0], "TRIM_HORIZON").err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some("Requested resource not found: Shard does not exist".to_string())
    );
}

#[test]
fn disabling_closes_the_open_shard_and_keeps_the_lineage() {
    let f = fixture(Some(2));
    for k in ["a", "b", "c"] {
        f.put(k);
    }
    ok(f.engine.update_table(
        &f.ns,
        input(json!({"TableName": "t", "StreamSpecification": {"StreamEnabled": false}})),
    ));
    let d = f.describe_with(json!({}));
    assert_eq!(d["StreamStatus"], "DISABLED");
    let shards = d["Shards"].as_array().cloned().unwrap_or_default();
    assert_eq!(shards.len(), 2);
    assert_eq!(shards[1]["ParentShardId"], shards[0]["ShardId"]);
    assert!(shards[1]["SequenceNumberRange"]["EndingSequenceNumber"].is_string());
    assert_eq!(f.read_shard(&shards[1]), (vec!["c".to_string()], false));
}
