//! Model-driven request validation, reproducing DynamoDB's front end (AWS "Coral").
//!
//! Two passes over the JSON body of a request, both driven by the botocore service model
//! embedded from `harness/model/`:
//!
//! 1. **Type pass** (document order, first error aborts): every member present in the model
//!    must have the JSON type its shape expects; otherwise [`Violation::Serialization`] with
//!    Coral's Jackson-derived message (`NUMBER_VALUE cannot be converted to String`,
//!    `Unexpected field type`, `Unrecognized collection type class java.lang.String`, ...).
//!    Blob members (`B`, `BS` items, ...) must be canonical base64.
//! 2. **Constraint pass**: required members, string/blob length, list/map size, numeric range,
//!    `pattern` and `enum`. All violations are collected (at most [`MAX_REPORTED_ERRORS`]) into
//!    one [`Violation::Validation`]:
//!    `2 validation errors detected: Value null at 'tableName' failed to satisfy constraint:
//!    Member must not be null; Value ...`.
//!
//! Unknown members are ignored and JSON `null` counts as absent. Semantic rules (empty
//! attribute values, several types in one AttributeValue, number syntax, ...) belong to the
//! engine and are not checked here.
//!
//! Details reproduced from the dynalite expectations (recorded against AWS):
//! * member paths are lowerCamelCase, list elements `keySchema.1.member.attributeName`
//!   (1-based), map values `requestItems.<key>.member.keys`;
//! * constraints on list elements / map keys / map values are reported once on the container:
//!   `Map keys must satisfy constraint: [...]`, `Map value must satisfy constraint: [...]`,
//!   `Member must satisfy constraint: [...]` (the last form is not in the data: inferred);
//! * structure members are visited in Java `HashMap` order of their lowerCamel names (the
//!   table size rule was fitted to the data), map entries in `HashMap` order of their keys;
//!   this only matters when more than ten violations are found and the list is cut;
//! * enum value sets are printed in the order AWS printed them where the data shows it,
//!   otherwise in model order.
//!
//! Rules AWS applies beyond the current model (which widened them for newer features):
//! * `TableName` members of shape `TableArn` (1..1024) and the `RequestItems` keys of
//!   BatchGetItem/BatchWriteItem: a plain name (not starting with `arn:`) is checked against the
//!   `TableName` shape (3..255, `[a-zA-Z0-9_.-]+`); ARNs keep the `TableArn` constraints;
//! * [`TABLE_LEVEL_OPS`]: after the type pass, a missing `TableName` or a plain name of bad
//!   length is reported alone ([`TABLE_NAME_REQUIRED`], [`TABLE_NAME_LENGTH`]);
//! * CreateTable: `AttributeDefinitions`/`KeySchema` required (unless `GlobalTableSourceArn`
//!   is given) and the table `KeySchema` at most 2 elements (index key schemas unrestricted).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::pattern::Pattern;

/// AWS reports at most this many constraint violations in one `ValidationException`.
pub const MAX_REPORTED_ERRORS: usize = 10;

/// Maximum JSON nesting accepted by the type pass; deeper bodies get a
/// `SerializationException` instead of risking the stack. (DynamoDB's own document limit is
/// 32 levels of attribute nesting, i.e. well below this.)
pub const MAX_DEPTH: usize = 200;

/// Message used when [`MAX_DEPTH`] is exceeded (not observed from AWS; chosen here).
pub const TOO_DEEP_MESSAGE: &str = "Nesting depth of the request exceeds the maximum allowed";

const CAST_MSG: &str = "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')";
const START_OF_MAP: &str = "Start of structure or map found where not expected";
const UNEXPECTED_FIELD: &str = "Unexpected field type";
const UNEXPECTED_VALUE: &str = "Unexpected value type in payload";
const NOT_BASE64: &str = "only base-64-encoded strings are convertible to bytes";
const BAD_LAST_BASE64: &str = "Invalid last non-pad Base64 character dectected";

