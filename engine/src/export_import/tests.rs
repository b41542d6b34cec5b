//! Exports and imports over a temporary S3 directory, driven by a manual clock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::clock::{Clock, ManualClock};

fn setup(name: &str) -> (Engine, Namespace, ManualClock, S3Dir) {
    let root = std::env::temp_dir().join(format!("ddb-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("bkt")).expect("bucket");
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

fn enable_pitr(engine: &Engine, ns: &Namespace) {
    engine
        .update_continuous_backups(
            ns,
            serde_json::from_value(json!({"TableName": "t",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}))
            .expect("input"),
        )
        .expect("pitr");
}

fn put(engine: &Engine, ns: &Namespace, item: Value) {
    engine
        .put_item(
            ns,
            serde_json::from_value(json!({"TableName": "t", "Item": item})).expect("input"),
        )
        .expect("put");
}

fn delete(engine: &Engine, ns: &Namespace, id: u32) {
    engine
        .delete_item(
            ns,
            serde_json::from_value(json!({"TableName": "t", "Key": {"id": {"N": id.to_string()}}}))
                .expect("input"),
        )
        .expect("delete");
}

fn export(engine: &Engine, ns: &Namespace, body: Value) -> Result<ExportDescription> {
    let mut req = json!({"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t", "S3Bucket": "bkt", "S3Prefix": "exp"});
    if let (Some(r), Some(b)) = (req.as_object_mut(), body.as_object()) {
        r.extend(b.clone());
    }
    engine
        .export_table_to_point_in_time(ns, serde_json::from_value(req).expect("input"))
        .map(|o| o.export_description)
}

/// The data lines of a finished export, parsed.
fn data_lines(engine: &Engine, ns: &Namespace, s3: &S3Dir, arn: &str) -> Vec<Value> {
    let desc = engine
        .describe_export(
            ns,
            DescribeExportInput {
                export_arn: arn.into(),
            },
        )
        .expect("describe")
        .export_description;
    assert_eq!(desc.export_status, "COMPLETED");
    let manifest = desc.export_manifest.expect("manifest");
    let summary: Value =
        serde_json::from_slice(&s3.get("bkt", &manifest).expect("summary")).expect("json");
    let files = s3
        .get("bkt", summary["manifestFilesS3Key"].as_str().expect("key"))
        .expect("files");
    let mut out = Vec::new();
    for line in String::from_utf8(files).expect("utf8").lines() {
        let f: Value = serde_json::from_str(line).expect("json");
        let key = f["dataFileS3Key"].as_str().expect("data key");
        let raw = s3.get("bkt", key).expect("data");
        assert_eq!(f["md5Checksum"], json!(B64.encode(md5(&raw))));
        let text = String::from_utf8(crate::s3dir::gunzip(&raw).expect("gzip")).expect("utf8");
        out.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).expect("line")),
        );
    }
    out
}

#[test]
fn md5_matches_rfc_1321_vectors() {
    assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        hex(&md5(
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        )),
        "57edf4a22be3c955ac49da2e2107b67a"
    );
}

#[test]
fn numbers_become_ion_decimals() {
    assert_eq!(ion_decimal("12"), "12.");
    assert_eq!(ion_decimal("-1.5"), "-1.5");
    assert_eq!(ion_decimal("1.5E+30"), "1.5d30");
    assert_eq!(ion_decimal("1E-130"), "1d-130");
}

#[test]
fn csv_rows_follow_rfc_4180_quoting() {
    let rows: Vec<Vec<String>> = csv_rows("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n1,\n", ',')
        .into_iter()
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["a".to_string(), "b".to_string()],
            vec!["x, y".to_string(), "say \"hi\"".to_string()],
            vec!["1".to_string(), String::new()],
        ]
    );
    assert!(csv_rows("\"open", ',')[0].is_err());
}

#[test]
fn export_needs_pitr_and_a_time_inside_its_window() {
    let (engine, ns, clock, _s3) = setup("window");
    let err = export(&engine, &ns, json!({})).expect_err("no pitr");
    assert_eq!(err.aws_type(), "PointInTimeRecoveryUnavailableException");
    assert_eq!(
        err.to_string(),
        "Point in time recovery is not enabled for table 't'"
    );
    enable_pitr(&engine, &ns);
    clock.advance(Duration::from_secs(10));
    let before = (1_700_000_000_000_i64 - 1000) as f64 / 1000.0;
    let err = export(&engine, &ns, json!({"ExportTime": before})).expect_err("too early");
    assert_eq!(err.aws_type(), "InvalidExportTimeException");
    let err = export(&engine, &ns, json!({"ExportTime": 4_000_000_000.0})).expect_err("future");
    assert_eq!(err.aws_type(), "InvalidExportTimeException");
    let missing = engine
        .export_table_to_point_in_time(
            &ns,
            serde_json::from_value(json!({"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/nope", "S3Bucket": "bkt"}))
                .expect("input"),
        )
        .expect_err("missing");
    assert_eq!(missing.aws_type(), "TableNotFoundException");
}

