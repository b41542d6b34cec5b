//! Hostile requests through `Router::handle`, for every operation of the DynamoDB and DynamoDB
//! Streams models: truncated JSON, wrong JSON types and `null` at every member, huge strings and
//! numbers, nesting far beyond the 32 levels DynamoDB allows and beyond serde_json's recursion
//! limit, bodies up to 10 MB (and one past the 16 MiB cap), invalid UTF-8, duplicate and unknown
//! keys, wrong or missing targets, content types, methods and credentials, random bytes.
//!
//! Every answer must be a 200 or a 4xx (the fault path is off, so a 500 is a bug), carry a JSON
//! body with an AWS `__type` (only the plain-text GET and 404 answers the router documents are
//! exempt), and an `x-amz-crc32` matching the body; `handle` must not panic. After every case a
//! sentinel table is described and its item read back unchanged, so a request that corrupts the
//! router or the data fails the case that did it.
//!
//! The random part is a seeded property test with its own small generator (the harness has no
//! `proptest` dev-dependency): `DDB_HOSTILE_CASES` sets the number of cases (default 400),
//! `DDB_HOSTILE_SEED` the seed (default fixed, so CI is deterministic), `DDB_HOSTILE_FIRST` the
//! first case number (to replay one case); a failure prints the seed, the case number and the
//! exact request.
//!
//! `DDB_HOSTILE_SERVE=1` sends every request of every test here to a real `ddb-harness serve`
//! process over TCP instead of calling `Router::handle` (one keep-alive connection, reopened
//! when the server closes it), and also fails on any `panicked` in the server's stderr. The
//! done-when figure of issue #10 is `DDB_HOSTILE_SERVE=1 DDB_HOSTILE_CASES=100000`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ddb_harness::Router;
use ddb_harness::engine::Engine;
use ddb_harness::http::{HeaderValue, Method, Request, Response};
use serde_json::{Map, Value, json};

const DYNAMODB_MODEL: &str = include_str!("../model/dynamodb.json");
const STREAMS_MODEL: &str = include_str!("../model/streams.json");

/// A 12-digit access key is its own account id (see `protocol::auth`).
const ACCESS_KEY: &str = "111122223333";
const REGION: &str = "us-east-1";
const SENTINEL_TABLE: &str = "sentinel";
const WORK_TABLE: &str = "work";
/// One request taking longer than this is reported as a failure (a hang is a denial of service).
const SLOW_CASE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// A small deterministic generator.

/// SplitMix64: enough randomness for mutation choices, reproducible from one `u64`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// One request as sent: everything a failure report needs to reproduce it.
#[derive(Clone)]
struct Case {
    label: String,
    method: Method,
    uri: &'static str,
    content_type: Option<Vec<u8>>,
    target: Option<Vec<u8>>,
    authorization: Option<Vec<u8>>,
    body: Vec<u8>,
}

impl Case {
    fn new(label: impl Into<String>, target: &str, body: Vec<u8>) -> Self {
        Case {
            label: label.into(),
            method: Method::POST,
            uri: "/",
            content_type: Some(b"application/x-amz-json-1.0".to_vec()),
            target: Some(target.as_bytes().to_vec()),
            authorization: Some(auth_header(ACCESS_KEY).into_bytes()),
            body,
        }
    }

    fn request(&self) -> Request<Bytes> {
        let mut req = Request::new(Bytes::from(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.parse().expect("static uri");
        let headers = req.headers_mut();
        headers.insert("host", HeaderValue::from_static("localhost"));
        headers.insert("x-amz-date", HeaderValue::from_static("20240101T000000Z"));
        for (name, value) in [
            ("content-type", &self.content_type),
            ("x-amz-target", &self.target),
            ("authorization", &self.authorization),
        ] {
            // Bytes a header cannot carry (controls) are dropped: hyper would refuse them too.
            if let Some(v) = value.as_ref().and_then(|v| HeaderValue::from_bytes(v).ok()) {
                headers.insert(name, v);
            }
        }
        req
    }

    /// Whether the router answers this request in plain text (its GET and 404 paths).
    fn expects_plain(&self) -> bool {
        if self.method != Method::POST {
            return true;
        }
        let ct = self
            .content_type
            .as_ref()
            .and_then(|v| HeaderValue::from_bytes(v).ok())
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        !matches!(
            ct.as_deref(),
            Some("application/x-amz-json-1.0" | "application/json")
        )
    }

    fn describe(&self) -> String {
        let show = |v: &Option<Vec<u8>>| match v {
            None => "<absent>".to_string(),
            Some(v) => preview(v, 200),
        };
        format!(
            "{label}\n  {method} {uri}\n  content-type: {ct}\n  x-amz-target: {target}\n  authorization: {auth}\n  body ({len} bytes): {body}",
            label = self.label,
            method = self.method,
            uri = self.uri,
            ct = show(&self.content_type),
            target = show(&self.target),
            auth = show(&self.authorization),
            len = self.body.len(),
            body = preview(&self.body, 1500),
        )
    }
}

fn preview(bytes: &[u8], max: usize) -> String {
    let shown: String = bytes[..bytes.len().min(max)].escape_ascii().to_string();
    if bytes.len() > max {
        format!("{shown}… (+{} bytes)", bytes.len() - max)
    } else {
        shown
    }
}

fn auth_header(access_key: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20240101/{REGION}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
    )
}

// ---------------------------------------------------------------------------------------------
// The models: every operation and a seed request built from its input shape.

struct Operation {
    prefix: &'static str,
    name: String,
    input: Option<String>,
    shapes: &'static Map<String, Value>,
}

impl Operation {
    fn target(&self) -> String {
        format!("{}.{}", self.prefix, self.name)
    }
}

fn operations() -> &'static [Operation] {
    static OPS: OnceLock<Vec<Operation>> = OnceLock::new();
    OPS.get_or_init(|| {
        let mut ops = Vec::new();
        for text in [DYNAMODB_MODEL, STREAMS_MODEL] {
            let model: &'static Value =
                Box::leak(Box::new(serde_json::from_str(text).expect("model is JSON")));
            let prefix: &'static str = model["metadata"]["targetPrefix"]
                .as_str()
                .expect("target prefix");
            let shapes = model["shapes"].as_object().expect("shapes");
            for (name, op) in model["operations"].as_object().expect("operations") {
                ops.push(Operation {
                    prefix,
                    name: name.clone(),
                    input: op["input"].as_str().map(str::to_owned),
                    shapes,
                });
            }
        }
        assert_eq!(ops.len(), 66, "62 DynamoDB and 4 Streams operations");
        ops
    })
}

/// A plausible request for `shape`: every required member, some optional ones.
fn from_shape(
    shapes: &Map<String, Value>,
    shape: &str,
    member: &str,
    depth: usize,
    rng: &mut Rng,
) -> Value {
    let Some(s) = shapes.get(shape) else {
        return Value::Null;
    };
    if shape == "AttributeValue" {
        return json!({"S": "v"});
    }
    match s["type"].as_str().unwrap_or("") {
        "structure" => {
            let required: Vec<&str> = s["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            if let Some(members) = s["members"].as_object() {
                for (name, target) in members {
                    let take = required.contains(&name.as_str()) || (depth < 3 && rng.chance(50));
                    if take && let Some(t) = target.as_str() {
                        out.insert(name.clone(), from_shape(shapes, t, name, depth + 1, rng));
                    }
                }
            }
            Value::Object(out)
        }
        "list" => {
            let member_shape = s["member"].as_str().unwrap_or("");
            if depth > 6 {
                return json!([]);
            }
            json!([from_shape(shapes, member_shape, member, depth + 1, rng)])
        }
        "map" => {
            let value_shape = s["value"].as_str().unwrap_or("");
            let key = if member.contains("Request") || member == "RequestItems" {
                WORK_TABLE
            } else {
                "k"
            };
            if depth > 6 {
                return json!({});
            }
            json!({ key: from_shape(shapes, value_shape, member, depth + 1, rng) })
        }
        "string" => {
            if let Some(values) = s["enum"].as_array() {
                return rng.pick(values).clone();
            }
            if member.contains("TableName") || shape == "TableArn" || shape == "TableName" {
                return json!(WORK_TABLE);
            }
            if member.contains("Arn") {
                return json!(format!(
                    "arn:aws:dynamodb:{REGION}:{ACCESS_KEY}:table/{WORK_TABLE}"
                ));
            }
            let min = s["min"].as_u64().unwrap_or(1).max(1) as usize;
            Value::String("x".repeat(min.min(64)))
        }
        "integer" | "long" => json!(s["min"].as_i64().unwrap_or(1).max(1)),
        "double" => json!(1.5),
        "boolean" => json!(true),
        "timestamp" => json!(1_700_000_000),
        "blob" => json!("AAAA"),
        _ => Value::Null,
    }
}

