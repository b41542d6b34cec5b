#[ddb_harness::ddb_test(sed = 1)]
async fn typo_in_seed() {}

fn main() {}
