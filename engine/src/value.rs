//! DynamoDB attribute values, their wire form and their billed size.
//!
//! The wire form is DynamoDB JSON: `{"S": "x"}`, `{"N": "1.5"}`, `{"B": "base64"}`, ….
//! Deserializing validates the way AWS does and fails with AWS's exact message; the harness
//! reports such failures as `ValidationException`.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::number::Number;

/// An item: attribute name to value, ordered by name for deterministic output.
pub type Item = BTreeMap<String, AttributeValue>;

/// The largest item DynamoDB stores, in bytes as AWS counts them.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// One DynamoDB attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// String.
    S(String),
    /// Number, exact to 38 significant digits.
    N(Number),
    /// Binary.
    B(Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Null (always true on the wire).
    Null,
    /// Map of attribute name to value.
    M(BTreeMap<String, AttributeValue>),
    /// List.
    L(Vec<AttributeValue>),
    /// String set: non-empty, no duplicates, in the order given.
    Ss(Vec<String>),
    /// Number set.
    Ns(Vec<Number>),
    /// Binary set.
    Bs(Vec<Vec<u8>>),
}

/// The type of a scalar key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScalarType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl ScalarType {
    /// The wire name: `S`, `N` or `B`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

impl AttributeValue {
    /// The wire tag of this value: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS` or `BS`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    /// The scalar key type of this value, if it is S, N or B.
    pub fn scalar_type(&self) -> Option<ScalarType> {
        match self {
            AttributeValue::S(_) => Some(ScalarType::S),
            AttributeValue::N(_) => Some(ScalarType::N),
            AttributeValue::B(_) => Some(ScalarType::B),
            _ => None,
        }
    }

    /// The size of this value as AWS bills it, without the attribute name.
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.size(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            // Each element of a list or map costs one byte beyond its own size, and the
            // container three bytes (CapacityUnitCalculations).
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>()
            }
            AttributeValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::Ns(v) => v.iter().map(Number::size).sum(),
            AttributeValue::Bs(v) => v.iter().map(Vec::len).sum(),
        }
    }
}

/// The deepest document nesting AWS stores: a scalar inside 31 maps or lists is accepted,
/// inside 32 it is not (measured against AWS, see nubo-db/dynoxide#110).
pub const MAX_NESTING: usize = 31;

impl AttributeValue {
    /// How many maps and lists enclose this value's deepest member (a scalar has depth 0).
    pub fn depth(&self) -> usize {
        match self {
            AttributeValue::M(m) => 1 + m.values().map(AttributeValue::depth).max().unwrap_or(0),
            AttributeValue::L(l) => 1 + l.iter().map(AttributeValue::depth).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// Rejects an item nested deeper than DynamoDB stores, with AWS's message.
pub fn check_nesting(item: &Item) -> Result<(), crate::Error> {
    if item.values().any(|v| v.depth() > MAX_NESTING) {
        return Err(crate::Error::validation(
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit",
        ));
    }
    Ok(())
}

/// The size of an item as AWS bills it: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", &n.to_string())?,
            AttributeValue::B(b) => map.serialize_entry("B", &B64.encode(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::Ss(v) => map.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => {
                let v: Vec<String> = v.iter().map(ToString::to_string).collect();
                map.serialize_entry("NS", &v)?
            }
            AttributeValue::Bs(v) => {
                let v: Vec<String> = v.iter().map(|b| B64.encode(b)).collect();
                map.serialize_entry("BS", &v)?
            }
        }
        map.end()
    }
}

/// AWS's message for an attribute value with no data type.
pub const EMPTY_VALUE: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
/// AWS's message for an attribute value with several data types.
pub const MANY_TYPES: &str = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";

fn invalid(msg: &str) -> String {
    format!("One or more parameter values were invalid: {msg}")
}

fn decode_b64<E: de::Error>(s: &str) -> Result<Vec<u8>, E> {
    B64.decode(s)
        .map_err(|_| E::custom("Invalid last non-pad Base64 character dectected"))
}

fn parse_number<E: de::Error>(s: &str) -> Result<Number, E> {
    s.parse::<Number>().map_err(|e| E::custom(e.to_string()))
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AvVisitor)
    }
}

struct AvVisitor;

