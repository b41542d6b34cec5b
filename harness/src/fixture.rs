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

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ddb_engine::{Engine, ManualClock, Namespace, Timestamp};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

use crate::definitions::{self, Syntax};
use crate::faults::{FaultRule, Faults};
use crate::protocol::Router;
use crate::server::ServerHandle;
use crate::stream_handler::{
    self, DrainReport, StreamHandlerConfig, StreamHandlerError, Subscription,
};

/// The environment variable that picks the [`Target`] of fixtures built without
/// [`FixtureBuilder::target`]: `memory` (the default), an endpoint `http://host:port`, or `aws`.
pub const TARGET_ENV: &str = "DDB_TEST_TARGET";

/// Where a fixture's tables live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Target {
    /// A fresh in-memory engine in this process, with every harness feature.
    #[default]
    Memory,
    /// Any DynamoDB endpoint (`http://host:port`: a `ddb-harness serve`, DynamoDB Local).
    /// Tables get a unique per-fixture prefix ([`Fixture::table`]) and are deleted when the
    /// fixture drops. The manual clock, engine inspection, fault injection and stream handlers
    /// are not available; see [`Fixture::skip_unless_local`].
    Endpoint(String),
    /// DynamoDB itself, in the account, region and endpoint of the standard AWS configuration
    /// (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`…, `AWS_ENDPOINT_URL_DYNAMODB`), or of
    /// [`FixtureBuilder::aws_config`]. Tables are prefixed and deleted as on an endpoint, and
    /// requests are signed with SigV4. Creating tables on AWS takes seconds, and costs money.
    Aws,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Memory => f.write_str("memory"),
            Target::Endpoint(e) => f.write_str(e),
            Target::Aws => f.write_str("aws"),
        }
    }
}

impl Target {
    /// Parses `memory` (or an empty string) or an `http://host:port` endpoint.
    pub fn parse(text: &str) -> Result<Target, FixtureError> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("memory") {
            return Ok(Target::Memory);
        }
        if text.eq_ignore_ascii_case("aws") {
            return Ok(Target::Aws);
        }
        match text.strip_prefix("http://") {
            Some(rest) if !rest.is_empty() => {
                Ok(Target::Endpoint(text.trim_end_matches('/').to_string()))
            }
            _ => Err(FixtureError::Definition(format!(
                "target {text:?} is not `memory`, `aws` or an endpoint like http://127.0.0.1:8000"
            ))),
        }
    }

    /// The target named by [`TARGET_ENV`] (`memory` when unset).
    pub fn from_env() -> Result<Target, FixtureError> {
        match std::env::var(TARGET_ENV) {
            Ok(v) => Target::parse(&v),
            Err(std::env::VarError::NotPresent) => Ok(Target::Memory),
            Err(e) => Err(FixtureError::Definition(format!("{TARGET_ENV}: {e}"))),
        }
    }

    /// Whether this is the in-memory target.
    pub fn is_memory(&self) -> bool {
        matches!(self, Target::Memory)
    }
}

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
    /// The target endpoint could not be reached.
    #[error("cannot reach {endpoint}: {message}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// Why.
        message: String,
    },
    /// The fixture asks for something its target cannot provide.
    #[error("{feature} needs the in-memory target, not {endpoint}")]
    Unsupported {
        /// What was asked for.
        feature: String,
        /// The endpoint.
        endpoint: String,
    },
}

/// Builds a [`Fixture`].
#[derive(Debug, Default)]
pub struct FixtureBuilder {
    tables: Vec<serde_json::Value>,
    items: Vec<(String, serde_json::Value)>,
    clock: Option<String>,
    seed: Option<u64>,
    faults: Faults,
    target: Option<Target>,
    aws_config: Option<aws_config::SdkConfig>,
    name: Option<String>,
    replication_lag: Option<std::time::Duration>,
    errors: Vec<FixtureError>,
}

fn read(path: &Path) -> Result<String, FixtureError> {
    std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: path.display().to_string(),
        source,
    })
}

impl FixtureBuilder {
    /// Adds tables from JSON in the CreateTable request shape: one object or an array.
    pub fn table_json(self, json: &str) -> Self {
        self.tables_in(Syntax::Json, json)
    }

