//! Export to S3 and import from S3 through the official Rust SDK (aws-sdk-dynamodb), against a
//! fixture whose clock the test moves and whose local S3 directory stands in for the bucket:
//! issue #11's "export a table and import the export into a new table with identical items",
//! and an incremental export's change records.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::{Blob, DateTime};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ExportFormat, ExportStatus, ExportType,
    ExportViewType, ImportStatus, IncrementalExportSpecification, InputCompressionType,
    InputFormat, KeySchemaElement, KeyType, PointInTimeRecoverySpecification, S3BucketSource,
    ScalarAttributeType, TableCreationParameters,
};
use ddb_engine::{Clock, Item};
use ddb_harness::Fixture;
use serde_json::{Value, json};

const BUCKET: &str = "exports";

async fn fixture() -> Fixture {
    Fixture::builder()
        .clock("2026-01-01T00:00:00Z")
        .seed(13)
        .build()
        .await
        .expect("fixture")
}

fn key_schema() -> (Vec<AttributeDefinition>, Vec<KeySchemaElement>) {
    let def = |name: &str, ty| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ty)
            .build()
            .unwrap()
    };
    let key = |name: &str, ty| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(ty)
            .build()
            .unwrap()
    };
    (
        vec![
            def("pk", ScalarAttributeType::S),
            def("sk", ScalarAttributeType::N),
        ],
        vec![key("pk", KeyType::Hash), key("sk", KeyType::Range)],
    )
}

async fn create_with_pitr(client: &Client, name: &str) {
    let (defs, keys) = key_schema();
    client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(defs))
        .set_key_schema(Some(keys))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create");
    client
        .update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("enable PITR");
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.into())
}

async fn put(client: &Client, table: &str, pk: &str, sk: &str, extra: &[(&str, AttributeValue)]) {
    let mut req = client
        .put_item()
        .table_name(table)
        .item("pk", s(pk))
        .item("sk", n(sk));
    for (k, v) in extra {
        req = req.item(*k, v.clone());
    }
    req.send().await.expect("put");
}

fn seconds(f: &Fixture) -> f64 {
    f.clock().expect("manual clock").now().as_epoch_seconds()
}

fn table_arn(f: &Fixture, table: &str) -> String {
    let ns = f.namespace();
    format!(
        "arn:aws:dynamodb:{}:{}:table/{table}",
        ns.region, ns.account
    )
}

/// Exports `table` (FULL at `at`, or now) and returns the export's id.
async fn export_full(f: &Fixture, table: &str, at: Option<f64>) -> String {
    let out = f
        .client()
        .export_table_to_point_in_time()
        .table_arn(table_arn(f, table))
        .s3_bucket(BUCKET)
        .s3_prefix("snapshots")
        .set_export_time(at.map(DateTime::from_secs_f64))
        .export_format(ExportFormat::DynamodbJson)
        .send()
        .await
        .expect("export");
    let desc = out.export_description().expect("description");
    assert_eq!(desc.export_status(), Some(&ExportStatus::InProgress));
    let arn = desc.export_arn().expect("arn").to_string();
    let done = f
        .client()
        .describe_export()
        .export_arn(&arn)
        .send()
        .await
        .expect("describe export");
    let done = done.export_description().expect("description");
    assert_eq!(done.export_status(), Some(&ExportStatus::Completed));
    assert!(
        done.export_manifest()
            .is_some_and(|m| m.ends_with("/manifest-summary.json"))
    );
    arn.rsplit('/').next().expect("export id").to_string()
}

