//! Unit tests of global tables: replica creation, replication, conflicts, strong consistency,
//! version 2017.11.29 operations and their validation.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::{Clock, ManualClock, Timestamp};
use crate::engine::{Engine, Namespace};
use crate::error::Error;
use crate::value::Item;

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const OHIO: &str = "us-east-2";

fn ns(region: &str) -> Namespace {
    Namespace::new("111111111111", region)
}

fn engine() -> (Engine, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let engine = Engine::builder()
        .clock(clock.clone())
        .seed(7)
        .build()
        .unwrap();
    (engine, clock)
}

fn input<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn create(e: &Engine, region: &str, extra: Value) {
    let mut req = json!({
        "TableName": "t",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    if let (Some(r), Some(x)) = (req.as_object_mut(), extra.as_object()) {
        r.extend(x.clone());
    }
    e.create_table(&ns(region), input(req)).unwrap();
}

fn update(e: &Engine, region: &str, req: Value) -> Result<Value, Error> {
    let mut req = req;
    req["TableName"] = json!("t");
    e.update_table(&ns(region), input(req))
        .map(|o| serde_json::to_value(o).unwrap())
}

fn add_replica(e: &Engine, from: &str, to: &str) {
    update(
        e,
        from,
        json!({"ReplicaUpdates": [{"Create": {"RegionName": to}}]}),
    )
    .unwrap();
}

fn put(e: &Engine, region: &str, id: &str, v: i64) {
    e.put_item(
        &ns(region),
        input(json!({"TableName": "t", "Item": {"id": {"S": id}, "v": {"N": v.to_string()}}})),
    )
    .unwrap();
}

fn get(e: &Engine, region: &str, id: &str) -> Option<Item> {
    e.get_item(
        &ns(region),
        input(json!({"TableName": "t", "Key": {"id": {"S": id}}})),
    )
    .unwrap()
    .item
}

fn v_of(e: &Engine, region: &str, id: &str) -> Option<String> {
    get(e, region, id).map(|i| serde_json::to_value(&i["v"]).unwrap()["N"].to_string())
}

fn describe(e: &Engine, region: &str) -> Value {
    serde_json::to_value(
        e.describe_table(&ns(region), input(json!({"TableName": "t"})))
            .unwrap(),
    )
    .unwrap()["Table"]
        .clone()
}

fn stream_records(e: &Engine, region: &str) -> Vec<crate::streams::Record> {
    let arn = describe(e, region)["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_string();
    e.stream_records(&ns(region), &arn).unwrap()
}

#[track_caller]
fn check_err(r: Result<Value, Error>, ty: &str, message: &str) {
    let e = r.unwrap_err();
    assert_eq!(e.aws_type(), ty, "{e}");
    assert_eq!(e.to_string(), message);
}

#[test]
fn creating_a_replica_copies_definitions_and_items_and_describes_both_sides() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    put(&e, EAST, "a", 1);
    let out = update(
        &e,
        EAST,
        json!({"ReplicaUpdates": [{"Create": {"RegionName": WEST}}]}),
    )
    .unwrap();
    let desc = &out["TableDescription"];
    assert_eq!(desc["GlobalTableVersion"], "2019.11.21");
    assert_eq!(desc["Replicas"][0]["RegionName"], WEST);
    assert_eq!(desc["Replicas"][0]["ReplicaStatus"], "CREATING");
    // The table got the stream a global table needs.
    assert_eq!(
        desc["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    assert_eq!(v_of(&e, WEST, "a").as_deref(), Some("\"1\""));
    let west = describe(&e, WEST);
    assert_eq!(
        west["Replicas"],
        json!([{
            "RegionName": EAST,
            "ReplicaStatus": "ACTIVE",
            "ReplicaArn": "arn:aws:dynamodb:us-east-1:111111111111:table/t",
            "ReplicaTableClassSummary": {"TableClass": "STANDARD"}
        }])
    );
    assert_eq!(west["ItemCount"], 1);
    assert_eq!(west["MultiRegionConsistency"], "EVENTUAL");
    assert_eq!(west["StreamSpecification"]["StreamEnabled"], true);
    assert_eq!(describe(&e, EAST)["Replicas"][0]["ReplicaStatus"], "ACTIVE");
    // The backfill wrote no stream records on the replica.
    assert!(stream_records(&e, WEST).is_empty());
}

#[test]
fn writes_replicate_after_the_lag_as_the_clock_moves() {
    let (e, clock) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    e.set_replication_lag(Duration::from_secs(2)).unwrap();
    put(&e, EAST, "a", 1);
    assert_eq!(e.replicate_pending().unwrap(), 0);
    assert_eq!(get(&e, WEST, "a"), None);
    clock.advance(Duration::from_secs(1));
    assert_eq!(e.replicate_pending().unwrap(), 0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(e.replicate_pending().unwrap(), 1);
    assert_eq!(v_of(&e, WEST, "a").as_deref(), Some("\"1\""));
    assert_eq!(e.pending_replications().unwrap(), 0);
}

#[test]
fn writes_replicate_both_ways_with_records_in_each_stream_and_never_loop() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    put(&e, WEST, "b", 2);
    assert_eq!(e.replicate_pending().unwrap(), 1);
    assert_eq!(v_of(&e, EAST, "b").as_deref(), Some("\"2\""));
    // The applied write was not queued back to its origin.
    assert_eq!(e.pending_replications().unwrap(), 0);
    let east = stream_records(&e, EAST);
    assert_eq!(east.len(), 1);
    assert_eq!(east[0].event_name, "INSERT");
    assert_eq!(east[0].aws_region, EAST);
    assert!(east[0].dynamodb.new_image.is_some());
    assert_eq!(stream_records(&e, WEST).len(), 1);
}

#[test]
fn index_and_billing_changes_reach_every_replica() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    e.put_item(
        &ns(WEST),
        input(json!({"TableName": "t", "Item": {"id": {"S": "a"}, "team": {"S": "red"}}})),
    )
    .unwrap();
    e.replicate_pending().unwrap();
    update(
        &e,
        EAST,
        json!({
            "AttributeDefinitions": [{"AttributeName": "team", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [{"Create": {
                "IndexName": "by_team",
                "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}
            }}]
        }),
    )
    .unwrap();
    let west = describe(&e, WEST);
    assert_eq!(west["GlobalSecondaryIndexes"][0]["IndexName"], "by_team");
    assert_eq!(west["GlobalSecondaryIndexes"][0]["ItemCount"], 1);
    let q = e
        .query(
            &ns(WEST),
            input(json!({"TableName": "t", "IndexName": "by_team",
                         "KeyConditionExpression": "team = :t",
                         "ExpressionAttributeValues": {":t": {"S": "red"}}})),
        )
        .unwrap();
    assert_eq!(q.count, 1);
    update(
        &e,
        EAST,
        json!({"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by_team"}}]}),
    )
    .unwrap();
    assert!(describe(&e, WEST).get("GlobalSecondaryIndexes").is_none());
}