impl<'de> Visitor<'de> for AvVisitor {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a DynamoDB AttributeValue object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttributeValue, A::Error> {
        let mut found: Option<AttributeValue> = None;
        let mut count = 0usize;
        // A value with several types fails as a whole, but each member must still decode;
        // the first semantic error wins the way AWS reports it.
        let mut pending: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let value: Option<Result<AttributeValue, String>> = match key.as_str() {
                "S" => map
                    .next_value::<Option<String>>()?
                    .map(|s| Ok(AttributeValue::S(s))),
                "N" => map.next_value::<Option<String>>()?.map(|s| {
                    parse_number::<de::value::Error>(&s)
                        .map(AttributeValue::N)
                        .map_err(|e| e.to_string())
                }),
                "B" => match map.next_value::<Option<String>>()? {
                    Some(s) => Some(Ok(AttributeValue::B(decode_b64(&s)?))),
                    None => None,
                },
                "BOOL" => map
                    .next_value::<Option<WireBool>>()?
                    .map(|b| Ok(AttributeValue::Bool(b.0))),
                "NULL" => map.next_value::<Option<WireBool>>()?.map(|WireBool(b)| {
                    if b {
                        Ok(AttributeValue::Null)
                    } else {
                        Err(invalid(
                            "Null attribute value types must have the value of true",
                        ))
                    }
                }),
                "M" => map
                    .next_value::<Option<BTreeMap<String, AttributeValue>>>()?
                    .map(|m| Ok(AttributeValue::M(m))),
                "L" => map
                    .next_value::<Option<Vec<AttributeValue>>>()?
                    .map(|l| Ok(AttributeValue::L(l))),
                "SS" => map.next_value::<Option<Vec<String>>>()?.map(|v| {
                    if v.is_empty() {
                        Err(invalid("An string set  may not be empty"))
                    } else if has_duplicates(&v) {
                        Err(invalid(&format!(
                            "Input collection [{}] contains duplicates.",
                            v.join(", ")
                        )))
                    } else {
                        Ok(AttributeValue::Ss(v))
                    }
                }),
                "NS" => match map.next_value::<Option<Vec<String>>>()? {
                    None => None,
                    Some(v) if v.is_empty() => {
                        Some(Err(invalid("An number set  may not be empty")))
                    }
                    Some(v) => {
                        let mut nums = Vec::with_capacity(v.len());
                        let mut err = None;
                        for s in &v {
                            match s.parse::<Number>() {
                                Ok(n) => nums.push(n),
                                Err(e) => {
                                    err = Some(e.to_string());
                                    break;
                                }
                            }
                        }
                        Some(match err {
                            Some(e) => Err(e),
                            None if has_duplicates(&nums) => {
                                Err("Input collection contains duplicates".to_string())
                            }
                            None => Ok(AttributeValue::Ns(nums)),
                        })
                    }
                },
                "BS" => match map.next_value::<Option<Vec<String>>>()? {
                    None => None,
                    Some(v) if v.is_empty() => {
                        Some(Err(invalid("Binary sets should not be empty")))
                    }
                    Some(v) => {
                        let mut bins = Vec::with_capacity(v.len());
                        for s in &v {
                            bins.push(decode_b64::<A::Error>(s)?);
                        }
                        Some(if has_duplicates(&bins) {
                            Err(invalid(&format!(
                                "Input collection [{}]of type BS contains duplicates.",
                                v.join(", ")
                            )))
                        } else {
                            Ok(AttributeValue::Bs(bins))
                        })
                    }
                },
                _ => {
                    // Unknown members are ignored, as AWS's deserializer does.
                    map.next_value::<de::IgnoredAny>()?;
                    None
                }
            };
            match value {
                None => {}
                Some(Ok(v)) => {
                    count += 1;
                    found = Some(v);
                }
                Some(Err(e)) => {
                    count += 1;
                    pending.get_or_insert(e);
                }
            }
        }
        // A member's own error (a bad number, an empty set) outranks "more than one
        // datatype", as AWS reports `{"S":"a","N":"b"}` as a bad number.
        if let Some(e) = pending {
            return Err(de::Error::custom(e));
        }
        if count > 1 {
            return Err(de::Error::custom(MANY_TYPES));
        }
        found.ok_or_else(|| de::Error::custom(EMPTY_VALUE))
    }
}

/// Deserializes `ExpressionAttributeValues`, wrapping a bad value's message the way AWS does:
/// `ExpressionAttributeValues contains invalid value: <reason> for key :v`.
pub fn deserialize_expression_values<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, AttributeValue>>, D::Error> {
    let raw: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(deserializer)?;
    let Some(raw) = raw else { return Ok(None) };
    // A malformed key is reported before any value is looked at.
    if let Some(k) = raw.keys().find(|k| !crate::expr::key_is_valid(k, ':')) {
        return Err(de::Error::custom(format!(
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
        )));
    }
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        let value = AttributeValue::deserialize(v).map_err(|e| {
            de::Error::custom(format!(
                "ExpressionAttributeValues contains invalid value: {e} for key {k}"
            ))
        })?;
        out.insert(k, value);
    }
    Ok(Some(out))
}

/// The boolean a string stands for where AWS's front end accepts strings for booleans:
/// `true`/`yes`/`on`/`1` and `false`/`no`/`off`/`0`, any case (dynalite tuples 1657, 6069–6072
/// show "no", "yes", "1", "0" accepted and "23" refused).
pub fn lenient_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A boolean member of an attribute value: a JSON boolean, or a string [`lenient_bool`] reads.
struct WireBool(bool);

