//! A thousand `#[ddb_test]` tests, each with its own fixture: no shared state and no port
//! conflicts however they are scheduled (`cargo test` threads, `cargo nextest` processes), and
//! the same tests against an endpoint (`DDB_TEST_TARGET=http://…`), where the ones that need
//! the manual clock skip with a message.

use aws_sdk_dynamodb::types::AttributeValue;
use ddb_harness::Fixture;

/// Writes one item named after the test, reads it back, and sees nothing else in the table.
async fn own_table_only(f: Fixture, test: &str) {
    let table = f.table("users");
    let client = f.client();
    client
        .put_item()
        .table_name(&table)
        .item("id", AttributeValue::S(test.into()))
        .condition_expression("attribute_not_exists(id)")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{test}: put: {e:?}"));
    let scan = client
        .scan()
        .table_name(&table)
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{test}: scan: {e:?}"));
    let ids: Vec<_> = scan
        .items()
        .iter()
        .filter_map(|i| i.get("id")?.as_s().ok())
        .collect();
    assert_eq!(ids, [test], "{test} sees another test's items");
}

/// Ten tests; the first of them uses the manual clock (skipped on endpoint targets).
macro_rules! ten_tests {
    () => {
        #[ddb_test(tables = "fixtures/users.json", clock = "2024-01-01T00:00:00Z")]
        async fn t0(f: Fixture) {
            let clock = f.clock().expect("the in-memory target has a manual clock");
            clock.advance(std::time::Duration::from_secs(1));
            crate::own_table_only(f, concat!(module_path!(), "::t0")).await;
        }
        ten_tests!(@plain t1 t2 t3 t4 t5 t6 t7 t8 t9);
    };
    (@plain $($t:ident)*) => {
        $(
            #[ddb_test(tables = "fixtures/users.json")]
            async fn $t(f: Fixture) {
                crate::own_table_only(f, concat!(module_path!(), "::", stringify!($t))).await;
            }
        )*
    };
}

/// Ten modules of `$inner!()`.
macro_rules! ten_modules {
    ($inner:ident) => {
        ten_modules!(@mods $inner m0 m1 m2 m3 m4 m5 m6 m7 m8 m9);
    };
    (@mods $inner:ident $($m:ident)*) => {
        $(
            mod $m {
                #[allow(unused_imports)]
                use ddb_harness::{Fixture, ddb_test};
                $inner!();
            }
        )*
    };
}

macro_rules! hundred_tests {
    () => {
        ten_modules!(ten_tests);
    };
}

ten_modules!(hundred_tests);
