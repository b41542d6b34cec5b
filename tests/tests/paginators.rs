//! aws-sdk-dynamodb paginators (`into_paginator().items()`) over secondary indexes: small pages
//! must add up to the complete result set, in index order for Query and as the same multiset
//! for Scan, whatever the page size, direction, filter or projection.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType,
};

const TABLE: &str = "pg_table";

type Row = HashMap<String, AttributeValue>;

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

/// One item of the fixture as plain values: (pk, sk, g, v, l), `g` and `l` absent for some.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Model {
    pk: String,
    sk: i64,
    g: Option<String>,
    v: i64,
    l: Option<String>,
}

/// 4 partitions of 15 items. `g` (2 values) is missing on every fifth item, `l` on every
/// fourth; `v` repeats, so GSI order needs the table key to break ties.
fn models() -> Vec<Model> {
    let mut out = Vec::new();
    for p in 0..4 {
        for sk in 0..15 {
            let i = p * 15 + sk;
            out.push(Model {
                pk: format!("p{p}"),
                sk,
                g: (i % 5 != 0).then(|| format!("g{}", i % 2)),
                v: (i * 7) % 11,
                l: (i % 4 != 0).then(|| format!("l{:02}", (i * 3) % 17)),
            });
        }
    }
    out
}

fn key_element(name: &str, ty: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(ty)
        .build()
        .expect("key")
}

fn definition(name: &str, ty: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .expect("def")
}

fn projection(ty: ProjectionType) -> Projection {
    Projection::builder().projection_type(ty).build()
}

