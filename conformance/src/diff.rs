//! Normalizing responses so that two DynamoDB implementations can be compared, and showing
//! what differs as a readable diff.
//!
//! Normalization (documented, deliberately small): fields that are unique per run (ARNs, table
//! ids, timestamps, stream labels) are replaced by placeholders; the members of SS/NS/BS sets are
//! sorted, since set order is unspecified, and so are BatchGetItem's per-table item lists and
//! batch `ConsumedCapacity` lists; error `__type`s are reduced to the part after `#`. Stream
//! records and shards: ids, sequence numbers, iterators, stream ARNs and labels and creation
//! times are placeholders too (the records' keys, images, names, view type and size are
//! compared). Numbers in E notation (DynamoDB Local prints `1E-130`) are rewritten in the plain
//! notation AWS uses.

use serde_json::Value;

use crate::wire::Reply;

const VOLATILE: &[&str] = &[
    "CreationDateTime",
    "TableArn",
    "TableId",
    "IndexArn",
    "LatestStreamArn",
    "LatestStreamLabel",
    "LastUpdateToPayPerRequestDateTime",
    "LastIncreaseDateTime",
    "LastDecreaseDateTime",
    // DynamoDB Streams.
    "StreamArn",
    "StreamLabel",
    "LastEvaluatedStreamArn",
    "CreationRequestDateTime",
    "ShardId",
    "ParentShardId",
    "LastEvaluatedShardId",
    "StartingSequenceNumber",
    "EndingSequenceNumber",
    "ShardIterator",
    "NextShardIterator",
    "eventID",
    "SequenceNumber",
    "ApproximateCreationDateTime",
    "__type",
];

/// Normalizes a reply into a comparable JSON value: `{"status": …, "body": …}`.
pub fn normalize(reply: &Reply) -> Value {
    let mut body = reply.body.clone();
    if body.get("__type").is_some_and(Value::is_string) {
        let short = reply.error_type().to_string();
        if let Some(obj) = body.as_object_mut() {
            obj.insert("__type".into(), Value::String(short));
            // AWS uses both `message` and `Message`; compare the text, not the key.
            if let Some(m) = obj.remove("Message") {
                obj.insert("message".into(), m);
            }
        }
    }
    walk(&mut body);
    serde_json::json!({ "status": reply.status, "body": body })
}

fn walk(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if VOLATILE.contains(&k.as_str()) && k != "__type" {
                    *child = Value::String(format!("<{k}>"));
                    continue;
                }
                // Per-table lists whose order AWS leaves unspecified (BatchGetItem responses,
                // batch ConsumedCapacity): compared as multisets.
                if k == "ConsumedCapacity" && child.is_array() {
                    walk(child);
                    sort_array(child);
                    continue;
                }
                if k == "Responses" {
                    if let Value::Object(tables) = child {
                        tables.values_mut().for_each(|items| {
                            walk(items);
                            sort_array(items);
                        });
                    }
                    continue;
                }
                if k == "N" {
                    plain_number(child);
                    continue;
                }
                if matches!(k.as_str(), "SS" | "NS" | "BS") {
                    if let Value::Array(items) = child {
                        if k == "NS" {
                            items.iter_mut().for_each(plain_number);
                        }
                        items.sort_by_key(|v| v.to_string());
                    }
                    continue;
                }
                walk(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// Known differences between the reference and AWS (or a cassette and ddb-harness), from
/// `conformance/divergences.toml`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Divergences {
    /// Members whose values are not compared (`*.` matches any prefix).
    #[serde(default, rename = "field")]
    pub fields: Vec<FieldDivergence>,
    /// Reference messages that AWS words differently.
    #[serde(default, rename = "message")]
    pub messages: Vec<MessageDivergence>,
    /// Recorded exchanges reported but not failed by the cassette checks.
    #[serde(default, rename = "exchange")]
    pub exchanges: Vec<ExchangeDivergence>,
}

/// Recorded exchanges whose difference is known and reviewed.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ExchangeDivergence {
    /// The cassette, as a path below `recordings/` (e.g. `dynamodb-local-3.3.1/session.json`).
    pub cassette: String,
    /// Every exchange of this operation in the cassette, when given.
    #[serde(default)]
    pub operation: Option<String>,
    /// These sequence numbers, when given.
    #[serde(default)]
    pub seq: Vec<u64>,
    /// Why the difference is accepted.
    pub reason: String,
}

/// A member not compared, with why.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FieldDivergence {
    /// Dotted path below `body`, optionally starting with `*.`.
    pub path: String,
    /// Why.
    pub reason: String,
    /// Evidence.
    pub source: String,
}

/// A reference message and the AWS message we give instead.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct MessageDivergence {
    /// The reference's exact message.
    pub reference: String,
    /// A regex our message must match.
    pub ours: String,
    /// Evidence.
    pub source: String,
}