/// Enum value sets as AWS printed them (a Java hash-set order), keyed by shape name. Used only
/// while the model's set of values is unchanged; otherwise model order is used.
const ENUM_DISPLAY_ORDER: &[(&str, &[&str])] = &[
    ("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]),
    ("ReturnItemCollectionMetrics", &["SIZE", "NONE"]),
    (
        "ReturnValue",
        &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"],
    ),
    ("ScalarAttributeType", &["B", "N", "S"]),
    ("ProjectionType", &["ALL", "INCLUDE", "KEYS_ONLY"]),
    (
        "Select",
        &[
            "SPECIFIC_ATTRIBUTES",
            "COUNT",
            "ALL_ATTRIBUTES",
            "ALL_PROJECTED_ATTRIBUTES",
        ],
    ),
    (
        "ComparisonOperator",
        &[
            "IN",
            "NULL",
            "BETWEEN",
            "LT",
            "NOT_CONTAINS",
            "EQ",
            "GT",
            "NOT_NULL",
            "NE",
            "LE",
            "BEGINS_WITH",
            "GE",
            "CONTAINS",
        ],
    ),
    ("ConditionalOperator", &["OR", "AND"]),
    ("BillingMode", &["PROVISIONED", "PAY_PER_REQUEST"]),
    ("KeyType", &["HASH", "RANGE"]),
];

/// Why a request was rejected before reaching the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Wrong JSON type for a member: `com.amazon.coral.service#SerializationException`.
    Serialization(String),
    /// Model constraint violations: `com.amazon.coral.validate#ValidationException`.
    Validation(String),
}

impl Violation {
    /// The `__type` of the error body.
    pub fn error_type(&self) -> &'static str {
        match self {
            Violation::Serialization(_) => "com.amazon.coral.service#SerializationException",
            Violation::Validation(_) => "com.amazon.coral.validate#ValidationException",
        }
    }

    /// Short error code (`SerializationException` / `ValidationException`).
    pub fn code(&self) -> &'static str {
        match self {
            Violation::Serialization(_) => "SerializationException",
            Violation::Validation(_) => "ValidationException",
        }
    }

    /// JSON key of the message in the error body: AWS uses `Message` for
    /// `SerializationException` and `message` for `ValidationException`.
    pub fn message_key(&self) -> &'static str {
        match self {
            Violation::Serialization(_) => "Message",
            Violation::Validation(_) => "message",
        }
    }

    /// The message text.
    pub fn message(&self) -> &str {
        match self {
            Violation::Serialization(m) | Violation::Validation(m) => m,
        }
    }

    /// The complete error body, e.g. `{"__type": "...#ValidationException", "message": "..."}`.
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), Value::String(self.error_type().into()));
        body.insert(
            self.message_key().into(),
            Value::String(self.message().into()),
        );
        Value::Object(body)
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for Violation {}

#[derive(Debug)]
enum Kind {
    Structure {
        members: Vec<Member>,
        order: Vec<usize>,
    },
    List(usize),
    Map(usize, usize),
    String,
    Integer,
    Long,
    Double,
    Boolean,
    Blob,
    Timestamp,
    Other,
}

#[derive(Debug)]
struct Member {
    wire: String,
    camel: String,
    shape: usize,
    required: bool,
}

#[derive(Debug)]
struct Shape {
    name: String,
    kind: Kind,
    min: Option<f64>,
    max: Option<f64>,
    /// Source text and compiled form (`None` when unsupported: the constraint is skipped).
    pattern: Option<(String, Option<Pattern>)>,
    /// Values in display order.
    enum_values: Option<Vec<String>>,
}

impl Shape {
    fn has_own_constraints(&self) -> bool {
        self.min.is_some()
            || self.max.is_some()
            || self.pattern.as_ref().is_some_and(|(_, p)| p.is_some())
            || self.enum_values.is_some()
    }
}

/// A parsed service model (shapes and operations) used to validate request bodies.
#[derive(Debug)]
pub struct ServiceModel {
    shapes: Vec<Shape>,
    /// Operation name -> input shape (if any).
    operations: HashMap<String, Option<usize>>,
    /// Java package of the generated model classes, used in some Coral messages.
    java_package: &'static str,
    /// Shapes behind the rules AWS applies beyond the current model (see [`TABLE_LEVEL_OPS`]).
    legacy: LegacyShapes,
}

/// Operations whose `TableName` gets Coral's table-name pre-check before the constraint list:
/// a missing name is [`TABLE_NAME_REQUIRED`], a plain name of bad length is
/// [`TABLE_NAME_LENGTH`], each reported alone. `UpdateTimeToLive` is not in the dynalite data
/// (inferred from `DescribeTimeToLive`).
pub const TABLE_LEVEL_OPS: &[&str] = &[
    "CreateTable",
    "DeleteTable",
    "DescribeTable",
    "DescribeTimeToLive",
    "UpdateTable",
    "UpdateTimeToLive",
];

/// Message for a table-level operation without `TableName`.
pub const TABLE_NAME_REQUIRED: &str =
    "The parameter 'TableName' is required but was not present in the request";

/// Message for a table-level operation whose plain `TableName` is shorter than 3 or longer
/// than 255 characters.
pub const TABLE_NAME_LENGTH: &str =
    "TableName must be at least 3 characters long and at most 255 characters long";

