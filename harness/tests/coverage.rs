//! Every operation of the official service models, called with a valid request.
//!
//! The operation lists come from botocore's models in `../shared/reference/botocore-model/`
//! (`dynamodb/service-2.json.gz`: 62 operations; `dynamodbstreams/service-2.json.gz`: 4). Each
//! operation is sent through [`Router::handle`] as a real JSON 1.0 request, after a setup that
//! makes the request valid (tables with a stream, an index and items; PITR on; a backup; …).
//! An answer is classified as:
//!
//! - **missing**: `UnknownOperationException`, or a 501 / "not implemented" stub;
//! - **working**: HTTP 200 with a JSON object body;
//! - **broken**: anything else (an AWS error to a request that should succeed).
//!
//! The test fails when an operation is broken, when an operation outside [`NOT_YET_BUILT`] is
//! missing, or when an operation on [`NOT_YET_BUILT`] answers anything but
//! `UnknownOperationException` — so the list stays exact and can only shrink. The failure
//! message lists every missing operation.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use ddb_engine::Engine;
use ddb_harness::Router;
use hyper::http::{Method, Request};
use serde_json::{Value, json};

/// Operations nobody has built yet. **Shrink this list** as they arrive (the test fails when
/// one of them starts answering). Empty: every operation of the model is built.
const NOT_YET_BUILT: &[&str] = &[];

/// Operations whose only valid request in this engine meets a real, state-dependent AWS error:
/// (operation, text its answer must contain). Bulk operations finish synchronously, so there is
/// never a running one to cancel.
const STATE_ERRORS: &[(&str, &str)] = &[("CancelBulkOperation", "cannot be cancelled in status")];

const ACCESS_KEY: &str = "AKIDCOVERAGE";

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/botocore-model")
}

/// The operation names of one gzipped botocore service model.
fn model_operations(service: &str) -> Vec<String> {
    let path = reference_dir().join(service).join("service-2.json.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("cannot gunzip {}: {e}", path.display()));
    let model: Value = serde_json::from_str(&text).expect("the model is JSON");
    model["operations"]
        .as_object()
        .expect("the model has operations")
        .keys()
        .cloned()
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Working(Value),
    Missing,
    Broken(u16, Value),
}

struct Caller {
    router: Router,
}

impl Caller {
    fn send(&self, target: &str, region: &str, body: &Value) -> Outcome {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
        );
        let request = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .header("x-amz-date", "20260101T000000Z")
            .header("authorization", auth)
            .body(Bytes::from(serde_json::to_vec(body).unwrap()))
            .unwrap();
        let response = self.router.handle(request);
        let status = response.status().as_u16();
        let body: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        let kind = body["__type"].as_str().unwrap_or_default();
        let text = String::from_utf8_lossy(response.body()).to_lowercase();
        if kind.ends_with("#UnknownOperationException")
            || status == 501
            || text.contains("not implemented")
        {
            Outcome::Missing
        } else if status == 200 && body.is_object() {
            Outcome::Working(body)
        } else {
            Outcome::Broken(status, body)
        }
    }

    fn dynamodb(&self, op: &str, body: Value) -> Outcome {
        self.send(&format!("DynamoDB_20120810.{op}"), "us-east-1", &body)
    }

    fn dynamodb_in(&self, region: &str, op: &str, body: Value) -> Outcome {
        self.send(&format!("DynamoDB_20120810.{op}"), region, &body)
    }

    fn streams(&self, op: &str, body: Value) -> Outcome {
        self.send(
            &format!("DynamoDBStreams_20120810.{op}"),
            "us-east-1",
            &body,
        )
    }

    /// A setup call that must succeed.
    fn must(&self, op: &str, body: Value) -> Value {
        match self.dynamodb(op, body.clone()) {
            Outcome::Working(v) => v,
            other => panic!("setup {op} {body} failed: {other:?}"),
        }
    }
}

fn string_at(v: &Outcome, path: &[&str]) -> Option<String> {
    let Outcome::Working(v) = v else {
        return None;
    };
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_string)
}

fn table_def(name: &str, stream: bool) -> Value {
    let mut t = json!({
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "team", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "by_team",
            "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}
        }],
        "VectorIndexes": [{
            "IndexName": "by_vec",
            "VectorAttribute": {"AttributeName": "vec"},
            "Projection": {"ProjectionType": "ALL"},
            "Dimensions": 3,
            "DistanceFunction": "COSINE"
        }],
        "BillingMode": "PAY_PER_REQUEST"
    });
    if stream {
        t["StreamSpecification"] =
            json!({"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"});
    }
    t
}

fn item(id: &str) -> Value {
    json!({
        "id": {"S": id},
        "team": {"S": "red"},
        "vec": {"L": [{"N": "1"}, {"N": "0"}, {"N": "0"}]}
    })
}

