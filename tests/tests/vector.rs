//! Vector indexes and SearchVectors end to end through aws-sdk-dynamodb over real HTTP: a
//! table with a 4-dimension vector index per distance function, items put through PutItem,
//! nearest items and scores from SearchVectors.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, Projection, ProjectionType, VectorAttributeDefinition,
    VectorDistanceFunction, VectorIndex,
};
use ddb_tests::{attr_s, hash_key, s, start};

fn n(v: f32) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn vector(v: [f32; 4]) -> AttributeValue {
    AttributeValue::L(v.iter().map(|x| n(*x)).collect())
}

async fn table(client: &aws_sdk_dynamodb::Client, name: &str, f: VectorDistanceFunction) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr_s("id"))
        .key_schema(hash_key("id"))
        .billing_mode(BillingMode::PayPerRequest)
        .vector_indexes(
            VectorIndex::builder()
                .index_name("emb-index")
                .vector_attribute(
                    VectorAttributeDefinition::builder()
                        .attribute_name("emb")
                        .build()
                        .unwrap(),
                )
                .dimensions(4)
                .distance_function(f)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    for (id, v) in [
        ("a", [1.0, 0.0, 0.0, 0.0]),
        ("b", [0.0, 1.0, 0.0, 0.0]),
        ("c", [1.0, 1.0, 0.0, 0.0]),
        ("d", [-1.0, 0.0, 0.0, 0.0]),
        ("e", [3.0, 0.0, 0.0, 0.5]),
    ] {
        client
            .put_item()
            .table_name(name)
            .item("id", s(id))
            .item("emb", vector(v))
            .send()
            .await
            .expect("put");
    }
}

async fn search(client: &aws_sdk_dynamodb::Client, name: &str) -> Vec<(String, f64)> {
    let out = client
        .search_vectors()
        .table_name(name)
        .index_name("emb-index")
        .set_search_vector(Some([1.0, 0.0, 0.0, 0.0].iter().map(|x| n(*x)).collect()))
        .top_k(3)
        .send()
        .await
        .expect("search");
    out.search_results()
        .iter()
        .map(|r| {
            let id = r
                .item()
                .and_then(|i| i.get("id"))
                .and_then(|v| v.as_s().ok())
                .cloned();
            (id.unwrap_or_default(), r.score())
        })
        .collect()
}

#[tokio::test]
async fn search_vectors_ranks_and_scores_by_each_distance_function() {
    let t = start().await;
    table(&t.client, "cos", VectorDistanceFunction::Cosine).await;
    let got = search(&t.client, "cos").await;
    let cos_e = 1.0 - 3.0f32 / (9.0f32 + 0.25).sqrt();
    assert_eq!(
        got,
        vec![
            ("a".into(), 0.0),
            ("e".into(), f64::from(cos_e)),
            ("c".into(), f64::from(1.0 - 1.0 / 2.0f32.sqrt()))
        ]
    );
    table(&t.client, "euc", VectorDistanceFunction::Euclidean).await;
    assert_eq!(
        search(&t.client, "euc").await,
        vec![
            ("a".into(), 0.0),
            ("c".into(), 1.0),
            ("b".into(), f64::from(2.0f32.sqrt()))
        ]
    );
    table(&t.client, "dot", VectorDistanceFunction::DotProduct).await;
    assert_eq!(
        search(&t.client, "dot").await,
        vec![("e".into(), 3.0), ("a".into(), 1.0), ("c".into(), 1.0)]
    );
    let d = t
        .client
        .describe_table()
        .table_name("dot")
        .send()
        .await
        .expect("describe");
    let v = &d.table().expect("table").vector_indexes()[0];
    assert_eq!(v.item_count(), Some(5));
    assert_eq!(v.index_status().map(|s| s.as_str()), Some("ACTIVE"));
    let err = t
        .client
        .search_vectors()
        .table_name("dot")
        .index_name("emb-index")
        .search_vector(n(1.0))
        .top_k(3)
        .send()
        .await
        .expect_err("dimension mismatch");
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Input search vector dimension 1 does not match vector index dimension 4")
    );
    let err = t
        .client
        .put_item()
        .table_name("dot")
        .item("id", s("z"))
        .item("emb", AttributeValue::L(vec![n(1.0)]))
        .send()
        .await
        .expect_err("wrong dimension");
    assert_eq!(err.code(), Some("ValidationException"));
}