/// Indices of the shapes involved in the rules AWS still applies although the current model
/// no longer says so (all `None` when a model lacks the shape, e.g. Streams).
#[derive(Debug, Default)]
struct LegacyShapes {
    /// `TableArn` (1..1024, no pattern): the shape of most `TableName` members and of the
    /// `RequestItems` keys of BatchGetItem/BatchWriteItem.
    table_arn: Option<usize>,
    /// `TableName` (3..255, `[a-zA-Z0-9_.-]+`): the rules a plain (non-ARN) name must meet.
    table_name: Option<usize>,
    /// `CreateTableInput`: `AttributeDefinitions`/`KeySchema` required, `KeySchema` at most 2.
    create_table_input: Option<usize>,
}

/// Maximum length of CreateTable's (table) `KeySchema`, as AWS enforced it in the data.
const TABLE_KEY_SCHEMA_MAX: usize = 2;

/// Position of a value in its parent: Coral words type errors differently for structure
/// members ("field") and for list elements / map values ("value").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    Field,
    Value,
}

impl ServiceModel {
    /// The DynamoDB model (`harness/model/dynamodb.json`), parsed once.
    pub fn dynamodb() -> &'static ServiceModel {
        static MODEL: OnceLock<ServiceModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            ServiceModel::from_json(
                include_str!("../../model/dynamodb.json"),
                "com.amazonaws.dynamodb.v20120810",
            )
            .expect("embedded DynamoDB model is valid")
        })
    }

    /// The DynamoDB Streams model (`harness/model/streams.json`), parsed once.
    pub fn streams() -> &'static ServiceModel {
        static MODEL: OnceLock<ServiceModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            ServiceModel::from_json(
                include_str!("../../model/streams.json"),
                "com.amazonaws.dynamodbstreams.v20120810",
            )
            .expect("embedded DynamoDB Streams model is valid")
        })
    }

    /// Parses a (stripped) botocore model. `java_package` is the package Coral reports in
    /// `Unrecognized collection type class <package>.<Shape>` messages.
    pub fn from_json(text: &str, java_package: &'static str) -> Result<ServiceModel, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let shapes_json = root
            .get("shapes")
            .and_then(Value::as_object)
            .ok_or("model has no shapes")?;
        let index: HashMap<&str, usize> = shapes_json
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let lookup = |name: Option<&Value>| -> Result<usize, String> {
            let name = name
                .and_then(Value::as_str)
                .ok_or("missing shape reference")?;
            index
                .get(name)
                .copied()
                .ok_or_else(|| format!("unknown shape {name}"))
        };
        let enum_orders: HashMap<&str, &[&str]> = ENUM_DISPLAY_ORDER.iter().copied().collect();
        let mut shapes = Vec::with_capacity(shapes_json.len());
        for (name, s) in shapes_json {
            let ty = s.get("type").and_then(Value::as_str).unwrap_or("");
            let kind = match ty {
                "structure" => {
                    let required: Vec<&str> = s
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let mut members = Vec::new();
                    if let Some(ms) = s.get("members").and_then(Value::as_object) {
                        for (wire, shape) in ms {
                            members.push(Member {
                                wire: wire.clone(),
                                camel: lower_camel(wire),
                                shape: lookup(Some(shape))?,
                                required: required.contains(&wire.as_str()),
                            });
                        }
                    }
                    let order = java_member_order(&members);
                    Kind::Structure { members, order }
                }
                "list" => Kind::List(lookup(s.get("member"))?),
                "map" => Kind::Map(lookup(s.get("key"))?, lookup(s.get("value"))?),
                "string" => Kind::String,
                "integer" => Kind::Integer,
                "long" => Kind::Long,
                "double" | "float" => Kind::Double,
                "boolean" => Kind::Boolean,
                "blob" => Kind::Blob,
                "timestamp" => Kind::Timestamp,
                _ => Kind::Other,
            };
            let enum_values = s.get("enum").and_then(Value::as_array).map(|vals| {
                let model: Vec<String> = vals
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                match enum_orders.get(name.as_str()) {
                    Some(order)
                        if order.len() == model.len()
                            && order.iter().all(|v| model.iter().any(|m| m == v)) =>
                    {
                        order.iter().map(|v| (*v).to_owned()).collect()
                    }
                    _ => model,
                }
            });
            shapes.push(Shape {
                name: name.clone(),
                kind,
                min: s.get("min").and_then(Value::as_f64),
                max: s.get("max").and_then(Value::as_f64),
                pattern: s
                    .get("pattern")
                    .and_then(Value::as_str)
                    .map(|p| (p.to_owned(), Pattern::compile(p))),
                enum_values,
            });
        }
        let mut operations = HashMap::new();
        if let Some(ops) = root.get("operations").and_then(Value::as_object) {
            for (name, op) in ops {
                let input = match op.get("input") {
                    Some(i) => Some(lookup(Some(i))?),
                    None => None,
                };
                operations.insert(name.clone(), input);
            }
        }
        let legacy = LegacyShapes {
            table_arn: index.get("TableArn").copied(),
            table_name: index.get("TableName").copied(),
            create_table_input: index.get("CreateTableInput").copied(),
        };
        Ok(ServiceModel {
            shapes,
            operations,
            java_package,
            legacy,
        })
    }

    /// The model's operation names, sorted.
    pub fn operation_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.operations.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Whether the model defines operation `op` (e.g. `"PutItem"`).
    pub fn has_operation(&self, op: &str) -> bool {
        self.operations.contains_key(op)
    }

    /// Patterns of the model that the built-in matcher cannot evaluate (skipped).
    pub fn unsupported_patterns(&self) -> Vec<&str> {
        self.shapes
            .iter()
            .filter_map(|s| match &s.pattern {
                Some((src, None)) => Some(src.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Only the first pass of [`ServiceModel::validate`]: JSON types (`SerializationException`).
    pub fn validate_types(&self, op: &str, body: &Value) -> Result<(), Violation> {
        let Some(Some(input)) = self.operations.get(op).copied() else {
            return Ok(());
        };
        self.check_type(input, body, Pos::Value, 0)
            .map_err(Violation::Serialization)
    }

    /// Validates the JSON body of operation `op` the way Coral does before dispatch.
    ///
    /// Unknown operations and operations without input pass (routing reports those).
    pub fn validate(&self, op: &str, body: &Value) -> Result<(), Violation> {
        let Some(Some(input)) = self.operations.get(op).copied() else {
            return Ok(());
        };
        self.check_type(input, body, Pos::Value, 0)
            .map_err(Violation::Serialization)?;
        if TABLE_LEVEL_OPS.contains(&op) {
            match body.get("TableName") {
                None | Some(Value::Null) => {
                    return Err(Violation::Validation(TABLE_NAME_REQUIRED.to_owned()));
                }
                Some(Value::String(name))
                    if !is_arn(name) && !(3..=255).contains(&name.encode_utf16().count()) =>
                {
                    return Err(Violation::Validation(TABLE_NAME_LENGTH.to_owned()));
                }
                _ => {}
            }
        }
        let mut errors = Vec::new();
        if let Value::Object(obj) = body {
            self.check_struct(input, obj, "", &mut errors);
        }
        if errors.is_empty() {
            return Ok(());
        }
        let n = errors.len();
        Err(Violation::Validation(format!(
            "{n} validation error{} detected: {}",
            if n == 1 { "" } else { "s" },
            errors.join("; ")
        )))
    }

    fn shape(&self, i: usize) -> Option<&Shape> {
        self.shapes.get(i)
    }

    // ----------------------------------------------------------------- type pass

    fn check_type(&self, shape: usize, v: &Value, pos: Pos, depth: usize) -> Result<(), String> {
        if v.is_null() {
            return Ok(());
        }
        if depth > MAX_DEPTH {
            return Err(TOO_DEEP_MESSAGE.to_owned());
        }
        let Some(s) = self.shape(shape) else {
            return Ok(());
        };
        match &s.kind {
            Kind::Structure { members, .. } => match v {
                Value::Object(obj) => {
                    for (k, val) in obj {
                        if let Some(m) = members.iter().find(|m| &m.wire == k) {
                            self.check_type(m.shape, val, Pos::Field, depth + 1)?;
                        }
                    }
                    Ok(())
                }
                Value::Array(_) => Err(format!(
                    "Unrecognized collection type class {}.{}",
                    self.java_package, s.name
                )),
                _ => Err(match pos {
                    Pos::Field => UNEXPECTED_FIELD,
                    Pos::Value => UNEXPECTED_VALUE,
                }
                .to_owned()),
            },
            Kind::List(member) => match v {
                Value::Array(items) => {
                    for item in items {
                        self.check_type(*member, item, Pos::Value, depth + 1)?;
                    }
                    Ok(())
                }
                Value::Object(_) => Err(START_OF_MAP.to_owned()),
                _ => Err(match pos {
                    Pos::Field => UNEXPECTED_FIELD,
                    Pos::Value => CAST_MSG,
                }
                .to_owned()),
            },
            Kind::Map(_, value) => match v {
                Value::Object(obj) => {
                    for val in obj.values() {
                        self.check_type(*value, val, Pos::Value, depth + 1)?;
                    }
                    Ok(())
                }
                Value::Array(_) => Err(format!(
                    "Unrecognized collection type java.util.Map<java.lang.String, {}>",
                    self.java_type(*value, 0)
                )),
                _ => Err(match pos {
                    Pos::Field => UNEXPECTED_FIELD,
                    Pos::Value => CAST_MSG,
                }
                .to_owned()),
            },
            Kind::String => scalar_type_error(v, "String").map_or(Ok(()), Err),
            Kind::Boolean => match v {
                Value::Bool(_) => Ok(()),
                // Coral reads a few spellings of booleans from strings ("no" is false, "yes"
                // and "1" true: dynalite tuples 1657, 6069, 6070 and 6071) and refuses others
                // ("23"). `ddb_engine::lenient_bool` gives the same answer.
                Value::String(text) if ddb_engine::lenient_bool(text).is_some() => Ok(()),
                Value::String(_) => Err("Unexpected token received from parser".to_owned()),
                _ => scalar_type_error(v, "Boolean").map_or(Ok(()), Err),
            },
            Kind::Integer => number_type_error(v, "Integer").map_or(Ok(()), Err),
            Kind::Long => number_type_error(v, "Long").map_or(Ok(()), Err),
            Kind::Double => number_type_error(v, "Double").map_or(Ok(()), Err),
            // Not observed from AWS: treated like a number of class java.util.Date.
            Kind::Timestamp => number_type_error(v, "Date").map_or(Ok(()), Err),
            Kind::Blob => match v {
                Value::String(text) => check_base64(text),
                Value::Array(_) => {
                    Err("Unrecognized collection type class java.nio.ByteBuffer".to_owned())
                }
                Value::Object(_) => Err(START_OF_MAP.to_owned()),
                _ => Err(NOT_BASE64.to_owned()),
            },
            Kind::Other => Ok(()),
        }
    }

    /// The Java type Coral names for a shape in collection messages.
    fn java_type(&self, shape: usize, depth: usize) -> String {
        let Some(s) = self.shape(shape) else {
            return "java.lang.Object".to_owned();
        };
        if depth > 8 {
            return "java.lang.Object".to_owned();
        }
        match &s.kind {
            Kind::Structure { .. } => format!("{}.{}", self.java_package, s.name),
            Kind::List(m) => format!("java.util.List<{}>", self.java_type(*m, depth + 1)),
            Kind::Map(_, v) => format!(
                "java.util.Map<java.lang.String, {}>",
                self.java_type(*v, depth + 1)
            ),
            Kind::String => "java.lang.String".to_owned(),
            Kind::Integer => "java.lang.Integer".to_owned(),
            Kind::Long => "java.lang.Long".to_owned(),
            Kind::Double => "java.lang.Double".to_owned(),
            Kind::Boolean => "java.lang.Boolean".to_owned(),
            Kind::Blob => "java.nio.ByteBuffer".to_owned(),
            Kind::Timestamp => "java.util.Date".to_owned(),
            Kind::Other => "java.lang.Object".to_owned(),
        }
    }

    // ----------------------------------------------------------- constraint pass

    fn check_struct(
        &self,
        shape: usize,
        obj: &Map<String, Value>,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(Shape {
            kind: Kind::Structure { members, order },
            ..
        }) = self.shape(shape)
        else {
            return;
        };
        for &i in order {
            if errors.len() >= MAX_REPORTED_ERRORS {
                return;
            }
            let Some(m) = members.get(i) else { continue };
            // Built only when an error or a nested value needs it: most members of most
            // structures (an AttributeValue's ten) are absent or scalar.
            let member_path = || {
                if path.is_empty() {
                    m.camel.clone()
                } else {
                    format!("{path}.{}", m.camel)
                }
            };
            let create_table = self.legacy.create_table_input == Some(shape);
            match obj.get(&m.wire) {
                None | Some(Value::Null) => {
                    if m.required || (create_table && self.create_table_requires(&m.wire, obj)) {
                        errors.push(format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not be null",
                            member_path()
                        ));
                    }
                }
                Some(v) => {
                    let member_shape = if m.wire == "TableName" {
                        self.table_name_shape(m.shape, v)
                    } else {
                        m.shape
                    };
                    let mut violations = self.own_violations(member_shape, v);
                    if create_table
                        && m.wire == "KeySchema"
                        && v.as_array().is_some_and(|a| a.len() > TABLE_KEY_SCHEMA_MAX)
                    {
                        violations.push(format!(
                            "Member must have length less than or equal to {TABLE_KEY_SCHEMA_MAX}"
                        ));
                    }
                    for c in violations {
                        push(
                            errors,
                            format!(
                                "Value '{}' at '{}' failed to satisfy constraint: {c}",
                                self.display(member_shape, v, 0),
                                member_path()
                            ),
                        );
                    }
                    // Only structures, lists and maps have children to check.
                    if v.is_object() || v.is_array() {
                        self.check_children(member_shape, v, &member_path(), errors);
                    }
                }
            }
        }
    }

    /// Checks the contents of a structure/list/map value located at `path`.
    fn check_children(&self, shape: usize, v: &Value, path: &str, errors: &mut Vec<String>) {
        let Some(s) = self.shape(shape) else { return };
        match (&s.kind, v) {
            (Kind::Structure { .. }, Value::Object(obj)) => {
                self.check_struct(shape, obj, path, errors)
            }
            (Kind::List(member), Value::Array(items)) => {
                let member_constrained =
                    self.shape(*member).is_some_and(Shape::has_own_constraints);
                if member_constrained
                    && items
                        .iter()
                        .any(|it| !it.is_null() && !self.own_violations(*member, it).is_empty())
                {
                    push(
                        errors,
                        format!(
                            "Value '{}' at '{path}' failed to satisfy constraint: Member must satisfy constraint: [{}]",
                            self.display(shape, v, 0),
                            self.constraint_list(*member)
                        ),
                    );
                }
                for (i, item) in items.iter().enumerate() {
                    if errors.len() >= MAX_REPORTED_ERRORS {
                        return;
                    }
                    if !item.is_null() {
                        self.check_children(
                            *member,
                            item,
                            &format!("{path}.{}.member", i + 1),
                            errors,
                        );
                    }
                }
            }
            (Kind::Map(key, value), Value::Object(obj)) => {
                // One message per key shape that some key violates (plain table names and
                // ARNs under a `TableArn` key shape are checked against different shapes).
                let mut key_shapes: Vec<usize> = Vec::new();
                for k in obj.keys() {
                    let k = Value::String(k.clone());
                    let key_shape = self.table_name_shape(*key, &k);
                    if !key_shapes.contains(&key_shape)
                        && self
                            .shape(key_shape)
                            .is_some_and(Shape::has_own_constraints)
                        && !self.own_violations(key_shape, &k).is_empty()
                    {
                        key_shapes.push(key_shape);
                    }
                }
                for key_shape in key_shapes {
                    push(
                        errors,
                        format!(
                            "Value '{}' at '{path}' failed to satisfy constraint: Map keys must satisfy constraint: [{}]",
                            self.display(shape, v, 0),
                            self.constraint_list(key_shape)
                        ),
                    );
                }
                let value_constrained = self.shape(*value).is_some_and(Shape::has_own_constraints);
                if value_constrained
                    && obj
                        .values()
                        .any(|it| !it.is_null() && !self.own_violations(*value, it).is_empty())
                {
                    push(
                        errors,
                        format!(
                            "Value '{}' at '{path}' failed to satisfy constraint: Map value must satisfy constraint: [{}]",
                            self.display(shape, v, 0),
                            self.constraint_list(*value)
                        ),
                    );
                }
                for (k, item) in java_map_order(obj) {
                    if errors.len() >= MAX_REPORTED_ERRORS {
                        return;
                    }
                    if !item.is_null() {
                        self.check_children(*value, item, &format!("{path}.{k}.member"), errors);
                    }
                }
            }
            _ => {}
        }
    }

    /// The shape whose constraints a table-name value is checked against: a plain name (not an
    /// ARN) in a `TableArn` position must still satisfy the `TableName` shape, as AWS checks
    /// it; ARNs and all other shapes are unchanged.
    fn table_name_shape(&self, shape: usize, v: &Value) -> usize {
        match (self.legacy.table_arn, self.legacy.table_name, v) {
            (Some(arn), Some(name), Value::String(s)) if arn == shape && !is_arn(s) => name,
            _ => shape,
        }
    }

    /// Whether CreateTable member `wire` is required although the model says optional:
    /// `AttributeDefinitions` and `KeySchema`, unless the table is created from a global
    /// table source (`GlobalTableSourceArn`, which supplies them and is why the model relaxed
    /// them).
    fn create_table_requires(&self, wire: &str, obj: &Map<String, Value>) -> bool {
        matches!(wire, "AttributeDefinitions" | "KeySchema")
            && obj.get("GlobalTableSourceArn").is_none_or(Value::is_null)
    }

    /// Constraint texts (`Member must ...`) of `shape` that `v` violates.
    fn own_violations(&self, shape: usize, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let Some(s) = self.shape(shape) else {
            return out;
        };
        let length = match (&s.kind, v) {
            (Kind::String, Value::String(t)) => Some(t.encode_utf16().count() as f64),
            (Kind::Blob, Value::String(t)) => Some(base64_decoded_len(t) as f64),
            (Kind::List(_), Value::Array(a)) => Some(a.len() as f64),
            (Kind::Map(..), Value::Object(o)) => Some(o.len() as f64),
            _ => None,
        };
        let number = match (&s.kind, v) {
            (Kind::Integer | Kind::Long | Kind::Double | Kind::Timestamp, Value::Number(n)) => {
                n.as_f64()
            }
            _ => None,
        };
        // The pattern is listed before the length texts, as in all 20 dynalite expectations
        // that show both for one member (their order is not otherwise pinned by the data).
        if let (Kind::String, Value::String(t), Some((src, Some(p)))) = (&s.kind, v, &s.pattern)
            && !p.is_match(t)
        {
            out.push(format!(
                "Member must satisfy regular expression pattern: {src}"
            ));
        }
        if let Some(len) = length {
            if let Some(min) = s.min
                && len < min
            {
                out.push(format!(
                    "Member must have length greater than or equal to {}",
                    fmt_bound(min)
                ));
            }
            if let Some(max) = s.max
                && len > max
            {
                out.push(format!(
                    "Member must have length less than or equal to {}",
                    fmt_bound(max)
                ));
            }
        }
        if let Some(x) = number {
            if let Some(min) = s.min
                && x < min
            {
                out.push(format!(
                    "Member must have value greater than or equal to {}",
                    fmt_bound(min)
                ));
            }
            if let Some(max) = s.max
                && x > max
            {
                out.push(format!(
                    "Member must have value less than or equal to {}",
                    fmt_bound(max)
                ));
            }
        }
        if let (Kind::String, Value::String(t), Some(values)) = (&s.kind, v, &s.enum_values)
            && !values.iter().any(|e| e == t)
        {
            out.push(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            ));
        }
        out
    }

    /// All constraints of a shape, as listed in container messages (`max, min, pattern, enum`).
    fn constraint_list(&self, shape: usize) -> String {
        let Some(s) = self.shape(shape) else {
            return String::new();
        };
        let word = match s.kind {
            Kind::Integer | Kind::Long | Kind::Double | Kind::Timestamp => "value",
            _ => "length",
        };
        let mut parts = Vec::new();
        if let Some(max) = s.max {
            parts.push(format!(
                "Member must have {word} less than or equal to {}",
                fmt_bound(max)
            ));
        }
        if let Some(min) = s.min {
            parts.push(format!(
                "Member must have {word} greater than or equal to {}",
                fmt_bound(min)
            ));
        }
        if let Some((src, Some(_))) = &s.pattern {
            parts.push(format!(
                "Member must satisfy regular expression pattern: {src}"
            ));
        }
        if let Some(values) = &s.enum_values {
            parts.push(format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            ));
        }
        parts.join(", ")
    }

    /// Renders a value the way Coral's `Value '...'` does (Java `toString`).
    fn display(&self, shape: usize, v: &Value, depth: usize) -> String {
        let s = self.shape(shape);
        if depth > 64 {
            return "...".to_owned();
        }
        match v {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(t) => match s.map(|s| &s.kind) {
                Some(Kind::Blob) => {
                    let n = base64_decoded_len(t);
                    format!("java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]")
                }
                _ => t.clone(),
            },
            Value::Array(items) => {
                let member = match s.map(|s| &s.kind) {
                    Some(Kind::List(m)) => *m,
                    _ => usize::MAX,
                };
                let mut out = String::from("[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&self.display(member, item, depth + 1));
                }
                out.push(']');
                out
            }
            Value::Object(obj) => match s.map(|s| &s.kind) {
                Some(Kind::Structure { members, .. }) => {
                    let mut out = String::from("{");
                    let mut first = true;
                    for m in members {
                        if let Some(val) = obj.get(&m.wire).filter(|v| !v.is_null()) {
                            if !first {
                                out.push_str(", ");
                            }
                            first = false;
                            let _ = write!(
                                out,
                                "{}: {}",
                                m.wire,
                                self.display(m.shape, val, depth + 1)
                            );
                        }
                    }
                    out.push('}');
                    out
                }
                other => {
                    let value = match other {
                        Some(Kind::Map(_, v)) => *v,
                        _ => usize::MAX,
                    };
                    let mut out = String::from("{");
                    for (i, (k, val)) in java_map_order(obj).into_iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        let _ = write!(out, "{k}={}", self.display(value, val, depth + 1));
                    }
                    out.push('}');
                    out
                }
            },
        }
    }
}