#[test]
fn every_model_operation_answers_a_valid_request() {
    let s3 = std::env::temp_dir().join(format!("ddb-coverage-s3-{}", std::process::id()));
    let input_dir = s3.join("cov-bucket").join("bulk-in");
    std::fs::create_dir_all(&input_dir).unwrap();
    std::fs::write(
        input_dir.join("items.json"),
        format!("{}\n", json!({"Item": item("bulk-1")})),
    )
    .unwrap();
    let engine = Engine::builder().s3_dir(&s3).build().unwrap();
    let c = Caller {
        router: Router::new(Arc::new(engine)),
    };

    // Setup: a table with a stream, a GSI, a vector index and items; PITR on.
    let created = c.must("CreateTable", table_def("cov", true));
    // The account comes from the access key; take it from the table's ARN.
    let account = created["TableDescription"]["TableArn"]
        .as_str()
        .and_then(|a| a.split(':').nth(4))
        .expect("table ARN")
        .to_string();
    let arn = |t: &str| format!("arn:aws:dynamodb:us-east-1:{account}:table/{t}");
    let stream_arn = created["TableDescription"]["LatestStreamArn"]
        .as_str()
        .expect("stream ARN")
        .to_string();
    for id in ["a", "b", "c"] {
        c.must("PutItem", json!({"TableName": "cov", "Item": item(id)}));
    }
    c.must(
        "UpdateContinuousBackups",
        json!({"TableName": "cov", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    );
    c.must(
        "CreateTable",
        json!({
            "TableName": "cov_prov",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        }),
    );
    // Global tables (2017.11.29) need an empty table with a NEW_AND_OLD_IMAGES stream in
    // every region of the group.
    let global = json!({
        "TableName": "cov_global",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    });
    c.must("CreateTable", global.clone());
    for region in ["us-west-2", "eu-west-1"] {
        match c.dynamodb_in(region, "CreateTable", global.clone()) {
            Outcome::Working(_) => {}
            other => panic!("setup CreateTable in {region} failed: {other:?}"),
        }
    }

    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut call = |op: &str, body: Value| {
        let o = c.dynamodb(op, body);
        outcomes.insert(op.to_string(), o.clone());
        o
    };

    call("DescribeEndpoints", json!({}));
    call("DescribeLimits", json!({}));
    call("ListTables", json!({}));
    call("CreateTable", table_def("cov_created", false));
    call("DescribeTable", json!({"TableName": "cov"}));
    call(
        "UpdateTable",
        json!({"TableName": "cov_created", "DeletionProtectionEnabled": false}),
    );
    call("PutItem", json!({"TableName": "cov", "Item": item("d")}));
    call(
        "GetItem",
        json!({"TableName": "cov", "Key": {"id": {"S": "a"}}}),
    );
    call(
        "UpdateItem",
        json!({
            "TableName": "cov", "Key": {"id": {"S": "a"}},
            "UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "1"}}
        }),
    );
    call(
        "DeleteItem",
        json!({"TableName": "cov", "Key": {"id": {"S": "d"}}}),
    );
    call(
        "BatchGetItem",
        json!({"RequestItems": {"cov": {"Keys": [{"id": {"S": "a"}}, {"id": {"S": "b"}}]}}}),
    );
    call(
        "BatchWriteItem",
        json!({"RequestItems": {"cov": [{"PutRequest": {"Item": item("e")}}]}}),
    );
    call(
        "TransactWriteItems",
        json!({"TransactItems": [{"Put": {"TableName": "cov", "Item": item("f")}}]}),
    );
    call(
        "TransactGetItems",
        json!({"TransactItems": [{"Get": {"TableName": "cov", "Key": {"id": {"S": "f"}}}}]}),
    );
    call(
        "Query",
        json!({
            "TableName": "cov", "KeyConditionExpression": "id = :id",
            "ExpressionAttributeValues": {":id": {"S": "a"}}
        }),
    );
    call("Scan", json!({"TableName": "cov"}));
    call(
        "ExecuteStatement",
        json!({"Statement": "SELECT * FROM \"cov\" WHERE id = 'a'"}),
    );
    call(
        "BatchExecuteStatement",
        json!({"Statements": [{"Statement": "SELECT * FROM \"cov\" WHERE id = 'b'"}]}),
    );
    call(
        "ExecuteTransaction",
        json!({"TransactStatements": [{"Statement": "SELECT * FROM \"cov\" WHERE id = 'c'"}]}),
    );
    call(
        "SearchVectors",
        json!({
            "TableName": "cov", "IndexName": "by_vec", "TopK": 2,
            "SearchVector": [{"N": "1"}, {"N": "0"}, {"N": "0"}]
        }),
    );
    call(
        "UpdateTimeToLive",
        json!({"TableName": "cov", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires"}}),
    );
    call("DescribeTimeToLive", json!({"TableName": "cov"}));
    call(
        "TagResource",
        json!({"ResourceArn": arn("cov"), "Tags": [{"Key": "team", "Value": "red"}]}),
    );
    call("ListTagsOfResource", json!({"ResourceArn": arn("cov")}));
    call(
        "UntagResource",
        json!({"ResourceArn": arn("cov"), "TagKeys": ["team"]}),
    );
    let kinesis = format!("arn:aws:kinesis:us-east-1:{account}:stream/cov");
    call(
        "EnableKinesisStreamingDestination",
        json!({"TableName": "cov", "StreamArn": kinesis}),
    );
    call(
        "DescribeKinesisStreamingDestination",
        json!({"TableName": "cov"}),
    );
    call(
        "UpdateKinesisStreamingDestination",
        json!({
            "TableName": "cov", "StreamArn": kinesis,
            "UpdateKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
        }),
    );
    call(
        "DisableKinesisStreamingDestination",
        json!({"TableName": "cov", "StreamArn": kinesis}),
    );

    // Backups.
    let backup = call(
        "CreateBackup",
        json!({"TableName": "cov", "BackupName": "cov-backup"}),
    );
    let backup_arn = string_at(&backup, &["BackupDetails", "BackupArn"])
        .unwrap_or_else(|| format!("{}/backup/01767225600000-00000000", arn("cov")));
    call("DescribeBackup", json!({"BackupArn": backup_arn}));
    call("ListBackups", json!({"TableName": "cov"}));
    call(
        "RestoreTableFromBackup",
        json!({"BackupArn": backup_arn, "TargetTableName": "cov_from_backup"}),
    );
    call("DeleteBackup", json!({"BackupArn": backup_arn}));

    // Point-in-time recovery.
    call(
        "UpdateContinuousBackups",
        json!({
            "TableName": "cov",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": 35}
        }),
    );
    call("DescribeContinuousBackups", json!({"TableName": "cov"}));
    call(
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "cov", "TargetTableName": "cov_pitr", "UseLatestRestorableTime": true}),
    );

    // Contributor Insights and resource policies.
    call(
        "UpdateContributorInsights",
        json!({"TableName": "cov", "ContributorInsightsAction": "ENABLE"}),
    );
    call("DescribeContributorInsights", json!({"TableName": "cov"}));
    call("ListContributorInsights", json!({}));
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "dynamodb:GetItem",
            "Resource": arn("cov")
        }]
    })
    .to_string();
    call(
        "PutResourcePolicy",
        json!({"ResourceArn": arn("cov"), "Policy": policy}),
    );
    call("GetResourcePolicy", json!({"ResourceArn": arn("cov")}));
    call("DeleteResourcePolicy", json!({"ResourceArn": arn("cov")}));

    // Export and import through the S3 directory.
    let export = call(
        "ExportTableToPointInTime",
        json!({"TableArn": arn("cov"), "S3Bucket": "cov-bucket", "S3Prefix": "exports"}),
    );
    let export_arn = string_at(&export, &["ExportDescription", "ExportArn"])
        .unwrap_or_else(|| format!("{}/export/01767225600000-00000000", arn("cov")));
    call("DescribeExport", json!({"ExportArn": export_arn}));
    call("ListExports", json!({}));
    let import = call(
        "ImportTable",
        json!({
            "S3BucketSource": {"S3Bucket": "cov-bucket", "S3KeyPrefix": "bulk-in/"},
            "InputFormat": "DYNAMODB_JSON",
            "InputCompressionType": "NONE",
            "TableCreationParameters": {
                "TableName": "cov_imported",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"
            }
        }),
    );
    let import_arn = string_at(&import, &["ImportTableDescription", "ImportArn"])
        .unwrap_or_else(|| format!("{}/import/01767225600000-00000000", arn("cov_imported")));
    call("DescribeImport", json!({"ImportArn": import_arn}));
    call("ListImports", json!({}));

    // Bulk operations.
    let bulk = call(
        "StartBulkPutItems",
        json!({
            "TableName": "cov",
            "InputS3Configuration": {"S3Bucket": "cov-bucket", "S3KeyPrefix": "bulk-in/", "InputFormat": "DYNAMODB_JSON", "InputCompressionType": "NONE"},
            "OutputS3Configuration": {"S3Bucket": "cov-bucket", "S3KeyPrefix": "bulk-out/", "OutputType": ["ERROR"]}
        }),
    );
    let bulk_arn = string_at(&bulk, &["BulkOperationDescription", "BulkOperationArn"])
        .unwrap_or_else(|| format!("{}/bulk-operation/00000000", arn("cov")));
    call(
        "DescribeBulkOperation",
        json!({"BulkOperationArn": bulk_arn}),
    );
    call("ListBulkOperations", json!({}));
    call("CancelBulkOperation", json!({"BulkOperationArn": bulk_arn}));

    // Global tables, version 2017.11.29, and replica auto scaling.
    call(
        "CreateGlobalTable",
        json!({"GlobalTableName": "cov_global", "ReplicationGroup": [{"RegionName": "us-east-1"}, {"RegionName": "us-west-2"}]}),
    );
    call(
        "DescribeGlobalTable",
        json!({"GlobalTableName": "cov_global"}),
    );
    call("ListGlobalTables", json!({}));
    call(
        "UpdateGlobalTable",
        json!({"GlobalTableName": "cov_global", "ReplicaUpdates": [{"Create": {"RegionName": "eu-west-1"}}]}),
    );
    call(
        "DescribeGlobalTableSettings",
        json!({"GlobalTableName": "cov_global"}),
    );
    call(
        "UpdateGlobalTableSettings",
        json!({"GlobalTableName": "cov_global", "GlobalTableBillingMode": "PAY_PER_REQUEST"}),
    );
    call(
        "DescribeTableReplicaAutoScaling",
        json!({"TableName": "cov_prov"}),
    );
    call(
        "UpdateTableReplicaAutoScaling",
        json!({
            "TableName": "cov_prov",
            "ProvisionedWriteCapacityAutoScalingUpdate": {
                "MinimumUnits": 1, "MaximumUnits": 10,
                "ScalingPolicyUpdate": {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0}}
            }
        }),
    );

    call("DeleteTable", json!({"TableName": "cov_created"}));

    // DynamoDB Streams.
    let mut stream_outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut scall = |op: &str, body: Value| {
        let o = c.streams(op, body);
        stream_outcomes.insert(op.to_string(), o.clone());
        o
    };
    scall("ListStreams", json!({"TableName": "cov"}));
    let described = scall("DescribeStream", json!({"StreamArn": stream_arn}));
    let shard = match &described {
        Outcome::Working(v) => v["StreamDescription"]["Shards"][0]["ShardId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    let iterator = scall(
        "GetShardIterator",
        json!({"StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    );
    let iterator = string_at(&iterator, &["ShardIterator"]).unwrap_or_default();
    scall("GetRecords", json!({"ShardIterator": iterator}));

    let _ = std::fs::remove_dir_all(&s3);

    // Every model operation was called, and nothing else.
    let dynamodb_ops: BTreeSet<String> = model_operations("dynamodb").into_iter().collect();
    let streams_ops: BTreeSet<String> = model_operations("dynamodbstreams").into_iter().collect();
    assert_eq!(
        dynamodb_ops.len(),
        62,
        "botocore 1.44's DynamoDB model has 62 operations"
    );
    assert_eq!(streams_ops.len(), 4);
    let called: BTreeSet<String> = outcomes.keys().cloned().collect();
    assert_eq!(
        called, dynamodb_ops,
        "the test must call exactly the model's DynamoDB operations"
    );
    let called_streams: BTreeSet<String> = stream_outcomes.keys().cloned().collect();
    assert_eq!(called_streams, streams_ops);

    let all: Vec<(String, Outcome)> = outcomes.into_iter().chain(stream_outcomes).collect();
    let missing: Vec<&str> = all
        .iter()
        .filter(|(_, o)| *o == Outcome::Missing)
        .map(|(op, _)| op.as_str())
        .collect();
    let broken: Vec<String> = all
        .iter()
        .filter_map(|(op, o)| match o {
            Outcome::Broken(_, body)
                if STATE_ERRORS
                    .iter()
                    .any(|(name, text)| name == op && body.to_string().contains(text)) =>
            {
                None
            }
            Outcome::Broken(status, body) => Some(format!("{op}: HTTP {status} {body}")),
            _ => None,
        })
        .collect();
    let allowed: BTreeSet<&str> = NOT_YET_BUILT.iter().copied().collect();
    let unexpected_missing: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|op| !allowed.contains(op))
        .collect();
    let now_built: Vec<&str> = NOT_YET_BUILT
        .iter()
        .copied()
        .filter(|op| !missing.contains(op))
        .collect();
    println!(
        "{} of {} operations answer; missing: {missing:?}",
        all.len() - missing.len(),
        all.len()
    );
    assert!(
        broken.is_empty(),
        "operations answering a valid request with an error:\n{}",
        broken.join("\n")
    );
    assert!(
        unexpected_missing.is_empty(),
        "operations missing (UnknownOperationException or a stub) that NOT_YET_BUILT does not list: {unexpected_missing:?}; all missing: {missing:?}"
    );
    assert!(
        now_built.is_empty(),
        "NOT_YET_BUILT lists operations that now answer; remove them: {now_built:?}"
    );
}