/// Imports the data files of export `id` into the new table `target`; returns the item count.
async fn import_export(f: &Fixture, id: &str, target: &str) -> i64 {
    let (defs, keys) = key_schema();
    let out = f
        .client()
        .import_table()
        .s3_bucket_source(
            S3BucketSource::builder()
                .s3_bucket(BUCKET)
                .s3_key_prefix(format!("snapshots/AWSDynamoDB/{id}/data/"))
                .build()
                .unwrap(),
        )
        .input_format(InputFormat::DynamodbJson)
        .input_compression_type(InputCompressionType::Gzip)
        .table_creation_parameters(
            TableCreationParameters::builder()
                .table_name(target)
                .set_attribute_definitions(Some(defs))
                .set_key_schema(Some(keys))
                .billing_mode(BillingMode::PayPerRequest)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("import");
    let arn = out
        .import_table_description()
        .and_then(|d| d.import_arn())
        .expect("import arn")
        .to_string();
    let done = f
        .client()
        .describe_import()
        .import_arn(&arn)
        .send()
        .await
        .expect("describe import");
    let d = done.import_table_description().expect("description");
    assert_eq!(d.import_status(), Some(&ImportStatus::Completed));
    assert_eq!(d.error_count(), 0);
    assert_eq!(d.processed_item_count(), d.imported_item_count());
    d.imported_item_count()
}

fn items(f: &Fixture, table: &str) -> Vec<Item> {
    f.items(table).expect("items")
}

#[tokio::test]
async fn export_then_import_gives_a_table_with_identical_items() {
    let f = fixture().await;
    let client = f.client();
    std::fs::create_dir_all(
        f.engine()
            .s3_dir()
            .expect("s3 dir")
            .bucket_dir(BUCKET)
            .unwrap(),
    )
    .expect("bucket");
    create_with_pitr(client, "orders").await;
    for i in 0..40 {
        let extra = [
            ("title", s(&format!("order {i}"))),
            ("total", n(&format!("{i}.25"))),
            (
                "tags",
                AttributeValue::Ss(vec!["a".into(), format!("t{i}")]),
            ),
            ("raw", AttributeValue::B(Blob::new(vec![0, 1, i as u8]))),
            (
                "lines",
                AttributeValue::L(vec![AttributeValue::M(
                    [("sku".to_string(), s("x")), ("qty".to_string(), n("2"))].into(),
                )]),
            ),
            ("gift", AttributeValue::Bool(i % 2 == 0)),
            ("note", AttributeValue::Null(true)),
        ];
        put(
            client,
            "orders",
            &format!("c{}", i % 7),
            &i.to_string(),
            &extra,
        )
        .await;
    }
    f.advance(Duration::from_secs(60)).expect("advance");
    let middle = seconds(&f);
    let at_middle = items(&f, "orders");
    f.advance(Duration::from_secs(60)).expect("advance");
    put(client, "orders", "c1", "1", &[("title", s("changed"))]).await;
    client
        .delete_item()
        .table_name("orders")
        .key("pk", s("c2"))
        .key("sk", n("2"))
        .send()
        .await
        .expect("delete");
    put(client, "orders", "new", "100", &[]).await;

    // An export of now, imported into a new table: identical items.
    let id = export_full(&f, "orders", None).await;
    assert_eq!(import_export(&f, &id, "orders_copy").await, 40);
    assert_eq!(items(&f, "orders_copy"), items(&f, "orders"));

    // An export of the past (ExportTime) holds the items as they were then.
    let id = export_full(&f, "orders", Some(middle)).await;
    assert_eq!(import_export(&f, &id, "orders_then").await, 40);
    assert_eq!(items(&f, "orders_then"), at_middle);
    assert_ne!(at_middle, items(&f, "orders"));

    // Both exports and imports are listed, filtered by table.
    let exports = client
        .list_exports()
        .table_arn(table_arn(&f, "orders"))
        .send()
        .await
        .expect("list exports");
    assert_eq!(exports.export_summaries().len(), 2);
    let imports = client
        .list_imports()
        .page_size(1)
        .send()
        .await
        .expect("list imports");
    assert_eq!(imports.import_summary_list().len(), 1);
    let next = imports.next_token().expect("a second page").to_string();
    let rest = client
        .list_imports()
        .next_token(next)
        .send()
        .await
        .expect("second page");
    assert_eq!(
        (rest.import_summary_list().len(), rest.next_token()),
        (1, None)
    );

    // The target of an import must not exist.
    let (defs, keys) = key_schema();
    let err = client
        .import_table()
        .s3_bucket_source(S3BucketSource::builder().s3_bucket(BUCKET).build().unwrap())
        .input_format(InputFormat::DynamodbJson)
        .table_creation_parameters(
            TableCreationParameters::builder()
                .table_name("orders_copy")
                .set_attribute_definitions(Some(defs))
                .set_key_schema(Some(keys))
                .billing_mode(BillingMode::PayPerRequest)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect_err("table exists");
    assert!(err.into_service_error().is_resource_in_use_exception());
}

#[tokio::test]
async fn exports_need_point_in_time_recovery_and_a_time_in_its_window() {
    let f = fixture().await;
    let client = f.client();
    let (defs, keys) = key_schema();
    client
        .create_table()
        .table_name("plain")
        .set_attribute_definitions(Some(defs))
        .set_key_schema(Some(keys))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create");
    let err = client
        .export_table_to_point_in_time()
        .table_arn(table_arn(&f, "plain"))
        .s3_bucket(BUCKET)
        .send()
        .await
        .expect_err("no PITR");
    let err = err.into_service_error();
    assert!(err.is_point_in_time_recovery_unavailable_exception());
    assert_eq!(
        err.meta().message(),
        Some("Point in time recovery is not enabled for table 'plain'")
    );
    create_with_pitr(client, "tracked").await;
    let err = client
        .export_table_to_point_in_time()
        .table_arn(table_arn(&f, "tracked"))
        .s3_bucket(BUCKET)
        .export_time(DateTime::from_secs_f64(seconds(&f) - 3600.0))
        .send()
        .await
        .expect_err("before PITR was enabled");
    assert!(err.into_service_error().is_invalid_export_time_exception());
    let err = client
        .describe_export()
        .export_arn(format!(
            "{}/export/01767225600000-00000000",
            table_arn(&f, "tracked")
        ))
        .send()
        .await
        .expect_err("unknown export");
    assert!(err.into_service_error().is_export_not_found_exception());
}

#[tokio::test]
async fn incremental_export_writes_the_changes_of_its_period() {
    let f = fixture().await;
    let client = f.client();
    let s3 = f.engine().s3_dir().expect("s3 dir").clone();
    std::fs::create_dir_all(s3.bucket_dir(BUCKET).unwrap()).expect("bucket");
    create_with_pitr(client, "events").await;
    put(client, "events", "a", "1", &[("v", s("before"))]).await;
    put(client, "events", "b", "1", &[("v", s("doomed"))]).await;
    f.advance(Duration::from_secs(60)).expect("advance");
    let from = seconds(&f);
    let from_ms = f.clock().expect("clock").now().0;
    put(client, "events", "a", "1", &[("v", s("after"))]).await;
    client
        .delete_item()
        .table_name("events")
        .key("pk", s("b"))
        .key("sk", n("1"))
        .send()
        .await
        .expect("delete");
    put(client, "events", "c", "1", &[("v", s("born"))]).await;
    f.advance(Duration::from_secs(30 * 60)).expect("advance");
    let to = seconds(&f);
    put(client, "events", "late", "1", &[]).await; // After the period: not exported.
    f.advance(Duration::from_secs(1)).expect("advance");

    let mut lines_by_view = Vec::new();
    for view in [ExportViewType::NewAndOldImages, ExportViewType::NewImage] {
        let out = client
            .export_table_to_point_in_time()
            .table_arn(table_arn(&f, "events"))
            .s3_bucket(BUCKET)
            .export_type(ExportType::IncrementalExport)
            .incremental_export_specification(
                IncrementalExportSpecification::builder()
                    .export_from_time(DateTime::from_secs_f64(from))
                    .export_to_time(DateTime::from_secs_f64(to))
                    .export_view_type(view)
                    .build(),
            )
            .send()
            .await
            .expect("incremental export");
        let arn = out
            .export_description()
            .and_then(|d| d.export_arn())
            .expect("arn")
            .to_string();
        let desc = client
            .describe_export()
            .export_arn(&arn)
            .send()
            .await
            .expect("describe");
        let desc = desc.export_description().expect("description");
        assert_eq!(desc.export_type(), Some(&ExportType::IncrementalExport));
        assert_eq!(desc.item_count(), Some(3));
        let summary: Value = serde_json::from_slice(
            &s3.get(BUCKET, desc.export_manifest().expect("manifest"))
                .expect("summary"),
        )
        .expect("json");
        assert_eq!(summary["exportType"], "INCREMENTAL_EXPORT");
        let files = s3
            .get(BUCKET, summary["manifestFilesS3Key"].as_str().expect("key"))
            .expect("files");
        let file: Value = serde_json::from_slice(&files).expect("one file line");
        let data = s3
            .read_gzip(BUCKET, file["dataFileS3Key"].as_str().expect("data key"))
            .expect("data");
        let mut lines: Vec<Value> = String::from_utf8(data)
            .expect("utf8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        lines.sort_by_key(|l| l["Keys"]["pk"]["S"].as_str().unwrap_or("").to_string());
        lines_by_view.push(lines);
    }
    let meta = json!({"WriteTimestampMicros": {"N": (from_ms * 1000).to_string()}});
    let key = |pk: &str| json!({"pk": {"S": pk}, "sk": {"N": "1"}});
    let image = |pk: &str, v: &str| json!({"pk": {"S": pk}, "sk": {"N": "1"}, "v": {"S": v}});
    assert_eq!(
        lines_by_view[0],
        vec![
            json!({"Metadata": meta, "Keys": key("a"), "NewImage": image("a", "after"), "OldImage": image("a", "before")}),
            json!({"Metadata": meta, "Keys": key("b"), "OldImage": image("b", "doomed")}),
            json!({"Metadata": meta, "Keys": key("c"), "NewImage": image("c", "born")}),
        ]
    );
    assert_eq!(
        lines_by_view[1],
        vec![
            json!({"Metadata": meta, "Keys": key("a"), "NewImage": image("a", "after")}),
            json!({"Metadata": meta, "Keys": key("b")}),
            json!({"Metadata": meta, "Keys": key("c"), "NewImage": image("c", "born")}),
        ]
    );
}