/// Whether a table identifier is an ARN (AWS accepts table ARNs where names are expected).
fn is_arn(s: &str) -> bool {
    s.starts_with("arn:")
}

fn push(errors: &mut Vec<String>, e: String) {
    if errors.len() < MAX_REPORTED_ERRORS {
        errors.push(e);
    }
}

/// Type error for a value expected to be a string (or a Boolean when `target` is "Boolean").
fn scalar_type_error(v: &Value, target: &str) -> Option<String> {
    match v {
        Value::String(_) if target == "String" => None,
        Value::Bool(_) if target == "Boolean" => None,
        Value::Bool(true) => Some(format!("TRUE_VALUE cannot be converted to {target}")),
        Value::Bool(false) => Some(format!("FALSE_VALUE cannot be converted to {target}")),
        Value::Number(n) if n.is_f64() => {
            Some(format!("DECIMAL_VALUE cannot be converted to {target}"))
        }
        Value::Number(_) => Some(format!("NUMBER_VALUE cannot be converted to {target}")),
        Value::Array(_) => Some(format!(
            "Unrecognized collection type class java.lang.{target}"
        )),
        Value::Object(_) => Some(START_OF_MAP.to_owned()),
        Value::String(_) => Some(format!("STRING_VALUE cannot be converted to {target}")),
        Value::Null => None,
    }
}

