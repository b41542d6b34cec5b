//! DynamoDB Streams through the engine API: records written with each change (puts, updates,
//! deletes, batches, transactions, TTL expiry), the four view types, no record for no-op
//! writes, increasing sequence numbers, shards closed by disabling or deleting, iterator
//! expiry and 24-hour retention on a manual clock.

use std::sync::Arc;
use std::time::Duration;

use ddb_engine::{
    Engine, ITERATOR_LIFETIME_MILLIS, ManualClock, Namespace, StreamsError, Timestamp,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const START: i64 = 1_700_000_000_000;

struct Fixture {
    engine: Engine,
    clock: Arc<ManualClock>,
    ns: Namespace,
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

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let engine = ok(Engine::builder().seed(7).clock(clock.clone()).build());
    Fixture {
        engine,
        clock,
        ns: Namespace::default(),
    }
}

impl Fixture {
    /// Creates table `name` (hash key `id`, S) with a stream of `view` (none when `None`);
    /// returns the stream ARN.
    fn table(&self, name: &str, view: Option<&str>) -> Option<String> {
        let mut request = json!({
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        });
        if let Some(view) = view {
            request["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": view});
        }
        let out = ok(self.engine.create_table(&self.ns, input(request)));
        out.table_description.latest_stream_arn
    }

    fn put(&self, table: &str, item: Value) {
        ok(self
            .engine
            .put_item(&self.ns, input(json!({"TableName": table, "Item": item}))));
    }

    fn update(&self, table: &str, id: &str, expr: &str, values: Value) {
        ok(self.engine.update_item(
            &self.ns,
            input(json!({"TableName": table, "Key": {"id": {"S": id}},
                         "UpdateExpression": expr, "ExpressionAttributeValues": values})),
        ));
    }

    fn delete(&self, table: &str, id: &str) {
        ok(self.engine.delete_item(
            &self.ns,
            input(json!({"TableName": table, "Key": {"id": {"S": id}}})),
        ));
    }

    fn describe(&self, arn: &str) -> Value {
        to_value(&ok(self
            .engine
            .describe_stream(&self.ns, input(json!({"StreamArn": arn})))))["StreamDescription"]
            .clone()
    }

    fn shard_id(&self, arn: &str) -> String {
        self.describe(arn)["Shards"][0]["ShardId"]
            .as_str()
            .unwrap_or_else(|| panic!("no shard"))
            .to_string()
    }

    fn iterator(&self, arn: &str, request: Value) -> Result<String, StreamsError> {
        let mut request = request;
        request["StreamArn"] = json!(arn);
        request["ShardId"] = json!(self.shard_id(arn));
        self.engine
            .get_shard_iterator(&self.ns, input(request))
            .map(|o| o.shard_iterator)
    }

    fn trim_horizon(&self, arn: &str) -> String {
        ok(self.iterator(arn, json!({"ShardIteratorType": "TRIM_HORIZON"})))
    }

    /// GetRecords once: (records as JSON, next iterator).
    fn get(
        &self,
        iterator: &str,
        limit: Option<i64>,
    ) -> Result<(Vec<Value>, Option<String>), StreamsError> {
        let mut request = json!({"ShardIterator": iterator});
        if let Some(limit) = limit {
            request["Limit"] = json!(limit);
        }
        let out = self.engine.get_records(&self.ns, input(request))?;
        Ok((
            out.records.iter().map(to_value).collect(),
            out.next_shard_iterator,
        ))
    }

    /// Every record of the stream, read from the trim horizon of each shard (parents first, as
    /// DescribeStream lists them; a write 4 hours after the last rolls the shard over).
    fn records(&self, arn: &str) -> Vec<Value> {
        let mut all = Vec::new();
        for shard in self.describe(arn)["Shards"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let request = json!({"StreamArn": arn, "ShardId": shard["ShardId"],
                                 "ShardIteratorType": "TRIM_HORIZON"});
            let it = ok(self.engine.get_shard_iterator(&self.ns, input(request))).shard_iterator;
            all.extend(ok(self.get(&it, None)).0);
        }
        all
    }
}

