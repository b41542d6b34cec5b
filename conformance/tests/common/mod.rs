//! Testing `DDB_CONFORMANCE_TARGET=aws` without AWS: a ddb-harness server that verifies SigV4
//! signatures against a credentials file — what `ddb-harness serve --require-sigv4
//! --credentials FILE` runs (`CredentialStore::from_file`, `Router::with_credentials`,
//! `server::bind`) — and a re-run of the calling test binary with the standard AWS environment
//! pointing at it, so the test under check reaches it exactly as it would reach AWS.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use ddb_conformance::live::{Reference, TARGET_ENV, Target};
use ddb_harness::engine::Engine;
use ddb_harness::fixture::SignedClient;
use ddb_harness::protocol::CredentialStore;
use ddb_harness::{Faults, Router, ServerHandle};

/// The access key the server knows.
pub const KEY: &str = "AKIDCONFORMANCEAWS";
/// Its secret.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYCONFORMANCE";

/// A SigV4-verifying server in this process; stopped on drop.
pub struct SigV4Server {
    handle: Option<ServerHandle>,
    runtime: tokio::runtime::Runtime,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl SigV4Server {
    /// Starts a server with a fresh engine, `[default]` credentials `KEY`/`SECRET` in a file,
    /// and the fault rules `faults` (JSON, as `serve --faults`).
    pub fn start(faults: Option<&str>) -> SigV4Server {
        let dir = std::env::temp_dir().join(format!(
            "ddb-conformance-aws-{}-{}",
            std::process::id(),
            faults.map_or(0, str::len)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("credentials");
        std::fs::write(
            &file,
            format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"),
        )
        .expect("credentials file");
        let store = CredentialStore::from_file(&file).expect("credentials file parses");
        let engine = Arc::new(Engine::builder().build().expect("engine"));
        let mut router = Router::new(engine).with_credentials(store);
        if let Some(f) = faults {
            router = router.with_faults(Faults::from_json(f).expect("fault rules"));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime
            .block_on(ddb_harness::bind(
                "127.0.0.1:0".parse().expect("addr"),
                router,
            ))
            .expect("bind");
        let endpoint = handle.endpoint();
        SigV4Server {
            handle: Some(handle),
            runtime,
            dir,
            endpoint,
        }
    }

    /// The server's tables now, listed with a request signed by the right secret.
    pub fn tables(&self) -> Vec<String> {
        use aws_credential_types::Credentials;
        use aws_credential_types::provider::SharedCredentialsProvider;
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                KEY, SECRET, None, None, "test",
            )))
            .endpoint_url(&self.endpoint)
            .build();
        self.runtime.block_on(async {
            let client = SignedClient::with_config(config).await.expect("client");
            let (status, body) = client
                .call("DynamoDB_20120810.ListTables", &serde_json::json!({}))
                .await
                .expect("ListTables");
            assert_eq!(status, 200, "{body}");
            body["TableNames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
    }

    /// Re-runs test `test` of the current test binary with `DDB_CONFORMANCE_TARGET=aws` and
    /// the standard AWS environment naming this server and the access key with `secret`.
    pub fn run_test_as_aws(&self, test: &str, secret: &str, extra: &[(&str, &str)]) -> Output {
        let exe = std::env::current_exe().expect("current test binary");
        let mut cmd = Command::new(exe);
        cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
            "AWS_DEFAULT_REGION",
            "DDB_REFERENCE_ENDPOINT",
            "DDB_HARNESS_SKIP_EXTERNAL",
            "DDB_DIFF_SEED",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("DDB_CONFORMANCE_TARGET", "aws")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_CONFIG_FILE", self.dir.join("no-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.join("no-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().expect("re-run the test binary")
    }
}

impl Drop for SigV4Server {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// stdout and stderr of a run, for assertions and failure messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `DDB_HARNESS_SKIP_EXTERNAL=1` asks to skip tests that need a live reference.
pub fn skip_external() -> bool {
    std::env::var("DDB_HARNESS_SKIP_EXTERNAL").is_ok_and(|v| v == "1")
}

/// Whether this run is itself against a chosen target (then the AWS-mode checks do not
/// recurse).
pub fn target_chosen() -> bool {
    std::env::var(TARGET_ENV).is_ok()
}

/// The reference `DDB_CONFORMANCE_TARGET` chooses, started; `None` (with a message naming
/// `what`, the test) when external tests are skipped or the default reference cannot start.
/// Panics on an invalid target or when a chosen reference cannot start.
pub fn reference(what: &str) -> Option<Reference> {
    if skip_external() {
        eprintln!("DDB_HARNESS_SKIP_EXTERNAL=1: skipping the {what}");
        return None;
    }
    let chosen = Target::from_env().unwrap_or_else(|e| panic!("{e}"));
    match Reference::start() {
        Ok(r) => Some(r),
        Err(e) if chosen.may_skip() => {
            eprintln!("skipping the {what}: {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}