/// Type error for a value expected to be a number of Java class `target`.
fn number_type_error(v: &Value, target: &str) -> Option<String> {
    let class = if target == "Date" {
        "java.util"
    } else {
        "java.lang"
    };
    match v {
        Value::Number(_) | Value::Null => None,
        Value::String(_) => Some(format!("STRING_VALUE cannot be converted to {target}")),
        Value::Bool(true) => Some(format!("TRUE_VALUE cannot be converted to {target}")),
        Value::Bool(false) => Some(format!("FALSE_VALUE cannot be converted to {target}")),
        Value::Array(_) => Some(format!(
            "Unrecognized collection type class {class}.{target}"
        )),
        Value::Object(_) => Some(START_OF_MAP.to_owned()),
    }
}

fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Coral's base64 checks for blob members.
fn check_base64(text: &str) -> Result<(), String> {
    let len = text.chars().count();
    if !len.is_multiple_of(4) {
        return Err(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {len}"
        ));
    }
    let bytes = text.as_bytes();
    let pad = bytes
        .iter()
        .rev()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    let body = bytes.get(..bytes.len() - pad).unwrap_or_default();
    // Any other character outside the alphabet (including '=' before the padding) is reported
    // with the same message (the exact AWS text for those cases is not in the data).
    if body.iter().any(|&b| base64_value(b).is_none()) {
        return Err(BAD_LAST_BASE64.to_owned());
    }
    if let Some(&last) = body.last() {
        let v = base64_value(last).unwrap_or(0);
        let unused_mask = match pad {
            1 => 0b11,
            2 => 0b1111,
            _ => 0,
        };
        if v & unused_mask != 0 {
            return Err(BAD_LAST_BASE64.to_owned());
        }
    }
    Ok(())
}

