//! Fault injection: rules that make the router answer a request with one of AWS's throttling or
//! server errors, or answer it late, before the engine sees it.
//!
//! The rules, their matching and triggers, the AWS errors they produce, and the JSON file
//! format; the [`Router`](crate::Router) consults a [`Faults`] set before every engine call.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;

use crate::protocol::WireError;
use crate::protocol::validate::ServiceModel;

/// The `__type` namespace of DynamoDB's own (modeled) errors.
const DYNAMODB_NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810";

/// Whether an operation reads or writes, for [`FaultRule::class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationClass {
    /// `GetItem`, `Query`, `Scan`, `BatchGetItem`, `TransactGetItems`, and every `Describe*`,
    /// `List*` and `Get*` operation (including the DynamoDB Streams reads).
    Read,
    /// Every other operation.
    Write,
}

impl OperationClass {
    /// The class of the operation named `op`.
    pub fn of(op: &str) -> Self {
        let read = matches!(op, "Query" | "Scan" | "BatchGetItem" | "TransactGetItems")
            || op.starts_with("Get")
            || op.starts_with("Describe")
            || op.starts_with("List");
        if read {
            OperationClass::Read
        } else {
            OperationClass::Write
        }
    }
}

/// When a matching rule fires. Counting is per rule and only over the calls that match it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Each matching call fires with probability `p` (0.0 ..= 1.0), drawn from the rule's own
    /// generator seeded with `seed`: the same sequence of calls gives the same faults.
    Probability {
        /// Probability of firing, from 0.0 (never) to 1.0 (always).
        p: f64,
        /// Seed of the rule's generator.
        seed: u64,
    },
    /// Only the n-th matching call fires (1-based), once.
    NthCall(u64),
    /// Every matching call fires until the rule is cleared.
    EveryCallUntilCleared,
    /// The first n matching calls fire.
    FirstN(u64),
}

/// What an injected fault does to a request.
///
/// The AWS errors carry AWS's status code, `__type` and message. Sources: the Developer Guide's
/// "Error handling with DynamoDB" (`Programming.Errors.md`, status codes and the texts of
/// ThrottlingException, RequestLimitExceeded and ItemCollectionSizeLimitExceededException),
/// the botocore model (which errors are faults, the `message` member), and messages quoted from
/// AWS responses in SDK exception traces (ProvisionedThroughputExceededException,
/// InternalServerError, TransactionConflictException).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 400 `com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException`. Retried
    /// by the AWS SDKs as a throttling error.
    ProvisionedThroughputExceeded,
    /// 400 `com.amazon.coral.availability#ThrottlingException` (the service front end's
    /// namespace, not DynamoDB's). Retried by the AWS SDKs.
    Throttling,
    /// 400 `com.amazonaws.dynamodb.v20120810#RequestLimitExceeded`. Retried by the AWS SDKs.
    RequestLimitExceeded,
    /// 500 `com.amazonaws.dynamodb.v20120810#InternalServerError`. Retried by the AWS SDKs as a
    /// transient error.
    InternalServerError,
    /// 400 `com.amazonaws.dynamodb.v20120810#TransactionConflictException`: a single-item write
    /// ran into an ongoing transaction. Not retried by the AWS SDKs.
    TransactionConflict,
    /// 400 `com.amazonaws.dynamodb.v20120810#ItemCollectionSizeLimitExceededException`: an item
    /// collection of a table with a local secondary index passed 10 GB.
    ItemCollectionSizeLimitExceeded,
    /// Answer late: the router sleeps this long, then handles the request normally.
    Latency(Duration),
    /// Any error: `type_` is a full `__type` (`namespace#Name`) or a bare name, which gets
    /// DynamoDB's namespace `com.amazonaws.dynamodb.v20120810`.
    Error {
        /// The `__type`.
        type_: String,
        /// The message, if any.
        message: Option<String>,
        /// The HTTP status.
        status: u16,
    },
}

