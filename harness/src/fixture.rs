//! In-process test fixtures: a fresh engine with tables, seed items, a manual clock and
//! seeded ids, and an `aws_sdk_dynamodb::Client` wired to it without a socket.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ddb_harness::FixtureError> {
//! let f = ddb_harness::Fixture::builder()
//!     .table_json(r#"{"TableName":"users","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
//!                     "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#)
//!     .items_json(r#"{"users":[{"id":{"S":"u1"},"name":{"S":"Ada"}}]}"#)
//!     .clock("2024-01-01T00:00:00Z")
//!     .seed(7)
//!     .build()
//!     .await?;
//! let out = f.client().get_item().table_name("users")
//!     .key("id", aws_sdk_dynamodb::types::AttributeValue::S("u1".into()))
//!     .send().await;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::Arc;

use ddb_engine::{Engine, ManualClock, Namespace, Timestamp};
use tokio::sync::OnceCell;

use crate::faults::{FaultRule, Faults};
use crate::protocol::Router;
use crate::server::ServerHandle;

/// The account fixtures use: a 12-digit access key is its own account id.
pub const FIXTURE_ACCESS_KEY: &str = "000000000000";
/// The region fixtures use.
pub const FIXTURE_REGION: &str = "us-east-1";

/// What can go wrong while building a fixture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// A fixture file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A fixture definition is not valid JSON or has the wrong shape.
    #[error("invalid fixture definition: {0}")]
    Definition(String),
    /// DynamoDB refused a table or item of the fixture (AWS's error type and message).
    #[error("{op} failed: {message}")]
    Rejected {
        /// The operation.
        op: String,
        /// AWS's `__type` and message.
        message: String,
    },
    /// The engine could not start.
    #[error("engine: {0}")]
    Engine(#[from] ddb_engine::Error),
    /// A socket could not be opened for [`Fixture::endpoint`].
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// Builds a [`Fixture`].
#[derive(Debug, Default)]
pub struct FixtureBuilder {
    tables: Vec<serde_json::Value>,
    items: Vec<(String, serde_json::Value)>,
    clock: Option<String>,
    seed: Option<u64>,
    faults: Faults,
    errors: Vec<FixtureError>,
}

fn parse_json(text: &str) -> Result<serde_json::Value, FixtureError> {
    serde_json::from_str(text).map_err(|e| FixtureError::Definition(e.to_string()))
}

fn read(path: &Path) -> Result<String, FixtureError> {
    std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: path.display().to_string(),
        source,
    })
}