impl Divergences {
    /// Loads the bundled list (`conformance/divergences.toml`).
    pub fn bundled() -> Divergences {
        Divergences::from_toml(include_str!("../divergences.toml")).unwrap_or_default()
    }

    /// Parses a divergence list.
    pub fn from_toml(text: &str) -> Result<Divergences, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The reason an exchange of `cassette` (a path below `recordings/`) is a known divergence.
    pub fn exchange(&self, cassette: &str, operation: &str, seq: u64) -> Option<&str> {
        self.exchanges
            .iter()
            .find(|d| {
                d.cassette == cassette
                    && (d.operation.as_deref() == Some(operation) || d.seq.contains(&seq))
            })
            .map(|d| d.reason.as_str())
    }

    /// Removes diverging fields from both sides and reconciles known message pairs.
    pub fn reconcile(&self, reference: &mut Value, ours: &mut Value) {
        for f in &self.fields {
            strip(reference, &f.path);
            strip(ours, &f.path);
        }
        let msg = |v: &Value| {
            v.pointer("/body/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let (Some(theirs), Some(mine)) = (msg(reference), msg(ours)) {
            let known = self.messages.iter().any(|m| {
                m.reference == theirs
                    && regex::Regex::new(&m.ours).is_ok_and(|re| re.is_match(&mine))
            });
            if known && let Some(b) = ours.get_mut("body").and_then(Value::as_object_mut) {
                b.insert("message".into(), Value::String(theirs));
            }
        }
    }
}

fn strip(v: &mut Value, path: &str) {
    match path.strip_prefix("*.") {
        Some(rest) => strip_anywhere(v, rest),
        None => {
            if let Some(body) = v.get_mut("body") {
                strip_at(body, path);
            }
        }
    }
}

fn strip_at(v: &mut Value, path: &str) {
    match path.split_once('.') {
        None => {
            if let Some(o) = v.as_object_mut() {
                o.remove(path);
            }
        }
        Some((head, rest)) => {
            if let Some(child) = v.get_mut(head) {
                strip_at(child, rest);
            }
        }
    }
}

fn strip_anywhere(v: &mut Value, path: &str) {
    strip_at(v, path);
    match v {
        Value::Object(map) => map.values_mut().for_each(|c| strip_anywhere(c, path)),
        Value::Array(items) => items.iter_mut().for_each(|c| strip_anywhere(c, path)),
        _ => {}
    }
}

/// Rewrites a number in E notation (`1E-130`, as DynamoDB Local prints with Java's
/// `BigDecimal.toString`) in the plain notation AWS answers with (`ddb_engine::Number`'s
/// display; sources in `engine/src/number.rs`). Numbers already in plain notation are left
/// alone, so a non-canonical plain number still shows as a difference.
fn plain_number(v: &mut Value) {
    if let Value::String(s) = v
        && s.contains(['E', 'e'])
        && let Ok(n) = s.parse::<ddb_engine::Number>()
    {
        *s = n.to_string();
    }
}

fn sort_array(v: &mut Value) {
    if let Value::Array(items) = v {
        // Member order is the sender's (serde_json preserves it): sort by the sorted form.
        items.sort_by_cached_key(|v| sorted(v).to_string());
    }
}

/// `v` with object members in name order, so that a diff shows values, not member order
/// (which JSON leaves unspecified).
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A unified diff of two normalized values, or `None` when they are equal.
pub fn diff(expected: &Value, actual: &Value) -> Option<String> {
    if expected == actual {
        return None;
    }
    let a = serde_json::to_string_pretty(&sorted(expected)).unwrap_or_default();
    let b = serde_json::to_string_pretty(&sorted(actual)).unwrap_or_default();
    Some(
        similar::TextDiff::from_lines(&a, &b)
            .unified_diff()
            .context_radius(3)
            .header("reference", "ddb-harness")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_responses_compare_as_multisets_whatever_the_member_order() {
        let a: Value = serde_json::from_str(
            r#"{"Responses": {"t": [{"sk": {"S": "k0"}, "pk": {"N": "0"}},
                {"sk": {"S": "k1"}, "pk": {"N": "0"}, "a0": {"N": "1"}}]}}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            r#"{"Responses": {"t": [{"pk": {"N": "0"}, "sk": {"S": "k1"}, "a0": {"N": "1"}},
                {"pk": {"N": "0"}, "sk": {"S": "k0"}}]}}"#,
        )
        .unwrap();
        let reply = |body| Reply { status: 200, body };
        assert_eq!(diff(&normalize(&reply(a)), &normalize(&reply(b))), None);
    }

    #[test]
    fn bundled_divergences_parse() {
        let text = include_str!("../divergences.toml");
        let d = Divergences::from_toml(text).unwrap();
        assert!(!d.fields.is_empty() && !d.messages.is_empty());
        for m in &d.messages {
            assert!(regex::Regex::new(&m.ours).is_ok(), "{}", m.ours);
        }
    }
}