impl Fault {
    /// The AWS error this fault answers with; `None` for [`Fault::Latency`].
    pub(crate) fn wire_error(&self) -> Option<WireError> {
        let modeled = |name: &str, status: u16, message: &str| WireError {
            status,
            type_: format!("{DYNAMODB_NAMESPACE}#{name}"),
            message: Some(message.to_string()),
            message_key: "message",
            extra: None,
        };
        Some(match self {
            Fault::ProvisionedThroughputExceeded => modeled(
                "ProvisionedThroughputExceededException",
                400,
                "The level of configured provisioned throughput for the table was exceeded. \
                 Consider increasing your provisioning level with the UpdateTable API.",
            ),
            Fault::Throttling => WireError {
                type_: "com.amazon.coral.availability#ThrottlingException".into(),
                ..modeled(
                    "ThrottlingException",
                    400,
                    "Rate of requests exceeds the allowed throughput.",
                )
            },
            Fault::RequestLimitExceeded => modeled(
                "RequestLimitExceeded",
                400,
                "Throughput exceeds the current throughput limit for your account. To request a \
                 limit increase, contact AWS Support at https://aws.amazon.com/support.",
            ),
            Fault::InternalServerError => {
                modeled("InternalServerError", 500, "Internal server error")
            }
            Fault::TransactionConflict => modeled(
                "TransactionConflictException",
                400,
                "Transaction is ongoing for the item",
            ),
            Fault::ItemCollectionSizeLimitExceeded => modeled(
                "ItemCollectionSizeLimitExceededException",
                400,
                "Collection size exceeded.",
            ),
            Fault::Latency(_) => return None,
            Fault::Error {
                type_,
                message,
                status,
            } => WireError {
                status: *status,
                type_: if type_.contains('#') {
                    type_.clone()
                } else {
                    format!("{DYNAMODB_NAMESPACE}#{type_}")
                },
                message: message.clone(),
                message_key: "message",
                extra: None,
            },
        })
    }
}

/// One fault injection rule: which requests it applies to, when it fires, what it does.
///
/// ```
/// use ddb_harness::{Fault, FaultRule, Trigger};
/// let rule = FaultRule::new(Trigger::NthCall(3), Fault::InternalServerError)
///     .operation("PutItem")
///     .table("users");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Only this operation (e.g. `"PutItem"`); any operation when `None`.
    pub operation: Option<String>,
    /// Only requests naming this table; any request when `None`.
    pub table: Option<String>,
    /// Only reads or only writes; both when `None`.
    pub class: Option<OperationClass>,
    /// When the rule fires.
    pub trigger: Trigger,
    /// What it does when it fires.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule matching every request.
    pub fn new(trigger: Trigger, fault: Fault) -> Self {
        FaultRule {
            operation: None,
            table: None,
            class: None,
            trigger,
            fault,
        }
    }

    /// Restricts the rule to one operation.
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Restricts the rule to requests naming one table.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// Restricts the rule to reads or to writes.
    pub fn class(mut self, class: OperationClass) -> Self {
        self.class = Some(class);
        self
    }

    fn matches(&self, op: &str, body: &serde_json::Value) -> bool {
        if self.operation.as_deref().is_some_and(|o| o != op) {
            return false;
        }
        if self.class.is_some_and(|c| c != OperationClass::of(op)) {
            return false;
        }
        match &self.table {
            Some(table) => tables_of(body).iter().any(|t| t == table),
            None => true,
        }
    }
}

/// The identity of a rule in a [`Faults`] set, to read its counters or clear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(u64);

/// A rule's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Requests that matched the rule while it was active.
    pub calls: u64,
    /// Of those, the ones the rule fired on.
    pub injected: u64,
    /// Whether the rule is still active (not cleared).
    pub active: bool,
}

