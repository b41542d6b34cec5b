//! Real DynamoDB clients against an in-process ddb-harness server.
//!
//! Each test starts the server on `127.0.0.1:0` with a fresh in-memory engine and runs an
//! external client suite against it with `DDB_ENDPOINT` and dummy credentials set:
//!
//! - `boto3_pytest_suite`: `python3 -m pytest -q python` (boto3 client and resource APIs);
//!   `DDB_S3_DIR` names the server's local S3 directory (bulk operations read it).
//! - `aws_cli_acceptance_script`: `bash cli/awscli.sh` (the AWS CLI).
//! - `aws_cli_streams_script`: `bash cli/streams.sh` (the AWS CLI reading a DynamoDB stream).
//! - `aws_cli_partiql_script`: `bash cli/partiql.sh` (the PartiQL statements of AWS's developer
//!   guide through `aws dynamodb execute-statement`).
//!
//! The clients' output is streamed to the terminal as they run. A missing tool is a failure
//! that says how to install it, unless `DDB_HARNESS_SKIP_EXTERNAL=1` is set, in which case the
//! test prints that it is skipping and passes. A suite that runs longer than five minutes is
//! killed and fails.
#![cfg(unix)]

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddb_engine::Engine;
use ddb_harness::{Router, ServerHandle};

/// How long one external suite may run before it is killed.
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

const SKIP_VAR: &str = "DDB_HARNESS_SKIP_EXTERNAL";

/// An in-process server with its own runtime; shut down on drop.
struct Server {
    runtime: tokio::runtime::Runtime,
    handle: Option<ServerHandle>,
    /// The engine's local S3 directory (removed on drop).
    s3_dir: PathBuf,
}

impl Server {
    fn start() -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("cannot build a tokio runtime");
        let s3_dir = std::env::temp_dir().join(format!(
            "ddb-harness-external-s3-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let engine = Engine::builder()
            .s3_dir(&s3_dir)
            .build()
            .expect("cannot create an in-memory engine");
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let engine = Arc::new(engine);
        let handle = runtime
            .block_on(ddb_harness::bind(addr, Router::new(engine.clone())))
            .expect("cannot bind 127.0.0.1:0");
        // Replicated writes of global tables are applied as `serve` applies them.
        runtime.spawn(ddb_harness::background::replicate(Arc::downgrade(&engine)));
        Server {
            runtime,
            handle: Some(handle),
            s3_dir,
        }
    }

    fn endpoint(&self) -> String {
        self.handle.as_ref().expect("server running").endpoint()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime.block_on(handle.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.s3_dir);
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn skip_requested() -> bool {
    std::env::var(SKIP_VAR).is_ok_and(|v| v == "1")
}

/// Checks a prerequisite. `true`: present. `false`: missing and skipping was asked for
/// (the caller returns). Panics with `install` when missing and not skipping.
fn require(what: &str, present: bool, install: &str) -> bool {
    if present {
        return true;
    }
    if skip_requested() {
        eprintln!("SKIPPING: missing {what}, and {SKIP_VAR}=1 is set");
        return false;
    }
    panic!(
        "missing {what}. Install it: {install}\n\
         (or set {SKIP_VAR}=1 to skip the external-client tests)"
    );
}

/// Whether `program args...` runs and exits 0 (output discarded).
fn runs_ok(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A command for a client suite against `endpoint`, with a hermetic AWS environment.
fn client_command(program: &str, endpoint: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(manifest_dir())
        .stdin(Stdio::null())
        .env("DDB_ENDPOINT", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        // Keep a developer's own AWS settings out of the run.
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        // No __pycache__ or .pytest_cache in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // Its own process group, so a timeout kills the whole tree (bash -> aws).
        .process_group(0);
    cmd
}

/// Runs `cmd` with inherited stdout/stderr (streamed), killing its process group after
/// [`SUITE_TIMEOUT`].
fn run_streaming(what: &str, mut cmd: Command) -> ExitStatus {
    eprintln!("=== running {what}: {cmd:?}");
    let mut child = cmd
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                eprintln!(
                    "=== {what} finished in {:.1}s: {status}",
                    started.elapsed().as_secs_f64()
                );
                return status;
            }
            Ok(None) => {}
            Err(e) => panic!("cannot wait for {what}: {e}"),
        }
        if started.elapsed() > SUITE_TIMEOUT {
            let pgid = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {SUITE_TIMEOUT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_exists(path: &Path) {
    assert!(path.exists(), "{} is missing", path.display());
}

#[test]
fn boto3_pytest_suite() {
    let python_ok = runs_ok("python3", &["--version"]);
    if !require(
        "python3",
        python_ok,
        "install Python 3 (e.g. apt-get install python3 python3-pip)",
    ) {
        return;
    }
    let libs_ok = runs_ok("python3", &["-c", "import boto3, pytest"]);
    if !require(
        "boto3 and pytest (python3 cannot import them)",
        libs_ok,
        "pip install boto3 pytest",
    ) {
        return;
    }
    let suite = manifest_dir().join("python");
    assert_exists(&suite.join("test_boto3.py"));
    assert_exists(&suite.join("test_backups.py"));
    assert_exists(&suite.join("test_export_import.py"));
    assert_exists(&suite.join("test_vector.py"));

    let server = Server::start();
    let endpoint = server.endpoint();
    let mut cmd = client_command("python3", &endpoint);
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE"])
        .arg(&suite)
        .env("DDB_S3_DIR", &server.s3_dir);
    let status = run_streaming("the boto3 pytest suite", cmd);
    drop(server);
    assert!(
        status.success(),
        "the boto3 pytest suite failed ({status}) against {endpoint}; its output is above"
    );
}

/// Runs `tests/cli/<file>` with the AWS CLI against a fresh in-process server.
fn run_cli_script(file: &str, what: &str) {
    let bash_ok = runs_ok("bash", &["--version"]);
    if !require("bash", bash_ok, "install bash") {
        return;
    }
    let python_ok = runs_ok("python3", &["--version"]);
    if !require(
        "python3 (used for JSON checks)",
        python_ok,
        "install Python 3",
    ) {
        return;
    }
    let aws_ok = runs_ok("aws", &["--version"]);
    if !require(
        "the AWS CLI (`aws`)",
        aws_ok,
        "pip install awscli (v1), or AWS CLI v2 from https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
    ) {
        return;
    }
    let script = manifest_dir().join("cli").join(file);
    assert_exists(&script);

    let server = Server::start();
    let endpoint = server.endpoint();
    let mut cmd = client_command("bash", &endpoint);
    cmd.arg(&script);
    let status = run_streaming(what, cmd);
    drop(server);
    assert!(
        status.success(),
        "{what} failed ({status}) against {endpoint}; its output is above"
    );
}

#[test]
fn aws_cli_acceptance_script() {
    run_cli_script("awscli.sh", "the AWS CLI acceptance script");
}

#[test]
fn aws_cli_streams_script() {
    run_cli_script("streams.sh", "the AWS CLI streams script");
}

#[test]
fn aws_cli_partiql_script() {
    run_cli_script("partiql.sh", "the AWS CLI PartiQL script");
}
