#[ddb_harness::ddb_test(clock = "yesterday")]
async fn bad_clock() {}

fn main() {}
