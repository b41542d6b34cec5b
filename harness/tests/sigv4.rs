//! `--require-sigv4`: the real aws-sdk-dynamodb signs requests over HTTP and the server
//! verifies them. Right credentials pass; a wrong secret, an unknown access key, a body changed
//! after signing, and a clock more than five minutes off are refused with AWS's errors; the
//! presigned query-string form (signed by AWS's own `aws-sigv4` crate) passes and fails the
//! same way; the in-process `Router::call_json` path stays unsigned.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Intercept, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use ddb_harness::engine::Engine;
use ddb_harness::protocol::CredentialStore;
use ddb_harness::{Router, ServerHandle};

const KEY: &str = "AKIDHARNESSTEST";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYHARNESS";
const REGION: &str = "us-east-1";

const INVALID_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const UNRECOGNIZED: &str = "The security token included in the request is invalid.";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn router() -> Router {
    let engine = Engine::builder().seed(7).build().expect("engine");
    Router::new(Arc::new(engine)).with_credentials(CredentialStore::new().with(KEY, SECRET))
}

async fn serve() -> ServerHandle {
    ddb_harness::bind("127.0.0.1:0".parse().unwrap(), router())
        .await
        .expect("bind")
}

/// A signing time source `offset_secs` away from the real clock.
#[derive(Debug)]
struct Skewed(i64);

impl aws_smithy_async::time::TimeSource for Skewed {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        if self.0 >= 0 {
            now + Duration::from_secs(self.0 as u64)
        } else {
            now - Duration::from_secs(self.0.unsigned_abs())
        }
    }
}

/// Changes the body after the request is signed (a man in the middle).
#[derive(Debug)]
struct Tamper;

impl Intercept for Tamper {
    fn name(&self) -> &'static str {
        "Tamper"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = ctx.request_mut();
        let body = String::from_utf8_lossy(req.body().bytes().unwrap_or_default()).into_owned();
        let changed = body.replace("\"Limit\":5", "\"Limit\":6");
        assert_ne!(body, changed, "the test request carries Limit 5");
        req.headers_mut()
            .insert("content-length", changed.len().to_string());
        *req.body_mut() = SdkBody::from(changed);
        Ok(())
    }
}

struct ClientOptions {
    key: &'static str,
    secret: &'static str,
    skew_secs: i64,
    attempts: u32,
    tamper: bool,
}

const RIGHT: ClientOptions = ClientOptions {
    key: KEY,
    secret: SECRET,
    skew_secs: 0,
    attempts: 1,
    tamper: false,
};

fn client(endpoint: &str, o: ClientOptions) -> Client {
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(o.key, o.secret, None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::standard().with_max_attempts(o.attempts))
        .time_source(Skewed(o.skew_secs));
    if o.tamper {
        config = config.interceptor(Tamper);
    }
    Client::from_conf(config.build())
}

/// The error code and message of a failed ListTables.
async fn list_tables_error(client: &Client) -> (String, String) {
    let err = client
        .list_tables()
        .limit(5)
        .send()
        .await
        .expect_err("the request must be refused");
    let e = err.into_service_error();
    (
        e.code().unwrap_or("<none>").to_string(),
        e.message().unwrap_or("<none>").to_string(),
    )
}

