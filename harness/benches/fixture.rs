//! Cost of one isolated test: build a fixture, create a table, put and get an item through the
//! in-process client. `cargo bench -p ddb-harness --bench fixture` prints the median and p90
//! over 1,000 fixtures; numbers compare builds on one machine, they are not guarantees.

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use ddb_harness::Fixture;

const TABLE: &str = r#"{"TableName":"users","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
    "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#;
const RUNS: usize = 1000;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut build = Vec::with_capacity(RUNS);
    let mut full = Vec::with_capacity(RUNS);
    runtime.block_on(async {
        for i in 0..RUNS {
            let start = Instant::now();
            let f = Fixture::builder()
                .seed(i as u64)
                .build()
                .await
                .expect("fixture");
            build.push(start.elapsed());
            let client = f.client();
            client
                .create_table()
                .set_attribute_definitions(None)
                .table_name("users")
                .send()
                .await
                .err(); // the real table comes from JSON below; this call measures an error round trip
            let (status, _) = f.router().call_json(
                "000000000000",
                "us-east-1",
                "CreateTable",
                &serde_json::from_str(TABLE).expect("json"),
            );
            assert_eq!(status, 200);
            client
                .put_item()
                .table_name("users")
                .item("id", AttributeValue::S("u1".into()))
                .send()
                .await
                .expect("put");
            let got = client
                .get_item()
                .table_name("users")
                .key("id", AttributeValue::S("u1".into()))
                .send()
                .await
                .expect("get");
            assert!(got.item().is_some());
            full.push(start.elapsed());
        }
    });
    let report = |name: &str, v: &mut Vec<std::time::Duration>| {
        v.sort();
        println!(
            "  {name:<44} median {:>8.1} µs   p90 {:>8.1} µs",
            v[v.len() / 2].as_secs_f64() * 1e6,
            v[v.len() * 9 / 10].as_secs_f64() * 1e6
        );
    };
    println!("fixture benchmark over {RUNS} fixtures");
    report("Fixture::builder().build()", &mut build);
    report("build + CreateTable + PutItem + GetItem", &mut full);
}