#[test]
fn replica_overrides_apply_to_the_replica_table() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    update(
        &e,
        EAST,
        json!({"ReplicaUpdates": [{"Create": {"RegionName": WEST, "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}}]}),
    )
    .unwrap();
    let east = describe(&e, EAST);
    assert_eq!(
        east["Replicas"][0]["ReplicaTableClassSummary"]["TableClass"],
        "STANDARD_INFREQUENT_ACCESS"
    );
    assert_eq!(
        describe(&e, WEST)["TableClassSummary"]["TableClass"],
        "STANDARD_INFREQUENT_ACCESS"
    );
    let out = update(
        &e,
        EAST,
        json!({"ReplicaUpdates": [{"Update": {"RegionName": WEST, "TableClassOverride": "STANDARD"}}]}),
    )
    .unwrap();
    assert_eq!(
        out["TableDescription"]["Replicas"][0]["ReplicaStatus"],
        "UPDATING"
    );
    assert_eq!(
        describe(&e, WEST)["TableClassSummary"]["TableClass"],
        "STANDARD"
    );
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Update": {"RegionName": WEST}}]}),
        ),
        "ValidationException",
        "There are no actions specified in the Replica Update Action of the request.",
    );
}

#[test]
fn queued_writes_apply_in_order() {
    let (e, clock) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    e.set_replication_lag(Duration::from_millis(100)).unwrap();
    for v in 1..=3 {
        put(&e, EAST, "a", v);
    }
    e.delete_item(
        &ns(EAST),
        input(json!({"TableName": "t", "Key": {"id": {"S": "b"}}})),
    )
    .unwrap();
    put(&e, EAST, "b", 9);
    // The delete of a missing item changes nothing, so nothing is owed for it.
    assert_eq!(e.pending_replications().unwrap(), 4);
    clock.advance(Duration::from_millis(99));
    assert_eq!(e.replicate_pending().unwrap(), 0);
    clock.advance(Duration::from_millis(1));
    assert_eq!(e.replicate_pending().unwrap(), 4);
    assert_eq!(v_of(&e, WEST, "a").as_deref(), Some("\"3\""));
    assert_eq!(v_of(&e, WEST, "b").as_deref(), Some("\"9\""));
    let names: Vec<String> = stream_records(&e, WEST)
        .into_iter()
        .map(|r| r.event_name)
        .collect();
    assert_eq!(names, ["INSERT", "MODIFY", "MODIFY", "INSERT"]);
}

#[test]
fn deletes_replicate() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    put(&e, EAST, "a", 1);
    add_replica(&e, EAST, WEST);
    e.delete_item(
        &ns(EAST),
        input(json!({"TableName": "t", "Key": {"id": {"S": "a"}}})),
    )
    .unwrap();
    e.replicate_pending().unwrap();
    assert_eq!(get(&e, WEST, "a"), None);
    let west = stream_records(&e, WEST);
    assert_eq!(west.last().unwrap().event_name, "REMOVE");
    assert_eq!(describe(&e, WEST)["ItemCount"], 0);
}

#[test]
fn last_writer_wins_by_clock_time_whatever_the_arrival_order() {
    let (e, clock) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    e.set_replication_lag(Duration::from_secs(10)).unwrap();
    put(&e, WEST, "a", 1);
    clock.advance(Duration::from_secs(1));
    put(&e, EAST, "a", 2);
    // Both writes cross: the west write (older) reaches east after east's own newer write.
    clock.advance(Duration::from_secs(20));
    assert_eq!(e.replicate_pending().unwrap(), 2);
    assert_eq!(v_of(&e, EAST, "a").as_deref(), Some("\"2\""));
    assert_eq!(v_of(&e, WEST, "a").as_deref(), Some("\"2\""));
}

#[test]
fn equal_times_resolve_by_region_so_replicas_converge() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    put(&e, EAST, "a", 1);
    put(&e, WEST, "a", 2);
    e.replicate_pending().unwrap();
    // Same millisecond: the larger region name wins on both sides.
    assert_eq!(v_of(&e, EAST, "a"), v_of(&e, WEST, "a"));
    assert_eq!(v_of(&e, EAST, "a").as_deref(), Some("\"2\""));
}

