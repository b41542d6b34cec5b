#[ddb_harness::ddb_test]
async fn wrong_argument_type(_port: u16) {}

fn main() {}
