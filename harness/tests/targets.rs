//! Fixtures on an endpoint target: prefixed tables on a real server, cleanup when the last
//! clone drops, and tests that skip what an endpoint cannot provide.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use ddb_harness::{
    DynamoDbEvent, Fault, FaultRule, Fixture, FixtureError, Router, StreamHandlerConfig,
    StreamHandlerError, Target, Trigger, ddb_test,
};

const USERS: &str = include_str!("fixtures/users_tables.json");
const USERS_ITEMS: &str = include_str!("fixtures/users_items.json");

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// One ddb-harness server for this test binary, on its own thread and runtime, so that it
/// outlives every test's runtime (fixture cleanup runs after a test's runtime is gone).
fn server() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let engine = Arc::new(ddb_harness::engine::Engine::builder().build().unwrap());
                let handle = ddb_harness::bind(([127, 0, 0, 1], 0).into(), Router::new(engine))
                    .await
                    .unwrap();
                tx.send(handle.endpoint()).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    })
}

fn endpoint() -> Target {
    Target::Endpoint(server().to_string())
}

async fn table_names(client: &Client) -> Vec<String> {
    client
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names()
        .to_vec()
}

#[test]
fn targets_parse() {
    assert_eq!(Target::parse("memory").unwrap(), Target::Memory);
    assert_eq!(Target::parse("").unwrap(), Target::Memory);
    assert_eq!(Target::parse("AWS").unwrap(), Target::Aws);
    assert_eq!(
        Target::parse("http://127.0.0.1:8000/").unwrap(),
        Target::Endpoint("http://127.0.0.1:8000".into())
    );
    assert!(matches!(
        Target::parse("https://dynamodb.us-east-1.amazonaws.com"),
        Err(FixtureError::Definition(_))
    ));
    assert!(matches!(
        Target::parse("mem"),
        Err(FixtureError::Definition(_))
    ));
}

#[tokio::test]
async fn endpoint_fixtures_create_prefixed_tables_and_seed_them() {
    let f = Fixture::builder()
        .target(endpoint())
        .name("targets::seed")
        .table_json(USERS)
        .items_json(USERS_ITEMS)
        .build()
        .await
        .unwrap();
    let users = f.table("users");
    assert!(users.starts_with("targets.seed-"), "{users}");
    assert!(users.ends_with("-users"), "{users}");
    assert_eq!(f.target(), endpoint());
    assert_eq!(f.endpoint().await.unwrap(), server());
    assert!(table_names(f.client()).await.contains(&users));
    let out = f
        .client()
        .get_item()
        .table_name(&users)
        .key("id", s("u1"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.item().unwrap()["name"], s("Ada"));
}

#[tokio::test]
async fn fixtures_on_one_endpoint_do_not_see_each_other() {
    let build = || {
        Fixture::builder()
            .target(endpoint())
            .table_json(USERS)
            .build()
    };
    let (a, b) = (build().await.unwrap(), build().await.unwrap());
    assert_ne!(a.table("users"), b.table("users"));
    a.client()
        .put_item()
        .table_name(a.table("users"))
        .item("id", s("only-in-a"))
        .send()
        .await
        .unwrap();
    let count = |f: Fixture| async move {
        f.client()
            .scan()
            .table_name(f.table("users"))
            .send()
            .await
            .unwrap()
            .count()
    };
    assert_eq!(count(a.clone()).await, 1);
    assert_eq!(count(b.clone()).await, 0);
}

#[tokio::test]
async fn tables_are_deleted_when_the_last_clone_drops() {
    let f = Fixture::builder()
        .target(endpoint())
        .table_json(USERS)
        .build()
        .await
        .unwrap();
    let observer = ddb_harness::Fixture::builder()
        .target(endpoint())
        .build()
        .await
        .unwrap();
    let users = f.table("users");
    let clone = f.clone();
    drop(f);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(table_names(observer.client()).await.contains(&users));
    drop(clone);
    let deadline = Instant::now() + Duration::from_secs(10);
    while table_names(observer.client()).await.contains(&users) {
        assert!(Instant::now() < deadline, "{users} was not deleted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn local_only_features_are_refused_or_reported_on_endpoints() {
    let err = Fixture::builder()
        .target(endpoint())
        .clock("2024-01-01T00:00:00Z")
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FixtureError::Unsupported { feature, .. } if feature == "a manual clock"),
        "{err}"
    );
    let err = Fixture::builder()
        .target(endpoint())
        .fault(FaultRule::new(Trigger::NthCall(1), Fault::Throttling))
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, FixtureError::Unsupported { .. }), "{err}");

    let f = Fixture::builder()
        .target(endpoint())
        .table_json(USERS)
        .build()
        .await
        .unwrap();
    assert!(f.skip_unless_local("engine inspection"));
    assert!(f.clock().is_none());
    assert!(matches!(
        f.on_stream(
            "users",
            StreamHandlerConfig::default(),
            |_: DynamoDbEvent| { Ok::<(), String>(()) }
        ),
        Err(StreamHandlerError::NotLocal)
    ));
    assert!(matches!(
        f.drain_streams().await,
        Err(StreamHandlerError::NotLocal)
    ));
    let memory = Fixture::builder()
        .target(Target::Memory)
        .build()
        .await
        .unwrap();
    assert!(!memory.skip_unless_local("engine inspection"));
    assert_eq!(memory.table("users"), "users");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_connect_error() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Fixture::builder()
        .target(Target::Endpoint(format!("http://127.0.0.1:{port}")))
        .table_json(USERS)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, FixtureError::Connect { .. }), "{err}");
}