fn names(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap_or_default())
        .collect()
}

fn seq(record: &Value) -> u128 {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no sequence number in {record}"))
}

#[test]
fn insert_modify_remove_with_both_images() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_AND_OLD_IMAGES")).unwrap_or_default();
    f.put("t", json!({"id": {"S": "a"}, "n": {"N": "1"}}));
    f.update("t", "a", "SET n = :v", json!({":v": {"N": "2"}}));
    f.delete("t", "a");
    let records = f.records(&arn);
    assert_eq!(names(&records), ["INSERT", "MODIFY", "REMOVE"]);
    let r = &records[1];
    assert_eq!(r["eventVersion"], "1.1");
    assert_eq!(r["eventSource"], "aws:dynamodb");
    assert_eq!(r["awsRegion"], "us-east-1");
    assert!(r.get("userIdentity").is_none());
    let id = r["eventID"].as_str().unwrap_or_default();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        r["dynamodb"],
        json!({
            "ApproximateCreationDateTime": START / 1000,
            "Keys": {"id": {"S": "a"}},
            "NewImage": {"id": {"S": "a"}, "n": {"N": "2"}},
            "OldImage": {"id": {"S": "a"}, "n": {"N": "1"}},
            "SequenceNumber": r["dynamodb"]["SequenceNumber"],
            "SizeBytes": 3 + 6 + 6,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        })
    );
    assert!(records[0]["dynamodb"].get("OldImage").is_none());
    assert!(records[2]["dynamodb"].get("NewImage").is_none());
    let ids: std::collections::BTreeSet<_> =
        records.iter().map(|r| r["eventID"].to_string()).collect();
    assert_eq!(ids.len(), 3);
}

#[track_caller]
fn check_view(view: &str, new: bool, old: bool) {
    let f = fixture();
    let arn = f.table("t", Some(view)).unwrap_or_default();
    f.put("t", json!({"id": {"S": "a"}, "n": {"N": "1"}}));
    f.put("t", json!({"id": {"S": "a"}, "n": {"N": "2"}}));
    let records = f.records(&arn);
    assert_eq!(names(&records), ["INSERT", "MODIFY"]);
    let d = &records[1]["dynamodb"];
    assert_eq!(d["StreamViewType"], view);
    assert_eq!(d["Keys"], json!({"id": {"S": "a"}}));
    assert_eq!(d.get("NewImage").is_some(), new, "{d}");
    assert_eq!(d.get("OldImage").is_some(), old, "{d}");
    // SizeBytes counts the keys and the images present.
    let size = 3 + if new { 6 } else { 0 } + if old { 6 } else { 0 };
    assert_eq!(d["SizeBytes"], size);
}

#[test]
fn keys_only_view() {
    check_view("KEYS_ONLY", false, false);
}

#[test]
fn new_image_view() {
    check_view("NEW_IMAGE", true, false);
}

#[test]
fn old_image_view() {
    check_view("OLD_IMAGE", false, true);
}

#[test]
fn new_and_old_images_view() {
    check_view("NEW_AND_OLD_IMAGES", true, true);
}

/// The size AWS recorded for a NEW_IMAGE insert of `{my_partition_key: "hello world",
/// binary_key: b"foobar"}` (localstack snapshot of the Lambda DynamoDB event source mapping).
#[test]
fn size_bytes_matches_aws_recording() {
    let f = fixture();
    let request = json!({
        "TableName": "t",
        "AttributeDefinitions": [{"AttributeName": "my_partition_key", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "my_partition_key", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}
    });
    let arn = ok(f.engine.create_table(&f.ns, input(request)))
        .table_description
        .latest_stream_arn
        .unwrap_or_default();
    f.put(
        "t",
        json!({"my_partition_key": {"S": "hello world"}, "binary_key": {"B": "Zm9vYmFy"}}),
    );
    let records = f.records(&arn);
    assert_eq!(records[0]["dynamodb"]["SizeBytes"], 70);
}

#[test]
fn writes_that_change_nothing_leave_no_record() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_AND_OLD_IMAGES")).unwrap_or_default();
    f.put("t", json!({"id": {"S": "a"}, "n": {"N": "1"}}));
    f.put("t", json!({"id": {"S": "a"}, "n": {"N": "1"}}));
    f.update("t", "a", "SET n = :v", json!({":v": {"N": "1"}}));
    f.delete("t", "missing");
    assert_eq!(names(&f.records(&arn)), ["INSERT"]);
}