/// A server with `pg_table` (pk S, sk N), GSIs `by_g` (g, v; ALL) and `by_g_keys` (g;
/// KEYS_ONLY), LSI `by_l` (pk, l; KEYS_ONLY), holding [`models`].
async fn setup() -> ddb_tests::TestServer {
    let server = ddb_tests::start().await;
    let c = &server.client;
    c.create_table()
        .table_name(TABLE)
        .attribute_definitions(definition("pk", ScalarAttributeType::S))
        .attribute_definitions(definition("sk", ScalarAttributeType::N))
        .attribute_definitions(definition("g", ScalarAttributeType::S))
        .attribute_definitions(definition("v", ScalarAttributeType::N))
        .attribute_definitions(definition("l", ScalarAttributeType::S))
        .key_schema(key_element("pk", KeyType::Hash))
        .key_schema(key_element("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_g")
                .key_schema(key_element("g", KeyType::Hash))
                .key_schema(key_element("v", KeyType::Range))
                .projection(projection(ProjectionType::All))
                .build()
                .expect("gsi"),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_g_keys")
                .key_schema(key_element("g", KeyType::Hash))
                .projection(projection(ProjectionType::KeysOnly))
                .build()
                .expect("gsi"),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by_l")
                .key_schema(key_element("pk", KeyType::Hash))
                .key_schema(key_element("l", KeyType::Range))
                .projection(projection(ProjectionType::KeysOnly))
                .build()
                .expect("lsi"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    for m in models() {
        let mut put = c
            .put_item()
            .table_name(TABLE)
            .item("pk", s(&m.pk))
            .item("sk", n(m.sk))
            .item("v", n(m.v))
            .item("pad", s(&"x".repeat(50)));
        if let Some(g) = &m.g {
            put = put.item("g", s(g));
        }
        if let Some(l) = &m.l {
            put = put.item("l", s(l));
        }
        put.send().await.expect("put");
    }
    server
}

/// The table key of a returned item, for comparing with [`Model`]s.
fn key_of(row: &Row) -> (String, i64) {
    let pk = match row.get("pk") {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("pk: {other:?}"),
    };
    let sk = match row.get("sk") {
        Some(AttributeValue::N(v)) => v.parse().expect("sk"),
        other => panic!("sk: {other:?}"),
    };
    (pk, sk)
}

fn keys(models: &[&Model]) -> Vec<(String, i64)> {
    models.iter().map(|m| (m.pk.clone(), m.sk)).collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Runs a Query on `index` for `g` with the page size `limit`, forward or backward.
async fn query_g(
    server: &ddb_tests::TestServer,
    index: &str,
    g: &str,
    limit: i32,
    forward: bool,
) -> Vec<Row> {
    server
        .client
        .query()
        .table_name(TABLE)
        .index_name(index)
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s(g))
        .scan_index_forward(forward)
        .limit(limit)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("query pages")
}

#[tokio::test]
async fn gsi_query_pages_add_up_in_index_order_both_ways() {
    let server = setup().await;
    let all = models();
    for g in ["g0", "g1"] {
        let mut expect: Vec<&Model> = all.iter().filter(|m| m.g.as_deref() == Some(g)).collect();
        // GSI order: v, then the table key breaks ties.
        expect.sort_by(|a, b| (a.v, &a.pk, a.sk).cmp(&(b.v, &b.pk, b.sk)));
        for limit in [1, 3, 4, 100] {
            let forward = query_g(&server, "by_g", g, limit, true).await;
            assert_eq!(
                forward.iter().map(key_of).collect::<Vec<_>>(),
                keys(&expect),
                "{g} limit {limit}"
            );
            let backward = query_g(&server, "by_g", g, limit, false).await;
            let mut reversed = keys(&expect);
            reversed.reverse();
            assert_eq!(backward.iter().map(key_of).collect::<Vec<_>>(), reversed);
        }
    }
}

#[tokio::test]
async fn keys_only_gsi_pages_hold_only_keys() {
    let server = setup().await;
    let rows = query_g(&server, "by_g_keys", "g1", 2, true).await;
    let all = models();
    let expect: Vec<&Model> = all
        .iter()
        .filter(|m| m.g.as_deref() == Some("g1"))
        .collect();
    assert_eq!(
        sorted(rows.iter().map(key_of).collect()),
        sorted(keys(&expect))
    );
    for row in &rows {
        let mut names: Vec<&str> = row.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["g", "pk", "sk"]);
    }
}

#[tokio::test]
async fn filtered_gsi_query_pages_skip_empty_pages() {
    let server = setup().await;
    let rows: Vec<Row> = server
        .client
        .query()
        .table_name(TABLE)
        .index_name("by_g")
        .key_condition_expression("g = :g AND v >= :v")
        .filter_expression("attribute_exists(l) AND sk < :sk")
        .projection_expression("pk, sk, v")
        .expression_attribute_values(":g", s("g0"))
        .expression_attribute_values(":v", n(3))
        .expression_attribute_values(":sk", n(7))
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("query pages");
    let all = models();
    let mut expect: Vec<&Model> = all
        .iter()
        .filter(|m| m.g.as_deref() == Some("g0") && m.v >= 3 && m.l.is_some() && m.sk < 7)
        .collect();
    expect.sort_by(|a, b| (a.v, &a.pk, a.sk).cmp(&(b.v, &b.pk, b.sk)));
    assert!(!expect.is_empty());
    assert_eq!(rows.iter().map(key_of).collect::<Vec<_>>(), keys(&expect));
    assert!(rows.iter().all(|r| r.len() == 3), "projection: {rows:?}");
}

/// Regression: `BETWEEN` on an index sort key dropped the entries equal to the upper bound,
/// because an index key continues with the table's key past the sort key.
#[tokio::test]
async fn lsi_query_pages_follow_the_local_sort_key() {
    let server = setup().await;
    let all = models();
    for pk in ["p0", "p3"] {
        for forward in [true, false] {
            let rows: Vec<Row> = server
                .client
                .query()
                .table_name(TABLE)
                .index_name("by_l")
                .key_condition_expression("pk = :p AND l BETWEEN :a AND :b")
                .expression_attribute_values(":p", s(pk))
                .expression_attribute_values(":a", s("l03"))
                .expression_attribute_values(":b", s("l14"))
                .scan_index_forward(forward)
                .limit(2)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .expect("query pages");
            let mut expect: Vec<&Model> = all
                .iter()
                .filter(|m| {
                    m.pk == pk && m.l.as_deref().is_some_and(|l| ("l03"..="l14").contains(&l))
                })
                .collect();
            expect.sort_by(|a, b| (&a.l, a.sk).cmp(&(&b.l, b.sk)));
            if !forward {
                expect.reverse();
            }
            assert_eq!(rows.iter().map(key_of).collect::<Vec<_>>(), keys(&expect));
        }
    }
}

/// Scans `index` with pages of `limit` items; `segments` > 1 runs a parallel scan, segment by
/// segment.
async fn scan_index(
    server: &ddb_tests::TestServer,
    index: &str,
    limit: i32,
    segments: i32,
) -> Vec<Row> {
    let mut out = Vec::new();
    for segment in 0..segments {
        let mut scan = server
            .client
            .scan()
            .table_name(TABLE)
            .index_name(index)
            .limit(limit);
        if segments > 1 {
            scan = scan.segment(segment).total_segments(segments);
        }
        let rows: Vec<Row> = scan
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("scan pages");
        out.extend(rows);
    }
    out
}

#[tokio::test]
async fn index_scan_pages_cover_every_entry_once() {
    let server = setup().await;
    let all = models();
    let with_g = keys(&all.iter().filter(|m| m.g.is_some()).collect::<Vec<_>>());
    let with_l = keys(&all.iter().filter(|m| m.l.is_some()).collect::<Vec<_>>());
    for (index, expect) in [("by_g", &with_g), ("by_g_keys", &with_g), ("by_l", &with_l)] {
        for (limit, segments) in [(1, 1), (7, 1), (5, 3)] {
            let rows = scan_index(&server, index, limit, segments).await;
            assert_eq!(
                sorted(rows.iter().map(key_of).collect()),
                sorted(expect.clone()),
                "{index} limit {limit} segments {segments}"
            );
        }
    }
}

/// The write-side metrics of the same table parse in the SDK: index units under
/// `GlobalSecondaryIndexes`/`LocalSecondaryIndexes`, and `ItemCollectionMetrics` for the LSI.
#[tokio::test]
async fn writes_report_index_capacity_and_item_collection_metrics() {
    use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnItemCollectionMetrics};
    let server = setup().await;
    let out = server
        .client
        .put_item()
        .table_name(TABLE)
        .item("pk", s("p0"))
        .item("sk", n(99))
        .item("g", s("g1"))
        .item("v", n(1))
        .item("l", s("l99"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .return_item_collection_metrics(ReturnItemCollectionMetrics::Size)
        .send()
        .await
        .expect("put");
    let capacity = out.consumed_capacity().expect("capacity");
    assert_eq!(capacity.capacity_units(), Some(4.0));
    assert_eq!(capacity.table().and_then(|t| t.capacity_units()), Some(1.0));
    let gsis = capacity.global_secondary_indexes().expect("gsis");
    assert_eq!(gsis.len(), 2);
    assert!(gsis.values().all(|c| c.capacity_units() == Some(1.0)));
    let lsis = capacity.local_secondary_indexes().expect("lsis");
    assert_eq!(lsis.get("by_l").and_then(|c| c.capacity_units()), Some(1.0));
    let metrics = out.item_collection_metrics().expect("metrics");
    assert_eq!(metrics.size_estimate_range_gb(), [0.0, 1.0]);
    assert_eq!(
        metrics.item_collection_key().and_then(|k| k.get("pk")),
        Some(&s("p0"))
    );
}