// Probes run by `ddb_test_follows_ddb_test_target` in a child process with DDB_TEST_TARGET set;
// in this process (target `memory`) they pass as ordinary tests.

#[ddb_test(
    tables = "tests/fixtures/users_tables.json",
    items = "tests/fixtures/users_items.json"
)]
async fn probe_seeded_table(f: Fixture) {
    let out = f
        .client()
        .get_item()
        .table_name(f.table("users"))
        .key("id", s("u2"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.item().unwrap()["name"], s("Grace"));
    println!("probe ran against {:?} as {}", f.target(), f.table("users"));
}

#[ddb_test(clock = "2024-01-01T00:00:00Z")]
async fn probe_needs_clock(f: Fixture) {
    assert!(f.clock().is_some(), "a clock test ran without its clock");
}

#[ddb_test]
async fn probe_needs_engine(f: Fixture) {
    if f.skip_unless_local("engine inspection") {
        return;
    }
    assert!(f.dump().is_ok());
}

#[test]
fn ddb_test_follows_ddb_test_target() {
    if std::env::var_os(ddb_harness::TARGET_ENV).is_some() {
        return; // Already the child (or the whole run targets an endpoint).
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["probe_", "--nocapture", "--test-threads", "1"])
        .env(ddb_harness::TARGET_ENV, server())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 passed"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "probe ran against Endpoint(\"{}\") as targets.probe_seeded_table-",
            server()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "test targets::probe_needs_clock skipped: `clock` needs the in-memory target, and DDB_TEST_TARGET is {}",
            server()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "skipped: engine inspection needs the in-memory target, and DDB_TEST_TARGET is {}",
            server()
        )),
        "{stdout}"
    );
}

/// `DDB_TEST_TARGET=aws` signs every request (setup, the test's client, teardown) with the
/// configured credentials: checked against a server that verifies SigV4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_target_signs_setup_client_and_teardown() {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use ddb_harness::protocol::CredentialStore;

    let engine = Arc::new(ddb_harness::engine::Engine::builder().build().unwrap());
    let router = Router::new(engine)
        .with_credentials(CredentialStore::new().with("AKIDFIXTURETEST", "right-secret"));
    let server = ddb_harness::bind(([127, 0, 0, 1], 0).into(), router)
        .await
        .unwrap();
    let config = |secret: &str| {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDFIXTURETEST",
                secret,
                None,
                None,
                "test",
            )))
            .endpoint_url(server.endpoint())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build()
    };
    let f = Fixture::builder()
        .target(Target::Aws)
        .aws_config(config("right-secret"))
        .name("targets::aws")
        .table_json(USERS)
        .items_json(USERS_ITEMS)
        .build()
        .await
        .unwrap();
    assert_eq!(f.target(), Target::Aws);
    assert_eq!(f.endpoint().await.unwrap(), server.endpoint());
    let users = f.table("users");
    assert!(users.starts_with("targets.aws-"), "{users}");
    let out = f
        .client()
        .get_item()
        .table_name(&users)
        .key("id", s("u1"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.item().unwrap()["name"], s("Ada"));
    let lister = aws_sdk_dynamodb::Client::new(&config("right-secret"));
    assert_eq!(table_names(&lister).await, std::slice::from_ref(&users));
    drop(f);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !table_names(&lister).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the fixture's tables were not deleted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let wrong = Fixture::builder()
        .target(Target::Aws)
        .aws_config(config("wrong-secret"))
        .table_json(USERS)
        .build()
        .await
        .unwrap_err();
    assert!(
        wrong.to_string().contains("InvalidSignatureException"),
        "{wrong}"
    );
}
