//! Global tables through the official Rust SDK (aws-sdk-dynamodb and aws-sdk-dynamodbstreams):
//! two clients signing for two regions of one fixture, a replica made with UpdateTable's
//! `ReplicaUpdates`, writes replicating after the fixture's replication lag as its clock moves,
//! and the version 2017.11.29 operations.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, CreateReplicationGroupMemberAction, DeleteReplicationGroupMemberAction,
    ReplicaStatus, ReplicationGroupUpdate, StreamViewType,
};
use ddb_harness::Fixture;
use ddb_tests::{create_id_table, create_id_table_with, stream_records};

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

async fn fixture(lag: Duration) -> Fixture {
    Fixture::builder()
        .clock("2026-03-01T00:00:00Z")
        .seed(5)
        .replication_lag(lag)
        .build()
        .await
        .expect("fixture")
}

async fn add_replica(client: &Client, table: &str, region: &str) {
    client
        .update_table()
        .table_name(table)
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .create(
                    CreateReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("add replica");
}

async fn put(client: &Client, table: &str, id: &str, v: &str) {
    client
        .put_item()
        .table_name(table)
        .item("id", AttributeValue::S(id.into()))
        .item("v", AttributeValue::S(v.into()))
        .send()
        .await
        .expect("put");
}

async fn get(client: &Client, table: &str, id: &str) -> Option<String> {
    let out = client
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(id.into()))
        .send()
        .await
        .expect("get");
    out.item?.get("v")?.as_s().ok().cloned()
}

/// Every record of the table's current stream in `region`: (event name, key id, new `v`,
/// record region).
async fn stream_events(
    fixture: &Fixture,
    region: &str,
    client: &Client,
    table: &str,
) -> Vec<(String, String, Option<String>, String)> {
    let streams = fixture.streams_client_in(region);
    let arn = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .latest_stream_arn
        .expect("the replica has a stream");
    stream_records(&streams, &arn)
        .await
        .iter()
        .map(|r| {
            let d = r.dynamodb().unwrap();
            let id = d.keys().unwrap()["id"].as_s().unwrap().clone();
            let v = d
                .new_image()
                .and_then(|i| i.get("v"))
                .and_then(|v| v.as_s().ok().cloned());
            (
                r.event_name().unwrap().as_str().to_string(),
                id,
                v,
                r.aws_region().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_write_in_one_region_appears_in_the_replica_table_and_stream() {
    let f = fixture(Duration::from_secs(1)).await;
    let east = f.client_in(EAST);
    let west = f.client_in(WEST);
    create_id_table(&east, "orders").await;
    put(&east, "orders", "before", "0").await;
    add_replica(&east, "orders", WEST).await;

    // The replica is a real table in the other region, filled from the source.
    let table = west
        .describe_table()
        .table_name("orders")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(table.global_table_version(), Some("2019.11.21"));
    assert_eq!(table.replicas().len(), 1);
    assert_eq!(table.replicas()[0].region_name(), Some(EAST));
    assert_eq!(
        table.replicas()[0].replica_status(),
        Some(&ReplicaStatus::Active)
    );
    assert_eq!(get(&west, "orders", "before").await.as_deref(), Some("0"));

    // A write in us-east-1 reaches eu-west-1 once the lag has passed.
    put(&east, "orders", "o1", "1").await;
    assert_eq!(get(&west, "orders", "o1").await, None);
    f.advance(Duration::from_millis(500)).unwrap();
    assert_eq!(get(&west, "orders", "o1").await, None);
    f.advance(Duration::from_millis(500)).unwrap();
    assert_eq!(get(&west, "orders", "o1").await.as_deref(), Some("1"));

    // The replica's stream has the replicated write, in its own region.
    let events = stream_events(&f, WEST, &west, "orders").await;
    assert_eq!(
        events,
        vec![(
            "INSERT".to_string(),
            "o1".to_string(),
            Some("1".to_string()),
            WEST.to_string()
        )]
    );

    // And the other way: a write in eu-west-1 reaches us-east-1, without coming back.
    put(&west, "orders", "o2", "2").await;
    assert_eq!(f.replicate().unwrap(), 1);
    assert_eq!(get(&east, "orders", "o2").await.as_deref(), Some("2"));
    assert_eq!(f.replicate().unwrap(), 0);
}

#[tokio::test]
async fn concurrent_writes_converge_on_the_last_writer() {
    let f = fixture(Duration::from_secs(5)).await;
    let east = f.client_in(EAST);
    let west = f.client_in(WEST);
    create_id_table(&east, "tbl").await;
    add_replica(&east, "tbl", WEST).await;
    put(&west, "tbl", "k", "west-first").await;
    f.advance(Duration::from_secs(1)).unwrap();
    put(&east, "tbl", "k", "east-later").await;
    f.advance(Duration::from_secs(10)).unwrap();
    assert_eq!(get(&east, "tbl", "k").await.as_deref(), Some("east-later"));
    assert_eq!(get(&west, "tbl", "k").await.as_deref(), Some("east-later"));
}

#[tokio::test]
async fn replica_errors_are_aws_errors() {
    let f = fixture(Duration::ZERO).await;
    let east = f.client_in(EAST);
    create_id_table(&east, "tbl").await;
    let err = east
        .update_table()
        .table_name("tbl")
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .delete(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name(WEST)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert_eq!(service.meta().code(), Some("ValidationException"));
    assert!(
        service
            .meta()
            .message()
            .unwrap_or_default()
            .contains("were not part of the global table"),
        "{service:?}"
    );
    let err = east
        .describe_global_table()
        .global_table_name("tbl")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error()
            .is_global_table_not_found_exception()
    );
}

#[tokio::test]
async fn version_2017_global_tables_replicate_through_the_same_core() {
    let f = fixture(Duration::ZERO).await;
    let east = f.client_in(EAST);
    let west = f.client_in(WEST);
    create_id_table_with(&east, "legacy", Some(StreamViewType::NewAndOldImages)).await;
    create_id_table_with(&west, "legacy", Some(StreamViewType::NewAndOldImages)).await;
    let out = east
        .create_global_table()
        .global_table_name("legacy")
        .replication_group(
            aws_sdk_dynamodb::types::Replica::builder()
                .region_name(EAST)
                .build(),
        )
        .replication_group(
            aws_sdk_dynamodb::types::Replica::builder()
                .region_name(WEST)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let desc = out.global_table_description.unwrap();
    assert_eq!(desc.replication_group().len(), 2);
    let listed = west.list_global_tables().send().await.unwrap();
    assert_eq!(listed.global_tables().len(), 1);
    put(&west, "legacy", "x", "1").await;
    f.advance(Duration::from_millis(1)).unwrap();
    assert_eq!(get(&east, "legacy", "x").await.as_deref(), Some("1"));
    let settings = east
        .describe_global_table_settings()
        .global_table_name("legacy")
        .send()
        .await
        .unwrap();
    assert_eq!(settings.replica_settings().len(), 2);
}