/// Decoded length of a (valid) base64 string.
fn base64_decoded_len(text: &str) -> usize {
    let pad = text
        .bytes()
        .rev()
        .take(2)
        .take_while(|&b| b == b'=')
        .count();
    (text.len() / 4) * 3 - pad.min(text.len() / 4 * 3)
}

fn fmt_bound(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e18 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn lower_camel(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Java `String.hashCode`.
fn java_hash(s: &str) -> u32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u))) as u32
}

/// Bucket index in a Java `HashMap` table of size `table` (a power of two).
fn java_bucket(s: &str, table: usize) -> usize {
    let h = java_hash(s);
    ((h ^ (h >> 16)) as usize) & (table - 1)
}

/// Visiting order of structure members: Java `HashMap` iteration order of their lowerCamel
/// names. The table size (twice the usual presized capacity, at least 16) was fitted to the
/// truncated 10-error messages in the dynalite data (Query, Scan, CreateTable GSIs/LSIs).
fn java_member_order(members: &[Member]) -> Vec<usize> {
    let n = members.len();
    let table = (2 * ((n * 4 / 3) + 1).next_power_of_two()).max(16);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| {
        (
            members.get(i).map_or(0, |m| java_bucket(&m.camel, table)),
            i,
        )
    });
    order
}

/// Iteration order of a JSON object deserialised into a default Java `HashMap`.
fn java_map_order(obj: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut table = 16usize;
    while obj.len() > table / 4 * 3 {
        table *= 2;
    }
    let mut entries: Vec<(usize, usize, &String, &Value)> = obj
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (java_bucket(k, table), i, k, v))
        .collect();
    entries.sort_by_key(|e| (e.0, e.1));
    entries.into_iter().map(|(_, _, k, v)| (k, v)).collect()
}

#[cfg(test)]
mod tests;
