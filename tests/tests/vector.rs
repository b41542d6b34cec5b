//! Vector indexes and SearchVectors end to end through aws-sdk-dynamodb over real HTTP: a
//! table with a 4-dimension vector index per distance function, items put through PutItem,
//! nearest items and scores from SearchVectors.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, VectorAttributeDefinition, VectorDistanceFunction,
    VectorIndex,
};
use ddb_tests::{s, start};

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
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
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
