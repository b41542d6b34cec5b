//! Normalizing responses so that two DynamoDB implementations can be compared, and showing
//! what differs as a readable diff.
//!
//! Normalization (documented, deliberately small): fields that are unique per run (ARNs, table
//! ids, timestamps, stream labels) are replaced by placeholders; the members of SS/NS/BS sets are
//! sorted, since set order is unspecified, and so are BatchGetItem's per-table item lists and
//! batch `ConsumedCapacity` lists; error `__type`s are reduced to the part after `#`. Stream
//! records and shards: ids, sequence numbers, iterators, stream ARNs and labels and creation
//! times are placeholders too (the records' keys, images, names, view type and size are
//! compared).

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
    if let Some(t) = body.get("__type").and_then(Value::as_str) {
        let short = t.rsplit('#').next().unwrap_or(t).to_string();
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
                if matches!(k.as_str(), "SS" | "NS" | "BS") {
                    if let Value::Array(items) = child {
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

/// Known differences between the reference and AWS, from `conformance/known_divergences.json`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Divergences {
    /// Members whose values are not compared (`*.` matches any prefix).
    #[serde(default)]
    pub fields: Vec<FieldDivergence>,
    /// Reference messages that AWS words differently.
    #[serde(default)]
    pub messages: Vec<MessageDivergence>,
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
    /// Loads the bundled list.
    pub fn bundled() -> Divergences {
        serde_json::from_str(include_str!("../known_divergences.json")).unwrap_or_default()
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

fn sort_array(v: &mut Value) {
    if let Value::Array(items) = v {
        items.sort_by_key(|v| v.to_string());
    }
}

/// A unified diff of two normalized values, or `None` when they are equal.
pub fn diff(expected: &Value, actual: &Value) -> Option<String> {
    if expected == actual {
        return None;
    }
    let a = serde_json::to_string_pretty(expected).unwrap_or_default();
    let b = serde_json::to_string_pretty(actual).unwrap_or_default();
    Some(
        similar::TextDiff::from_lines(&a, &b)
            .unified_diff()
            .context_radius(3)
            .header("reference", "ddb-harness")
            .to_string(),
    )
}