/// Fixtures declare vector indexes and seed vectors in their CreateTable-shaped JSON; the
/// manual clock drives a bulk operation from the engine's local S3 directory.
#[tokio::test]
async fn fixtures_declare_vector_indexes_and_the_manual_clock_drives_bulk_loads() {
    let f = ddb_harness::Fixture::builder()
        .table_json(
            r#"{"TableName": "docs",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                         {"AttributeName": "lang", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "VectorIndexes": [{"IndexName": "emb-index",
                    "VectorAttribute": {"AttributeName": "emb"}, "Dimensions": 2,
                    "DistanceFunction": "EUCLIDEAN",
                    "SearchSchema": [{"AttributeName": "lang", "SearchSchemaElementType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}}]}"#,
        )
        .items_json(
            r#"{"docs": [
                {"id": {"S": "en-1"}, "lang": {"S": "en"}, "emb": {"L": [{"N": "0"}, {"N": "1"}]}},
                {"id": {"S": "en-2"}, "lang": {"S": "en"}, "emb": {"L": [{"N": "3"}, {"N": "4"}]}},
                {"id": {"S": "fr-1"}, "lang": {"S": "fr"}, "emb": {"L": [{"N": "0"}, {"N": "1"}]}}
            ]}"#,
        )
        .clock("2024-01-01T00:00:00Z")
        .build()
        .await
        .expect("fixture");
    let out = f
        .client()
        .search_vectors()
        .table_name("docs")
        .index_name("emb-index")
        .search_vector(n(0.0))
        .search_vector(n(0.0))
        .search_condition_expression("lang = :l")
        .expression_attribute_values(":l", s("en"))
        .top_k(5)
        .send()
        .await
        .expect("search");
    let got: Vec<(String, f64)> = out
        .search_results()
        .iter()
        .map(|r| {
            let item = r.item().expect("item");
            (item["id"].as_s().expect("id").clone(), r.score())
        })
        .collect();
    assert_eq!(
        got,
        vec![("en-1".to_string(), 1.0), ("en-2".to_string(), 5.0)]
    );

    // A bulk load of 3,000 items at 1,024 items per second of fixture time.
    let engine = f.engine();
    let ns = f.namespace();
    let s3 = engine.s3_dir().expect("engines have a local S3 directory");
    let lines: String = (0..3000)
        .map(|i| format!("{{\"Item\":{{\"id\":{{\"S\":\"b{i}\"}}}}}}\n"))
        .collect();
    s3.put("fixture-bucket", "load/items.json", lines.as_bytes())
        .expect("object");
    let arn = engine
        .start_bulk_put_items(
            &ns,
            serde_json::from_value(serde_json::json!({
                "TableName": "docs",
                "MaxWriteRequestUnits": 1024,
                "InputS3Configuration": {"S3Bucket": "fixture-bucket", "S3KeyPrefix": "load/",
                                         "InputFormat": "DYNAMODB_JSON"},
                "OutputS3Configuration": {"S3Bucket": "fixture-bucket", "OutputType": ["ERROR"]}
            }))
            .expect("input"),
        )
        .expect("start")
        .bulk_operation_description
        .bulk_operation_arn;
    let describe = || {
        engine
            .describe_bulk_operation(
                &ns,
                ddb_engine::BulkOperationArnInput {
                    bulk_operation_arn: arn.clone(),
                },
            )
            .expect("describe")
            .bulk_operation_description
    };
    f.advance(std::time::Duration::from_secs(2))
        .expect("advance");
    // Moving the clock wrote the items that became due; nothing had to ask first.
    assert_eq!(f.items("docs").expect("items").len(), 3 + 2048);
    let d = describe();
    assert_eq!(
        (d.bulk_operation_status.as_str(), d.processed_item_count),
        ("IN_PROGRESS", 2048)
    );
    f.advance(std::time::Duration::from_secs(1))
        .expect("advance");
    let d = describe();
    assert_eq!(
        (d.bulk_operation_status.as_str(), d.processed_item_count),
        ("COMPLETED", 3000)
    );
    assert_eq!(f.items("docs").expect("items").len(), 3003);
    let _ = std::fs::remove_dir_all(s3.root());
}