impl FixtureBuilder {
    /// Adds tables from JSON in the CreateTable request shape: one object or an array.
    pub fn table_json(mut self, json: &str) -> Self {
        match parse_json(json) {
            Ok(serde_json::Value::Array(tables)) => self.tables.extend(tables),
            Ok(table) => self.tables.push(table),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds tables from a JSON file (see [`FixtureBuilder::table_json`]).
    pub fn tables_file(self, path: impl AsRef<Path>) -> Self {
        match read(path.as_ref()) {
            Ok(text) => self.table_json(&text),
            Err(e) => self.with_error(e),
        }
    }

    /// Adds seed items: `{"table": [item, …]}` with items in DynamoDB JSON.
    pub fn items_json(mut self, json: &str) -> Self {
        match parse_json(json) {
            Ok(serde_json::Value::Object(map)) => {
                for (table, items) in map {
                    match items {
                        serde_json::Value::Array(items) => self
                            .items
                            .extend(items.into_iter().map(|i| (table.clone(), i))),
                        _ => self.errors.push(FixtureError::Definition(format!(
                            "items of {table} must be a JSON array"
                        ))),
                    }
                }
            }
            Ok(_) => self.errors.push(FixtureError::Definition(
                "items must be a JSON object of table name to item list".into(),
            )),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds seed items from a JSON file (see [`FixtureBuilder::items_json`]).
    pub fn items_file(self, path: impl AsRef<Path>) -> Self {
        match read(path.as_ref()) {
            Ok(text) => self.items_json(&text),
            Err(e) => self.with_error(e),
        }
    }

    /// Starts a manual clock at an RFC 3339 UTC time (`2024-01-01T00:00:00Z`).
    pub fn clock(mut self, rfc3339: &str) -> Self {
        self.clock = Some(rfc3339.to_string());
        self
    }

    /// Generates ids (table ids, request ids) from this seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds a fault injection rule. Rules apply to the fixture's client (and
    /// [`Fixture::endpoint`]) from the first request on, never to the fixture's own setup.
    pub fn fault(self, rule: FaultRule) -> Self {
        self.faults.add(rule);
        self
    }

    /// Adds fault injection rules in the JSON format of [`Faults::from_json`].
    pub fn faults_json(mut self, json: &str) -> Self {
        if let Err(e) = self.faults.add_json(json) {
            self.errors.push(FixtureError::Definition(e.to_string()));
        }
        self
    }

    /// Adds fault injection rules from a JSON file (see [`FixtureBuilder::faults_json`]).
    pub fn faults_file(self, path: impl AsRef<Path>) -> Self {
        match read(path.as_ref()) {
            Ok(text) => self.faults_json(&text),
            Err(e) => self.with_error(e),
        }
    }

    fn with_error(mut self, e: FixtureError) -> Self {
        self.errors.push(e);
        self
    }

    /// Creates the engine, the tables and the items.
    pub async fn build(self) -> Result<Fixture, FixtureError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let clock = match &self.clock {
            Some(text) => Some(ManualClock::new(parse_rfc3339(text).ok_or_else(|| {
                FixtureError::Definition(format!(
                    "clock {text:?} is not an RFC 3339 UTC time like 2024-01-01T00:00:00Z"
                ))
            })?)),
            None => None,
        };
        let mut builder = Engine::builder().seed(self.seed.unwrap_or(0));
        if let Some(c) = &clock {
            builder = builder.clock(Arc::new(c.clone()));
        }
        let engine = Arc::new(builder.build()?);
        let router = Router::new(engine.clone());
        let run = |op: &str, body: &serde_json::Value| -> Result<(), FixtureError> {
            let (status, reply) = router.call_json(FIXTURE_ACCESS_KEY, FIXTURE_REGION, op, body);
            if status == 200 {
                return Ok(());
            }
            let ty = reply
                .get("__type")
                .and_then(|v| v.as_str())
                .unwrap_or("error");
            let msg = reply
                .get("message")
                .or_else(|| reply.get("Message"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            Err(FixtureError::Rejected {
                op: op.to_string(),
                message: format!("{ty}: {msg}"),
            })
        };
        for table in &self.tables {
            run("CreateTable", table)?;
        }
        for (table, item) in &self.items {
            run(
                "PutItem",
                &serde_json::json!({ "TableName": table, "Item": item }),
            )?;
        }
        // Faults are attached after the setup above, so that they only meet the test's requests.
        let router = router.with_faults(self.faults.clone());
        let client = crate::in_process::client(router.clone(), FIXTURE_ACCESS_KEY, FIXTURE_REGION);
        Ok(Fixture {
            engine,
            router,
            faults: self.faults,
            clock,
            client,
            server: Arc::new(OnceCell::new()),
        })
    }
}

/// A fresh, isolated DynamoDB for one test. Cheap to clone; the last clone shuts the
/// listener (if one was started) and drops the in-memory data.
#[derive(Debug, Clone)]
pub struct Fixture {
    engine: Arc<Engine>,
    router: Router,
    faults: Faults,
    clock: Option<ManualClock>,
    client: aws_sdk_dynamodb::Client,
    server: Arc<OnceCell<ServerHandle>>,
}

impl Fixture {
    /// A builder.
    pub fn builder() -> FixtureBuilder {
        FixtureBuilder::default()
    }

    /// A client wired to this fixture in process.
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// The engine, for direct inspection.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The router (the whole protocol layer) of this fixture.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The fault injection rules of this fixture: add or clear rules while the test runs, and
    /// read their counters.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The manual clock, when the fixture was built with one.
    pub fn clock(&self) -> Option<&ManualClock> {
        self.clock.as_ref()
    }

    /// The namespace the fixture's client works in.
    pub fn namespace(&self) -> Namespace {
        Namespace::new(FIXTURE_ACCESS_KEY, FIXTURE_REGION)
    }

    /// Every item of `table`, in key order.
    pub fn items(&self, table: &str) -> Result<Vec<ddb_engine::Item>, ddb_engine::Error> {
        self.engine.items(&self.namespace(), table)
    }

    /// Moves the manual clock forward and runs what the new time makes due: TTL expiry
    /// deletes items whose TTL attribute has passed. Returns how many items expired.
    ///
    /// # Panics
    /// When the fixture was built without a manual clock (see [`FixtureBuilder::clock`]).
    pub fn advance(&self, by: std::time::Duration) -> Result<usize, ddb_engine::Error> {
        let clock = self.clock.as_ref().unwrap_or_else(|| {
            panic!("Fixture::advance needs a manual clock: build the fixture with .clock(..)")
        });
        clock.advance(by);
        self.engine.expire_ttl()
    }

    /// All tables and items as sorted JSON, for snapshots.
    pub fn dump(&self) -> Result<serde_json::Value, ddb_engine::Error> {
        self.engine.dump()
    }

    /// `http://127.0.0.1:PORT` of a listener serving this fixture, started on first call, for
    /// clients in other languages. Use the access key `000000000000` and region `us-east-1` to
    /// see the fixture's tables.
    pub async fn endpoint(&self) -> Result<String, FixtureError> {
        let router = self.router.clone();
        let handle = self
            .server
            .get_or_try_init(|| async move {
                crate::server::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), router).await
            })
            .await?;
        Ok(handle.endpoint())
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00"))?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let (y, m, day): (i64, u32, u32) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.splitn(3, ':');
    let (hh, mm, ss): (i64, i64, i64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let millis: i64 = format!("{:0<3}", frac.get(..frac.len().min(3))?)
        .parse()
        .ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(Timestamp(
        ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + millis,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_utc() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00.123Z"),
            Some(Timestamp(1_704_067_200_123))
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T12:00:00Z"),
            Some(Timestamp(951_825_600_000))
        );
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01 00:00:00"), None);
    }
}