    /// Adds tables from YAML in the CreateTable request shape: one mapping or a list.
    pub fn table_yaml(self, yaml: &str) -> Self {
        self.tables_in(Syntax::Yaml, yaml)
    }

    fn tables_in(mut self, syntax: Syntax, text: &str) -> Self {
        match syntax.parse(text).and_then(definitions::tables) {
            Ok(tables) => self.tables.extend(tables),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds tables from a file: YAML when its name ends in `.yaml` or `.yml`, JSON otherwise
    /// (see [`FixtureBuilder::table_json`]).
    pub fn tables_file(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match read(path) {
            Ok(text) => self.tables_in(Syntax::of_path(path), &text),
            Err(e) => self.with_error(e),
        }
    }

    /// Adds seed items: `{"table": [item, …]}`, items in DynamoDB JSON
    /// (`{"id": {"S": "u1"}}`) or plain JSON (`{"id": "u1"}`; see [`definitions::item`]).
    pub fn items_json(self, json: &str) -> Self {
        self.items_in(Syntax::Json, json)
    }

    /// Adds seed items from YAML, shaped as for [`FixtureBuilder::items_json`].
    pub fn items_yaml(self, yaml: &str) -> Self {
        self.items_in(Syntax::Yaml, yaml)
    }

    fn items_in(mut self, syntax: Syntax, text: &str) -> Self {
        match syntax.parse(text).and_then(definitions::items) {
            Ok(items) => self.items.extend(items),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds seed items from a file: YAML when its name ends in `.yaml` or `.yml`, JSON
    /// otherwise (see [`FixtureBuilder::items_json`]).
    pub fn items_file(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match read(path) {
            Ok(text) => self.items_in(Syntax::of_path(path), &text),
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

    /// Where the fixture's tables live; without this call, [`Target::from_env`] decides.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// The AWS configuration of the [`Target::Aws`] target, instead of the environment's
    /// (`aws_config::load_defaults`); it needs a region and credentials.
    pub fn aws_config(mut self, config: aws_config::SdkConfig) -> Self {
        self.aws_config = Some(config);
        self
    }

    /// A name for the fixture (`#[ddb_test]` passes the test's path); it starts the table-name
    /// prefix on an endpoint target, so leftover tables show which test made them.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// How long a write to a global table takes to reach the other replicas: they see it once
    /// the manual clock has moved this far (replication runs on every clock change) or when
    /// [`Fixture::replicate`] flushes it. Zero by default: the next clock change applies it.
    pub fn replication_lag(mut self, lag: std::time::Duration) -> Self {
        self.replication_lag = Some(lag);
        self
    }

    fn with_error(mut self, e: FixtureError) -> Self {
        self.errors.push(e);
        self
    }

    /// Creates the engine (or, on an endpoint, the prefixed tables), the tables and the items.
    pub async fn build(self) -> Result<Fixture, FixtureError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let target = match self.target {
            Some(t) => t,
            None => Target::from_env()?,
        };
        if !target.is_memory() {
            let unsupported = |feature: &str| FixtureError::Unsupported {
                feature: feature.to_string(),
                endpoint: target.to_string(),
            };
            if self.clock.is_some() {
                return Err(unsupported("a manual clock"));
            }
            if !self.faults.rules().is_empty() {
                return Err(unsupported("fault injection"));
            }
            if self.replication_lag.is_some() {
                return Err(unsupported("a replication lag"));
            }
        }
        let transport = match target {
            Target::Memory => None,
            Target::Endpoint(endpoint) => Some(remote::Transport::Plain(endpoint)),
            Target::Aws => Some(remote::Transport::Aws(Arc::new(
                aws::Aws::connect(self.aws_config).await?,
            ))),
        };
        if let Some(transport) = transport {
            return remote::build(transport, self.name.as_deref(), self.tables, self.items)
                .await
                .map(|(remote, client)| Fixture {
                    backend: Backend::Remote(Arc::new(remote)),
                    client,
                    streams: Arc::default(),
                });
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
        if let Some(lag) = self.replication_lag {
            engine.set_replication_lag(lag)?;
        }
        let expired = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        if let Some(c) = &clock {
            // Moving the clock runs what the new time makes due, synchronously: TTL expiry
            // and the progress of bulk operations.
            let engine = Arc::downgrade(&engine);
            let expired = expired.clone();
            c.on_change(move || {
                if let Some(engine) = engine.upgrade() {
                    match engine.expire_ttl() {
                        Ok(n) => {
                            expired.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "TTL expiry after a clock change failed")
                        }
                    }
                    if let Err(e) = engine.run_pending_bulk() {
                        tracing::warn!(error = %e, "bulk operations after a clock change failed");
                    }
                    if let Err(e) = engine.replicate_pending() {
                        tracing::warn!(error = %e, "replication after a clock change failed");
                    }
                }
            });
        }
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
            backend: Backend::Local(Local {
                engine,
                router,
                faults: self.faults,
                clock,
                expired,
                server: Arc::new(OnceCell::new()),
            }),
            client,
            streams: Arc::default(),
        })
    }
}

/// The in-memory side of a fixture.
#[derive(Debug, Clone)]
struct Local {
    engine: Arc<Engine>,
    router: Router,
    faults: Faults,
    clock: Option<ManualClock>,
    /// Items expired by TTL after clock changes, for [`Fixture::advance`]'s answer.
    expired: Arc<std::sync::atomic::AtomicUsize>,
    server: Arc<OnceCell<ServerHandle>>,
}

#[derive(Debug, Clone)]
enum Backend {
    Local(Local),
    Remote(Arc<remote::Remote>),
}

static FIXTURE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A table-name prefix unique to this process and fixture, led by `name` when given.
pub(crate) fn unique_prefix(name: Option<&str>) -> String {
    let n = FIXTURE_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let lead: String = name
        .unwrap_or("ddbh")
        .replace("::", ".")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    let lead = lead.get(lead.len().saturating_sub(80)..).unwrap_or("ddbh");
    format!("{lead}-{}-{n}-{nanos:08x}-", std::process::id())
}

/// A fresh, isolated DynamoDB for one test. Cheap to clone; the last clone shuts the
/// listener (if one was started) and drops the in-memory data, or, on an endpoint
/// [`Target`], deletes the fixture's tables.
#[derive(Debug, Clone)]
pub struct Fixture {
    backend: Backend,
    client: aws_sdk_dynamodb::Client,
    streams: Arc<Mutex<Vec<Subscription>>>,
}

impl Fixture {
    /// A builder.
    pub fn builder() -> FixtureBuilder {
        FixtureBuilder::default()
    }

    /// The client of this fixture: wired to it in process, or pointed at the endpoint.
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// A DynamoDB Streams client for this fixture's tables' streams: in process, or pointed
    /// at the fixture's endpoint or AWS region.
    pub fn streams_client(&self) -> aws_sdk_dynamodbstreams::Client {
        match &self.backend {
            Backend::Local(l) => crate::in_process::streams_client(
                l.router.clone(),
                FIXTURE_ACCESS_KEY,
                FIXTURE_REGION,
            ),
            Backend::Remote(r) => match &r.transport {
                remote::Transport::Aws(aws) => aws_sdk_dynamodbstreams::Client::new(&aws.config),
                remote::Transport::Plain(endpoint) => crate::in_process::streams_client_over(
                    aws_smithy_http_client::Builder::new().build_http(),
                    endpoint,
                    FIXTURE_ACCESS_KEY,
                    FIXTURE_REGION,
                ),
            },
        }
    }

    /// A client like [`Fixture::client`] signing for `region` instead: it sees that region's
    /// tables (global table replicas, for instance).
    pub fn client_in(&self, region: &str) -> aws_sdk_dynamodb::Client {
        match &self.backend {
            Backend::Local(l) => {
                crate::in_process::client(l.router.clone(), FIXTURE_ACCESS_KEY, region)
            }
            Backend::Remote(_) => aws_sdk_dynamodb::Client::from_conf(
                self.client
                    .config()
                    .to_builder()
                    .region(aws_sdk_dynamodb::config::Region::new(region.to_string()))
                    .build(),
            ),
        }
    }

    /// A DynamoDB Streams client like [`Fixture::streams_client`] signing for `region`.
    pub fn streams_client_in(&self, region: &str) -> aws_sdk_dynamodbstreams::Client {
        let client = self.streams_client();
        aws_sdk_dynamodbstreams::Client::from_conf(
            client
                .config()
                .to_builder()
                .region(aws_sdk_dynamodbstreams::config::Region::new(
                    region.to_string(),
                ))
                .build(),
        )
    }

    /// Applies every replicated write still waiting, lag or not (global tables); returns how
    /// many were taken from the queue. In memory only.
    ///
    /// # Panics
    /// On an endpoint [`Target`].
    pub fn replicate(&self) -> Result<usize, ddb_engine::Error> {
        self.engine().replicate_all()
    }

    /// On an endpoint or AWS [`Target`], deletes the fixture's tables now and reports a
    /// failure; `#[ddb_test]` calls it when the test ends. Dropping the last clone of a
    /// fixture deletes them too, but on a background thread that a process exiting right
    /// after the test (as under `cargo nextest`) may cut short. In memory, nothing to do.
    pub async fn cleanup(&self) -> Result<(), FixtureError> {
        match &self.backend {
            Backend::Local(_) => Ok(()),
            Backend::Remote(r) => r.delete_tables().await,
        }
    }

    /// Where this fixture's tables live.
    pub fn target(&self) -> Target {
        match &self.backend {
            Backend::Local(_) => Target::Memory,
            Backend::Remote(r) => match &r.transport {
                remote::Transport::Plain(endpoint) => Target::Endpoint(endpoint.clone()),
                remote::Transport::Aws(_) => Target::Aws,
            },
        }
    }

    /// The real name of the fixture table `name`: `name` itself in memory, the name with this
    /// fixture's unique prefix on an endpoint.
    pub fn table(&self, name: &str) -> String {
        match &self.backend {
            Backend::Local(_) => name.to_string(),
            Backend::Remote(r) => format!("{}{name}", r.prefix),
        }
    }

    /// Whether a test needing `feature` (a manual clock, engine inspection, fault injection,
    /// stream handlers) should skip because the fixture runs against an endpoint; prints why.
    ///
    /// ```no_run
    /// # fn demo(f: ddb_harness::Fixture) {
    /// if f.skip_unless_local("engine inspection") {
    ///     return;
    /// }
    /// # }
    /// ```
    pub fn skip_unless_local(&self, feature: &str) -> bool {
        match &self.backend {
            Backend::Local(_) => false,
            Backend::Remote(r) => {
                println!(
                    "skipped: {feature} needs the in-memory target, and {TARGET_ENV} is {}",
                    r.transport.endpoint()
                );
                true
            }
        }
    }

    fn local(&self, feature: &str) -> &Local {
        match &self.backend {
            Backend::Local(l) => l,
            Backend::Remote(r) => panic!(
                "{feature} needs the in-memory target, not {}: guard the test with \
                 `if fixture.skip_unless_local(\"{feature}\") {{ return; }}`",
                r.transport.endpoint()
            ),
        }
    }

    /// The engine, for direct inspection.
    ///
    /// # Panics
    /// On an endpoint [`Target`] (see [`Fixture::skip_unless_local`]).
    pub fn engine(&self) -> &Engine {
        &self.local("engine inspection").engine
    }

    /// The router (the whole protocol layer) of this fixture.
    ///
    /// # Panics
    /// On an endpoint [`Target`].
    pub fn router(&self) -> &Router {
        &self.local("the router").router
    }

    /// The fault injection rules of this fixture: add or clear rules while the test runs, and
    /// read their counters.
    ///
    /// # Panics
    /// On an endpoint [`Target`].
    pub fn faults(&self) -> &Faults {
        &self.local("fault injection").faults
    }

    /// The manual clock, when the fixture was built with one (never on an endpoint).
    pub fn clock(&self) -> Option<&ManualClock> {
        match &self.backend {
            Backend::Local(l) => l.clock.as_ref(),
            Backend::Remote(_) => None,
        }
    }

    /// The namespace the fixture's client works in.
    pub fn namespace(&self) -> Namespace {
        Namespace::new(FIXTURE_ACCESS_KEY, FIXTURE_REGION)
    }

    /// Every item of `table`, in key order.
    ///
    /// # Panics
    /// On an endpoint [`Target`].
    pub fn items(&self, table: &str) -> Result<Vec<ddb_engine::Item>, ddb_engine::Error> {
        self.engine().items(&self.namespace(), table)
    }

    /// Moves the manual clock forward and runs what the new time makes due: TTL expiry
    /// deletes items whose TTL attribute has passed (the same happens on
    /// `fixture.clock().advance(..)`). Returns how many items expired.
    ///
    /// # Panics
    /// When the fixture was built without a manual clock (see [`FixtureBuilder::clock`]).
    pub fn advance(&self, by: std::time::Duration) -> Result<usize, ddb_engine::Error> {
        let local = self.local("a manual clock");
        let clock = local.clock.as_ref().unwrap_or_else(|| {
            panic!("Fixture::advance needs a manual clock: build the fixture with .clock(..)")
        });
        let before = local.expired.load(std::sync::atomic::Ordering::SeqCst);
        clock.advance(by);
        Ok(local.expired.load(std::sync::atomic::Ordering::SeqCst) - before)
    }

    /// All tables and items as sorted JSON, for snapshots.
    ///
    /// # Panics
    /// On an endpoint [`Target`].
    pub fn dump(&self) -> Result<serde_json::Value, ddb_engine::Error> {
        self.engine().dump()
    }

    /// `http://127.0.0.1:PORT` of a listener serving this fixture, started on first call, for
    /// clients in other languages. Use the access key `000000000000` and region `us-east-1` to
    /// see the fixture's tables. On an endpoint [`Target`], that endpoint.
    pub async fn endpoint(&self) -> Result<String, FixtureError> {
        let local = match &self.backend {
            Backend::Local(l) => l,
            Backend::Remote(r) => return Ok(r.transport.endpoint().to_string()),
        };
        let router = local.router.clone();
        let handle = local
            .server
            .get_or_try_init(|| async move {
                crate::server::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), router).await
            })
            .await?;
        Ok(handle.endpoint())
    }

    /// Subscribes `handler` to the stream of `table`, as a Lambda function with a DynamoDB
    /// event source mapping. The handler takes a [`DynamoDbEvent`](crate::DynamoDbEvent) or a
    /// `serde_json::Value` (or any type the event deserializes into) and is called during
    /// [`Fixture::drain_streams`]; returning `Err` retries the same batch.
    pub fn on_stream<T, E, F>(
        &self,
        table: &str,
        config: StreamHandlerConfig,
        mut handler: F,
    ) -> Result<(), StreamHandlerError>
    where
        T: DeserializeOwned,
        E: std::fmt::Display + Send + 'static,
        F: FnMut(T) -> Result<(), E> + Send + 'static,
    {
        self.on_stream_async(table, config, move |event| {
            std::future::ready(handler(event))
        })
    }

    /// [`Fixture::on_stream`] for an async handler (one that calls the client, say).
    pub fn on_stream_async<T, E, Fut, F>(
        &self,
        table: &str,
        config: StreamHandlerConfig,
        handler: F,
    ) -> Result<(), StreamHandlerError>
    where
        T: DeserializeOwned,
        E: std::fmt::Display,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        F: FnMut(T) -> Fut + Send + 'static,
    {
        let Backend::Local(local) = &self.backend else {
            return Err(StreamHandlerError::NotLocal);
        };
        let sub =
            stream_handler::subscribe(&local.engine, &self.namespace(), table, config, handler)?;
        self.subscriptions().push(sub);
        Ok(())
    }

    fn subscriptions(&self) -> std::sync::MutexGuard<'_, Vec<Subscription>> {
        // A handler that panicked poisons nothing we rely on: the list is still consistent.
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers stream records to the handlers of [`Fixture::on_stream`] until every handler
    /// has seen every record, including records its handlers' own writes produce.
    /// Deterministic: it reads the streams directly, with no background task.
    pub async fn drain_streams(&self) -> Result<DrainReport, StreamHandlerError> {
        let Backend::Local(local) = &self.backend else {
            return Err(StreamHandlerError::NotLocal);
        };
        let mut subs = std::mem::take(&mut *self.subscriptions());
        let result = stream_handler::drain(&local.engine, &self.namespace(), &mut subs).await;
        // Handlers added while draining go after the ones drained.
        let mut guard = self.subscriptions();
        let added = std::mem::replace(&mut *guard, subs);
        guard.extend(added);
        result
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

mod aws;
pub use aws::SignedClient;

/// Fixtures on an endpoint [`Target`]: setup and teardown with plain JSON requests.
mod remote {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::time::Duration;

    use aws_credential_types::Credentials;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::aws::Aws;
    use super::{FIXTURE_ACCESS_KEY, FIXTURE_REGION, FixtureError, unique_prefix};

    /// How setup and teardown requests reach the target.
    #[derive(Debug, Clone)]
    pub(super) enum Transport {
        /// Unsigned HTTP/1.1 to a local endpoint (`http://host:port`).
        Plain(String),
        /// Signed requests to DynamoDB (`DDB_TEST_TARGET=aws`).
        Aws(Arc<Aws>),
    }

    impl Transport {
        /// The endpoint URL.
        pub(super) fn endpoint(&self) -> &str {
            match self {
                Transport::Plain(e) => e,
                Transport::Aws(a) => &a.endpoint,
            }
        }

        async fn call(
            &self,
            op: &str,
            body: &serde_json::Value,
        ) -> Result<(u16, serde_json::Value), FixtureError> {
            match self {
                Transport::Plain(endpoint) => call(endpoint, op, body).await,
                Transport::Aws(aws) => aws.call(op, body).await,
            }
        }
    }

    /// The endpoint side of a fixture; dropping it deletes the tables.
    #[derive(Debug)]
    pub(super) struct Remote {
        pub(super) transport: Transport,
        pub(super) prefix: String,
        /// The real names of the tables created and not yet deleted.
        tables: std::sync::Mutex<Vec<String>>,
    }

    impl Remote {
        /// Deletes the fixture's tables now; the first failure is returned after every
        /// table was tried.
        pub(super) async fn delete_tables(&self) -> Result<(), FixtureError> {
            let tables = match self.tables.lock() {
                Ok(mut t) => std::mem::take(&mut *t),
                Err(_) => return Ok(()),
            };
            let mut first = Ok(());
            for t in tables {
                let body = serde_json::json!({ "TableName": t });
                if let Err(e) = run(&self.transport, "DeleteTable", &body).await
                    && first.is_ok()
                {
                    first = Err(e);
                }
            }
            first
        }
    }

    impl Drop for Remote {
        fn drop(&mut self) {
            let tables = match self.tables.get_mut() {
                Ok(t) => std::mem::take(t),
                Err(_) => return,
            };
            if tables.is_empty() {
                return;
            }
            let transport = self.transport.clone();
            // Best effort, on its own thread: the runtime dropping the fixture may be the one
            // serving the endpoint, so it must not wait here.
            let _ = std::thread::Builder::new()
                .name("ddb-harness-cleanup".into())
                .spawn(move || match transport {
                    Transport::Plain(endpoint) => {
                        for t in tables {
                            let body = serde_json::json!({ "TableName": t }).to_string();
                            let _ = call_blocking(&endpoint, "DeleteTable", &body);
                        }
                    }
                    Transport::Aws(aws) => {
                        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        else {
                            return;
                        };
                        runtime.block_on(async move {
                            for t in tables {
                                let body = serde_json::json!({ "TableName": t });
                                let _ = aws.call("DeleteTable", &body).await;
                            }
                        });
                    }
                });
        }
    }

    fn host_of(endpoint: &str) -> &str {
        let rest = endpoint.strip_prefix("http://").unwrap_or(endpoint);
        rest.split('/').next().unwrap_or(rest)
    }

    fn request(endpoint: &str, op: &str, body: &str) -> Vec<u8> {
        // Neither ddb-harness nor DynamoDB Local verifies signatures; both read the account and
        // region from the credential scope.
        format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n\
             X-Amz-Target: DynamoDB_20120810.{op}\r\nX-Amz-Date: 20240101T000000Z\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={FIXTURE_ACCESS_KEY}/20240101/{FIXTURE_REGION}/dynamodb/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-target, Signature={sig}\r\n\
             Content-Length: {len}\r\nConnection: close\r\n\r\n{body}",
            host = host_of(endpoint),
            sig = "0".repeat(64),
            len = body.len(),
        )
        .into_bytes()
    }

    /// Status code and body of a raw HTTP/1.1 response.
    fn parse_response(raw: &[u8]) -> Option<(u16, serde_json::Value)> {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            let mut out = String::new();
            let mut rest = body;
            while let Some((size, after)) = rest.split_once("\r\n") {
                let n = usize::from_str_radix(size.trim(), 16).ok()?;
                if n == 0 {
                    break;
                }
                out.push_str(after.get(..n)?);
                rest = after.get(n..)?.trim_start_matches("\r\n");
            }
            out
        } else {
            body.to_string()
        };
        Some((status, serde_json::from_str(&body).unwrap_or_default()))
    }

    async fn call(
        endpoint: &str,
        op: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), FixtureError> {
        let connect = |e: std::io::Error| FixtureError::Connect {
            endpoint: endpoint.to_string(),
            message: e.to_string(),
        };
        let mut stream = tokio::net::TcpStream::connect(host_of(endpoint))
            .await
            .map_err(connect)?;
        stream
            .write_all(&request(endpoint, op, &body.to_string()))
            .await
            .map_err(connect)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(connect)?;
        parse_response(&raw).ok_or_else(|| FixtureError::Connect {
            endpoint: endpoint.to_string(),
            message: "the answer is not an HTTP response".into(),
        })
    }

    fn call_blocking(endpoint: &str, op: &str, body: &str) -> std::io::Result<()> {
        let mut stream = std::net::TcpStream::connect(host_of(endpoint))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(&request(endpoint, op, body))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(())
    }

    async fn run(
        transport: &Transport,
        op: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, FixtureError> {
        let (status, reply) = transport.call(op, body).await?;
        if status == 200 {
            return Ok(reply);
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
    }

    /// Creates the prefixed tables and items through `transport`, and a client for them.
    pub(super) async fn build(
        transport: Transport,
        name: Option<&str>,
        tables: Vec<serde_json::Value>,
        items: Vec<(String, serde_json::Value)>,
    ) -> Result<(Remote, aws_sdk_dynamodb::Client), FixtureError> {
        let remote = Remote {
            prefix: unique_prefix(name),
            transport,
            tables: std::sync::Mutex::default(),
        };
        for mut table in tables {
            let real = match table.get("TableName").and_then(|v| v.as_str()) {
                Some(n) => format!("{}{n}", remote.prefix),
                None => {
                    return Err(FixtureError::Definition(
                        "a table definition has no TableName".into(),
                    ));
                }
            };
            if let Some(obj) = table.as_object_mut() {
                obj.insert("TableName".into(), real.clone().into());
            }
            run(&remote.transport, "CreateTable", &table).await?;
            if let Ok(mut created) = remote.tables.lock() {
                created.push(real.clone());
            }
            // AWS creates tables asynchronously; local endpoints answer ACTIVE at once.
            for _ in 0..120 {
                let d = run(
                    &remote.transport,
                    "DescribeTable",
                    &serde_json::json!({ "TableName": real }),
                )
                .await?;
                if d.pointer("/Table/TableStatus").and_then(|v| v.as_str()) == Some("ACTIVE") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        for (table, item) in items {
            let body = serde_json::json!({ "TableName": format!("{}{table}", remote.prefix), "Item": item });
            run(&remote.transport, "PutItem", &body).await?;
        }
        let endpoint = match &remote.transport {
            Transport::Plain(endpoint) => endpoint.clone(),
            Transport::Aws(aws) => {
                let client = aws.client();
                return Ok((remote, client));
            }
        };
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(FIXTURE_REGION))
            .credentials_provider(Credentials::new(
                FIXTURE_ACCESS_KEY,
                "ddb-harness",
                None,
                None,
                "ddb-harness",
            ))
            .endpoint_url(&endpoint)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        let client = aws_sdk_dynamodb::Client::from_conf(config);
        Ok((remote, client))
    }
}
