//! Time to Live, tagging, DescribeLimits and DescribeEndpoints end to end through
//! aws-sdk-dynamodb over real HTTP.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{Tag, TimeToLiveSpecification, TimeToLiveStatus};
use ddb_tests::{create_id_table, start};

/// Creates table `name` (hash key `id`, S) and returns its ARN.
async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> String {
    create_id_table(client, name).await
}

fn spec(enabled: bool, attr: &str) -> TimeToLiveSpecification {
    TimeToLiveSpecification::builder()
        .enabled(enabled)
        .attribute_name(attr)
        .build()
        .unwrap()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

#[tokio::test]
async fn time_to_live_round_trips_through_the_sdk() {
    let t = start().await;
    create_table(&t.client, "ttl_sdk").await;
    let before = t
        .client
        .describe_time_to_live()
        .table_name("ttl_sdk")
        .send()
        .await
        .unwrap();
    let d = before.time_to_live_description().unwrap();
    assert_eq!(d.time_to_live_status(), Some(&TimeToLiveStatus::Disabled));
    assert_eq!(d.attribute_name(), None);

    let out = t
        .client
        .update_time_to_live()
        .table_name("ttl_sdk")
        .time_to_live_specification(spec(true, "expires"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.time_to_live_specification(),
        Some(&spec(true, "expires"))
    );

    let after = t
        .client
        .describe_time_to_live()
        .table_name("ttl_sdk")
        .send()
        .await
        .unwrap();
    let d = after.time_to_live_description().unwrap();
    assert_eq!(d.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(d.attribute_name(), Some("expires"));

    let err = t
        .client
        .update_time_to_live()
        .table_name("ttl_sdk")
        .time_to_live_specification(spec(true, "expires"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(err.message(), Some("TimeToLive is already enabled"));

    let err = t
        .client
        .describe_time_to_live()
        .table_name("missing_table")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        err.message(),
        Some("Requested resource not found: Table: missing_table not found")
    );
}

#[tokio::test]
async fn tags_round_trip_through_the_sdk() {
    let t = start().await;
    let arn = create_table(&t.client, "tags_sdk").await;
    t.client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("team", "storage"))
        .tags(tag("env", "test"))
        .send()
        .await
        .unwrap();
    t.client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let out = t
        .client
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.tags(), &[tag("team", "storage")]);
    assert_eq!(out.next_token(), None);
}

#[tokio::test]
async fn tagging_errors_reach_the_sdk_with_aws_types() {
    let t = start().await;
    let arn = create_table(&t.client, "tags_err").await;

    let err = t
        .client
        .list_tags_of_resource()
        .resource_arn("abcd")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    let message = err.message().unwrap_or_default();
    assert!(
        message.starts_with("User: arn:aws:iam::")
            && message.ends_with(
                ":root is not authorized to perform: dynamodb:ListTagsOfResource on resource: abcd"
            ),
        "{message}"
    );

    let err = t
        .client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("aws:reserved", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Tag Key cannot be prefixed with aws:, Key: aws:reserved")
    );

    let missing = arn.replace("tags_err", "tags_missing");
    let err = t
        .client
        .list_tags_of_resource()
        .resource_arn(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        err.message(),
        Some(format!("Requested resource not found: ResourcArn: {missing} not found").as_str())
    );
}

#[tokio::test]
async fn describe_limits_and_endpoints_through_the_sdk() {
    let t = start().await;
    let limits = t.client.describe_limits().send().await.unwrap();
    assert_eq!(limits.account_max_read_capacity_units(), Some(80_000));
    assert_eq!(limits.account_max_write_capacity_units(), Some(80_000));
    assert_eq!(limits.table_max_read_capacity_units(), Some(40_000));
    assert_eq!(limits.table_max_write_capacity_units(), Some(40_000));

    let endpoints = t.client.describe_endpoints().send().await.unwrap();
    let e = &endpoints.endpoints()[0];
    assert_eq!(e.address(), "dynamodb.us-east-1.amazonaws.com");
    assert_eq!(e.cache_period_in_minutes(), 1440);
}