#[test]
fn batches_transactions_and_partiql_replicate_through_the_one_write_path() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    e.batch_write_item(
        &ns(EAST),
        input(json!({"RequestItems": {"t": [
            {"PutRequest": {"Item": {"id": {"S": "x"}, "v": {"N": "1"}}}},
            {"PutRequest": {"Item": {"id": {"S": "y"}, "v": {"N": "2"}}}}
        ]}})),
    )
    .unwrap();
    e.transact_write_items(
        &ns(EAST),
        input(json!({"TransactItems": [
            {"Update": {"TableName": "t", "Key": {"id": {"S": "x"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "5"}}}}
        ]})),
    )
    .unwrap();
    e.execute_statement(
        &ns(EAST),
        input(json!({"Statement": "INSERT INTO t VALUE {'id': 'p', 'v': 3}"})),
    )
    .unwrap();
    e.replicate_pending().unwrap();
    assert_eq!(v_of(&e, WEST, "p").as_deref(), Some("\"3\""));
    assert_eq!(v_of(&e, WEST, "x").as_deref(), Some("\"5\""));
    assert_eq!(v_of(&e, WEST, "y").as_deref(), Some("\"2\""));
}

#[test]
fn ttl_deletes_replicate_as_ordinary_deletes() {
    let (e, clock) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    e.update_time_to_live(
        &ns(EAST),
        input(json!({"TableName": "t", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})),
    )
    .unwrap();
    let past = clock.now().0 / 1000 - 60;
    e.put_item(
        &ns(EAST),
        input(
            json!({"TableName": "t", "Item": {"id": {"S": "old"}, "exp": {"N": past.to_string()}}}),
        ),
    )
    .unwrap();
    e.replicate_pending().unwrap();
    assert!(get(&e, WEST, "old").is_some());
    assert_eq!(e.expire_ttl().unwrap(), 1);
    e.replicate_pending().unwrap();
    assert_eq!(get(&e, WEST, "old"), None);
    // The expiry is the service's in the region where TTL deleted the item; the replica's
    // record is the replicated delete.
    let east = stream_records(&e, EAST);
    assert!(east.last().unwrap().user_identity.is_some());
    let west = stream_records(&e, WEST);
    assert_eq!(west.last().unwrap().event_name, "REMOVE");
    assert!(west.last().unwrap().user_identity.is_none());
}