/// Why a fault file was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaultsError {
    /// Not JSON, or not the documented shape.
    #[error("invalid fault rules: {0}")]
    Json(#[from] serde_json::Error),
    /// A rule that cannot mean what it says (rule index, 0-based, and the reason).
    #[error("invalid fault rule {index}: {reason}")]
    Rule {
        /// Position of the rule in the file, from 0.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// A set of fault rules shared by a router and the test that steers it. Cheap to clone: every
/// clone sees and changes the same rules.
///
/// A [`Faults`] set holds [`FaultRule`]s. The [`Router`](crate::Router) consults it for every
/// request after the request has been parsed, routed, authenticated and validated against the
/// service model — a faulted request is always a well-formed one — and before the engine is
/// called, so an injected error never changes any data. Rules are consulted in the order they
/// were added; each rule whose filters match the request counts the call and asks its
/// [`Trigger`] whether to fire. A [`Fault::Latency`] that fires adds its delay and the
/// consultation goes on; the first error that fires ends it and becomes the response (through
/// the same one-place error encoding as every other AWS error). Rules after that error do not
/// count the call.
///
/// Latency is a blocking `std::thread::sleep`: the router is synchronous. Behind
/// [`bind`](crate::bind) it runs on tokio's blocking pool, so other requests go on; the
/// in-process client of a [`Fixture`](crate::Fixture) calls it on the test's own thread, which
/// therefore sleeps too.
///
/// # File format
///
/// [`Faults::from_json`] reads a JSON array of rules (or a single rule object):
///
/// ```json
/// [
///   { "operation": "PutItem", "table": "users",
///     "trigger": { "nth_call": 3 }, "fault": "provisioned_throughput_exceeded" },
///   { "class": "read", "trigger": { "probability": { "p": 0.1, "seed": 7 } },
///     "fault": { "latency_ms": 250 } },
///   { "operation": "Query", "trigger": { "first_n": 2 },
///     "fault": { "error": { "type": "ValidationException", "message": "boom", "status": 400 } } },
///   { "fault": "internal_server_error" }
/// ]
/// ```
///
/// - `operation` (optional): an operation name of DynamoDB or DynamoDB Streams, e.g. `"PutItem"`.
/// - `table` (optional): a table name; a request matches when any table it names (`TableName`,
///   the keys of `RequestItems`, the tables of `TransactItems`, or the table in a `ResourceArn`
///   or `StreamArn`) is this one.
/// - `class` (optional): `"read"` or `"write"` (see [`OperationClass`]).
/// - `trigger` (optional, default `"every_call_until_cleared"`): `"every_call_until_cleared"`,
///   `{"nth_call": n}` (1-based, fires once), `{"first_n": n}`, or
///   `{"probability": {"p": 0.0..=1.0, "seed": u64}}` (`seed` defaults to 0).
/// - `fault`: `"provisioned_throughput_exceeded"`, `"throttling"`, `"request_limit_exceeded"`,
///   `"internal_server_error"`, `"transaction_conflict"`,
///   `"item_collection_size_limit_exceeded"`, `{"latency_ms": n}`, or
///   `{"error": {"type": "Name or namespace#Name", "message": "…", "status": 400}}` (`message`
///   optional, `status` defaults to 400, a bare `type` gets DynamoDB's namespace).
///
/// Unknown fields are errors, so a typo does not silently disable a rule.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    /// Every rule ever added, in insertion order; cleared rules stay (inactive) so that their
    /// counters can still be read.
    rules: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    id: RuleId,
    rule: FaultRule,
    stats: RuleStats,
    /// State of the rule's SplitMix64 generator (used by [`Trigger::Probability`]).
    rng: u64,
}

impl Faults {
    /// An empty set.
    pub fn new() -> Self {
        Faults::default()
    }

    /// Parses rules in the [file format](Faults#file-format) into a new set.
    pub fn from_json(json: &str) -> Result<Self, FaultsError> {
        let faults = Faults::new();
        for rule in parse_rules(json)? {
            faults.add(rule);
        }
        Ok(faults)
    }

    /// Parses rules in the [file format](Faults#file-format) and adds them to this set.
    pub fn add_json(&self, json: &str) -> Result<Vec<RuleId>, FaultsError> {
        Ok(parse_rules(json)?
            .into_iter()
            .map(|r| self.add(r))
            .collect())
    }

    /// Adds a rule after the existing ones; it applies from the next request on.
    pub fn add(&self, rule: FaultRule) -> RuleId {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = RuleId(inner.next_id);
        let rng = match rule.trigger {
            Trigger::Probability { seed, .. } => seed,
            _ => 0,
        };
        inner.rules.push(Entry {
            id,
            rule,
            stats: RuleStats {
                active: true,
                ..RuleStats::default()
            },
            rng,
        });
        id
    }

    /// Deactivates a rule; its counters stay readable. Returns whether it was active.
    pub fn clear(&self, id: RuleId) -> bool {
        let mut inner = self.lock();
        match inner.rules.iter_mut().find(|e| e.id == id) {
            Some(e) => std::mem::replace(&mut e.stats.active, false),
            None => false,
        }
    }

    /// Deactivates every rule.
    pub fn clear_all(&self) {
        for e in &mut self.lock().rules {
            e.stats.active = false;
        }
    }

    /// The counters of a rule; `None` for an id this set never issued.
    pub fn stats(&self, id: RuleId) -> Option<RuleStats> {
        self.lock()
            .rules
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.stats)
    }

    /// How many requests matched the rule (0 for an unknown id).
    pub fn calls(&self, id: RuleId) -> u64 {
        self.stats(id).map_or(0, |s| s.calls)
    }

    /// How many requests the rule faulted (0 for an unknown id).
    pub fn injected(&self, id: RuleId) -> u64 {
        self.stats(id).map_or(0, |s| s.injected)
    }

    /// The active rules, in the order they are consulted.
    pub fn rules(&self) -> Vec<(RuleId, FaultRule)> {
        self.lock()
            .rules
            .iter()
            .filter(|e| e.stats.active)
            .map(|e| (e.id, e.rule.clone()))
            .collect()
    }

    /// Consults the rules for one request of operation `op`: sleeps for the latencies that
    /// fire, then returns the first error that fires.
    pub(crate) fn inject(&self, op: &str, body: &serde_json::Value) -> Result<(), WireError> {
        let (delay, error) = self.decide(op, body);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        match error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Counts the call on every consulted rule and picks the faults; does not sleep, so the
    /// lock is never held across a delay.
    fn decide(&self, op: &str, body: &serde_json::Value) -> (Duration, Option<WireError>) {
        let mut inner = self.lock();
        let mut delay = Duration::ZERO;
        for e in inner.rules.iter_mut().filter(|e| e.stats.active) {
            if !e.rule.matches(op, body) {
                continue;
            }
            e.stats.calls += 1;
            let n = e.stats.calls;
            let fire = match e.rule.trigger {
                Trigger::EveryCallUntilCleared => true,
                Trigger::NthCall(k) => n == k,
                Trigger::FirstN(k) => n <= k,
                Trigger::Probability { p, .. } => unit_interval(splitmix64(&mut e.rng)) < p,
            };
            if !fire {
                continue;
            }
            e.stats.injected += 1;
            match &e.rule.fault {
                Fault::Latency(d) => delay = delay.saturating_add(*d),
                fault => return (delay, fault.wire_error()),
            }
        }
        (delay, None)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock is held cannot leave the counters inconsistent in a way that
        // matters more than failing every later request would.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One step of SplitMix64.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform value in [0, 1) from the top 53 bits.
fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The table names a request refers to.
fn tables_of(body: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: &str| out.push(table_name(s).to_string());
    for key in ["TableName", "ResourceArn", "StreamArn"] {
        if let Some(s) = body.get(key).and_then(|v| v.as_str()) {
            push(s);
        }
    }
    if let Some(items) = body.get("RequestItems").and_then(|v| v.as_object()) {
        items.keys().for_each(|k| push(k));
    }
    if let Some(items) = body.get("TransactItems").and_then(|v| v.as_array()) {
        for item in items.iter().filter_map(|i| i.as_object()) {
            for action in item.values() {
                if let Some(s) = action.get("TableName").and_then(|v| v.as_str()) {
                    push(s);
                }
            }
        }
    }
    out
}

/// The table name in a table name or a table (or stream) ARN.
fn table_name(s: &str) -> &str {
    if s.starts_with("arn:")
        && let Some((_, rest)) = s.split_once(":table/")
    {
        return rest.split('/').next().unwrap_or(rest);
    }
    s
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleJson {
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    class: Option<ClassJson>,
    #[serde(default)]
    trigger: TriggerJson,
    fault: FaultJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClassJson {
    Read,
    Write,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum TriggerJson {
    #[default]
    EveryCallUntilCleared,
    NthCall(u64),
    FirstN(u64),
    Probability {
        p: f64,
        #[serde(default)]
        seed: u64,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum FaultJson {
    ProvisionedThroughputExceeded,
    Throttling,
    RequestLimitExceeded,
    InternalServerError,
    TransactionConflict,
    ItemCollectionSizeLimitExceeded,
    LatencyMs(u64),
    Error {
        #[serde(rename = "type")]
        type_: String,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        status: Option<u16>,
    },
}

fn parse_rules(json: &str) -> Result<Vec<FaultRule>, FaultsError> {
    let rules = match serde_json::from_str::<serde_json::Value>(json)? {
        v @ serde_json::Value::Array(_) => serde_json::from_value::<Vec<RuleJson>>(v)?,
        v => vec![serde_json::from_value::<RuleJson>(v)?],
    };
    rules
        .into_iter()
        .enumerate()
        .map(|(index, r)| {
            r.into_rule()
                .map_err(|reason| FaultsError::Rule { index, reason })
        })
        .collect()
}

impl RuleJson {
    fn into_rule(self) -> Result<FaultRule, String> {
        if let Some(op) = &self.operation
            && !ServiceModel::dynamodb().has_operation(op)
            && !ServiceModel::streams().has_operation(op)
        {
            return Err(format!(
                "unknown operation {op:?}; expected a DynamoDB or DynamoDB Streams operation name such as \"PutItem\""
            ));
        }
        let trigger = match self.trigger {
            TriggerJson::EveryCallUntilCleared => Trigger::EveryCallUntilCleared,
            TriggerJson::NthCall(0) => return Err("nth_call counts from 1".into()),
            TriggerJson::NthCall(n) => Trigger::NthCall(n),
            TriggerJson::FirstN(n) => Trigger::FirstN(n),
            TriggerJson::Probability { p, seed } => {
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!("probability {p} is not between 0 and 1"));
                }
                Trigger::Probability { p, seed }
            }
        };
        let fault = match self.fault {
            FaultJson::ProvisionedThroughputExceeded => Fault::ProvisionedThroughputExceeded,
            FaultJson::Throttling => Fault::Throttling,
            FaultJson::RequestLimitExceeded => Fault::RequestLimitExceeded,
            FaultJson::InternalServerError => Fault::InternalServerError,
            FaultJson::TransactionConflict => Fault::TransactionConflict,
            FaultJson::ItemCollectionSizeLimitExceeded => Fault::ItemCollectionSizeLimitExceeded,
            FaultJson::LatencyMs(ms) => Fault::Latency(Duration::from_millis(ms)),
            FaultJson::Error {
                type_,
                message,
                status,
            } => {
                let status = status.unwrap_or(400);
                if !(400..=599).contains(&status) {
                    return Err(format!(
                        "status {status} is not an error status (400..=599)"
                    ));
                }
                if type_.is_empty() {
                    return Err("error type is empty".into());
                }
                Fault::Error {
                    type_,
                    message,
                    status,
                }
            }
        };
        Ok(FaultRule {
            operation: self.operation,
            table: self.table,
            class: self.class.map(|c| match c {
                ClassJson::Read => OperationClass::Read,
                ClassJson::Write => OperationClass::Write,
            }),
            trigger,
            fault,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_class(op: &str, class: OperationClass) {
        assert_eq!(OperationClass::of(op), class, "{op}");
    }

    #[test]
    fn reads_and_writes() {
        for op in [
            "GetItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "TransactGetItems",
            "DescribeTable",
            "ListTables",
            "GetRecords",
        ] {
            check_class(op, OperationClass::Read);
        }
        for op in [
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "TransactWriteItems",
            "CreateTable",
            "TagResource",
        ] {
            check_class(op, OperationClass::Write);
        }
    }

    #[test]
    fn tables_come_from_every_place_a_request_names_them() {
        let body = serde_json::json!({
            "RequestItems": {"a": [], "b": []},
            "TransactItems": [{"Put": {"TableName": "c"}}, {"ConditionCheck": {"TableName": "d"}}],
            "ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/e",
            "StreamArn": "arn:aws:dynamodb:us-east-1:000000000000:table/f/stream/2024",
        });
        assert_eq!(tables_of(&body), ["e", "f", "a", "b", "c", "d"]);
    }

    #[test]
    fn file_format_parses_every_shape() {
        let rules = parse_rules(
            r#"[
              {"operation": "PutItem", "table": "users", "class": "write",
               "trigger": {"nth_call": 3}, "fault": "provisioned_throughput_exceeded"},
              {"trigger": {"probability": {"p": 0.5, "seed": 9}}, "fault": {"latency_ms": 20}},
              {"trigger": {"first_n": 2}, "fault": {"error": {"type": "X", "status": 503}}},
              {"fault": "throttling"}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            rules[0],
            FaultRule::new(Trigger::NthCall(3), Fault::ProvisionedThroughputExceeded)
                .operation("PutItem")
                .table("users")
                .class(OperationClass::Write)
        );
        assert_eq!(rules[1].trigger, Trigger::Probability { p: 0.5, seed: 9 });
        assert_eq!(rules[1].fault, Fault::Latency(Duration::from_millis(20)));
        assert_eq!(
            rules[2].fault,
            Fault::Error {
                type_: "X".into(),
                message: None,
                status: 503
            }
        );
        assert_eq!(rules[3].trigger, Trigger::EveryCallUntilCleared);
        assert_eq!(parse_rules(r#"{"fault": "throttling"}"#).unwrap().len(), 1);
    }

    #[test]
    fn file_format_rejects_mistakes() {
        for bad in [
            r#"[{"fault": "throttle"}]"#,
            r#"[{"fault": "throttling", "tabel": "x"}]"#,
            r#"[{"operation": "Putitem", "fault": "throttling"}]"#,
            r#"[{"trigger": {"nth_call": 0}, "fault": "throttling"}]"#,
            r#"[{"trigger": {"probability": {"p": 1.5}}, "fault": "throttling"}]"#,
            r#"[{"fault": {"error": {"type": "X", "status": 200}}}]"#,
            "not json",
        ] {
            assert!(parse_rules(bad).is_err(), "{bad}");
        }
    }
}
