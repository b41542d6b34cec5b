//! The system backup AWS keeps of a deleted PITR table, and warm throughput, through the
//! official Rust SDK (aws-sdk-dynamodb) against a fixture whose clock the test moves: the
//! backup is listed, described, refused to DeleteBackup, restorable, and gone 35 days later;
//! DescribeTable reports warm throughput for tables and GSIs, which only rises.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, BackupTypeFilter, BillingMode, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, PointInTimeRecoverySpecification, Projection, ProjectionType,
    ProvisionedThroughput, TableStatus, UpdateGlobalSecondaryIndexAction, WarmThroughput,
};
use ddb_harness::Fixture;
use ddb_tests::{attr_s, hash_key};

async fn fixture() -> Fixture {
    Fixture::builder()
        .clock("2026-01-01T00:00:00Z")
        .seed(5)
        .build()
        .await
        .expect("fixture")
}

fn gsi(throughput: Option<ProvisionedThroughput>) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name("by_team")
        .key_schema(hash_key("team"))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .set_provisioned_throughput(throughput)
        .build()
        .unwrap()
}

async fn create_on_demand(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr_s("id"))
        .attribute_definitions(attr_s("team"))
        .key_schema(hash_key("id"))
        .global_secondary_indexes(gsi(None))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

/// The (read, write) warm throughput DescribeTable reports for the table's first GSI.
async fn index_warm(client: &Client, table: &str) -> (Option<i64>, Option<i64>) {
    let table = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let index = table.global_secondary_indexes()[0]
        .warm_throughput()
        .unwrap();
    (
        index.read_units_per_second(),
        index.write_units_per_second(),
    )
}

async fn ids(client: &Client, table: &str) -> Vec<String> {
    let mut out: Vec<String> = client
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|i| i.get("id").and_then(|v| v.as_s().ok()).cloned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_deleted_pitr_table_leaves_a_system_backup_for_35_days() {
    let f = fixture().await;
    let c = f.client();
    create_on_demand(c, "accounts").await;
    c.update_continuous_backups()
        .table_name("accounts")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    for (id, team) in [("a1", "red"), ("a2", "blue")] {
        c.put_item()
            .table_name("accounts")
            .item("id", AttributeValue::S(id.into()))
            .item("team", AttributeValue::S(team.into()))
            .send()
            .await
            .unwrap();
    }
    c.delete_table()
        .table_name("accounts")
        .send()
        .await
        .unwrap();

    let users = c.list_backups().send().await.unwrap();
    assert!(users.backup_summaries().is_empty(), "USER is the default");
    let system = c
        .list_backups()
        .table_name("accounts")
        .backup_type(BackupTypeFilter::System)
        .send()
        .await
        .unwrap();
    let [summary] = system.backup_summaries() else {
        panic!("one system backup: {system:?}");
    };
    assert_eq!(summary.backup_name(), Some("accounts$DeletedTableBackup"));
    assert_eq!(summary.backup_type().map(|t| t.as_str()), Some("SYSTEM"));
    let created = summary.backup_creation_date_time().unwrap().secs();
    let expires = summary.backup_expiry_date_time().unwrap().secs();
    assert_eq!(expires - created, 35 * 86_400);
    let arn = summary.backup_arn().unwrap().to_string();
    assert!(arn.ends_with("-00000000"), "{arn}");

    let err = c
        .delete_backup()
        .backup_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let message = err.meta().message().unwrap_or_default().to_string();
    assert_eq!(err.meta().code(), Some("ValidationException"));
    assert_eq!(
        message,
        format!(
            "Invalid Request: User is not allowed to delete the system backup with arn {arn}. It will automatically expire on 2026-02-05T00:00:00.000Z"
        )
    );

    let restored = c
        .restore_table_from_backup()
        .target_table_name("accounts")
        .backup_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        restored.table_description().unwrap().table_status(),
        Some(&TableStatus::Creating)
    );
    assert_eq!(ids(c, "accounts").await, ["a1", "a2"]);
    let by_team = c
        .query()
        .table_name("accounts")
        .index_name("by_team")
        .key_condition_expression("team = :t")
        .expression_attribute_values(":t", AttributeValue::S("red".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(by_team.count(), 1);

    // 35 days by the engine clock, and the backup is gone.
    f.advance(Duration::from_secs(35 * 86_400)).unwrap();
    let err = c
        .describe_backup()
        .backup_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_backup_not_found_exception(), "{err:?}");
    let all = c
        .list_backups()
        .backup_type(BackupTypeFilter::All)
        .send()
        .await
        .unwrap();
    assert!(all.backup_summaries().is_empty());
}

#[tokio::test]
async fn warm_throughput_is_described_for_tables_and_indexes_and_only_rises() {
    let f = fixture().await;
    let c = f.client();
    let capacity = |r, w| {
        ProvisionedThroughput::builder()
            .read_capacity_units(r)
            .write_capacity_units(w)
            .build()
            .unwrap()
    };
    let created = c
        .create_table()
        .table_name("metrics")
        .attribute_definitions(attr_s("id"))
        .attribute_definitions(attr_s("team"))
        .key_schema(hash_key("id"))
        .global_secondary_indexes(gsi(Some(capacity(2, 2))))
        .provisioned_throughput(capacity(5, 5))
        .warm_throughput(
            WarmThroughput::builder()
                .read_units_per_second(1000)
                .write_units_per_second(1200)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let warm = created
        .table_description()
        .unwrap()
        .warm_throughput()
        .unwrap();
    assert_eq!(warm.status().map(|s| s.as_str()), Some("UPDATING"));

    let table = c
        .describe_table()
        .table_name("metrics")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let warm = table.warm_throughput().unwrap();
    assert_eq!(
        (warm.read_units_per_second(), warm.write_units_per_second()),
        (Some(1000), Some(1200))
    );
    assert_eq!(warm.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(index_warm(c, "metrics").await, (Some(2), Some(2)));

    // Raising the index's capacity raises its warm throughput; lowering it does not.
    for (r, w) in [(8, 8), (1, 1)] {
        c.update_table()
            .table_name("metrics")
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .update(
                        UpdateGlobalSecondaryIndexAction::builder()
                            .index_name("by_team")
                            .provisioned_throughput(capacity(r, w))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    assert_eq!(index_warm(c, "metrics").await, (Some(8), Some(8)));

    let err = c
        .update_table()
        .table_name("metrics")
        .warm_throughput(WarmThroughput::builder().write_units_per_second(10).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        err.meta().message(),
        Some(
            "One or more parameter values were invalid: Requested WriteUnitsPerSecond for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
        )
    );
}