#[test]
fn strong_consistency_applies_writes_in_the_same_request() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    update(
        &e,
        EAST,
        json!({
            "ReplicaUpdates": [{"Create": {"RegionName": OHIO}}],
            "GlobalTableWitnessUpdates": [{"Create": {"RegionName": WEST}}],
            "MultiRegionConsistency": "STRONG"
        }),
    )
    .unwrap();
    let d = describe(&e, OHIO);
    assert_eq!(d["MultiRegionConsistency"], "STRONG");
    assert_eq!(
        d["GlobalTableWitnesses"],
        json!([{"RegionName": WEST, "WitnessStatus": "ACTIVE"}])
    );
    e.set_replication_lag(Duration::from_secs(60)).unwrap();
    put(&e, EAST, "a", 1);
    assert_eq!(e.pending_replications().unwrap(), 0);
    assert_eq!(v_of(&e, OHIO, "a").as_deref(), Some("\"1\""));
    put(&e, OHIO, "a", 2);
    assert_eq!(v_of(&e, EAST, "a").as_deref(), Some("\"2\""));
    // The witness goes only with STRONG named, and the group only as a whole.
    check_err(
        update(
            &e,
            EAST,
            json!({"GlobalTableWitnessUpdates": [{"Delete": {"RegionName": WEST}}]}),
        ),
        "ValidationException",
        "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present",
    );
    check_err(
        update(
            &e,
            EAST,
            json!({"GlobalTableWitnessUpdates": [{"Delete": {"RegionName": WEST}}],
                   "MultiRegionConsistency": "STRONG"}),
        ),
        "ValidationException",
        "Unsupported table replica count for global tables with MultiRegionConsistency set to STRONG",
    );
    update(
        &e,
        EAST,
        json!({"ReplicaUpdates": [{"Delete": {"RegionName": OHIO}}],
               "GlobalTableWitnessUpdates": [{"Delete": {"RegionName": WEST}}],
               "MultiRegionConsistency": "STRONG"}),
    )
    .unwrap();
    let d = describe(&e, EAST);
    assert!(d.get("Replicas").is_none());
    assert!(d.get("MultiRegionConsistency").is_none());
}

#[test]
fn strong_consistency_validation() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Create": {"RegionName": OHIO}}],
                   "MultiRegionConsistency": "STRONG"}),
        ),
        "ValidationException",
        "Unsupported table replica count for global tables with MultiRegionConsistency set to STRONG",
    );
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Create": {"RegionName": OHIO}}],
                   "GlobalTableWitnessUpdates": [{"Create": {"RegionName": WEST}}]}),
        ),
        "ValidationException",
        "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present",
    );
    put(&e, EAST, "a", 1);
    let r = update(
        &e,
        EAST,
        json!({"ReplicaUpdates": [{"Create": {"RegionName": OHIO}}],
               "GlobalTableWitnessUpdates": [{"Create": {"RegionName": WEST}}],
               "MultiRegionConsistency": "STRONG"}),
    );
    assert_eq!(r.unwrap_err().aws_type(), "ValidationException");
    // Nothing of a failed request stays behind.
    assert!(describe(&e, EAST).get("Replicas").is_none());
    assert!(e.table_meta(&ns(OHIO), "t").unwrap().is_none());
}

#[test]
fn replica_update_validation_uses_aws_texts() {
    let (e, _) = engine();
    create(&e, EAST, json!({}));
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Create": {"RegionName": EAST}}]}),
        ),
        "ValidationException",
        "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.",
    );
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Delete": {"RegionName": WEST}}]}),
        ),
        "ValidationException",
        "Update global table operation failed because one or more replicas were not part of the global table. Please retry the request without these replicas: [us-west-2].",
    );
    check_err(
        update(&e, EAST, json!({"ReplicaUpdates": [{}]})),
        "ValidationException",
        "There are no actions specified in the Replica Update Action of the request.",
    );
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Create": {"RegionName": WEST}, "Delete": {"RegionName": WEST}}]}),
        ),
        "ValidationException",
        "Update table operation with more than one type of replica actions not allowed.",
    );
    add_replica(&e, EAST, WEST);
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Create": {"RegionName": WEST}}]}),
        ),
        "ValidationException",
        "Failed to create a the new replica of table with name: \u{2018}t\u{2019} because one or more replicas already existed as tables.",
    );
    check_err(
        update(
            &e,
            WEST,
            json!({"StreamSpecification": {"StreamEnabled": false}}),
        ),
        "ValidationException",
        "One or more parameter values were invalid: Disabling Stream is not allowed for a Global Table replica.",
    );
}

