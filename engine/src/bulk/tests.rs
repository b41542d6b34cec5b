//! Bulk operations driven by a manual clock over a temporary S3 directory.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::clock::{ManualClock, Timestamp};

fn setup(name: &str) -> (Engine, Namespace, ManualClock, S3Dir) {
    let root = std::env::temp_dir().join(format!("ddb-bulk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let clock = ManualClock::new(Timestamp(1_700_000_000_000));
    let engine = Engine::builder()
        .clock(Arc::new(clock.clone()))
        .s3_dir(&root)
        .seed(1)
        .build()
        .expect("engine");
    let ns = Namespace::default();
    engine
        .create_table(
            &ns,
            serde_json::from_value(json!({
                "TableName": "t",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"
            }))
            .expect("input"),
        )
        .expect("table");
    (engine, ns, clock, S3Dir::new(root))
}

fn lines(range: std::ops::Range<u32>) -> String {
    range
        .map(|i| format!("{{\"Item\":{{\"id\":{{\"N\":\"{i}\"}},\"v\":{{\"S\":\"x{i}\"}}}}}}\n"))
        .collect()
}

fn start(
    engine: &Engine,
    ns: &Namespace,
    token: Option<&str>,
    rate: Option<i64>,
) -> Result<BulkOperationDescription> {
    let mut body = json!({
        "TableName": "t",
        "InputS3Configuration": {"S3Bucket": "in", "S3KeyPrefix": "data/", "InputFormat": "DYNAMODB_JSON"},
        "OutputS3Configuration": {"S3Bucket": "out", "S3KeyPrefix": "errs", "OutputType": ["ERROR"]}
    });
    if let Some(t) = token {
        body["ClientToken"] = json!(t);
    }
    if let Some(r) = rate {
        body["MaxWriteRequestUnits"] = json!(r);
    }
    engine
        .start_bulk_put_items(ns, serde_json::from_value(body).expect("input"))
        .map(|o| o.bulk_operation_description)
}

fn describe(engine: &Engine, ns: &Namespace, arn: &str) -> BulkOperationDescription {
    engine
        .describe_bulk_operation(
            ns,
            BulkOperationArnInput {
                bulk_operation_arn: arn.into(),
            },
        )
        .expect("describe")
        .bulk_operation_description
}

fn count(engine: &Engine, ns: &Namespace) -> u64 {
    engine
        .describe_table(
            ns,
            serde_json::from_value(json!({"TableName": "t"})).expect("in"),
        )
        .expect("describe")
        .table
        .item_count
}

#[test]
fn progress_follows_the_clock_and_failures_are_counted_and_written() {
    let (e, ns, clock, s3) = setup("progress");
    s3.put("in", "data/a.json", lines(0..1500).as_bytes())
        .expect("put");
    let desc = start(&e, &ns, None, Some(1024)).expect("start");
    assert_eq!(desc.bulk_operation_status, "IN_PROGRESS");
    assert_eq!(
        describe(&e, &ns, &desc.bulk_operation_arn).processed_item_count,
        0
    );
    clock.advance(Duration::from_secs(1));
    let d = describe(&e, &ns, &desc.bulk_operation_arn);
    assert_eq!(d.processed_item_count, 1024);
    assert_eq!(count(&e, &ns), 1024);
    clock.advance(Duration::from_secs(10));
    let d = describe(&e, &ns, &desc.bulk_operation_arn);
    assert_eq!(d.bulk_operation_status, "COMPLETED");
    assert_eq!(d.processed_item_count, 1500);
    assert!(d.end_time.is_some());
}

#[test]
fn gzip_input_with_bad_records_completes_with_errors() {
    let (e, ns, clock, s3) = setup("gzip");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut gz,
        format!(
            "{}not json\n{{\"Item\":{{\"v\":{{\"S\":\"no key\"}}}}}}\n",
            lines(0..100)
        )
        .as_bytes(),
    )
    .expect("gz");
    s3.put("in", "data/b.json.gz", &gz.finish().expect("gz"))
        .expect("put");
    let body = json!({
        "TableName": "t",
        "InputS3Configuration": {"S3Bucket": "in", "S3KeyPrefix": "data/", "InputFormat": "DYNAMODB_JSON", "InputCompressionType": "GZIP"},
        "OutputS3Configuration": {"S3Bucket": "out", "S3KeyPrefix": "errs", "OutputType": ["ERROR"]}
    });
    let arn = e
        .start_bulk_put_items(&ns, serde_json::from_value(body).expect("in"))
        .expect("start")
        .bulk_operation_description
        .bulk_operation_arn;
    clock.advance(Duration::from_secs(1));
    let d = describe(&e, &ns, &arn);
    assert_eq!(d.bulk_operation_status, "COMPLETED_WITH_ERRORS");
    assert_eq!((d.processed_item_count, d.failed_item_count), (102, 2));
    assert_eq!(count(&e, &ns), 100);
    let id = arn.rsplit('/').next().expect("id");
    let errors = String::from_utf8(
        s3.get("out", &format!("errs/{id}/errors.json"))
            .expect("errors"),
    )
    .expect("utf8");
    assert_eq!(errors.lines().count(), 2);
    assert!(errors.contains("\"record\":102"));
}

#[test]
fn tokens_are_idempotent_for_eight_hours_and_cancel_keeps_written_items() {
    let (e, ns, clock, s3) = setup("tokens");
    s3.put("in", "data/a.json", lines(0..5000).as_bytes())
        .expect("put");
    let a = start(&e, &ns, Some("tok"), Some(1024)).expect("start");
    let again = start(&e, &ns, Some("tok"), Some(1024)).expect("same");
    assert_eq!(a.bulk_operation_arn, again.bulk_operation_arn);
    assert!(matches!(
        start(&e, &ns, Some("tok"), Some(2048)),
        Err(Error::IdempotentParameterMismatch(_))
    ));
    clock.advance(Duration::from_secs(2));
    let c = e
        .cancel_bulk_operation(
            &ns,
            BulkOperationArnInput {
                bulk_operation_arn: a.bulk_operation_arn.clone(),
            },
        )
        .expect("cancel");
    assert_eq!(c.bulk_operation_status, "CANCELLING");
    clock.advance(Duration::from_secs(60));
    let d = describe(&e, &ns, &a.bulk_operation_arn);
    assert_eq!(d.bulk_operation_status, "CANCELLED");
    assert_eq!(d.processed_item_count, 2048);
    assert_eq!(count(&e, &ns), 2048);
    clock.advance(Duration::from_secs(8 * 3600));
    let b = start(&e, &ns, Some("tok"), Some(2048)).expect("token expired");
    assert_ne!(b.bulk_operation_arn, a.bulk_operation_arn);
    let list = e
        .list_bulk_operations(
            &ns,
            ListBulkOperationsInput {
                max_results: Some(1),
                next_token: None,
            },
        )
        .expect("list");
    assert_eq!(
        list.bulk_operations_summary_list[0].bulk_operation_arn,
        b.bulk_operation_arn
    );
    let next = list.next_token.expect("more");
    let list = e
        .list_bulk_operations(
            &ns,
            ListBulkOperationsInput {
                max_results: Some(1),
                next_token: Some(next),
            },
        )
        .expect("page 2");
    assert_eq!(
        list.bulk_operations_summary_list[0].bulk_operation_arn,
        a.bulk_operation_arn
    );
    assert!(list.next_token.is_none());
}

#[test]
fn unsupported_formats_and_unknown_operations_are_rejected() {
    let (e, ns, _clock, _s3) = setup("reject");
    let body = json!({
        "TableName": "t",
        "InputS3Configuration": {"S3Bucket": "in", "InputFormat": "ION", "InputCompressionType": "ZSTD"},
        "OutputS3Configuration": {"S3Bucket": "out", "OutputType": ["ERROR"]}
    });
    let err = e
        .start_bulk_put_items(&ns, serde_json::from_value(body).expect("in"))
        .expect_err("ion");
    assert!(err.to_string().contains("ZSTD is not supported"));
    let err = e
        .describe_bulk_operation(
            &ns,
            BulkOperationArnInput {
                bulk_operation_arn:
                    "arn:aws:dynamodb:us-east-1:000000000000:table/t/bulk-operation/x".into(),
            },
        )
        .expect_err("unknown");
    assert_eq!(err.aws_type(), "ResourceNotFoundException");
    let d = start(&e, &ns, None, None).expect("start");
    assert_eq!(
        d.bulk_operation_status, "FAILED",
        "the input bucket does not exist"
    );
}

#[test]
fn ion_records_are_put_and_bad_ones_counted() {
    let (e, ns, clock, s3) = setup("ion");
    s3.put(
        "in",
        "ion/part.ion",
        b"$ion_1_0 {Item:{id:1,name:\"one\",tags:$dynamodb_SS::[\"a\"]}}\n{Item:{id:2.,when:2020-01-01T}}\n{Item:{id:3}}",
    )
    .expect("put");
    let body = json!({
        "TableName": "t",
        "InputS3Configuration": {"S3Bucket": "in", "S3KeyPrefix": "ion/", "InputFormat": "ION"},
        "OutputS3Configuration": {"S3Bucket": "out", "OutputType": ["ERROR"]}
    });
    let arn = e
        .start_bulk_put_items(&ns, serde_json::from_value(body).expect("in"))
        .expect("start")
        .bulk_operation_description
        .bulk_operation_arn;
    clock.advance(Duration::from_secs(1));
    let d = describe(&e, &ns, &arn);
    assert_eq!(d.bulk_operation_status, "COMPLETED_WITH_ERRORS");
    assert_eq!((d.processed_item_count, d.failed_item_count), (3, 1));
    assert_eq!(count(&e, &ns), 2);
}

#[test]
fn a_deleted_table_fails_the_operation() {
    let (e, ns, clock, s3) = setup("deleted");
    s3.put("in", "data/a.json", lines(0..10).as_bytes())
        .expect("put");
    let d = start(&e, &ns, None, None).expect("start");
    e.delete_table(
        &ns,
        serde_json::from_value(json!({"TableName": "t"})).expect("in"),
    )
    .expect("delete");
    clock.advance(Duration::from_secs(1));
    let d = describe(&e, &ns, &d.bulk_operation_arn);
    assert_eq!(d.bulk_operation_status, "FAILED");
    assert_eq!(d.failure_code.as_deref(), Some("TableNotFound"));
}
