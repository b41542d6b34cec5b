//! Backups, point-in-time recovery, resource policies and Contributor Insights through the
//! official Rust SDK (aws-sdk-dynamodb), against a fixture whose clock the test moves.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::DateTime;
use aws_sdk_dynamodb::types::{
    AttributeValue, BackupStatus, BillingMode, ContinuousBackupsStatus, ContributorInsightsAction,
    ContributorInsightsStatus, GlobalSecondaryIndex, PointInTimeRecoverySpecification,
    PointInTimeRecoveryStatus, Projection, ProjectionType,
};
use ddb_engine::Clock;
use ddb_harness::Fixture;
use ddb_tests::{attr_s, hash_key};

async fn fixture() -> Fixture {
    Fixture::builder()
        .clock("2026-01-01T00:00:00Z")
        .seed(11)
        .build()
        .await
        .expect("fixture")
}

async fn create(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr_s("id"))
        .attribute_definitions(attr_s("team"))
        .key_schema(hash_key("id"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_team")
                .key_schema(hash_key("team"))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

async fn put(client: &Client, table: &str, id: &str, v: &str) {
    client
        .put_item()
        .table_name(table)
        .item("id", AttributeValue::S(id.into()))
        .item("team", AttributeValue::S("red".into()))
        .item("v", AttributeValue::S(v.into()))
        .send()
        .await
        .unwrap();
}

async fn delete(client: &Client, table: &str, id: &str) {
    client
        .delete_item()
        .table_name(table)
        .key("id", AttributeValue::S(id.into()))
        .send()
        .await
        .unwrap();
}

/// id → v of every item, read back with Scan.
async fn contents(client: &Client, table: &str) -> BTreeMap<String, String> {
    let out = client.scan().table_name(table).send().await.unwrap();
    out.items()
        .iter()
        .map(|i| {
            let s = |k: &str| {
                i.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            (s("id"), s("v"))
        })
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn restoring_a_backup_brings_back_the_old_items() {
    let f = fixture().await;
    let c = f.client();
    create(c, "orders").await;
    put(c, "orders", "a", "old").await;
    put(c, "orders", "b", "old").await;
    let created = c
        .create_backup()
        .table_name("orders")
        .backup_name("nightly")
        .send()
        .await
        .unwrap();
    let details = created.backup_details().unwrap();
    assert_eq!(details.backup_status(), &BackupStatus::Creating);
    let arn = details.backup_arn().to_string();

    f.advance(Duration::from_secs(60)).unwrap();
    put(c, "orders", "a", "new").await;
    delete(c, "orders", "b").await;
    put(c, "orders", "c", "new").await;

    let restored = c
        .restore_table_from_backup()
        .backup_arn(&arn)
        .target_table_name("orders_restored")
        .send()
        .await
        .unwrap();
    let desc = restored.table_description().unwrap();
    let summary = desc.restore_summary().unwrap();
    assert_eq!(summary.source_backup_arn(), Some(arn.as_str()));
    assert!(summary.restore_in_progress());
    assert_eq!(
        contents(c, "orders_restored").await,
        map(&[("a", "old"), ("b", "old")])
    );
    // The GSI came along, filled from the restored items.
    let by_team = c
        .query()
        .table_name("orders_restored")
        .index_name("by_team")
        .key_condition_expression("team = :t")
        .expression_attribute_values(":t", AttributeValue::S("red".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(by_team.count(), 2);

    let described = c.describe_backup().backup_arn(&arn).send().await.unwrap();
    let d = described.backup_description().unwrap();
    assert_eq!(
        d.backup_details().unwrap().backup_status(),
        &BackupStatus::Available
    );
    assert_eq!(d.source_table_details().unwrap().item_count(), Some(2));

    let listed = c.list_backups().table_name("orders").send().await.unwrap();
    assert_eq!(listed.backup_summaries().len(), 1);

    // Restoring onto an existing table is refused with AWS's error.
    let err = c
        .restore_table_from_backup()
        .backup_arn(&arn)
        .target_table_name("orders")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_table_already_exists_exception(), "{err:?}");

    c.delete_backup().backup_arn(&arn).send().await.unwrap();
    let err = c
        .describe_backup()
        .backup_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_backup_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn point_in_time_restore_sees_the_middle_state() {
    let f = fixture().await;
    let c = f.client();
    create(c, "events").await;
    let err = c
        .restore_table_to_point_in_time()
        .source_table_name("events")
        .target_table_name("never")
        .use_latest_restorable_time(true)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_point_in_time_recovery_unavailable_exception(),
        "{err:?}"
    );

    let on = c
        .update_continuous_backups()
        .table_name("events")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let desc = on.continuous_backups_description().unwrap();
    assert_eq!(
        desc.continuous_backups_status(),
        &ContinuousBackupsStatus::Enabled
    );
    let pitr = desc.point_in_time_recovery_description().unwrap();
    assert_eq!(
        pitr.point_in_time_recovery_status(),
        Some(&PointInTimeRecoveryStatus::Enabled)
    );
    assert_eq!(pitr.recovery_period_in_days(), Some(35));

    f.advance(Duration::from_secs(10)).unwrap();
    put(c, "events", "a", "first").await;
    put(c, "events", "b", "first").await;
    f.advance(Duration::from_secs(10)).unwrap();
    let middle = f.clock().unwrap().now();
    f.advance(Duration::from_secs(10)).unwrap();
    put(c, "events", "a", "second").await;
    delete(c, "events", "b").await;

    c.restore_table_to_point_in_time()
        .source_table_name("events")
        .target_table_name("events_middle")
        .restore_date_time(DateTime::from_millis(middle.0))
        .send()
        .await
        .unwrap();
    assert_eq!(
        contents(c, "events_middle").await,
        map(&[("a", "first"), ("b", "first")])
    );
    c.restore_table_to_point_in_time()
        .source_table_name("events")
        .target_table_name("events_latest")
        .use_latest_restorable_time(true)
        .send()
        .await
        .unwrap();
    assert_eq!(contents(c, "events_latest").await, map(&[("a", "second")]));

    let described = c
        .describe_continuous_backups()
        .table_name("events")
        .send()
        .await
        .unwrap();
    let pitr = described
        .continuous_backups_description()
        .unwrap()
        .point_in_time_recovery_description()
        .unwrap();
    let latest = pitr.latest_restorable_date_time().unwrap();
    let err = c
        .restore_table_to_point_in_time()
        .source_table_name("events")
        .target_table_name("events_future")
        .restore_date_time(DateTime::from_secs(latest.secs() + 3600))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_restore_time_exception(), "{err:?}");
}

#[tokio::test]
async fn resource_policies_are_stored_with_revisions() {
    let f = fixture().await;
    let c = f.client();
    create(c, "guarded").await;
    let arn = c
        .describe_table()
        .table_name("guarded")
        .send()
        .await
        .unwrap()
        .table()
        .unwrap()
        .table_arn()
        .unwrap()
        .to_string();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"dynamodb:GetItem","Resource":"*"}]}"#;
    let rev = c
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(policy)
        .send()
        .await
        .unwrap()
        .revision_id()
        .unwrap()
        .to_string();
    let got = c
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(policy));
    assert_eq!(got.revision_id(), Some(rev.as_str()));
    let err = c
        .put_resource_policy()
        .resource_arn(&arn)
        .policy("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("ValidationException"));
    let err = c
        .delete_resource_policy()
        .resource_arn(&arn)
        .expected_revision_id("123")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_policy_not_found_exception(), "{err:?}");
    c.delete_resource_policy()
        .resource_arn(&arn)
        .expected_revision_id(&rev)
        .send()
        .await
        .unwrap();
    let err = c
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_policy_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn contributor_insights_follow_updates() {
    let f = fixture().await;
    let c = f.client();
    create(c, "hot").await;
    let out = c
        .update_contributor_insights()
        .table_name("hot")
        .index_name("by_team")
        .contributor_insights_action(ContributorInsightsAction::Enable)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.contributor_insights_status(),
        Some(&ContributorInsightsStatus::Enabling)
    );
    let d = c
        .describe_contributor_insights()
        .table_name("hot")
        .index_name("by_team")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.contributor_insights_status(),
        Some(&ContributorInsightsStatus::Enabled)
    );
    assert!(!d.contributor_insights_rule_list().is_empty());
    let table = c
        .describe_contributor_insights()
        .table_name("hot")
        .send()
        .await
        .unwrap();
    assert_eq!(
        table.contributor_insights_status(),
        Some(&ContributorInsightsStatus::Disabled)
    );
    let listed = c.list_contributor_insights().send().await.unwrap();
    let summaries = listed.contributor_insights_summaries();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].index_name(), Some("by_team"));
}