#[test]
fn provisioned_tables_need_write_auto_scaling() {
    let (e, _) = engine();
    create(
        &e,
        EAST,
        json!({"BillingMode": "PROVISIONED",
               "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}),
    );
    check_err(
        update(
            &e,
            EAST,
            json!({"ReplicaUpdates": [{"Create": {"RegionName": WEST}}]}),
        ),
        "ValidationException",
        "Table write capacity should either be Pay-Per-Request or AutoScaled.",
    );
    e.update_table_replica_auto_scaling(
        &ns(EAST),
        input(json!({"TableName": "t", "ProvisionedWriteCapacityAutoScalingUpdate": {
            "MinimumUnits": 5, "MaximumUnits": 50,
            "ScalingPolicyUpdate": {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0}}
        }})),
    )
    .unwrap();
    add_replica(&e, EAST, WEST);
    let out = e
        .describe_table_replica_auto_scaling(&ns(WEST), input(json!({"TableName": "t"})))
        .unwrap();
    let v = serde_json::to_value(out).unwrap();
    let replicas = &v["TableAutoScalingDescription"]["Replicas"];
    assert_eq!(replicas.as_array().unwrap().len(), 2);
    assert_eq!(
        replicas[1]["ReplicaProvisionedWriteCapacityAutoScalingSettings"]["ScalingPolicies"][0]["PolicyName"],
        "DynamoDBWriteCapacityUtilization:table/t"
    );
}

#[test]
fn deleting_a_replica_and_the_source_hold() {
    let (e, clock) = engine();
    create(&e, EAST, json!({}));
    add_replica(&e, EAST, WEST);
    // The source of a new replica cannot be deleted for 24 hours.
    let err = e
        .delete_table(&ns(EAST), input(json!({"TableName": "t"})))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Replica cannot be deleted because it has acted as a source region for new replica(s) being added to the table in the last 24 hours."
    );
    // The replica itself can go; the source is regional again.
    e.delete_table(&ns(WEST), input(json!({"TableName": "t"})))
        .unwrap();
    assert!(describe(&e, EAST).get("Replicas").is_none());
    add_replica(&e, EAST, WEST);
    clock.advance(Duration::from_secs(25 * 3600));
    let out = update(
        &e,
        EAST,
        json!({"ReplicaUpdates": [{"Delete": {"RegionName": WEST}}]}),
    )
    .unwrap();
    assert_eq!(
        out["TableDescription"]["Replicas"][0]["ReplicaStatus"],
        "DELETING"
    );
    assert!(e.table_meta(&ns(WEST), "t").unwrap().is_none());
    put(&e, EAST, "z", 1);
    assert_eq!(e.pending_replications().unwrap(), 0);
}