#[test]
fn right_credentials_pass() {
    let rt = runtime();
    rt.block_on(async {
        let server = serve().await;
        let c = client(&server.endpoint(), RIGHT);
        c.create_table()
            .table_name("signed")
            .attribute_definitions(
                aws_sdk_dynamodb::types::AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                aws_sdk_dynamodb::types::KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .send()
            .await
            .expect("signed CreateTable");
        let listed = c
            .list_tables()
            .limit(5)
            .send()
            .await
            .expect("signed ListTables");
        assert_eq!(listed.table_names(), ["signed"]);
        // A clock 4 minutes off is within the 5-minute rule.
        let late = client(
            &server.endpoint(),
            ClientOptions {
                skew_secs: -240,
                ..RIGHT
            },
        );
        late.list_tables().send().await.expect("4 minutes of skew");
        server.shutdown().await;
    });
}

#[test]
fn wrong_secret_is_invalid_signature() {
    let rt = runtime();
    rt.block_on(async {
        let server = serve().await;
        let c = client(
            &server.endpoint(),
            ClientOptions {
                secret: "not-the-secret",
                ..RIGHT
            },
        );
        let (code, message) = list_tables_error(&c).await;
        assert_eq!(code, "InvalidSignatureException");
        assert_eq!(message, INVALID_SIGNATURE);
        server.shutdown().await;
    });
}

#[test]
fn unknown_access_key_is_unrecognized_client() {
    let rt = runtime();
    rt.block_on(async {
        let server = serve().await;
        let c = client(
            &server.endpoint(),
            ClientOptions {
                key: "AKIDUNKNOWN",
                ..RIGHT
            },
        );
        let (code, message) = list_tables_error(&c).await;
        assert_eq!(code, "UnrecognizedClientException");
        assert_eq!(message, UNRECOGNIZED);
        server.shutdown().await;
    });
}

#[test]
fn body_changed_after_signing_is_invalid_signature() {
    let rt = runtime();
    rt.block_on(async {
        let server = serve().await;
        let c = client(
            &server.endpoint(),
            ClientOptions {
                tamper: true,
                ..RIGHT
            },
        );
        let (code, message) = list_tables_error(&c).await;
        assert_eq!(code, "InvalidSignatureException");
        assert_eq!(message, INVALID_SIGNATURE);
        server.shutdown().await;
    });
}

/// A client clock 10 minutes slow gets AWS's "Signature expired" error; one 10 minutes fast
/// "Signature not yet current". With retries on, the SDK reads the skew from the response's
/// `Date` header and its retry succeeds, exactly as against AWS.
#[test]
fn skewed_clock_is_refused_and_the_sdk_corrects_it() {
    let rt = runtime();
    rt.block_on(async {
        let server = serve().await;
        let slow = client(
            &server.endpoint(),
            ClientOptions {
                skew_secs: -600,
                ..RIGHT
            },
        );
        let (code, message) = list_tables_error(&slow).await;
        assert_eq!(code, "InvalidSignatureException");
        assert!(
            message.starts_with("Signature expired: ")
                && message.contains(" is now earlier than ")
                && message.ends_with(" - 5 min.)"),
            "{message}"
        );
        let fast = client(
            &server.endpoint(),
            ClientOptions {
                skew_secs: 600,
                ..RIGHT
            },
        );
        let (code, message) = list_tables_error(&fast).await;
        assert_eq!(code, "InvalidSignatureException");
        assert!(
            message.starts_with("Signature not yet current: ")
                && message.contains(" is still later than ")
                && message.ends_with(" + 5 min.)"),
            "{message}"
        );
        let corrected = client(
            &server.endpoint(),
            ClientOptions {
                skew_secs: -600,
                attempts: 3,
                ..RIGHT
            },
        );
        corrected
            .list_tables()
            .send()
            .await
            .expect("the SDK's clock-skew correction retries with the server's time");
        server.shutdown().await;
    });
}

/// Sends one HTTP/1.1 request and returns the status and body.
fn raw(addr: std::net::SocketAddr, req: &hyper::http::Request<String>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut text = format!(
        "{} {} HTTP/1.1\r\n",
        req.method(),
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    for (k, v) in req.headers() {
        text.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    text.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{}",
        req.body().len(),
        req.body()
    ));
    s.write_all(text.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out[9..12].parse().expect("status");
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// A request presigned in the query string by `aws-sigv4`, AWS's own signer.
fn presigned(
    host: &str,
    secret: &str,
    signed_at: SystemTime,
    expires: Duration,
    body: &str,
) -> hyper::http::Request<String> {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    let mut req = hyper::http::Request::builder()
        .method("POST")
        .uri(format!("http://{host}/"))
        .header("host", host)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "DynamoDB_20120810.ListTables")
        .body(body.to_string())
        .unwrap();
    let identity = Credentials::new(KEY, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("dynamodb")
        .time(signed_at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        req.uri().to_string(),
        req.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    req
}

#[test]
fn presigned_query_string_form() {
    let rt = runtime();
    let server = rt.block_on(serve());
    let addr = server.local_addr();
    let host = addr.to_string();
    let now = SystemTime::now();
    let hour = Duration::from_secs(3600);

    let ok = presigned(&host, SECRET, now, hour, "{}");
    assert!(ok.uri().query().unwrap().contains("X-Amz-Signature="));
    let (status, body) = raw(addr, &ok);
    assert_eq!((status, body.as_str()), (200, r#"{"TableNames":[]}"#));

    let (status, body) = raw(addr, &presigned(&host, "wrong", now, hour, "{}"));
    assert_eq!(status, 400);
    assert!(
        body.contains("InvalidSignatureException") && body.contains(INVALID_SIGNATURE),
        "{body}"
    );

    let mut tampered = presigned(&host, SECRET, now, hour, "{}");
    *tampered.body_mut() = r#"{"Limit":1}"#.to_string();
    let (status, body) = raw(addr, &tampered);
    assert_eq!(status, 400);
    assert!(body.contains(INVALID_SIGNATURE), "{body}");

    // Signed two hours ago for one hour: expired.
    let old = presigned(&host, SECRET, now - 2 * hour, hour, "{}");
    let (status, body) = raw(addr, &old);
    assert_eq!(status, 400);
    assert!(body.contains("Signature expired: "), "{body}");
    // Signed 20 minutes ago for one hour: still valid.
    let recent = presigned(&host, SECRET, now - Duration::from_secs(1200), hour, "{}");
    assert_eq!(raw(addr, &recent).0, 200);
    rt.block_on(server.shutdown());
}

#[test]
fn unsigned_and_incomplete_requests_are_refused() {
    let rt = runtime();
    let server = rt.block_on(serve());
    let addr = server.local_addr();
    let base = || {
        hyper::http::Request::builder()
            .method("POST")
            .header("host", addr.to_string())
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDB_20120810.ListTables")
            .header("x-amz-date", "20240101T000000Z")
    };
    let (status, body) = raw(addr, &base().uri("/").body("{}".into()).unwrap());
    assert_eq!(status, 400);
    assert!(
        body.contains("MissingAuthenticationTokenException"),
        "{body}"
    );
    let (status, body) = raw(
        addr,
        &base()
            .uri("/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDHARNESSTEST%2F20240101%2Fus-east-1%2Fdynamodb%2Faws4_request")
            .body("{}".into())
            .unwrap(),
    );
    assert_eq!(status, 400);
    assert!(
        body.contains("IncompleteSignatureException")
            && body.contains("AWS query-string parameters must include"),
        "{body}"
    );
    rt.block_on(server.shutdown());
}

/// Fixtures and `call_json` talk to the router in process, without real signatures.
#[test]
fn in_process_calls_stay_unsigned() {
    let router = router();
    let (status, body) = router.call_json(KEY, REGION, "ListTables", &serde_json::json!({}));
    assert_eq!(status, 200, "{body}");
}

/// A `ddb-harness` process with its stderr collected; killed on drop.
struct Process {
    child: std::process::Child,
    stderr: Arc<std::sync::Mutex<String>>,
    first_line: String,
}

impl Process {
    fn serve(args: &[&str]) -> Process {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ddb-harness"))
            .arg("serve")
            .args(["--port", "0"])
            .args(args)
            .env_remove("DDB_HARNESS_HOST")
            .env_remove("DDB_HARNESS_DATA_DIR")
            .env_remove("DDB_HARNESS_REQUIRE_SIGV4")
            .env_remove("DDB_HARNESS_CREDENTIALS")
            .env("DDB_HARNESS_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start ddb-harness");
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first_line = lines.next().and_then(Result::ok).unwrap_or_default();
        std::thread::spawn(move || for _ in lines {});
        Process {
            child,
            stderr,
            first_line,
        }
    }

    /// The endpoint announced on stdout, as a client reaches it on this machine.
    fn endpoint(&self) -> String {
        let addr = self
            .first_line
            .strip_prefix("ddb-harness listening on http://")
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| {
                panic!(
                    "no endpoint in {:?}; stderr:\n{}",
                    self.first_line,
                    self.stderr.lock().unwrap()
                )
            });
        let port = addr.rsplit(':').next().unwrap();
        format!("http://127.0.0.1:{port}")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The done-when check of issue #10, through the CLI a user runs: `serve --require-sigv4
/// --credentials ~/.aws/credentials-style file`; the right secret passes, a wrong one is
/// refused.
#[test]
fn serve_require_sigv4_with_a_credentials_file() {
    let dir = std::env::temp_dir().join(format!("ddb-sigv4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials");
    std::fs::write(
        &file,
        format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let server = Process::serve(&[
        "--host",
        "127.0.0.1",
        "--require-sigv4",
        "--credentials",
        file.to_str().unwrap(),
    ]);
    let endpoint = server.endpoint();
    let rt = runtime();
    rt.block_on(async {
        client(&endpoint, RIGHT)
            .list_tables()
            .send()
            .await
            .expect("the right secret passes");
        let wrong = client(
            &endpoint,
            ClientOptions {
                secret: "guessed",
                ..RIGHT
            },
        );
        let (code, message) = list_tables_error(&wrong).await;
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidSignatureException", INVALID_SIGNATURE)
        );
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--require-sigv4` needs `--credentials`; clap refuses the command line (exit code 2).
#[test]
fn require_sigv4_without_credentials_is_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ddb-harness"))
        .args(["serve", "--port", "0", "--require-sigv4"])
        .env_remove("DDB_HARNESS_CREDENTIALS")
        .output()
        .expect("run ddb-harness");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--credentials"));
}

/// Listening beyond loopback prints a warning saying who can reach the data.
#[test]
fn non_loopback_bind_prints_a_warning() {
    let server = Process::serve(&["--host", "0.0.0.0"]);
    let _ = server.endpoint();
    // Unbuffered stderr may arrive in pieces: wait (bounded) for the whole warning line.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let stderr = loop {
        let text = server.stderr.lock().unwrap().clone();
        if text.contains("--require-sigv4") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        stderr.contains("ddb-harness: warning: listening on 0.0.0.0")
            && stderr.contains("--require-sigv4"),
        "{stderr}"
    );
    let quiet = Process::serve(&["--host", "127.0.0.1"]);
    let _ = quiet.endpoint();
    assert!(!quiet.stderr.lock().unwrap().contains("warning: listening"));
}

/// Whether `program args` runs successfully (the external clients are optional locally;
/// `scripts/test` installs them for CI).
fn available(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn credentials_file(label: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ddb-sigv4-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials.json");
    std::fs::write(&file, format!("{{\"{KEY}\": \"{SECRET}\"}}")).unwrap();
    (dir, file)
}

/// boto3 and the AWS CLI sign with botocore's signer: the right secret passes, a wrong one is
/// InvalidSignatureException with AWS's text.
#[test]
fn boto3_and_the_aws_cli_sign_and_are_checked() {
    let python = available("python3", &["-c", "import boto3"]);
    let cli = available("aws", &["--version"]);
    if !python && !cli {
        eprintln!(
            "skipped: neither boto3 nor the AWS CLI is installed (scripts/test installs them)"
        );
        return;
    }
    let (dir, file) = credentials_file("external");
    let server = Process::serve(&[
        "--host",
        "127.0.0.1",
        "--require-sigv4",
        "--credentials",
        file.to_str().unwrap(),
    ]);
    let endpoint = server.endpoint();
    let env = |cmd: &mut std::process::Command, secret: &str| {
        cmd.env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL");
    };
    if python {
        const SCRIPT: &str = r#"
import sys, boto3, botocore.config, botocore.exceptions
endpoint, key, secret = sys.argv[1:4]
def client(s):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=s,
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
print("ok", client(secret).list_tables()["TableNames"])
try:
    client("wrong-secret").list_tables()
    print("accepted")
except botocore.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
    print(e.response["Error"]["Message"])
"#;
        let mut cmd = std::process::Command::new("python3");
        cmd.args(["-c", SCRIPT, &endpoint, KEY, SECRET]);
        env(&mut cmd, SECRET);
        let out = cmd.output().expect("python3");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines,
            ["ok []", "InvalidSignatureException", INVALID_SIGNATURE],
            "{stdout}"
        );
    }
    if cli {
        for (secret, ok) in [(SECRET, true), ("wrong-secret", false)] {
            let mut cmd = std::process::Command::new("aws");
            cmd.args(["dynamodb", "list-tables", "--endpoint-url", &endpoint]);
            env(&mut cmd, secret);
            let out = cmd.output().expect("aws");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.success(), ok, "{stderr}");
            if !ok {
                assert!(
                    stderr.contains("(InvalidSignatureException)")
                        && stderr.contains(INVALID_SIGNATURE),
                    "{stderr}"
                );
            }
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