/// Realistic requests for the data plane, against the `work` table (`pk` S, `sk` N, index
/// `by_g` on `g`). None of them names the sentinel table.
fn realistic_seeds(op: &str, arn: &str) -> Vec<Value> {
    let key = json!({"pk": {"S": "p1"}, "sk": {"N": "1"}});
    let item = json!({
        "pk": {"S": "p1"}, "sk": {"N": "1"}, "g": {"S": "gv"}, "n": {"N": "-12.5e3"},
        "b": {"B": "3q2+7w=="}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": ["AA==", "AQ=="]}, "t": {"BOOL": true}, "z": {"NULL": true},
        "l": {"L": [{"S": "x"}, {"N": "7"}, {"L": [{"M": {"q": {"S": "deep"}}}]}]},
        "m": {"M": {"a": {"N": "1"}, "b": {"SS": ["s"]}, "c": {"M": {"d": {"BOOL": false}}}}}
    });
    let names = json!({"#n": "n", "#l": "l", "#m": "m"});
    let values = json!({":v": {"N": "5"}, ":one": {"N": "1"}, ":s": {"S": "p1"},
        ":lo": {"N": "0"}, ":hi": {"N": "10"}, ":ss": {"SS": ["c"]}, ":l": {"L": [{"S": "y"}]}});
    let table_def = |name: &str| {
        json!({
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": [{"IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}],
            "LocalSecondaryIndexes": [{"IndexName": "by_pk_g",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "g", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["n"]}}],
            "BillingMode": "PAY_PER_REQUEST",
            "Tags": [{"Key": "k", "Value": "v"}]
        })
    };
    match op {
        "CreateTable" => vec![table_def("scratch"), {
            let mut provisioned = table_def("scratch2");
            provisioned["BillingMode"] = json!("PROVISIONED");
            provisioned["ProvisionedThroughput"] =
                json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 5});
            provisioned["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] =
                json!({"ReadCapacityUnits": 1, "WriteCapacityUnits": 1});
            provisioned
        }],
        "DeleteTable" => vec![json!({"TableName": "scratch"})],
        "DescribeTable" => vec![json!({"TableName": WORK_TABLE}), json!({"TableName": arn})],
        "ListTables" => vec![json!({"Limit": 10, "ExclusiveStartTableName": "a"})],
        "UpdateTable" => vec![
            json!({"TableName": WORK_TABLE, "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "h", "AttributeType": "B"}],
                "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "by_h",
                    "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}}}]}),
            json!({"TableName": WORK_TABLE,
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}}),
        ],
        "PutItem" => vec![
            json!({"TableName": WORK_TABLE, "Item": item,
                "ConditionExpression": "attribute_not_exists(pk) OR (#n < :v AND size(#l) > :one)",
                "ExpressionAttributeNames": {"#n": "n", "#l": "l"},
                "ExpressionAttributeValues": {":v": {"N": "5"}, ":one": {"N": "1"}},
                "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "INDEXES",
                "ReturnItemCollectionMetrics": "SIZE",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
            json!({"TableName": WORK_TABLE, "Item": item,
                "Expected": {"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]},
                             "z": {"Exists": false}},
                "ConditionalOperator": "OR"}),
        ],
        "GetItem" => vec![
            json!({"TableName": WORK_TABLE, "Key": key, "ConsistentRead": true,
                "ProjectionExpression": "#n, #l[2][0].q, #m.c.d, ss",
                "ExpressionAttributeNames": names}),
            json!({"TableName": arn, "Key": key, "AttributesToGet": ["n", "m"]}),
        ],
        "UpdateItem" => vec![
            json!({"TableName": WORK_TABLE, "Key": key,
                "UpdateExpression": "SET #n = if_not_exists(#n, :v) + :one, #l = list_append(#l, :l), #m.c.e = :s REMOVE z, #l[0] ADD ss :ss, cnt :one DELETE ns :ss",
                "ConditionExpression": "attribute_exists(pk) AND begins_with(g, :s) OR NOT contains(ss, :s)",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                "ReturnValues": "UPDATED_NEW"}),
            json!({"TableName": WORK_TABLE, "Key": key,
                "AttributeUpdates": {"n": {"Action": "ADD", "Value": {"N": "1"}},
                                     "z": {"Action": "DELETE"},
                                     "w": {"Action": "PUT", "Value": {"S": "w"}}},
                "Expected": {"pk": {"Value": {"S": "p1"}}}, "ReturnValues": "ALL_NEW"}),
        ],
        "DeleteItem" => vec![
            json!({"TableName": WORK_TABLE, "Key": {"pk": {"S": "p2"}, "sk": {"N": "2"}},
            "ConditionExpression": "attribute_not_exists(pk) OR #n BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {":lo": {"N": "0"}, ":hi": {"N": "10"}},
            "ReturnValues": "ALL_OLD"}),
        ],
        "Query" => vec![
            json!({"TableName": WORK_TABLE,
                "KeyConditionExpression": "pk = :s AND sk BETWEEN :lo AND :hi",
                "FilterExpression": "#n > :v OR attribute_type(#m, :s) OR #l[0] IN (:v, :one)",
                "ProjectionExpression": "pk, sk, #n, #m.a",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                "Limit": 5, "ScanIndexForward": false, "ConsistentRead": true,
                "ExclusiveStartKey": key, "ReturnConsumedCapacity": "TOTAL"}),
            json!({"TableName": WORK_TABLE, "IndexName": "by_g",
                "KeyConditionExpression": "g = :g", "Select": "ALL_PROJECTED_ATTRIBUTES",
                "ExpressionAttributeValues": {":g": {"S": "gv"}}}),
            json!({"TableName": WORK_TABLE,
                "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p1"}]},
                                  "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "0"}, {"N": "9"}]}},
                "QueryFilter": {"n": {"ComparisonOperator": "NOT_NULL"}},
                "AttributesToGet": ["pk", "n"], "Select": "SPECIFIC_ATTRIBUTES"}),
        ],
        "Scan" => vec![
            json!({"TableName": WORK_TABLE, "FilterExpression": "size(ss) >= :one AND NOT (#n <> :v)",
                "ExpressionAttributeNames": {"#n": "n"},
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": {"N": "5"}},
                "Segment": 1, "TotalSegments": 3, "Limit": 2, "ExclusiveStartKey": key}),
            json!({"TableName": WORK_TABLE, "Select": "COUNT",
                "ScanFilter": {"ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "a"}]}},
                "ConditionalOperator": "AND"}),
        ],
        "BatchGetItem" => vec![json!({"RequestItems": {WORK_TABLE: {
            "Keys": [key, {"pk": {"S": "p2"}, "sk": {"N": "2"}}],
            "ProjectionExpression": "#n, pk", "ExpressionAttributeNames": {"#n": "n"},
            "ConsistentRead": true}}, "ReturnConsumedCapacity": "TOTAL"})],
        "BatchWriteItem" => vec![json!({"RequestItems": {WORK_TABLE: [
            {"PutRequest": {"Item": item}},
            {"PutRequest": {"Item": {"pk": {"S": "p3"}, "sk": {"N": "3"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "p2"}, "sk": {"N": "2"}}}}]},
            "ReturnItemCollectionMetrics": "SIZE"})],
        "TransactWriteItems" => vec![json!({"TransactItems": [
            {"Put": {"TableName": WORK_TABLE, "Item": {"pk": {"S": "t1"}, "sk": {"N": "1"}, "n": {"N": "1"}},
                     "ConditionExpression": "attribute_not_exists(pk)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": WORK_TABLE, "Key": key, "UpdateExpression": "ADD cnt :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": WORK_TABLE, "Key": {"pk": {"S": "t2"}, "sk": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": WORK_TABLE, "Key": {"pk": {"S": "t3"}, "sk": {"N": "3"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}],
            "ClientRequestToken": "token-1", "ReturnConsumedCapacity": "TOTAL"})],
        "TransactGetItems" => vec![json!({"TransactItems": [
            {"Get": {"TableName": WORK_TABLE, "Key": key, "ProjectionExpression": "#n",
                     "ExpressionAttributeNames": {"#n": "n"}}},
            {"Get": {"TableName": WORK_TABLE, "Key": {"pk": {"S": "t1"}, "sk": {"N": "1"}}}}]})],
        "UpdateTimeToLive" => vec![json!({"TableName": WORK_TABLE,
            "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "ttl"}})],
        "DescribeTimeToLive" => vec![json!({"TableName": WORK_TABLE})],
        "TagResource" => vec![json!({"ResourceArn": arn, "Tags": [{"Key": "a", "Value": "b"}]})],
        "UntagResource" => vec![json!({"ResourceArn": arn, "TagKeys": ["a"]})],
        "ListTagsOfResource" => vec![json!({"ResourceArn": arn, "NextToken": "x"})],
        "ExecuteStatement" => vec![json!({"Statement": "SELECT * FROM \"work\" WHERE pk = ?",
            "Parameters": [{"S": "p1"}], "ConsistentRead": true})],
        _ => vec![],
    }
}

/// Seed requests per operation index: the realistic ones plus two built from the model.
fn seeds(arn: &str) -> Vec<Vec<Value>> {
    let mut rng = Rng(7);
    operations()
        .iter()
        .map(|op| {
            let mut out = realistic_seeds(&op.name, arn);
            if let Some(input) = &op.input {
                for _ in 0..2 {
                    out.push(from_shape(op.shapes, input, "", 0, &mut rng));
                }
            } else {
                out.push(json!({}));
            }
            out
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// A JSON value under construction whose parts may be raw text (numbers JSON cannot hold in a
/// `serde_json::Value`, nesting serde_json would refuse, duplicate keys): they are placeholders
/// replaced after serialization.
#[derive(Default)]
struct Raw {
    fragments: Vec<Vec<u8>>,
}

impl Raw {
    /// A placeholder value standing for `text`.
    fn value(&mut self, text: impl Into<Vec<u8>>) -> Value {
        let n = self.fragments.len();
        self.fragments.push(text.into());
        Value::String(format!("__RAW_{n}__"))
    }

    /// A placeholder member key; the member `"__RAWKEY_n__":null` becomes `text`.
    fn member(&mut self, text: impl Into<Vec<u8>>) -> String {
        let n = self.fragments.len();
        self.fragments.push(text.into());
        format!("__RAWKEY_{n}__")
    }

    fn render(&self, v: &Value) -> Vec<u8> {
        let mut out = serde_json::to_vec(v).expect("serializable");
        for (n, frag) in self.fragments.iter().enumerate() {
            for pattern in [
                format!("\"__RAW_{n}__\""),
                format!("\"__RAWKEY_{n}__\":null"),
            ] {
                if let Some(at) = find(&out, pattern.as_bytes()) {
                    out.splice(at..at + pattern.len(), frag.iter().copied());
                }
            }
        }
        out
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `{"M":{"a":` repeated `depth` times around a string value: `depth` attribute levels.
fn deep_map(depth: usize) -> Vec<u8> {
    let mut s = Vec::with_capacity(depth * 14 + 16);
    for _ in 0..depth {
        s.extend_from_slice(br#"{"M":{"a":"#);
    }
    s.extend_from_slice(br#"{"S":"x"}"#);
    for _ in 0..depth {
        s.extend_from_slice(b"}}");
    }
    s
}

/// `{"L":[` repeated `depth` times.
fn deep_list_attr(depth: usize) -> Vec<u8> {
    let mut s = Vec::new();
    for _ in 0..depth {
        s.extend_from_slice(br#"{"L":["#);
    }
    s.extend_from_slice(br#"{"N":"1"}"#);
    for _ in 0..depth {
        s.extend_from_slice(b"]}");
    }
    s
}

/// `[[[…]]]` with `depth` brackets, or unclosed when `closed` is false.
fn deep_array(depth: usize, closed: bool) -> Vec<u8> {
    let mut s = vec![b'['; depth];
    if closed {
        s.extend(std::iter::repeat_n(b']', depth));
    }
    s
}

fn digits(n: usize) -> String {
    (0..n).map(|i| char::from(b'1' + (i % 9) as u8)).collect()
}

/// Raw JSON numbers and structures a `serde_json::Value` cannot express or that are hostile.
fn raw_fragment(rng: &mut Rng) -> Vec<u8> {
    let depth = *rng.pick(&[31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 201, 10_000]);
    match rng.below(16) {
        0 => b"1e400".to_vec(),
        1 => b"-1e400".to_vec(),
        2 => b"1e-400".to_vec(),
        3 => digits(1000).into_bytes(),
        4 => format!("-{}.{}e-99999999999999999999", digits(500), digits(500)).into_bytes(),
        5 => b"18446744073709551616".to_vec(),
        6 => b"-9223372036854775809".to_vec(),
        7 => b"1.0e+999999999999".to_vec(),
        8 => deep_map(depth),
        9 => deep_array(depth, true),
        10 => deep_array(depth, false),
        11 => br#"{"S":"a","S":"b"}"#.to_vec(),
        12 => br#"{"N":"1","N":"x"}"#.to_vec(),
        13 => b"\"\\ud800\"".to_vec(),
        14 => b"\"\xff\xfe\"".to_vec(),
        _ => deep_list_attr(depth),
    }
}

/// Attribute values that break DynamoDB's value rules or its limits.
fn hostile_attribute(rng: &mut Rng, raw: &mut Raw) -> Value {
    let depth = *rng.pick(&[31, 32, 33, 34, 60, 63, 64, 10_000]);
    match rng.below(34) {
        0 => json!({"N": "1e400"}),
        1 => json!({"N": "1E+126"}),
        2 => json!({"N": "1E-131"}),
        3 => json!({"N": "123456789012345678901234567890123456789"}),
        4 => json!({"N": digits(1000)}),
        5 => json!({"N": ""}),
        6 => json!({"N": " 1"}),
        7 => json!({"N": "NaN"}),
        8 => json!({"N": "-0"}),
        9 => json!({"N": "1e99999999999999999999"}),
        10 => json!({"N": "0e-999999999999"}),
        11 => json!({"N": "0x10"}),
        12 => json!({"N": "Infinity"}),
        13 => json!({"B": "!!!"}),
        14 => json!({"B": ""}),
        15 => json!({"SS": []}),
        16 => json!({"SS": ["a", "a"]}),
        17 => json!({"NS": ["1", "1.0"]}),
        18 => json!({"NS": ["1e400"]}),
        19 => json!({"BS": ["AA==", "AA=="]}),
        20 => json!({"NULL": false}),
        21 => json!({"NULL": "true"}),
        22 => json!({"BOOL": "true"}),
        23 => json!({"S": "a", "N": "1"}),
        24 => json!({}),
        25 => json!({"M": {}}),
        26 => json!({"M": {"": {"S": "x"}}}),
        27 => json!({"X": "y"}),
        28 => raw.value(deep_map(depth)),
        29 => raw.value(deep_list_attr(depth)),
        30 => json!({"S": "\u{0}\u{FFFF}\u{10FFFF}\u{202E}é😀"}),
        31 => json!({"N": format!("0.{}1", "0".repeat(200))}),
        32 => json!({"NS": (0..1000).map(|i| i.to_string()).collect::<Vec<_>>()}),
        _ => raw.value(raw_fragment(rng)),
    }
}

/// Expressions built to stress a parser: deep nesting, long operand lists, bad tokens.
fn hostile_expression(rng: &mut Rng) -> String {
    let n = *rng.pick(&[33, 100, 1_000, 10_000, 100_000]);
    match rng.below(18) {
        0 => String::new(),
        1 => format!("{}a = :v{}", "(".repeat(n), ")".repeat(n)),
        2 => "(".repeat(n),
        3 => format!("{}a", "NOT ".repeat(n)),
        4 => format!("a{}", ".b".repeat(n)),
        5 => format!("a{}", "[0]".repeat(n)),
        6 => "#n[99999999999999999999999]".into(),
        7 => format!("{}a{}", "size(".repeat(n), ")".repeat(n)),
        8 => format!("SET a = a{}", " + a".repeat(n)),
        9 => format!("a IN ({})", vec![":v"; n].join(", ")),
        10 => "a BETWEEN a AND".into(),
        11 => "attribute_exists()".into(),
        12 => "SET a = :undefined, #undefined = b REMOVE".into(),
        13 => "\u{0}\u{FFFF}😀 = :v".into(),
        14 => format!("{} = :v", "x".repeat(n)),
        15 => format!("a = :v{}", " AND a = :v".repeat(n)),
        16 => format!(
            "SET {}",
            (0..n)
                .map(|i| format!("a{i} = :v"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!(
            "{}:v{}",
            "list_append(".repeat(n.min(1000)),
            ", :v)".repeat(n.min(1000))
        ),
    }
}

fn hostile_string(rng: &mut Rng) -> String {
    let n = *rng.pick(&[0, 2, 256, 1025, 65_536, 400 * 1024 + 1, 1 << 20]);
    match rng.below(6) {
        0 => "a".repeat(n),
        1 => "é".repeat(n / 2),
        2 => "\u{0}".repeat(n.min(1000)),
        3 => "arn:aws:dynamodb:us-east-1:111122223333:table/".to_string() + &"w".repeat(n),
        4 => "arn:::::".into(),
        _ => "😀\u{202E}\u{FEFF}".repeat(n / 8 + 1),
    }
}

fn wrong_type(rng: &mut Rng) -> Value {
    rng.pick(&[
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(""),
        json!("x"),
        json!([]),
        json!({}),
        json!([null]),
        json!({"": null}),
        json!([[[]]]),
        json!(u64::MAX),
        json!(i64::MIN),
    ])
    .clone()
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Seg::Key(k.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Seg::Index(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn all_paths(v: &Value) -> Vec<Vec<Seg>> {
    let mut out = Vec::new();
    paths(v, &mut Vec::new(), &mut out);
    out
}

fn at_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn looks_like_attribute(v: &Value) -> bool {
    const TYPES: &[&str] = &["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"];
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.keys().all(|k| TYPES.contains(&k.as_str())))
}

fn path_text(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => format!(".{k}"),
            Seg::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// One structural mutation of `v` at a random node; returns what it did.
fn mutate_value(v: &mut Value, raw: &mut Raw, rng: &mut Rng) -> String {
    let all = all_paths(v);
    let path = rng.pick(&all).clone();
    let where_ = path_text(&path);
    let last_key = match path.last() {
        Some(Seg::Key(k)) => k.clone(),
        _ => String::new(),
    };
    let Some(node) = at_mut(v, &path) else {
        return "no-op".into();
    };
    let kind = rng.below(10);
    match kind {
        0 => {
            *node = wrong_type(rng);
            format!("wrong type at {where_}")
        }
        1 => {
            *node = Value::Null;
            format!("null at {where_}")
        }
        2 => {
            *node = raw.value(raw_fragment(rng));
            format!("raw fragment at {where_}")
        }
        3 => {
            *node = Value::String(hostile_string(rng));
            format!("hostile string at {where_}")
        }
        4 if node.is_string() && (last_key.ends_with("Expression") || rng.chance(20)) => {
            *node = Value::String(hostile_expression(rng));
            format!("hostile expression at {where_}")
        }
        4 | 5 if looks_like_attribute(node) || rng.chance(30) => {
            *node = hostile_attribute(rng, raw);
            format!("hostile attribute at {where_}")
        }
        6 if node.is_object() => {
            let m = node.as_object_mut().expect("object");
            if let Some(k) = m.keys().nth(rng.below(m.len())).cloned() {
                if rng.chance(50) {
                    m.shift_remove(&k);
                    return format!("removed {where_}.{k}");
                }
                let dup = String::from_utf8(raw_fragment(rng)).unwrap_or_else(|_| "0".into());
                let key = raw.member(format!("{}:{dup}", serde_json::to_string(&k).unwrap()));
                m.insert(key, Value::Null);
                return format!("duplicate key {where_}.{k}");
            }
            m.insert("UnknownMember".into(), wrong_type(rng));
            format!("unknown member at {where_}")
        }
        7 if node.is_object() => {
            let m = node.as_object_mut().expect("object");
            let name = rng
                .pick(&["Unknown", "__type", "", "tablename", "TABLENAME"])
                .to_string();
            m.insert(name.clone(), wrong_type(rng));
            format!("unknown member {name:?} at {where_}")
        }
        8 if node.is_array() => {
            let a = node.as_array_mut().expect("array");
            if let Some(first) = a.first().cloned() {
                let n = *rng.pick(&[2, 26, 101, 1000]);
                a.extend(std::iter::repeat_n(first, n));
                format!("array at {where_} grown by {n} copies")
            } else {
                a.push(Value::Null);
                format!("null element at {where_}")
            }
        }
        _ => {
            let n = rng.pick(&[0u64, 1, 2, 4, 26, 101, 1_000_000]).to_owned();
            *node = if rng.chance(50) {
                json!(n)
            } else {
                json!(-(n as i64))
            };
            format!("number {n} at {where_}")
        }
    }
}

/// One byte-level mutation of a rendered body.
fn mutate_bytes(body: &mut Vec<u8>, rng: &mut Rng) -> String {
    match rng.below(9) {
        0 => {
            let at = rng.below(body.len() + 1);
            body.truncate(at);
            format!("truncated at {at}")
        }
        1 | 2 => {
            let at = rng.below(body.len() + 1);
            let options: [&[u8]; 7] = [
                b"\xff",
                b"\xc3\x28",
                b"\xc0\x80",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\xe2\x82",
                b"\x00",
            ];
            let bad = *rng.pick(&options);
            body.splice(at..at, bad.iter().copied());
            format!("invalid UTF-8 {} at {at}", bad.escape_ascii())
        }
        3 => {
            body.splice(0..0, b"\xef\xbb\xbf".iter().copied());
            "byte order mark".into()
        }
        4 => {
            let options: [&[u8]; 6] = [b"}", b" x", b"\x00", b"{}", b",", b"\n\n"];
            let extra = *rng.pick(&options);
            body.extend_from_slice(extra);
            "trailing garbage".into()
        }
        5 => {
            let at = rng.below(body.len().max(1));
            if let Some(b) = body.get_mut(at) {
                *b ^= 1 << rng.below(8);
            }
            format!("bit flip at {at}")
        }
        6 => {
            let n = rng.below(2048);
            *body = (0..n).map(|_| rng.next() as u8).collect();
            format!("{n} random bytes")
        }
        7 => {
            *body = rng
                .pick(&[
                    &b""[..],
                    b"null",
                    b"[]",
                    b"\"str\"",
                    b"1",
                    b"true",
                    b"{}",
                    b"  \n\t ",
                    b"{\"\":",
                    b"{",
                    b"}",
                    b"{\"a\":1}{\"a\":2}",
                ])
                .to_vec();
            "replaced body".into()
        }
        _ => {
            let n = rng.below(body.len() + 1);
            let copy = body[..n].to_vec();
            body.extend_from_slice(&copy);
            "repeated prefix".into()
        }
    }
}

/// Mutates the headers: target, content type, method, credentials.
fn mutate_headers(case: &mut Case, op: &Operation, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => {
            let name = &op.name;
            let other = if op.prefix.starts_with("DynamoDBStreams") {
                "DynamoDB_20120810"
            } else {
                "DynamoDBStreams_20120810"
            };
            let choices: Vec<Option<Vec<u8>>> = vec![
                None,
                Some(Vec::new()),
                Some(format!("{}.", op.prefix).into_bytes()),
                Some(format!("{}.{}", op.prefix, name.to_lowercase()).into_bytes()),
                Some(format!("{other}.{name}").into_bytes()),
                Some(name.clone().into_bytes()),
                Some(format!("{}.{name} ", op.prefix).into_bytes()),
                Some(format!("{}.{name}\u{e9}", op.prefix).into_bytes()),
                Some(format!("{}.{name}", op.prefix).into_bytes()).map(|mut v| {
                    v.push(0xff);
                    v
                }),
                Some(format!("{}.{}", op.prefix, "A".repeat(8192)).into_bytes()),
                Some(b"DynamoDB_20120810.__proto__".to_vec()),
            ];
            case.target = rng.pick(&choices).clone();
            format!("target {}", show_opt(&case.target))
        }
        1 => {
            let choices: &[Option<&[u8]>] = &[
                None,
                Some(b"application/json"),
                Some(b"application/x-amz-json-1.0; charset=utf-8"),
                Some(b"APPLICATION/JSON"),
                Some(b"text/plain"),
                Some(b"application/x-amz-json-1.1"),
                Some(b"application/cbor"),
                Some(b"\xff\xfe"),
                Some(b""),
                Some(b";"),
            ];
            case.content_type = rng.pick(choices).map(<[u8]>::to_vec);
            format!("content-type {}", show_opt(&case.content_type))
        }
        2 => {
            case.method = rng
                .pick(&[
                    Method::GET,
                    Method::PUT,
                    Method::DELETE,
                    Method::HEAD,
                    Method::OPTIONS,
                    Method::PATCH,
                ])
                .clone();
            format!("method {}", case.method)
        }
        _ => {
            let choices: Vec<Option<Vec<u8>>> = vec![
                None,
                Some(Vec::new()),
                Some(b"AWS4-HMAC-SHA256".to_vec()),
                Some(b"AWS4-HMAC-SHA256 Credential=".to_vec()),
                Some(b"AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=, Signature=".to_vec()),
                Some(auth_header("").into_bytes()),
                Some(auth_header(&"K".repeat(10_000)).into_bytes()),
                Some(auth_header("\u{e9}\u{e9}").into_bytes()),
                Some(b"Basic dXNlcjpwYXNz".to_vec()),
                Some(
                    b"AWS4-HMAC-SHA256 Credential=111122223333/20240101//dynamodb/aws4_request"
                        .to_vec(),
                ),
                Some(b"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g/h, Signature=0".to_vec()),
                Some(b"AWS4-HMAC-SHA256 \xff\xfe".to_vec()),
            ];
            case.authorization = rng.pick(&choices).clone();
            format!("authorization {}", show_opt(&case.authorization))
        }
    }
}

fn show_opt(v: &Option<Vec<u8>>) -> String {
    v.as_ref().map_or("<absent>".into(), |v| preview(v, 60))
}

// ---------------------------------------------------------------------------------------------
// The world: a router, a sentinel that must survive, the work table the seeds use.

struct World {
    router: Router,
    /// Set in `DDB_HOSTILE_SERVE` mode: requests go to this server process instead.
    served: Option<Served>,
    sentinel_item: Value,
    work_arn: String,
}

/// A `ddb-harness serve` process (in memory) and a keep-alive connection to it.
struct Served {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    stderr: Arc<std::sync::Mutex<String>>,
    conn: std::sync::Mutex<Option<std::net::TcpStream>>,
    requests: std::sync::atomic::AtomicU64,
}

impl Served {
    fn start() -> Served {
        use std::io::{BufRead, Read};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ddb-harness"))
            .args([
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--seed",
                "42",
            ])
            .env_remove("DDB_HARNESS_DATA_DIR")
            .env_remove("DDB_HARNESS_REQUIRE_SIGV4")
            .env("DDB_HARNESS_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start ddb-harness serve");
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
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
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = lines.next().and_then(Result::ok).unwrap_or_default();
        std::thread::spawn(move || for _ in lines {});
        let addr = line
            .strip_prefix("ddb-harness listening on http://")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("ddb-harness serve did not start: {line:?}"));
        Served {
            child,
            addr,
            stderr,
            conn: std::sync::Mutex::new(None),
            requests: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Sends `req` on the kept-alive connection (reconnecting once if the server had closed it)
    /// and reads the answer.
    fn handle(&self, req: &Request<Bytes>) -> Result<Response<Bytes>, String> {
        use std::io::Write;
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut head = format!(
            "{} {} HTTP/1.1\r\n",
            req.method(),
            req.uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        )
        .into_bytes();
        for (k, v) in req.headers() {
            head.extend_from_slice(k.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(v.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(format!("content-length: {}\r\n\r\n", req.body().len()).as_bytes());
        let mut conn = self.conn.lock().unwrap();
        for attempt in 0..2 {
            let mut stream = match conn.take() {
                Some(s) => s,
                None => {
                    let s = std::net::TcpStream::connect(self.addr)
                        .map_err(|e| format!("connect: {e}"))?;
                    s.set_read_timeout(Some(SLOW_CASE)).ok();
                    s.set_nodelay(true).ok();
                    s
                }
            };
            // A server that answers early (a body over the cap) may stop reading: write errors
            // are not fatal as long as an answer comes.
            let wrote = stream
                .write_all(&head)
                .and_then(|()| stream.write_all(req.body()));
            match read_response(&mut stream, req.method() == Method::HEAD) {
                Ok((resp, keep)) => {
                    if keep && wrote.is_ok() {
                        *conn = Some(stream);
                    }
                    return Ok(resp);
                }
                Err(ReadError::Closed) if attempt == 0 => continue,
                Err(e) => {
                    return Err(format!(
                        "no answer from the server ({e}, write: {wrote:?}); server stderr:\n{}",
                        self.stderr.lock().unwrap()
                    ));
                }
            }
        }
        Err("the server closed the connection twice without answering".into())
    }

    fn check_no_panic(&self) -> Result<(), String> {
        let stderr = self.stderr.lock().unwrap();
        if stderr.contains("panicked") {
            return Err(format!("the server panicked:\n{stderr}"));
        }
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
enum ReadError {
    /// The connection closed before any byte of an answer (a stale keep-alive connection).
    Closed,
    Io(String),
    Malformed(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("connection closed before an answer"),
            ReadError::Io(e) => write!(f, "read failed: {e}"),
            ReadError::Malformed(e) => write!(f, "malformed answer: {e}"),
        }
    }
}

/// Reads one HTTP/1.1 response with a `content-length` body; also says whether the
/// connection stays open.
fn read_response(
    stream: &mut std::net::TcpStream,
    head_request: bool,
) -> Result<(Response<Bytes>, bool), ReadError> {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p;
        }
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Err(ReadError::Closed),
            Ok(0) => return Err(ReadError::Malformed("closed inside the headers".into())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if buf.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Err(ReadError::Closed);
            }
            Err(e) => return Err(ReadError::Io(e.to_string())),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ReadError::Malformed(format!("status line of {head:?}")))?;
    let mut builder = Response::builder().status(status);
    let mut len = 0usize;
    let mut keep = true;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("content-length") {
            len = v
                .parse()
                .map_err(|_| ReadError::Malformed(line.to_string()))?;
        }
        if k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close") {
            keep = false;
        }
        builder = builder.header(k, v);
    }
    if head_request {
        len = 0;
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match stream.read(&mut chunk) {
            Ok(0) => return Err(ReadError::Malformed("closed inside the body".into())),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(ReadError::Io(e.to_string())),
        }
    }
    body.truncate(len);
    builder
        .body(Bytes::from(body))
        .map(|r| (r, keep))
        .map_err(|e| ReadError::Malformed(e.to_string()))
}

impl World {
    fn new() -> World {
        let engine = Engine::builder()
            .seed(42)
            .build()
            .expect("in-memory engine");
        let router = Router::new(Arc::new(engine));
        let served = std::env::var("DDB_HOSTILE_SERVE")
            .is_ok_and(|v| v == "1")
            .then(Served::start);
        let sentinel_item = json!({
            "pk": {"S": "keep"}, "n": {"N": "42.5"}, "b": {"B": "3q2+7w=="},
            "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "-2"]},
            "m": {"M": {"a": {"L": [{"S": "z"}, {"NULL": true}, {"BOOL": false}]}}}
        });
        let world = World {
            router,
            served,
            sentinel_item,
            work_arn: String::new(),
        };
        world.ok(
            "CreateTable",
            json!({"TableName": SENTINEL_TABLE,
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}),
        );
        world.ok(
            "PutItem",
            json!({"TableName": SENTINEL_TABLE, "Item": world.sentinel_item}),
        );
        let mut world = world;
        world.ensure_work_table();
        let described = world.ok("DescribeTable", json!({"TableName": WORK_TABLE}));
        world.work_arn = described["Table"]["TableArn"]
            .as_str()
            .expect("TableArn")
            .to_string();
        world
    }

    fn call(&self, op: &str, body: Value) -> (u16, Value) {
        let Some(served) = &self.served else {
            return self.router.call_json(ACCESS_KEY, REGION, op, &body);
        };
        let case = Case::new(
            "",
            &format!("DynamoDB_20120810.{op}"),
            serde_json::to_vec(&body).expect("json"),
        );
        match served.handle(&case.request()) {
            Ok(resp) => (
                resp.status().as_u16(),
                serde_json::from_slice(resp.body()).unwrap_or(Value::Null),
            ),
            Err(e) => (0, Value::String(e)),
        }
    }

    /// Answers `req` through the router, or through the served process in
    /// `DDB_HOSTILE_SERVE` mode.
    fn handle(&self, req: Request<Bytes>) -> Result<Response<Bytes>, String> {
        match &self.served {
            None => Ok(self.router.handle(req)),
            Some(served) => served.handle(&req),
        }
    }

    #[track_caller]
    fn ok(&self, op: &str, body: Value) -> Value {
        let (status, reply) = self.call(op, body.clone());
        assert_eq!(status, 200, "{op} {body} answered {reply}");
        reply
    }

    /// Recreates the `work` table (seeds may delete it) and its items.
    fn ensure_work_table(&self) {
        let (status, _) = self.call("DescribeTable", json!({"TableName": WORK_TABLE}));
        if status == 200 {
            return;
        }
        let seed = &realistic_seeds("CreateTable", "")[0];
        let mut def = seed.clone();
        def["TableName"] = json!(WORK_TABLE);
        let (status, reply) = self.call("CreateTable", def.clone());
        if status != 200 {
            // Secondary indexes may not be supported (yet); the plain table still serves.
            if let Some(m) = def.as_object_mut() {
                m.remove("GlobalSecondaryIndexes");
                m.remove("LocalSecondaryIndexes");
            }
            let (status2, reply2) = self.call("CreateTable", def);
            assert_eq!(status2, 200, "cannot create work table: {reply} / {reply2}");
        }
        for seed in realistic_seeds("BatchWriteItem", "") {
            self.call("BatchWriteItem", seed);
        }
    }

    /// The router still answers normal requests and the sentinel item is unchanged.
    fn intact(&self) -> Result<(), String> {
        if let Some(served) = &self.served {
            served.check_no_panic()?;
        }
        let (status, reply) = self.call("DescribeTable", json!({"TableName": SENTINEL_TABLE}));
        if status != 200 || reply["Table"]["TableStatus"] != "ACTIVE" {
            return Err(format!("DescribeTable sentinel answered {status} {reply}"));
        }
        let (status, reply) = self.call(
            "GetItem",
            json!({"TableName": SENTINEL_TABLE, "Key": {"pk": {"S": "keep"}}, "ConsistentRead": true}),
        );
        if status != 200 || reply["Item"] != self.sentinel_item {
            return Err(format!("GetItem sentinel answered {status} {reply}"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Sending a case and checking the answer.

struct Outcome {
    elapsed: Duration,
    status: u16,
}

/// Sends `case`; `Err` describes what is wrong with the answer (or the panic).
fn send(world: &World, case: &Case) -> Result<Outcome, String> {
    let req = case.request();
    let started = Instant::now();
    let resp: Response<Bytes> = match catch_unwind(AssertUnwindSafe(|| world.handle(req))) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(e),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Err(format!("handle panicked: {msg}"));
        }
    };
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    let body = resp.body();
    let over_tcp = world.served.is_some();
    let why = check_response(case, &resp, over_tcp);
    if let Err(e) = why {
        return Err(format!("{e}\n  answer: {status} {}", preview(body, 600)));
    }
    if elapsed > SLOW_CASE {
        return Err(format!("took {elapsed:?}"));
    }
    Ok(Outcome { elapsed, status })
}

fn check_response(case: &Case, resp: &Response<Bytes>, over_tcp: bool) -> Result<(), String> {
    let status = resp.status().as_u16();
    let body = resp.body();
    if status != 200 && !(400..500).contains(&status) {
        return Err(format!("status {status}"));
    }
    // Over HTTP, the answer to HEAD has the headers of the GET/POST answer but no body.
    if over_tcp && case.method == Method::HEAD {
        return match (status, body.is_empty()) {
            (404, true) => Ok(()),
            _ => Err(format!(
                "HEAD answered {status} with {} body bytes",
                body.len()
            )),
        };
    }
    let crc = resp
        .headers()
        .get("x-amz-crc32")
        .and_then(|v| v.to_str().ok())
        .ok_or("no x-amz-crc32")?;
    if crc != crc32fast::hash(body).to_string() {
        return Err(format!("x-amz-crc32 {crc} does not match the body"));
    }
    if resp.headers().get("x-amzn-requestid").is_none() {
        return Err("no x-amzn-RequestId".into());
    }
    // The server enforces the body cap while it reads the body, before the router looks at the
    // method or content type: over HTTP, any oversized request is a 413 SerializationException.
    let capped = over_tcp && case.body.len() > ddb_harness::protocol::DEFAULT_MAX_BODY;
    if capped && status != 413 {
        return Err(format!(
            "a {} byte body answered {status}, not 413",
            case.body.len()
        ));
    }
    if case.expects_plain() && !capped {
        let expected: &[u8] = if case.method == Method::GET {
            b"healthy: dynamodb.us-east-1.amazonaws.com "
        } else {
            b"<UnknownOperationException/>\n"
        };
        let expected_status = if case.method == Method::GET { 200 } else { 404 };
        if status != expected_status || body.as_ref() != expected {
            return Err(format!("expected the plain {expected_status} answer"));
        }
        return Ok(());
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(
        content_type,
        "application/x-amz-json-1.0" | "application/json"
    ) {
        return Err(format!("content-type {content_type:?}"));
    }
    let json: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let obj = json.as_object().ok_or("body is not a JSON object")?;
    if status == 200 {
        if obj.contains_key("__type") {
            return Err("200 with a __type".into());
        }
    } else {
        let t = obj
            .get("__type")
            .and_then(Value::as_str)
            .ok_or("error without __type")?;
        if !t.contains('#') {
            return Err(format!("__type {t:?} has no namespace"));
        }
        if let Some(m) = obj.get("message").or_else(|| obj.get("Message"))
            && !m.is_string()
        {
            return Err("message is not a string".into());
        }
    }
    Ok(())
}

/// Runs cases, collecting failures; panics at the end with the first few, fully described.
struct Runner<'w> {
    world: &'w World,
    failures: Vec<String>,
    cases: usize,
    slowest: (Duration, String),
    statuses: std::collections::BTreeMap<u16, usize>,
}

impl<'w> Runner<'w> {
    fn new(world: &'w World) -> Self {
        Runner {
            world,
            failures: Vec::new(),
            cases: 0,
            slowest: (Duration::ZERO, String::new()),
            statuses: Default::default(),
        }
    }

    fn run(&mut self, case: &Case) {
        self.cases += 1;
        self.world.ensure_work_table();
        match send(self.world, case) {
            Ok(o) => {
                *self.statuses.entry(o.status).or_default() += 1;
                if o.elapsed > Duration::from_secs(1) {
                    eprintln!("slow: {:?} for {}", o.elapsed, case.label);
                }
                if o.elapsed > self.slowest.0 {
                    self.slowest = (o.elapsed, case.label.clone());
                }
            }
            Err(e) => self
                .failures
                .push(format!("{e}\n  request: {}", case.describe())),
        }
        if let Err(e) = self.world.intact() {
            self.failures.push(format!(
                "router or data damaged after the request: {e}\n  request: {}",
                case.describe()
            ));
        }
    }

    fn finish(self, name: &str) {
        let transport = match &self.world.served {
            Some(s) => format!(
                "over TCP to ddb-harness serve ({} HTTP requests in all)",
                s.requests.load(std::sync::atomic::Ordering::Relaxed)
            ),
            None => "through Router::handle".to_string(),
        };
        let server_errors: usize = self.statuses.range(500..).map(|(_, n)| n).sum();
        eprintln!(
            "{name}: {} cases {transport}, statuses {:?} ({server_errors} 5xx), {} failures, slowest {:?} ({})",
            self.cases,
            self.statuses,
            self.failures.len(),
            self.slowest.0,
            self.slowest.1
        );
        if !self.failures.is_empty() {
            let shown: Vec<&String> = self.failures.iter().take(8).collect();
            panic!(
                "{} of {} hostile requests were mishandled; the first ones:\n\n{}",
                self.failures.len(),
                self.cases,
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n\n")
            );
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// Tests.

/// The property: any mutation of a valid request of any operation is answered well.
#[test]
fn mutated_requests_of_every_operation_are_answered_with_aws_errors() {
    let cases = env_u64("DDB_HOSTILE_CASES", 400) as usize;
    let seed = env_u64("DDB_HOSTILE_SEED", 0x00dd_b0ba_d1ce);
    let world = World::new();
    let seeds = seeds(&world.work_arn);
    let ops = operations();
    let mut runner = Runner::new(&world);
    // `DDB_HOSTILE_FIRST` replays from a given case number (each case has its own stream).
    let first = env_u64("DDB_HOSTILE_FIRST", 0) as usize;
    for i in first..first + cases {
        // Every case has its own stream, so one can be replayed alone.
        let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let op_index = i % ops.len();
        let op = &ops[op_index];
        let mut value = rng.pick(&seeds[op_index]).clone();
        let mut raw = Raw::default();
        let mut what = Vec::new();
        for _ in 0..=rng.below(3) {
            what.push(mutate_value(&mut value, &mut raw, &mut rng));
        }
        let mut body = raw.render(&value);
        if rng.chance(25) {
            what.push(mutate_bytes(&mut body, &mut rng));
        }
        let mut case = Case::new("", &op.target(), body);
        if rng.chance(15) {
            what.push(mutate_headers(&mut case, op, &mut rng));
        }
        case.label = format!(
            "case {i} of seed {seed:#x} ({}): {}",
            op.name,
            what.join("; ")
        );
        runner.run(&case);
    }
    runner.finish("mutated requests");
}

/// Wrong JSON types and `null` at every member of every seed request, one member at a time.
#[test]
fn wrong_types_and_nulls_at_every_member() {
    let world = World::new();
    let seeds = seeds(&world.work_arn);
    let mut runner = Runner::new(&world);
    let mut rng = Rng(11);
    for (op, op_seeds) in operations().iter().zip(&seeds) {
        for seed in op_seeds {
            for path in all_paths(seed).iter().skip(1) {
                for replacement in [Value::Null, wrong_type(&mut rng)] {
                    let mut v = seed.clone();
                    if let Some(node) = at_mut(&mut v, path) {
                        *node = replacement.clone();
                    }
                    let body = serde_json::to_vec(&v).expect("json");
                    runner.run(&Case::new(
                        format!("{}: {replacement} at {}", op.name, path_text(path)),
                        &op.target(),
                        body,
                    ));
                }
            }
            // Null everywhere at once: every leaf, then every member.
            let mut leaves = seed.clone();
            null_leaves(&mut leaves);
            let mut members = seed.clone();
            if let Some(m) = members.as_object_mut() {
                m.values_mut().for_each(|v| *v = Value::Null);
            }
            for (what, v) in [("every leaf null", leaves), ("every member null", members)] {
                runner.run(&Case::new(
                    format!("{}: {what}", op.name),
                    &op.target(),
                    serde_json::to_vec(&v).expect("json"),
                ));
            }
        }
    }
    runner.finish("wrong types");
}

fn null_leaves(v: &mut Value) {
    match v {
        Value::Object(m) => m.values_mut().for_each(null_leaves),
        Value::Array(a) => a.iter_mut().for_each(null_leaves),
        other => *other = Value::Null,
    }
}

/// Fixed hostile bodies for every operation: empty, truncated at every tenth, deep nesting,
/// huge numbers, invalid UTF-8, duplicate keys.
#[test]
fn fixed_hostile_bodies_for_every_operation() {
    let world = World::new();
    let seeds = seeds(&world.work_arn);
    let mut runner = Runner::new(&world);
    for (op, op_seeds) in operations().iter().zip(&seeds) {
        let seed = serde_json::to_vec(&op_seeds[0]).expect("json");
        let first_key = op_seeds[0]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_else(|| "TableName".into());
        let mut bodies: Vec<(String, Vec<u8>)> = vec![
            ("empty".into(), Vec::new()),
            ("null".into(), b"null".to_vec()),
            ("array".into(), b"[]".to_vec()),
            ("10,000 [".into(), deep_array(10_000, false)),
            ("10,000 [] closed".into(), deep_array(10_000, true)),
            ("10,000 {\"M\":{\"a\": at top".into(), deep_map(10_000)),
            ("unclosed 10,000 {\"a\":".into(), br#"{"a":"#.repeat(10_000)),
            (
                "invalid UTF-8".into(),
                b"{\"TableName\":\"w\xffork\"}".to_vec(),
            ),
            (
                "lone surrogate".into(),
                br#"{"TableName":"\ud800"}"#.to_vec(),
            ),
            ("NUL".into(), b"{\"TableName\":\"work\x00\"}".to_vec()),
            (
                "duplicate keys".into(),
                format!(r#"{{"{first_key}":1,"{first_key}":"x","{first_key}":null}}"#).into_bytes(),
            ),
            (
                "1e400".into(),
                format!(r#"{{"{first_key}":1e400}}"#).into_bytes(),
            ),
            (
                "1e-400".into(),
                format!(r#"{{"{first_key}":1e-400}}"#).into_bytes(),
            ),
            (
                "1000 digits".into(),
                format!(r#"{{"{first_key}":{}}}"#, digits(1000)).into_bytes(),
            ),
            (
                "10^400 in Limit".into(),
                format!(r#"{{"Limit":1{}}}"#, "0".repeat(400)).into_bytes(),
            ),
            (
                "random".into(),
                (0..4096).map(|i| (i * 7919 % 256) as u8).collect(),
            ),
        ];
        for cut in 1..10 {
            let at = seed.len() * cut / 10;
            bodies.push((format!("truncated at {at}"), seed[..at].to_vec()));
        }
        // Nesting inside every value of the seed: 33 levels (over DynamoDB's 32), 64 (at
        // serde_json's 128 JSON levels) and 10,000.
        for path in all_paths(&op_seeds[0]).iter().skip(1) {
            if let Some(Seg::Key(_)) = path.last() {
                for depth in [33, 63, 64, 10_000] {
                    let mut v = op_seeds[0].clone();
                    let mut raw = Raw::default();
                    if let Some(node) = at_mut(&mut v, path) {
                        *node = raw.value(deep_map(depth));
                    }
                    bodies.push((
                        format!("{depth} levels of M at {}", path_text(path)),
                        raw.render(&v),
                    ));
                }
            }
        }
        for (what, body) in bodies {
            runner.run(&Case::new(
                format!("{}: {what}", op.name),
                &op.target(),
                body,
            ));
        }
    }
    runner.finish("fixed bodies");
}

/// Bodies of 1 to 10 MB: a huge attribute, huge expressions, whitespace padding, and one past
/// the 16 MiB cap.
#[test]
fn large_bodies() {
    let world = World::new();
    let arn = world.work_arn.clone();
    let mut runner = Runner::new(&world);
    let ten_mb = 10 * 1024 * 1024;
    let big = "a".repeat(ten_mb);
    let put = |item_extra: Value| {
        let mut item = json!({"pk": {"S": "big"}, "sk": {"N": "1"}});
        item.as_object_mut()
            .expect("object")
            .extend(item_extra.as_object().expect("object").clone());
        json!({"TableName": WORK_TABLE, "Item": item})
    };
    let mut bodies: Vec<(&str, &str, Vec<u8>)> = vec![
        ("PutItem", "10 MB S", serde_json::to_vec(&put(json!({"s": {"S": big}}))).unwrap()),
        (
            "PutItem",
            "1 MB attribute name",
            serde_json::to_vec(&put(json!({ "n".repeat(1 << 20): {"S": "x"}}))).unwrap(),
        ),
        (
            "PutItem",
            "100,000 attributes",
            serde_json::to_vec(&put(Value::Object(
                (0..100_000)
                    .map(|i| (format!("a{i}"), json!({"N": i.to_string()})))
                    .collect(),
            )))
            .unwrap(),
        ),
        (
            "PutItem",
            "list of 200,000 elements",
            serde_json::to_vec(&put(json!({"l": {"L": vec![json!({"NULL": true}); 200_000]}})))
                .unwrap(),
        ),
        (
            "UpdateItem",
            "1 MB update expression",
            serde_json::to_vec(&json!({"TableName": WORK_TABLE,
                "Key": {"pk": {"S": "big"}, "sk": {"N": "1"}},
                "UpdateExpression": format!("SET a = :v{}", " + :v".repeat(200_000)),
                "ExpressionAttributeValues": {":v": {"N": "1"}}}))
            .unwrap(),
        ),
        (
            "Query",
            "10 MB key condition",
            serde_json::to_vec(&json!({"TableName": WORK_TABLE,
                "KeyConditionExpression": format!("pk = :v{}", " AND pk = :v".repeat(ten_mb / 12)),
                "ExpressionAttributeValues": {":v": {"S": "x"}}}))
            .unwrap(),
        ),
        (
            "Scan",
            "1 MB of parentheses",
            serde_json::to_vec(&json!({"TableName": WORK_TABLE,
                "FilterExpression": format!("{}a = :v{}", "(".repeat(500_000), ")".repeat(500_000)),
                "ExpressionAttributeValues": {":v": {"S": "x"}}}))
            .unwrap(),
        ),
        (
            "BatchWriteItem",
            "10 MB in 25 puts",
            serde_json::to_vec(&json!({"RequestItems": {WORK_TABLE: (0..25).map(|i| json!({"PutRequest": {"Item": {
                "pk": {"S": format!("b{i}")}, "sk": {"N": "1"}, "s": {"S": "a".repeat(ten_mb / 25)}}}})).collect::<Vec<_>>()}}))
            .unwrap(),
        ),
        (
            "CreateTable",
            "10 MB table name",
            serde_json::to_vec(&json!({"TableName": big,
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}))
            .unwrap(),
        ),
        (
            "TagResource",
            "10 MB tag value",
            serde_json::to_vec(&json!({"ResourceArn": arn, "Tags": [{"Key": "k", "Value": big}]}))
                .unwrap(),
        ),
    ];
    let mut padded = vec![b' '; ten_mb];
    padded.extend_from_slice(br#"{"TableName":"work"}"#);
    bodies.push(("DescribeTable", "10 MB of whitespace", padded));
    bodies.push((
        "ListTables",
        "17 MB, past the cap",
        vec![b' '; 17 * 1024 * 1024],
    ));
    for (op, what, body) in bodies {
        runner.run(&Case::new(
            format!("{op}: {what}"),
            &format!("DynamoDB_20120810.{op}"),
            body,
        ));
    }
    runner.finish("large bodies");
}

/// Targets, content types, methods and credentials, each wrong on an otherwise valid request.
#[test]
fn wrong_headers_on_valid_requests() {
    let world = World::new();
    let seeds = seeds(&world.work_arn);
    let mut runner = Runner::new(&world);
    let mut rng = Rng(3);
    for (op, op_seeds) in operations().iter().zip(&seeds) {
        for _ in 0..8 {
            let body = serde_json::to_vec(rng.pick(op_seeds)).expect("json");
            let mut case = Case::new("", &op.target(), body);
            let what = mutate_headers(&mut case, op, &mut rng);
            case.label = format!("{}: {what}", op.name);
            runner.run(&case);
        }
    }
    runner.finish("wrong headers");
}

/// Sets of 20,000 short strings or numbers (about 150 KB, well under the 400 KB item limit)
/// must cost milliseconds, not seconds: a client could otherwise hold a blocking thread for
/// minutes with one request under 1 MB.
///
/// Regression test. The bug: duplicate detection (`has_duplicates` in engine/src/value.rs)
/// compared every element with all before it, and ADD, DELETE and set equality in expressions
/// were quadratic too (now hashed). Before the fix, in a debug build
/// 5k/10k/20k-element SS PutItems take 0.28/1.0/3.2 s, ADD of 20k strings to a 20k set 11.5 s,
/// `ss = :s` with two 20k sets 3 s; 100k strings (an 889 KB request) take 115 s.
#[test]
fn large_sets_are_handled_in_subquadratic_time() {
    let world = World::new();
    let key = json!({"pk": {"S": "set"}, "sk": {"N": "1"}});
    let set =
        |prefix: &str| -> Vec<String> { (0..20_000).map(|i| format!("{prefix}{i}")).collect() };
    let nums: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
    let requests = [
        (
            "PutItem",
            json!({"TableName": WORK_TABLE,
            "Item": {"pk": {"S": "set"}, "sk": {"N": "1"}, "ss": {"SS": set("s")}}}),
        ),
        (
            "PutItem",
            json!({"TableName": WORK_TABLE,
            "Item": {"pk": {"S": "set"}, "sk": {"N": "2"}, "ns": {"NS": nums}}}),
        ),
        (
            "UpdateItem",
            json!({"TableName": WORK_TABLE, "Key": key, "UpdateExpression": "ADD ss :s",
            "ExpressionAttributeValues": {":s": {"SS": set("t")}}}),
        ),
        (
            "UpdateItem",
            json!({"TableName": WORK_TABLE, "Key": key, "UpdateExpression": "REMOVE x",
            "ConditionExpression": "ss = :s", "ExpressionAttributeValues": {":s": {"SS": set("u")}}}),
        ),
    ];
    for (op, body) in requests {
        let started = Instant::now();
        let (status, reply) = world.call(op, body);
        let elapsed = started.elapsed();
        assert!(status == 200 || status == 400, "{op}: {status} {reply}");
        assert!(
            elapsed < Duration::from_secs(1),
            "{op} with a 20,000-element set took {elapsed:?}"
        );
    }
}
