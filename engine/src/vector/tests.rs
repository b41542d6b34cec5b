//! Vector index and SearchVectors tests through the engine's typed API.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn engine() -> (Engine, Namespace) {
    (Engine::in_memory().expect("engine"), Namespace::default())
}

fn create(engine: &Engine, ns: &Namespace, body: serde_json::Value) -> Result<()> {
    engine
        .create_table(ns, serde_json::from_value(body).expect("input"))
        .map(|_| ())
}

fn table(function: &str, dims: i64) -> serde_json::Value {
    json!({
        "TableName": "docs",
        "AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "tenant", "AttributeType": "S"},
            {"AttributeName": "kind", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "VectorIndexes": [{
            "IndexName": "vix",
            "VectorAttribute": {"AttributeName": "emb"},
            "Dimensions": dims,
            "DistanceFunction": function,
            "SearchSchema": [
                {"AttributeName": "tenant", "SearchSchemaElementType": "HASH"},
                {"AttributeName": "kind", "SearchSchemaElementType": "INLINE_FILTER"}
            ],
            "Projection": {"ProjectionType": "ALL"}
        }]
    })
}

fn vector(v: &[f32]) -> serde_json::Value {
    json!({"L": v.iter().map(|x| json!({"N": x.to_string()})).collect::<Vec<_>>()})
}

fn put(engine: &Engine, ns: &Namespace, item: serde_json::Value) -> Result<()> {
    engine
        .put_item(
            ns,
            serde_json::from_value(json!({"TableName": "docs", "Item": item})).expect("input"),
        )
        .map(|_| ())
}

fn search(engine: &Engine, ns: &Namespace, body: serde_json::Value) -> Result<SearchVectorsOutput> {
    let mut b = json!({"TableName": "docs", "IndexName": "vix", "TopK": 3,
        "SearchConditionExpression": "tenant = :t",
        "ExpressionAttributeValues": {":t": {"S": "a"}}});
    if let (Some(base), Some(extra)) = (b.as_object_mut(), body.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    engine.search_vectors(ns, serde_json::from_value(b).expect("input"))
}

fn ids(out: &SearchVectorsOutput) -> Vec<String> {
    out.search_results
        .iter()
        .map(|r| match r.item.get("id") {
            Some(AttributeValue::S(s)) => s.clone(),
            other => panic!("id {other:?}"),
        })
        .collect()
}

fn seeded(function: &str) -> (Engine, Namespace) {
    let (e, ns) = engine();
    create(&e, &ns, table(function, 2)).expect("create");
    for (id, v, kind) in [
        ("p1", [1.0, 0.0], "x"),
        ("p2", [0.0, 1.0], "y"),
        ("p3", [-1.0, 0.0], "x"),
        ("p4", [2.0, 0.1], "y"),
    ] {
        put(
            &e,
            &ns,
            json!({"id": {"S": id}, "tenant": {"S": "a"}, "kind": {"S": kind}, "emb": vector(&v)}),
        )
        .expect("put");
    }
    put(
        &e,
        &ns,
        json!({"id": {"S": "other"}, "tenant": {"S": "b"}, "emb": vector(&[1.0, 0.0])}),
    )
    .expect("put");
    put(
        &e,
        &ns,
        json!({"id": {"S": "novector"}, "tenant": {"S": "a"}}),
    )
    .expect("put");
    (e, ns)
}

#[test]
fn each_distance_function_ranks_and_scores_as_documented() {
    let q = json!({"SearchVector": [{"N": "1"}, {"N": "0"}]});
    let (e, ns) = seeded("COSINE");
    let out = search(&e, &ns, q.clone()).expect("search");
    assert_eq!(ids(&out), ["p1", "p4", "p2"]);
    assert_eq!(out.search_results[0].score, 0.0);
    assert_eq!(out.search_results[2].score, 1.0);

    let (e, ns) = seeded("EUCLIDEAN");
    let out = search(&e, &ns, q.clone()).expect("search");
    assert_eq!(ids(&out), ["p1", "p4", "p2"]);
    assert_eq!(
        out.search_results[1].score,
        f64::from((1.0f32 + 0.01).sqrt())
    );

    let (e, ns) = seeded("DOT_PRODUCT");
    let out = search(&e, &ns, q).expect("search");
    assert_eq!(ids(&out), ["p4", "p1", "p2"]);
    assert_eq!(out.search_results[0].score, 2.0);
}

#[test]
fn inline_filters_narrow_and_the_vector_returns_only_when_projected() {
    let (e, ns) = seeded("EUCLIDEAN");
    let out = search(
        &e,
        &ns,
        json!({"SearchVector": [{"N": "1"}, {"N": "0"}],
               "SearchConditionExpression": "tenant = :t AND #k = :k",
               "ExpressionAttributeNames": {"#k": "kind"},
               "ExpressionAttributeValues": {":t": {"S": "a"}, ":k": {"S": "x"}}}),
    )
    .expect("search");
    assert_eq!(ids(&out), ["p1", "p3"]);
    assert!(!out.search_results[0].item.contains_key("emb"));
    let out = search(
        &e,
        &ns,
        json!({"SearchVector": [{"N": "1"}, {"N": "0"}], "ProjectionExpression": "id, emb", "TopK": 1}),
    )
    .expect("search");
    assert_eq!(
        serde_json::to_value(&out.search_results[0].item).expect("json"),
        json!({"emb": {"L": [{"N": "1"}, {"N": "0"}]}, "id": {"S": "p1"}})
    );
}

#[track_caller]
fn rejects(body: serde_json::Value, message: &str) {
    let (e, ns) = seeded("COSINE");
    match search(&e, &ns, body) {
        Err(Error::Validation(m)) => assert_eq!(m, message),
        other => panic!("expected {message:?}, got {other:?}"),
    }
}

#[test]
fn search_validation_errors() {
    let v = json!([{"N": "1"}, {"N": "0"}]);
    rejects(
        json!({"SearchVector": v, "TopK": 101}),
        "Provided TopK value '101' is out of valid range. The value must be between 1 and 100 inclusive",
    );
    rejects(
        json!({"SearchVector": [{"N": "1"}]}),
        "Input search vector dimension 1 does not match vector index dimension 2",
    );
    rejects(
        json!({"SearchVector": v, "IndexName": "nope"}),
        "The table does not have the specified index: nope",
    );
    rejects(
        json!({"SearchVector": [{"S": "1"}, {"N": "0"}]}),
        "Search vector contains invalid values. All values in the search vector must be a 32-bit floating-point number attribute",
    );
    rejects(
        json!({"SearchVector": v, "SearchConditionExpression": "kind = :t"}),
        "SearchConditionExpression must be provided when SearchSchema has a HASH key",
    );
    rejects(
        json!({"SearchVector": v, "SearchConditionExpression": "tenant > :t"}),
        INVALID_COMPARATOR,
    );
    rejects(
        json!({"SearchVector": v, "SearchConditionExpression": "tenant = :t OR kind = :t"}),
        INVALID_COMPARATOR,
    );
    rejects(
        json!({"SearchVector": v, "SearchConditionExpression": "tenant = :t AND id = :t"}),
        "SearchConditionExpression must not contain any attributes that is not in SearchSchema. Invalid attribute: id",
    );
}

#[test]
fn writes_with_malformed_vectors_are_rejected_and_unindexed_items_are_skipped() {
    let (e, ns) = seeded("COSINE");
    let bad = |emb: serde_json::Value| {
        put(
            &e,
            &ns,
            json!({"id": {"S": "z"}, "tenant": {"S": "a"}, "emb": emb}),
        )
    };
    let err = bad(vector(&[1.0, 2.0, 3.0])).expect_err("three dims");
    assert!(
        err.to_string()
            .contains("Invalid size for parameter emb, Expected: 2, Actual: 3")
    );
    let err = bad(json!({"S": "x"})).expect_err("string");
    assert!(err.to_string().contains("Invalid type for parameter emb"));
    let err = bad(json!({"L": [{"N": "1"}, {"S": "x"}]})).expect_err("element");
    assert!(err.to_string().contains("emb[1]"));
    let err = bad(json!({"L": [{"N": "1"}, {"N": "1E+100"}]})).expect_err("range");
    assert!(err.to_string().contains("emb[1]"));
    // The rejected writes left nothing behind; the item without a vector is not indexed.
    let d = e
        .describe_table(
            &ns,
            serde_json::from_value(json!({"TableName": "docs"})).expect("in"),
        )
        .expect("describe");
    let v = &d.table.vector_indexes.expect("vector indexes")[0];
    assert_eq!(v.item_count, 5);
    assert_eq!(v.index_status, "ACTIVE");
    assert_eq!(
        v.index_arn,
        "arn:aws:dynamodb:us-east-1:000000000000:table/docs/index/vix"
    );
}

#[test]
fn update_table_backfills_a_new_index_and_deletes_one() {
    let (e, ns) = seeded("COSINE");
    let update =
        |body: serde_json::Value| e.update_table(&ns, serde_json::from_value(body).expect("input"));
    let out = update(
        json!({"TableName": "docs", "VectorIndexUpdates": [{"Create": {
        "IndexName": "flat", "VectorAttribute": {"AttributeName": "emb"}, "Dimensions": 2,
        "DistanceFunction": "EUCLIDEAN", "Projection": {"ProjectionType": "KEYS_ONLY"}}}]}),
    )
    .expect("create");
    let list = out.table_description.vector_indexes.expect("listed");
    let flat = list.iter().find(|v| v.index_name == "flat").expect("flat");
    assert_eq!(flat.index_status, "CREATING");
    assert_eq!(flat.item_count, 5);
    let out = search(
        &e,
        &ns,
        json!({"IndexName": "flat", "SearchVector": [{"N": "0"}, {"N": "1"}], "TopK": 1,
               "SearchConditionExpression": null, "ExpressionAttributeValues": null}),
    )
    .expect("search");
    assert_eq!(ids(&out), ["p2"]);
    assert_eq!(
        out.search_results[0].item.len(),
        1,
        "KEYS_ONLY keeps the key"
    );
    let err = update(
        json!({"TableName": "docs", "VectorIndexUpdates": [{"Create": {
        "IndexName": "other", "VectorAttribute": {"AttributeName": "emb"}, "Dimensions": 3,
        "DistanceFunction": "EUCLIDEAN", "Projection": {"ProjectionType": "ALL"}}}]}),
    )
    .expect_err("dimension conflict");
    assert!(err.to_string().contains("same Dimensions"));
    let out = update(
        json!({"TableName": "docs", "VectorIndexUpdates": [{"Delete": {"IndexName": "vix"}}]}),
    )
    .expect("delete");
    let list = out.table_description.vector_indexes.expect("listed");
    assert!(
        list.iter()
            .any(|v| v.index_name == "vix" && v.index_status == "DELETING")
    );
    rejects_on(&e, &ns, "The table does not have the specified index: vix");
    let err = update(json!({"TableName": "docs", "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}))
    .expect_err("on-demand only");
    assert!(err.to_string().contains("PAY_PER_REQUEST"));
}

fn rejects_on(e: &Engine, ns: &Namespace, message: &str) {
    match search(e, ns, json!({"SearchVector": [{"N": "1"}, {"N": "0"}]})) {
        Err(Error::Validation(m)) => assert_eq!(m, message),
        other => panic!("expected {message:?}, got {other:?}"),
    }
}

#[test]
fn create_table_checks_vector_index_definitions() {
    let (e, ns) = engine();
    let mut t = table("COSINE", 2);
    t["BillingMode"] = json!("PROVISIONED");
    t["ProvisionedThroughput"] = json!({"ReadCapacityUnits": 1, "WriteCapacityUnits": 1});
    assert!(
        create(&e, &ns, t)
            .expect_err("provisioned")
            .to_string()
            .contains("PAY_PER_REQUEST")
    );
    let mut t = table("COSINE", 4097);
    assert!(
        create(&e, &ns, t.clone())
            .expect_err("dims")
            .to_string()
            .contains("between 1 and 4096")
    );
    t = table("COSINE", 2);
    t["AttributeDefinitions"] = json!([{"AttributeName": "id", "AttributeType": "S"}]);
    assert_eq!(
        create(&e, &ns, t)
            .expect_err("undefined schema")
            .to_string(),
        "One element in SearchSchema is not defined in attribute definitions"
    );
    let mut t = table("COSINE", 2);
    t["VectorIndexes"][0]["VectorAttribute"]["AttributeName"] = json!("id");
    assert!(create(&e, &ns, t).is_err());
    create(&e, &ns, table("COSINE", 2)).expect("valid");
}

fn brute_force(
    f: DistanceFunction,
    q: &[f32],
    items: &[(String, Vec<f32>)],
    k: usize,
) -> Vec<(String, f32)> {
    let mut scored: Vec<(String, f32)> = items
        .iter()
        .map(|(id, v)| {
            let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
            let s = match f {
                DistanceFunction::DotProduct => dot(q, v),
                DistanceFunction::Euclidean => q
                    .iter()
                    .zip(v)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    .sqrt(),
                DistanceFunction::Cosine => {
                    let d = dot(q, q).sqrt() * dot(v, v).sqrt();
                    if d == 0.0 { 1.0 } else { 1.0 - dot(q, v) / d }
                }
            };
            (id.clone(), s)
        })
        .collect();
    // Best first; equal scores in key order (ids are the keys; S keys sort bytewise).
    scored.sort_by(|a, b| {
        let (x, y) = match f {
            DistanceFunction::DotProduct => (-a.1, -b.1),
            _ => (a.1, b.1),
        };
        x.total_cmp(&y).then_with(|| a.0.cmp(&b.0))
    });
    scored.truncate(k);
    scored
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// SearchVectors returns exactly the brute-force ranking: ids and scores, ties by key,
    /// with and without an INLINE_FILTER equality condition.
    #[test]
    fn search_equals_brute_force_ranking(
        f in prop_oneof![Just("COSINE"), Just("EUCLIDEAN"), Just("DOT_PRODUCT")],
        vectors in prop::collection::vec((prop::collection::vec(-24i8..=24, 3), 0u8..3), 1..40),
        q in prop::collection::vec(-24i8..=24, 3),
        filter in prop::option::of(0u8..3),
        k in 1usize..12,
    ) {
        let (e, ns) = engine();
        let mut t = table(f, 3);
        t["VectorIndexes"][0]["SearchSchema"] =
            json!([{"AttributeName": "kind", "SearchSchemaElementType": "INLINE_FILTER"}]);
        t["AttributeDefinitions"] = json!([{"AttributeName": "id", "AttributeType": "S"},
                                           {"AttributeName": "kind", "AttributeType": "S"}]);
        create(&e, &ns, t).expect("create");
        let mut items = Vec::new();
        for (i, (v, kind)) in vectors.iter().enumerate() {
            let v: Vec<f32> = v.iter().map(|x| f32::from(*x) / 8.0).collect();
            let id = format!("k{i:03}");
            put(&e, &ns, json!({"id": {"S": id}, "kind": {"S": format!("c{kind}")}, "emb": vector(&v)}))
                .expect("put");
            if filter.is_none_or(|want| want == *kind) {
                items.push((id, v));
            }
        }
        let qf: Vec<f32> = q.iter().map(|x| f32::from(*x) / 8.0).collect();
        let mut body = json!({
            "TableName": "docs", "IndexName": "vix", "TopK": k,
            "SearchVector": qf.iter().map(|x| json!({"N": x.to_string()})).collect::<Vec<_>>()
        });
        if let Some(want) = filter {
            body["SearchConditionExpression"] = json!("kind = :k");
            body["ExpressionAttributeValues"] = json!({":k": {"S": format!("c{want}")}});
        }
        let out = e
            .search_vectors(&ns, serde_json::from_value(body).expect("input"))
            .expect("search");
        let function: DistanceFunction = serde_json::from_value(json!(f)).expect("function");
        let expected = brute_force(function, &qf, &items, k);
        let got: Vec<(String, f32)> = ids(&out)
            .into_iter()
            .zip(out.search_results.iter().map(|r| r.score as f32))
            .collect();
        prop_assert_eq!(got, expected);
    }
}