impl<'de> Deserialize<'de> for WireBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireBool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<WireBool, E> {
                Ok(WireBool(b))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<WireBool, E> {
                lenient_bool(s)
                    .map(WireBool)
                    .ok_or_else(|| E::custom("Unexpected token received from parser"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

fn has_duplicates<T: std::hash::Hash + Eq>(v: &[T]) -> bool {
    // Linear: sets may hold tens of thousands of members within the 400 KB item limit.
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    v.iter().any(|x| !seen.insert(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_err(json: &str, expect: &str) {
        let err = serde_json::from_str::<AttributeValue>(json)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(expect), "got {err:?}, want {expect:?}");
    }

    #[track_caller]
    fn roundtrip(json: &str) {
        let v: AttributeValue = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), json);
    }

    #[test]
    fn each_type_roundtrips() {
        roundtrip(r#"{"S":"hello"}"#);
        roundtrip(r#"{"N":"1.5"}"#);
        roundtrip(r#"{"B":"AAEC"}"#);
        roundtrip(r#"{"BOOL":false}"#);
        roundtrip(r#"{"NULL":true}"#);
        roundtrip(r#"{"M":{"a":{"S":"x"},"b":{"L":[]}}}"#);
        roundtrip(r#"{"L":[{"N":"1"},{"S":""}]}"#);
        roundtrip(r#"{"SS":["b","a"]}"#);
        roundtrip(r#"{"NS":["2","1"]}"#);
        roundtrip(r#"{"BS":["AA==","AQ=="]}"#);
    }

    #[test]
    fn empty_value_is_rejected() {
        check_err("{}", EMPTY_VALUE);
        check_err(r#"{"S":null}"#, EMPTY_VALUE);
        check_err(r#"{"X":"1"}"#, EMPTY_VALUE);
    }

    #[test]
    fn strings_stand_for_booleans_as_aws_reads_them() {
        assert_eq!(
            serde_json::from_str::<AttributeValue>(r#"{"BOOL":"no"}"#).unwrap(),
            AttributeValue::Bool(false)
        );
        assert_eq!(
            serde_json::from_str::<AttributeValue>(r#"{"NULL":"yes"}"#).unwrap(),
            AttributeValue::Null
        );
        check_err(
            r#"{"NULL":"no"}"#,
            "One or more parameter values were invalid: Null attribute value types must have the value of true",
        );
        check_err(r#"{"BOOL":"23"}"#, "Unexpected token received from parser");
    }

    #[test]
    fn two_types_are_rejected() {
        check_err(r#"{"S":"a","N":"1"}"#, MANY_TYPES);
    }

    #[test]
    fn set_rules_match_aws() {
        check_err(
            r#"{"SS":[]}"#,
            "One or more parameter values were invalid: An string set  may not be empty",
        );
        check_err(
            r#"{"NS":[]}"#,
            "One or more parameter values were invalid: An number set  may not be empty",
        );
        check_err(
            r#"{"BS":[]}"#,
            "One or more parameter values were invalid: Binary sets should not be empty",
        );
        check_err(
            r#"{"SS":["a","a"]}"#,
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        );
        check_err(
            r#"{"BS":["Yg==","Yg=="]}"#,
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
        );
        check_err(
            r#"{"NS":["1","1.0"]}"#,
            "Input collection contains duplicates",
        );
        check_err(
            r#"{"NULL":false}"#,
            "One or more parameter values were invalid: Null attribute value types must have the value of true",
        );
    }

    fn nested(levels: usize) -> Item {
        let mut v = AttributeValue::S("x".into());
        for i in 0..levels {
            v = if i % 2 == 0 {
                AttributeValue::M([("k".to_string(), v)].into())
            } else {
                AttributeValue::L(vec![v])
            };
        }
        [("a".to_string(), v)].into()
    }

    #[test]
    fn nesting_limit_is_31_wraps() {
        assert!(check_nesting(&nested(31)).is_ok());
        let err = check_nesting(&nested(32)).unwrap_err().to_string();
        assert!(
            err.starts_with("Nesting Levels have exceeded supported limits"),
            "{err}"
        );
    }

    #[test]
    fn sizes_follow_aws_rules() {
        let item: Item = serde_json::from_str(
            r#"{"name":{"S":"abc"},"b":{"B":"AAEC"},"t":{"BOOL":true},"l":{"L":[{"S":"x"},{"NULL":true}]},"m":{"M":{"k":{"S":"vv"}}}}"#,
        )
        .unwrap();
        // name 4+3, b 1+3, t 1+1, l 1+3+(1+1)+(1+1), m 1+3+(1+2+1)
        assert_eq!(item_size(&item), 7 + 4 + 2 + 8 + 8);
    }
}
