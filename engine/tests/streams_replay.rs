//! Replaying a NEW_AND_OLD_IMAGES stream reproduces its table: a random sequence of puts,
//! updates and deletes (with clock jumps and a random shard record limit, so shards roll over),
//! then every record read shard by shard in lineage order (parent before child) and applied to
//! an empty map. Each record's OldImage must equal what the replay holds for its key, and the
//! final map must equal the table.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ddb_engine::{Engine, Item, ManualClock, Namespace, Timestamp};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

#[track_caller]
fn ok<T>(r: Result<T, impl std::fmt::Display>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

#[derive(Debug, Clone)]
enum Op {
    Put {
        pk: u8,
        sk: u8,
        a: u8,
    },
    Update {
        pk: u8,
        sk: u8,
        set: Option<u8>,
        add: i8,
    },
    Remove {
        pk: u8,
        sk: u8,
    },
    Delete {
        pk: u8,
        sk: u8,
    },
    /// Moves the clock forward by this many minutes (at most 40, so the whole run stays inside
    /// the 24-hour retention window).
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..3, 0u8..3, 0u8..4).prop_map(|(pk, sk, a)| Op::Put { pk, sk, a }),
        4 => (0u8..3, 0u8..3, proptest::option::of(0u8..4), -2i8..3)
            .prop_map(|(pk, sk, set, add)| Op::Update { pk, sk, set, add }),
        1 => (0u8..3, 0u8..3).prop_map(|(pk, sk)| Op::Remove { pk, sk }),
        2 => (0u8..3, 0u8..3).prop_map(|(pk, sk)| Op::Delete { pk, sk }),
        1 => (1u16..=40).prop_map(Op::Wait),
    ]
}

fn key(pk: u8, sk: u8) -> Value {
    json!({"pk": {"S": format!("p{pk}")}, "sk": {"N": sk.to_string()}})
}

fn apply(engine: &Engine, ns: &Namespace, clock: &ManualClock, op: &Op) {
    match op {
        Op::Put { pk, sk, a } => {
            let mut item = key(*pk, *sk);
            item["a"] = json!({"S": format!("v{a}")});
            ok(engine.put_item(ns, input(json!({"TableName": "t", "Item": item}))));
        }
        Op::Update { pk, sk, set, add } => {
            let mut values = json!({":n": {"N": add.to_string()}});
            let expr = match set {
                Some(v) => {
                    values[":a"] = json!({"S": format!("u{v}")});
                    "SET a = :a ADD n :n"
                }
                None => "ADD n :n",
            };
            ok(engine.update_item(
                ns,
                input(json!({"TableName": "t", "Key": key(*pk, *sk),
                             "UpdateExpression": expr, "ExpressionAttributeValues": values})),
            ));
        }
        Op::Remove { pk, sk } => {
            ok(engine.update_item(
                ns,
                input(json!({"TableName": "t", "Key": key(*pk, *sk),
                             "UpdateExpression": "REMOVE a"})),
            ));
        }
        Op::Delete { pk, sk } => {
            ok(engine.delete_item(ns, input(json!({"TableName": "t", "Key": key(*pk, *sk)}))));
        }
        Op::Wait(minutes) => clock.advance(Duration::from_secs(u64::from(*minutes) * 60)),
    }
}

/// The shards of `arn` in lineage order: the root (no listed parent) first, then each child.
fn lineage(engine: &Engine, ns: &Namespace, arn: &str) -> Vec<String> {
    let d = ok(engine.describe_stream(ns, input(json!({"StreamArn": arn}))));
    let shards = d.stream_description.shards;
    let mut order = Vec::new();
    let mut parent: Option<String> = None;
    loop {
        let children: Vec<_> = shards
            .iter()
            .filter(|s| s.parent_shard_id == parent)
            .collect();
        assert!(children.len() <= 1, "a shard with two children: {shards:?}");
        let Some(child) = children.first() else {
            break;
        };
        order.push(child.shard_id.clone());
        parent = Some(child.shard_id.clone());
    }
    assert_eq!(
        order.len(),
        shards.len(),
        "shards off the lineage: {shards:?}"
    );
    order
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn replaying_the_stream_reproduces_the_table(
        ops in proptest::collection::vec(op(), 1..40),
        shard_records in proptest::option::of(1u64..6),
        page in 1i64..5,
    ) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
        let engine = ok(Engine::builder().seed(5).clock(clock.clone()).build());
        ok(engine.set_stream_shard_records(shard_records));
        let ns = Namespace::default();
        let out = ok(engine.create_table(&ns, input(json!({
            "TableName": "t",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }))));
        let arn = out.table_description.latest_stream_arn.unwrap_or_default();
        for op in &ops {
            apply(&engine, &ns, &clock, op);
        }

        let mut replay: BTreeMap<String, Item> = BTreeMap::new();
        let mut last_seq = 0u128;
        for shard in lineage(&engine, &ns, &arn) {
            let mut it = ok(engine.get_shard_iterator(&ns, input(json!({
                "StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}))))
                .shard_iterator;
            loop {
                let out = ok(engine.get_records(
                    &ns, input(json!({"ShardIterator": it, "Limit": page}))));
                for r in &out.records {
                    let seq: u128 = r.dynamodb.sequence_number.parse().unwrap_or_default();
                    prop_assert!(seq > last_seq, "sequence numbers go back");
                    last_seq = seq;
                    let k = serde_json::to_string(&r.dynamodb.keys).unwrap_or_default();
                    prop_assert_eq!(replay.get(&k), r.dynamodb.old_image.as_ref(), "old image of {}", k);
                    match r.event_name.as_str() {
                        "INSERT" | "MODIFY" => {
                            let new = r.dynamodb.new_image.clone();
                            prop_assert!(new.is_some(), "no new image");
                            replay.insert(k, new.unwrap_or_default());
                        }
                        "REMOVE" => {
                            prop_assert!(r.dynamodb.new_image.is_none());
                            replay.remove(&k);
                        }
                        other => prop_assert!(false, "event {}", other),
                    }
                }
                match out.next_shard_iterator {
                    // The open shard: read to the present.
                    Some(_) if out.records.is_empty() => break,
                    Some(next) => it = next,
                    // A closed shard read to its end.
                    None => break,
                }
            }
        }
        let mut table: Vec<Item> = ok(engine.items(&ns, "t"));
        let mut replayed: Vec<Item> = replay.into_values().collect();
        let order = |i: &Item| serde_json::to_string(i).unwrap_or_default();
        table.sort_by_key(order);
        replayed.sort_by_key(order);
        prop_assert_eq!(replayed, table);
    }
}
