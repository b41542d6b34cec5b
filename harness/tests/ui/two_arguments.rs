use ddb_harness::Fixture;

#[ddb_harness::ddb_test]
async fn two_arguments(_a: Fixture, _b: Fixture) {}

fn main() {}
