#[ddb_harness::ddb_test]
fn not_async(_f: ddb_harness::Fixture) {}

fn main() {}