#[test]
fn legacy_global_tables_create_list_describe_update() {
    let (e, _) = engine();
    let stream = json!({"StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}});
    create(&e, EAST, stream.clone());
    create(&e, WEST, stream.clone());
    let out = e
        .create_global_table(
            &ns(EAST),
            input(json!({"GlobalTableName": "t", "ReplicationGroup": [{"RegionName": EAST}, {"RegionName": WEST}]})),
        )
        .unwrap();
    assert_eq!(out.global_table_description.global_table_status, "CREATING");
    assert_eq!(
        out.global_table_description.global_table_arn,
        "arn:aws:dynamodb::111111111111:global-table/t"
    );
    let again = e.create_global_table(
        &ns(EAST),
        input(json!({"GlobalTableName": "t", "ReplicationGroup": [{"RegionName": EAST}]})),
    );
    assert_eq!(
        again.unwrap_err().aws_type(),
        "GlobalTableAlreadyExistsException"
    );
    assert_eq!(describe(&e, WEST)["GlobalTableVersion"], "2017.11.29");
    // Replication works through the same core.
    put(&e, EAST, "a", 1);
    e.replicate_pending().unwrap();
    assert_eq!(v_of(&e, WEST, "a").as_deref(), Some("\"1\""));
    let list = e
        .list_global_tables(&ns(EAST), input(json!({"RegionName": WEST})))
        .unwrap();
    assert_eq!(list.global_tables.len(), 1);
    let list = e
        .list_global_tables(&ns(EAST), input(json!({"RegionName": OHIO})))
        .unwrap();
    assert!(list.global_tables.is_empty());
    let missing = e.describe_global_table(&ns(EAST), input(json!({"GlobalTableName": "nope"})));
    assert_eq!(
        missing.unwrap_err().aws_type(),
        "GlobalTableNotFoundException"
    );
    let dup = e.update_global_table(
        &ns(EAST),
        input(
            json!({"GlobalTableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": WEST}}]}),
        ),
    );
    assert_eq!(dup.unwrap_err().aws_type(), "ReplicaAlreadyExistsException");
    let gone = e.update_global_table(
        &ns(EAST),
        input(
            json!({"GlobalTableName": "t", "ReplicaUpdates": [{"Delete": {"RegionName": OHIO}}]}),
        ),
    );
    assert_eq!(gone.unwrap_err().aws_type(), "ReplicaNotFoundException");
    // A table that is not empty cannot join.
    create(&e, OHIO, stream);
    put(&e, OHIO, "q", 1);
    let full = e.update_global_table(
        &ns(EAST),
        input(
            json!({"GlobalTableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": OHIO}}]}),
        ),
    );
    assert_eq!(full.unwrap_err().aws_type(), "ValidationException");
    let out = e
        .update_global_table(
            &ns(EAST),
            input(json!({"GlobalTableName": "t", "ReplicaUpdates": [{"Delete": {"RegionName": WEST}}]})),
        )
        .unwrap();
    assert_eq!(out.global_table_description.replication_group.len(), 1);
    assert!(describe(&e, WEST).get("Replicas").is_none());
}

#[test]
fn legacy_settings_are_stored_and_described_per_replica() {
    let (e, _) = engine();
    let spec = json!({"StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                      "BillingMode": "PROVISIONED",
                      "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}});
    create(&e, EAST, spec.clone());
    create(&e, WEST, spec);
    e.create_global_table(
        &ns(EAST),
        input(json!({"GlobalTableName": "t", "ReplicationGroup": [{"RegionName": EAST}, {"RegionName": WEST}]})),
    )
    .unwrap();
    let out = e
        .update_global_table_settings(
            &ns(EAST),
            input(json!({
                "GlobalTableName": "t",
                "GlobalTableProvisionedWriteCapacityUnits": 9,
                "ReplicaSettingsUpdate": [{"RegionName": WEST, "ReplicaProvisionedReadCapacityUnits": 7}]
            })),
        )
        .unwrap();
    let v = serde_json::to_value(out).unwrap();
    assert_eq!(v["ReplicaSettings"][0]["RegionName"], EAST);
    assert_eq!(
        v["ReplicaSettings"][0]["ReplicaProvisionedWriteCapacityUnits"],
        9
    );
    assert_eq!(
        v["ReplicaSettings"][0]["ReplicaProvisionedReadCapacityUnits"],
        5
    );
    assert_eq!(
        v["ReplicaSettings"][1]["ReplicaProvisionedReadCapacityUnits"],
        7
    );
    assert_eq!(
        describe(&e, WEST)["ProvisionedThroughput"]["WriteCapacityUnits"],
        9
    );
    let bad = e.update_global_table_settings(
        &ns(EAST),
        input(json!({"GlobalTableName": "t", "ReplicaSettingsUpdate": [{"RegionName": OHIO, "ReplicaProvisionedReadCapacityUnits": 7}]})),
    );
    assert_eq!(bad.unwrap_err().aws_type(), "ReplicaNotFoundException");
    let bad = e.update_global_table_settings(
        &ns(EAST),
        input(json!({"GlobalTableName": "t", "GlobalTableGlobalSecondaryIndexSettingsUpdate": [{"IndexName": "nope", "ProvisionedWriteCapacityUnits": 3}]})),
    );
    assert_eq!(bad.unwrap_err().aws_type(), "IndexNotFoundException");
    let bad = e.update_global_table_settings(
        &ns(EAST),
        input(json!({"GlobalTableName": "t", "GlobalTableBillingMode": "PAY_PER_REQUEST", "GlobalTableProvisionedWriteCapacityUnits": 3})),
    );
    assert_eq!(bad.unwrap_err().aws_type(), "ValidationException");
    let settings = e
        .describe_global_table_settings(&ns(WEST), input(json!({"GlobalTableName": "t"})))
        .unwrap();
    assert_eq!(settings.replica_settings.len(), 2);
}