#[test]
fn full_export_is_the_table_at_the_export_time() {
    let (engine, ns, clock, s3) = setup("full");
    enable_pitr(&engine, &ns);
    put(&engine, &ns, json!({"id": {"N": "1"}, "v": {"S": "old"}}));
    put(
        &engine,
        &ns,
        json!({"id": {"N": "2"}, "set": {"SS": ["a", "b"]}}),
    );
    clock.advance(Duration::from_secs(60));
    let middle = clock.now().as_epoch_seconds();
    clock.advance(Duration::from_secs(60));
    put(&engine, &ns, json!({"id": {"N": "1"}, "v": {"S": "new"}}));
    delete(&engine, &ns, 2);
    put(&engine, &ns, json!({"id": {"N": "3"}}));
    let desc = export(&engine, &ns, json!({"ExportTime": middle})).expect("export");
    assert_eq!(desc.export_status, "IN_PROGRESS");
    assert!(
        desc.export_arn
            .starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/t/export/")
    );
    let mut lines = data_lines(&engine, &ns, &s3, &desc.export_arn);
    lines.sort_by_key(|l| l["Item"]["id"]["N"].as_str().unwrap_or("").to_string());
    assert_eq!(
        lines,
        vec![
            json!({"Item": {"id": {"N": "1"}, "v": {"S": "old"}}}),
            json!({"Item": {"id": {"N": "2"}, "set": {"SS": ["a", "b"]}}}),
        ]
    );
    let done = engine
        .describe_export(
            &ns,
            DescribeExportInput {
                export_arn: desc.export_arn.clone(),
            },
        )
        .expect("describe")
        .export_description;
    assert_eq!(done.item_count, Some(2));
    assert!(done.billed_size_bytes.unwrap_or(0) > 0);
    // The AWS layout: _started and the checksums next to the manifests.
    let id = desc.export_arn.rsplit('/').next().expect("id");
    for name in [
        "_started",
        "manifest-summary.checksum",
        "manifest-files.checksum",
    ] {
        assert!(
            s3.get("bkt", &format!("exp/AWSDynamoDB/{id}/{name}"))
                .is_ok(),
            "{name}"
        );
    }
}

#[test]
fn incremental_export_lists_changes_with_new_and_old_images() {
    let (engine, ns, clock, s3) = setup("incremental");
    enable_pitr(&engine, &ns);
    put(&engine, &ns, json!({"id": {"N": "1"}, "v": {"S": "a"}}));
    put(&engine, &ns, json!({"id": {"N": "2"}, "v": {"S": "b"}}));
    clock.advance(Duration::from_secs(60));
    let from = clock.now();
    put(&engine, &ns, json!({"id": {"N": "1"}, "v": {"S": "a2"}}));
    delete(&engine, &ns, 2);
    put(&engine, &ns, json!({"id": {"N": "3"}, "v": {"S": "c"}}));
    clock.advance(Duration::from_secs(20 * 60));
    let to = clock.now();
    put(&engine, &ns, json!({"id": {"N": "4"}, "v": {"S": "after"}}));
    clock.advance(Duration::from_secs(1));
    let spec =
        json!({"ExportFromTime": from.as_epoch_seconds(), "ExportToTime": to.as_epoch_seconds()});
    let desc = export(
        &engine,
        &ns,
        json!({"ExportType": "INCREMENTAL_EXPORT", "IncrementalExportSpecification": spec}),
    )
    .expect("export");
    let mut lines = data_lines(&engine, &ns, &s3, &desc.export_arn);
    lines.sort_by_key(|l| l["Keys"]["id"]["N"].as_str().unwrap_or("").to_string());
    let micros = json!({"N": (from.0 * 1000).to_string()});
    assert_eq!(
        lines,
        vec![
            json!({"Metadata": {"WriteTimestampMicros": micros}, "Keys": {"id": {"N": "1"}},
                   "NewImage": {"id": {"N": "1"}, "v": {"S": "a2"}}, "OldImage": {"id": {"N": "1"}, "v": {"S": "a"}}}),
            json!({"Metadata": {"WriteTimestampMicros": micros}, "Keys": {"id": {"N": "2"}},
                   "OldImage": {"id": {"N": "2"}, "v": {"S": "b"}}}),
            json!({"Metadata": {"WriteTimestampMicros": micros}, "Keys": {"id": {"N": "3"}},
                   "NewImage": {"id": {"N": "3"}, "v": {"S": "c"}}}),
        ]
    );
    // A period under 15 minutes is rejected.
    let short = json!({"ExportFromTime": from.as_epoch_seconds(), "ExportToTime": from.as_epoch_seconds() + 60.0});
    let err = export(
        &engine,
        &ns,
        json!({"ExportType": "INCREMENTAL_EXPORT", "IncrementalExportSpecification": short}),
    )
    .expect_err("short");
    assert_eq!(err.aws_type(), "ValidationException");
}