#[test]
fn tables_without_streams_record_nothing() {
    let f = fixture();
    assert_eq!(f.table("t", None), None);
    f.put("t", json!({"id": {"S": "a"}}));
    let out = ok(f.engine.list_streams(&f.ns, input(json!({}))));
    assert!(out.streams.is_empty());
}

#[test]
fn sequence_numbers_increase_and_have_21_digits() {
    let f = fixture();
    let arn = f.table("t", Some("KEYS_ONLY")).unwrap_or_default();
    let other = f.table("u", Some("KEYS_ONLY")).unwrap_or_default();
    for i in 0..5 {
        f.put("t", json!({"id": {"S": format!("k{i}")}}));
        f.put("u", json!({"id": {"S": format!("k{i}")}}));
    }
    for arn in [&arn, &other] {
        let records = f.records(arn);
        assert_eq!(records.len(), 5);
        for r in &records {
            let s = r["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default();
            assert!(
                s.len() >= 21 && s.bytes().all(|b| b.is_ascii_digit()),
                "{s}"
            );
        }
        assert!(records.windows(2).all(|w| seq(&w[0]) < seq(&w[1])));
        let start: u128 =
            f.describe(arn)["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(u128::MAX);
        assert!(start <= seq(&records[0]));
    }
}

#[test]
fn get_records_pages_by_limit_and_iterators_position() {
    let f = fixture();
    let arn = f.table("t", Some("KEYS_ONLY")).unwrap_or_default();
    for i in 0..5 {
        f.put("t", json!({"id": {"S": format!("k{i}")}}));
    }
    let (first, next) = ok(f.get(&f.trim_horizon(&arn), Some(2)));
    assert_eq!(first.len(), 2);
    let (rest, next) = ok(f.get(&next.unwrap_or_default(), None));
    assert_eq!(rest.len(), 3);
    // An open shard always hands out a next iterator, even when nothing is new.
    let (none, next) = ok(f.get(&next.unwrap_or_default(), None));
    assert!(none.is_empty());
    f.put("t", json!({"id": {"S": "late"}}));
    let (late, _) = ok(f.get(&next.unwrap_or_default(), None));
    assert_eq!(late.len(), 1);
    assert_eq!(late[0]["dynamodb"]["Keys"]["id"]["S"], "late");

    let third = first[1]["dynamodb"]["SequenceNumber"].clone();
    let at = ok(f.iterator(
        &arn,
        json!({"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": third}),
    ));
    assert_eq!(ok(f.get(&at, None)).0.len(), 5);
    let after = ok(f.iterator(
        &arn,
        json!({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": third}),
    ));
    assert_eq!(ok(f.get(&after, None)).0.len(), 4);

    let latest = ok(f.iterator(&arn, json!({"ShardIteratorType": "LATEST"})));
    assert!(ok(f.get(&latest, None)).0.is_empty());
    f.put("t", json!({"id": {"S": "newest"}}));
    let (newest, _) = ok(f.get(&latest, None));
    assert_eq!(names(&newest), ["INSERT"]);
    assert_eq!(newest[0]["dynamodb"]["Keys"]["id"]["S"], "newest");
}

#[test]
fn limit_above_1000_is_rejected() {
    let f = fixture();
    let arn = f.table("t", Some("KEYS_ONLY")).unwrap_or_default();
    let err = f.get(&f.trim_horizon(&arn), Some(1001)).err();
    assert_eq!(err.map(|e| e.aws_type()), Some("ValidationException"));
}

#[test]
fn disabling_closes_the_shard_and_reenabling_makes_a_new_stream() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_IMAGE")).unwrap_or_default();
    f.put("t", json!({"id": {"S": "a"}}));
    let iterator = f.trim_horizon(&arn);
    ok(f.engine.update_table(
        &f.ns,
        input(json!({"TableName": "t", "StreamSpecification": {"StreamEnabled": false}})),
    ));
    f.put("t", json!({"id": {"S": "b"}}));
    let d = f.describe(&arn);
    assert_eq!(d["StreamStatus"], "DISABLED");
    let range = &d["Shards"][0]["SequenceNumberRange"];
    assert!(range.get("EndingSequenceNumber").is_some(), "{d}");
    // A closed shard read to its end hands out no next iterator.
    let (records, next) = ok(f.get(&iterator, None));
    assert_eq!(names(&records), ["INSERT"]);
    assert_eq!(next, None);
    assert_eq!(
        range["EndingSequenceNumber"],
        records[0]["dynamodb"]["SequenceNumber"]
    );

    f.clock.advance(Duration::from_secs(1));
    let out = ok(f.engine.update_table(
        &f.ns,
        input(json!({"TableName": "t",
                     "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}})),
    ));
    let new_arn = out.table_description.latest_stream_arn.unwrap_or_default();
    assert_ne!(new_arn, arn);
    assert_ne!(f.shard_id(&new_arn), f.shard_id(&arn));
    assert_eq!(f.describe(&new_arn)["StreamStatus"], "ENABLED");
    f.put("t", json!({"id": {"S": "c"}}));
    let records = f.records(&new_arn);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["dynamodb"]["StreamViewType"], "KEYS_ONLY");
    let listed = ok(f
        .engine
        .list_streams(&f.ns, input(json!({"TableName": "t"}))));
    assert_eq!(listed.streams.len(), 2);
}

#[test]
fn reenabling_in_the_same_millisecond_still_makes_a_new_stream() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_IMAGE")).unwrap_or_default();
    let update = |enabled: bool| {
        let spec = if enabled {
            json!({"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"})
        } else {
            json!({"StreamEnabled": false})
        };
        ok(f.engine.update_table(
            &f.ns,
            input(json!({"TableName": "t", "StreamSpecification": spec})),
        ))
    };
    update(false);
    let out = update(true);
    assert_ne!(out.table_description.latest_stream_arn, Some(arn.clone()));
    assert_eq!(f.describe(&arn)["StreamStatus"], "DISABLED");
}

#[test]
fn deleting_the_table_closes_the_shard_and_keeps_records_readable() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_IMAGE")).unwrap_or_default();
    f.put("t", json!({"id": {"S": "a"}}));
    ok(f.engine
        .delete_table(&f.ns, input(json!({"TableName": "t"}))));
    assert_eq!(f.describe(&arn)["StreamStatus"], "DISABLED");
    let (records, next) = ok(f.get(&f.trim_horizon(&arn), None));
    assert_eq!(records.len(), 1);
    assert_eq!(next, None);
    // Gone 24 hours after it closed.
    f.clock.advance(Duration::from_secs(24 * 3600));
    let err = f
        .engine
        .describe_stream(&f.ns, input(json!({"StreamArn": arn})))
        .err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some(format!(
            "Requested resource not found: Stream: {arn} not found"
        ))
    );
}

#[test]
fn iterators_expire_after_15_minutes_of_engine_time() {
    let f = fixture();
    let arn = f.table("t", Some("KEYS_ONLY")).unwrap_or_default();
    let iterator = f.trim_horizon(&arn);
    f.clock
        .advance(Duration::from_millis(ITERATOR_LIFETIME_MILLIS as u64));
    let (_, next) = ok(f.get(&iterator, None));
    f.clock.advance(Duration::from_millis(1));
    let err = f.get(&iterator, None).err();
    assert_eq!(
        err.map(|e| (e.aws_type(), e.to_string())),
        Some((
            "ExpiredIteratorException",
            "Shard iterator has expired".into()
        ))
    );
    // The next iterator was made later and is still good.
    assert!(f.get(&next.unwrap_or_default(), None).is_ok());
}

#[test]
fn records_older_than_24_hours_are_trimmed() {
    let f = fixture();
    let arn = f.table("t", Some("KEYS_ONLY")).unwrap_or_default();
    f.put("t", json!({"id": {"S": "old"}}));
    let old = f.records(&arn);
    let old_seq = old[0]["dynamodb"]["SequenceNumber"].clone();
    f.clock.advance(Duration::from_secs(23 * 3600));
    f.put("t", json!({"id": {"S": "new"}}));
    assert_eq!(f.records(&arn).len(), 2);
    // Exactly 24 hours old is still retained; a second more is not.
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(f.records(&arn).len(), 2);
    f.clock.advance(Duration::from_secs(1));
    let records = f.records(&arn);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["dynamodb"]["Keys"]["id"]["S"], "new");
    let err = f
        .iterator(
            &arn,
            json!({"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": old_seq}),
        )
        .err();
    assert_eq!(
        err.map(|e| e.aws_type()),
        Some("TrimmedDataAccessException")
    );
    // A later write removes the expired record for good; reads agree.
    f.put("t", json!({"id": {"S": "newer"}}));
    assert_eq!(f.records(&arn).len(), 2);
}

#[test]
fn batch_writes_and_transactions_record_every_change() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_AND_OLD_IMAGES")).unwrap_or_default();
    ok(f.engine.batch_write_item(
        &f.ns,
        input(json!({"RequestItems": {"t": [
            {"PutRequest": {"Item": {"id": {"S": "a"}}}},
            {"PutRequest": {"Item": {"id": {"S": "b"}}}}
        ]}})),
    ));
    ok(f.engine.transact_write_items(
        &f.ns,
        input(json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"id": {"S": "c"}}}},
            {"Delete": {"TableName": "t", "Key": {"id": {"S": "a"}}}}
        ]})),
    ));
    // A cancelled transaction writes neither items nor records.
    let failed = f.engine.transact_write_items(
        &f.ns,
        input(json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"id": {"S": "d"}}}},
            {"Delete": {"TableName": "t", "Key": {"id": {"S": "b"}},
                        "ConditionExpression": "attribute_not_exists(id)"}}
        ]})),
    );
    assert!(failed.is_err());
    let records = f.records(&arn);
    assert_eq!(names(&records), ["INSERT", "INSERT", "INSERT", "REMOVE"]);
    let keys: Vec<&str> = records
        .iter()
        .map(|r| {
            r["dynamodb"]["Keys"]["id"]["S"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(keys, ["a", "b", "c", "a"]);
}

#[test]
fn ttl_deletes_carry_the_service_identity() {
    let f = fixture();
    let arn = f.table("t", Some("OLD_IMAGE")).unwrap_or_default();
    ok(f.engine.update_time_to_live(
        &f.ns,
        input(json!({"TableName": "t",
                     "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})),
    ));
    f.put(
        "t",
        json!({"id": {"S": "a"}, "exp": {"N": (START / 1000 + 10).to_string()}}),
    );
    f.put("t", json!({"id": {"S": "b"}}));
    f.clock.advance(Duration::from_secs(60));
    assert_eq!(ok(f.engine.expire_ttl()), 1);
    f.delete("t", "b");
    let records = f.records(&arn);
    assert_eq!(names(&records), ["INSERT", "INSERT", "REMOVE", "REMOVE"]);
    assert_eq!(
        records[2]["userIdentity"],
        json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
    );
    assert_eq!(
        records[2]["dynamodb"]["ApproximateCreationDateTime"],
        START / 1000 + 60
    );
    assert!(records[3].get("userIdentity").is_none());
}

#[test]
fn list_streams_filters_and_pages() {
    let f = fixture();
    let a = f.table("a1", Some("KEYS_ONLY")).unwrap_or_default();
    let b = f.table("b1", Some("KEYS_ONLY")).unwrap_or_default();
    f.table("c1", None);
    let all = to_value(&ok(f.engine.list_streams(&f.ns, input(json!({})))));
    assert_eq!(all["Streams"].as_array().map(Vec::len), Some(2));
    assert!(all.get("LastEvaluatedStreamArn").is_none());
    let only_b = ok(f
        .engine
        .list_streams(&f.ns, input(json!({"TableName": "b1"}))));
    assert_eq!(only_b.streams.len(), 1);
    assert_eq!(only_b.streams[0].stream_arn, b);
    let page = ok(f.engine.list_streams(&f.ns, input(json!({"Limit": 1}))));
    assert_eq!(page.streams.len(), 1);
    assert_eq!(page.last_evaluated_stream_arn.as_deref(), Some(a.as_str()));
    let rest = ok(f
        .engine
        .list_streams(&f.ns, input(json!({"ExclusiveStartStreamArn": a}))));
    assert_eq!(rest.streams.len(), 1);
    assert_eq!(rest.streams[0].stream_arn, b);
    // Another account sees nothing.
    let other = Namespace::new("111111111111", "us-east-1");
    assert!(
        ok(f.engine.list_streams(&other, input(json!({}))))
            .streams
            .is_empty()
    );
}

#[test]
fn describe_stream_shape() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_IMAGE")).unwrap_or_default();
    let d = f.describe(&arn);
    let shard = d["Shards"][0]["ShardId"].as_str().unwrap_or_default();
    assert!(
        shard.starts_with("shardId-00000001700000000000-"),
        "{shard}"
    );
    assert_eq!(shard.len(), "shardId-00000001700000000000-abcdef12".len());
    assert_eq!(
        d,
        json!({
            "StreamArn": arn,
            "StreamLabel": "2023-11-14T22:13:20.000",
            "StreamStatus": "ENABLED",
            "StreamViewType": "NEW_IMAGE",
            "CreationRequestDateTime": 1_700_000_000.0,
            "TableName": "t",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "Shards": [{"ShardId": shard, "SequenceNumberRange": {
                "StartingSequenceNumber": d["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]}}]
        })
    );
    let page = to_value(&ok(f.engine.describe_stream(
        &f.ns,
        input(json!({"StreamArn": arn, "ExclusiveStartShardId": shard})),
    )));
    assert_eq!(page["StreamDescription"]["Shards"], json!([]));
}

#[test]
fn unknown_streams_and_shards_are_not_found() {
    let f = fixture();
    let arn = f.table("t", Some("NEW_IMAGE")).unwrap_or_default();
    let missing = format!("{arn}x");
    let err = f
        .engine
        .describe_stream(&f.ns, input(json!({"StreamArn": missing})))
        .err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some(format!(
            "Requested resource not found: Stream: {missing} not found"
        ))
    );
    let err = f
        .engine
        .get_shard_iterator(
            &f.ns,
            input(
                json!({"StreamArn": arn, "ShardId": "shardId-00000000000000000000-00000000",
                         "ShardIteratorType": "TRIM_HORIZON"}),
            ),
        )
        .err();
    assert_eq!(
        err.map(|e| (e.aws_type(), e.to_string())),
        Some((
            "ResourceNotFoundException",
            "Requested resource not found: Shard does not exist".into()
        ))
    );
    let err = f.get("not an iterator", None).err();
    assert_eq!(err.map(|e| e.aws_type()), Some("ValidationException"));
    let err = f
        .iterator(&arn, json!({"ShardIteratorType": "AT_SEQUENCE_NUMBER"}))
        .err();
    assert_eq!(err.map(|e| e.aws_type()), Some("ValidationException"));
}