fn import(engine: &Engine, ns: &Namespace, body: Value) -> Result<ImportTableDescription> {
    let mut req = json!({
        "InputFormat": "DYNAMODB_JSON",
        "TableCreationParameters": {
            "TableName": "copy",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }
    });
    if let (Some(r), Some(b)) = (req.as_object_mut(), body.as_object()) {
        r.extend(b.clone());
    }
    engine
        .import_table(ns, serde_json::from_value(req).expect("input"))
        .map(|o| o.import_table_description)
}

fn items_of(engine: &Engine, ns: &Namespace, table: &str) -> Vec<Item> {
    engine.items(ns, table).expect("items")
}

#[test]
fn ion_export_imports_back_into_identical_items() {
    let (engine, ns, clock, _s3) = setup("ion");
    enable_pitr(&engine, &ns);
    put(
        &engine,
        &ns,
        json!({"id": {"N": "1"}, "n": {"N": "1.5E+30"}, "b": {"B": "AAEC"}, "ns": {"NS": ["1", "2.5"]},
               "bs": {"BS": ["AQ=="]}, "l": {"L": [{"NULL": true}, {"BOOL": false}, {"S": "q\"uote"}]},
               "m": {"M": {"odd key": {"S": "x"}}}}),
    );
    put(&engine, &ns, json!({"id": {"N": "-2"}}));
    clock.advance(Duration::from_secs(1));
    let desc = export(
        &engine,
        &ns,
        json!({"ExportFormat": "ION", "S3Prefix": "ion"}),
    )
    .expect("export");
    let id = desc.export_arn.rsplit('/').next().expect("id").to_string();
    let imported = import(
        &engine,
        &ns,
        json!({"InputFormat": "ION", "InputCompressionType": "GZIP",
               "S3BucketSource": {"S3Bucket": "bkt", "S3KeyPrefix": format!("ion/AWSDynamoDB/{id}/data/")}}),
    )
    .expect("import");
    assert_eq!(imported.import_status, "IN_PROGRESS");
    let done = engine
        .describe_import(
            &ns,
            DescribeImportInput {
                import_arn: imported.import_arn,
            },
        )
        .expect("describe")
        .import_table_description;
    assert_eq!(
        (
            done.import_status.as_str(),
            done.imported_item_count,
            done.error_count
        ),
        ("COMPLETED", 2, 0)
    );
    assert_eq!(items_of(&engine, &ns, "copy"), items_of(&engine, &ns, "t"));
}

#[test]
fn import_counts_bad_records_and_reads_csv() {
    let (engine, ns, _clock, s3) = setup("csv");
    let csv: &[u8] = b"id;name;empty\n1;one;\n2;\"two; too\";x\nnot-a-number;bad;\n3;a;b;c\n";
    s3.put("bkt", "csv/a.csv", csv).expect("put");
    let desc = import(
        &engine,
        &ns,
        json!({"InputFormat": "CSV", "InputFormatOptions": {"Csv": {"Delimiter": ";"}},
               "S3BucketSource": {"S3Bucket": "bkt", "S3KeyPrefix": "csv/"}}),
    )
    .expect("import");
    assert_eq!(desc.processed_size_bytes, None);
    let done = engine
        .describe_import(
            &ns,
            DescribeImportInput {
                import_arn: desc.import_arn.clone(),
            },
        )
        .expect("describe")
        .import_table_description;
    assert_eq!(
        (
            done.processed_item_count,
            done.imported_item_count,
            done.error_count
        ),
        (4, 2, 2)
    );
    assert_eq!(done.processed_size_bytes, Some(csv.len() as u64));
    let items = items_of(&engine, &ns, "copy");
    assert_eq!(
        serde_json::to_value(&items).expect("json"),
        json!([{"id": {"N": "1"}, "name": {"S": "one"}},
               {"id": {"N": "2"}, "name": {"S": "two; too"}, "empty": {"S": "x"}}])
    );
    // The table exists now: a second import into it is refused.
    let again = import(
        &engine,
        &ns,
        json!({"InputFormat": "CSV", "S3BucketSource": {"S3Bucket": "bkt", "S3KeyPrefix": "csv/"}}),
    )
    .expect_err("exists");
    assert_eq!(again.aws_type(), "ResourceInUseException");
    let listed = engine
        .list_imports(
            &ns,
            ListImportsInput {
                table_arn: Some(done.table_arn.clone()),
                ..Default::default()
            },
        )
        .expect("list");
    assert_eq!(listed.import_summary_list.len(), 1);
}

#[test]
fn client_tokens_replay_or_conflict() {
    let (engine, ns, clock, _s3) = setup("tokens");
    enable_pitr(&engine, &ns);
    clock.advance(Duration::from_secs(1));
    let first = export(&engine, &ns, json!({"ClientToken": "tok"})).expect("export");
    clock.advance(Duration::from_secs(1));
    let again = export(&engine, &ns, json!({"ClientToken": "tok"})).expect("replay");
    assert_eq!(again.export_arn, first.export_arn);
    let err = export(
        &engine,
        &ns,
        json!({"ClientToken": "tok", "S3Prefix": "other"}),
    )
    .expect_err("conflict");
    assert_eq!(err.aws_type(), "ExportConflictException");
    let listed = engine
        .list_exports(&ns, ListExportsInput::default())
        .expect("list");
    assert_eq!(listed.export_summaries.len(), 1);
    let missing = engine
        .describe_export(
            &ns,
            DescribeExportInput {
                export_arn: format!("{}x", first.export_arn),
            },
        )
        .expect_err("missing");
    assert_eq!(missing.aws_type(), "ExportNotFoundException");
}

#[test]
fn list_exports_pages_and_filters_by_table() {
    let (engine, ns, clock, _s3) = setup("list");
    enable_pitr(&engine, &ns);
    for _ in 0..3 {
        clock.advance(Duration::from_secs(1));
        export(&engine, &ns, json!({})).expect("export");
    }
    let page = engine
        .list_exports(
            &ns,
            ListExportsInput {
                max_results: Some(2),
                ..Default::default()
            },
        )
        .expect("page");
    assert_eq!(page.export_summaries.len(), 2);
    let rest = engine
        .list_exports(
            &ns,
            ListExportsInput {
                next_token: page.next_token,
                ..Default::default()
            },
        )
        .expect("rest");
    assert_eq!((rest.export_summaries.len(), rest.next_token), (1, None));
    let other = engine
        .list_exports(
            &ns,
            ListExportsInput {
                table_arn: Some("arn:aws:dynamodb:us-east-1:000000000000:table/x".into()),
                ..Default::default()
            },
        )
        .expect("filtered");
    assert!(other.export_summaries.is_empty());
    assert!(
        engine
            .list_exports(
                &ns,
                ListExportsInput {
                    next_token: Some("zz".into()),
                    ..Default::default()
                }
            )
            .is_err()
    );
}

#[test]
fn a_failed_request_remembers_no_client_token() {
    let (engine, ns, clock, _s3) = setup("failed-token");
    enable_pitr(&engine, &ns);
    clock.advance(Duration::from_secs(1));
    let err = export(
        &engine,
        &ns,
        json!({"ClientToken": "t", "S3Prefix": "../escape"}),
    )
    .expect_err("bad prefix");
    assert_eq!(err.aws_type(), "ValidationException");
    // The same token with other parameters is a new request, not a conflict.
    let ok = export(&engine, &ns, json!({"ClientToken": "t"})).expect("export");
    assert_eq!(
        engine
            .list_exports(&ns, ListExportsInput::default())
            .expect("list")
            .export_summaries
            .iter()
            .map(|e| e.export_arn.clone())
            .collect::<Vec<_>>(),
        vec![ok.export_arn]
    );
}

#[test]
fn an_import_token_reused_with_other_parameters_is_an_import_conflict() {
    let (engine, ns, _clock, s3) = setup("import-token");
    s3.put("bkt", "in/a.json", b"{\"Item\":{\"id\":{\"N\":\"1\"}}}\n")
        .expect("put");
    let source = json!({"S3Bucket": "bkt", "S3KeyPrefix": "in/"});
    import(
        &engine,
        &ns,
        json!({"ClientToken": "tok", "S3BucketSource": source}),
    )
    .expect("import");
    // The same request again: the table exists, so ResourceInUse (as AWS answers).
    let again = import(
        &engine,
        &ns,
        json!({"ClientToken": "tok", "S3BucketSource": source}),
    )
    .expect_err("exists");
    assert_eq!(again.aws_type(), "ResourceInUseException");
    let mut other = json!({"ClientToken": "tok", "S3BucketSource": source});
    other["TableCreationParameters"] = json!({
        "TableName": "copy2",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    let err = import(&engine, &ns, other).expect_err("conflict");
    assert_eq!(err.aws_type(), "ImportConflictException");
    assert_eq!(
        err.to_string(),
        "Import conflict: Duplicate request detected with conflicting parameters"
    );
}
