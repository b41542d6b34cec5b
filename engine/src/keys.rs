//! Key schemas and the order-preserving key encoding.
//!
//! A stored key is the encoding of the partition key followed by the encoding of the sort key.
//! Each component is self-delimiting and its bytes sort the way DynamoDB orders the values:
//! strings by UTF-8 bytes, binary by unsigned bytes, numbers numerically. So redb's byte order
//! of keys is DynamoDB's order of (partition, sort) — see the property tests below.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::number::Number;
use crate::value::{AttributeValue, Item, ScalarType};

/// The largest partition key value, in bytes.
pub const MAX_HASH_KEY_SIZE: usize = 2048;
/// The largest sort key value, in bytes.
pub const MAX_RANGE_KEY_SIZE: usize = 1024;

/// `HASH` or `RANGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum KeyType {
    /// The partition key.
    HASH,
    /// The sort key.
    RANGE,
}

/// One element of a `KeySchema`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    /// The attribute's name.
    pub attribute_name: String,
    /// Its role in the key.
    pub key_type: KeyType,
}

/// One element of `AttributeDefinitions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    /// The attribute's name.
    pub attribute_name: String,
    /// Its scalar type.
    pub attribute_type: ScalarType,
}

/// A resolved key schema: names and types of the partition and optional sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    /// Partition key name and type.
    pub hash: (String, ScalarType),
    /// Sort key name and type.
    pub range: Option<(String, ScalarType)>,
}

impl PrimaryKey {
    /// The key attribute names, partition key first.
    pub fn names(&self) -> Vec<&str> {
        let mut v = vec![self.hash.0.as_str()];
        if let Some((r, _)) = &self.range {
            v.push(r.as_str());
        }
        v
    }

    /// Encodes the `Key` parameter of GetItem/DeleteItem/UpdateItem: exactly the key
    /// attributes, with the schema's types.
    pub fn encode_key_param(&self, key: &Item) -> Result<Vec<u8>> {
        let expected = 1 + usize::from(self.range.is_some());
        let mismatch = || Error::validation("The provided key element does not match the schema");
        if key.len() != expected {
            return Err(mismatch());
        }
        let mut out = Vec::new();
        for (i, (name, ty)) in std::iter::once(&self.hash)
            .chain(self.range.as_ref())
            .enumerate()
        {
            let v = key.get(name).ok_or_else(mismatch)?;
            if v.scalar_type() != Some(*ty) {
                return Err(mismatch());
            }
            check_key_value(name, v, i == 0, INVALID)?;
            encode_component(v, &mut out);
        }
        Ok(out)
    }

    /// Encodes the key of a whole item (PutItem), with AWS's messages for missing or
    /// mistyped key attributes.
    pub fn encode_item_key(&self, item: &Item) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for (i, (name, ty)) in std::iter::once(&self.hash)
            .chain(self.range.as_ref())
            .enumerate()
        {
            let v = item.get(name).ok_or_else(|| {
                Error::invalid_parameter(format!("Missing the key {name} in the item"))
            })?;
            if v.scalar_type() != Some(*ty) {
                return Err(Error::invalid_parameter(format!(
                    "Type mismatch for key {name} expected: {} actual: {}",
                    ty.as_str(),
                    v.type_name()
                )));
            }
            check_key_value(name, v, i == 0, NOT_VALID)?;
            encode_component(v, &mut out);
        }
        Ok(out)
    }

    /// The key attributes of an item.
    pub fn key_of(&self, item: &Item) -> Item {
        self.names()
            .into_iter()
            .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
            .collect()
    }
}

/// AWS words the same rule differently for a `Key` parameter and for an `Item`.
const INVALID: &str = "One or more parameter values were invalid:";
const NOT_VALID: &str = "One or more parameter values are not valid.";

fn check_key_value(name: &str, v: &AttributeValue, is_hash: bool, prefix: &str) -> Result<()> {
    let (empty, len, what) = match v {
        AttributeValue::S(s) => (s.is_empty(), s.len(), "string"),
        AttributeValue::B(b) => (b.is_empty(), b.len(), "binary"),
        _ => (false, 0, ""),
    };
    if empty {
        return Err(Error::validation(format!(
            "{prefix} The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {name}"
        )));
    }
    if is_hash && len > MAX_HASH_KEY_SIZE {
        return Err(Error::invalid_parameter(
            "Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if !is_hash && len > MAX_RANGE_KEY_SIZE {
        return Err(Error::invalid_parameter(
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// Checks an item's secondary-index key attributes: each one present must have the type its
/// attribute definition gives and must not be an empty string or binary.
pub fn check_index_keys(item: &Item, indexes: &[(&str, &str, ScalarType)]) -> Result<()> {
    for (index, attr, ty) in indexes {
        let Some(v) = item.get(*attr) else { continue };
        if v.scalar_type() != Some(*ty) {
            return Err(Error::invalid_parameter(format!(
                "Type mismatch for Index Key {attr} Expected: {} Actual: {} IndexName: {index}",
                ty.as_str(),
                v.type_name()
            )));
        }
        let empty = match v {
            AttributeValue::S(s) => s.is_empty().then_some("string"),
            AttributeValue::B(b) => b.is_empty().then_some("binary"),
            _ => None,
        };
        if let Some(what) = empty {
            return Err(Error::validation(format!(
                "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {what} value. IndexName: {index}, IndexKey: {attr}"
            )));
        }
    }
    Ok(())
}

/// Appends the order-preserving, self-delimiting encoding of a scalar key value.
///
/// Strings and binaries: each `0x00` byte becomes `0x00 0xFF`, and `0x00 0x00` ends the
/// value, so a prefix sorts before its extensions. Numbers use [`Number::encode_ordered`].
/// Other types are never keys and encode nothing.
pub fn encode_component(v: &AttributeValue, out: &mut Vec<u8>) {
    match v {
        AttributeValue::S(s) => encode_bytes(s.as_bytes(), out),
        AttributeValue::B(b) => encode_bytes(b, out),
        AttributeValue::N(n) => n.encode_ordered(out),
        _ => debug_assert!(false, "non-scalar key component"),
    }
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    for &byte in b {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Decodes one component of type `ty` from the front of `bytes`; returns it and the bytes used.
#[allow(dead_code)] // Used by index and paging code to rebuild keys.
pub fn decode_component(ty: ScalarType, bytes: &[u8]) -> Option<(AttributeValue, usize)> {
    match ty {
        ScalarType::N => {
            Number::decode_ordered(bytes).map(|(n, used)| (AttributeValue::N(n), used))
        }
        ScalarType::S | ScalarType::B => {
            let mut raw = Vec::new();
            let mut i = 0;
            loop {
                let b = *bytes.get(i)?;
                if b == 0 {
                    match *bytes.get(i + 1)? {
                        0 => break,
                        0xFF => raw.push(0),
                        _ => return None,
                    }
                    i += 2;
                } else {
                    raw.push(b);
                    i += 1;
                }
            }
            let v = if ty == ScalarType::S {
                AttributeValue::S(String::from_utf8(raw).ok()?)
            } else {
                AttributeValue::B(raw)
            };
            Some((v, i + 2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode_component(v, &mut out);
        out
    }

    fn pair(a: &AttributeValue, b: &AttributeValue) -> Vec<u8> {
        let mut out = enc(a);
        encode_component(b, &mut out);
        out
    }

    proptest! {
        #[test]
        fn string_order_is_utf8_byte_order(a in ".*", b in ".*") {
            let (ea, eb) = (enc(&AttributeValue::S(a.clone())), enc(&AttributeValue::S(b.clone())));
            prop_assert_eq!(ea.cmp(&eb), a.as_bytes().cmp(b.as_bytes()));
        }

        #[test]
        fn binary_order_is_unsigned_byte_order(a in proptest::collection::vec(any::<u8>(), 0..8),
                                               b in proptest::collection::vec(any::<u8>(), 0..8)) {
            let (ea, eb) = (enc(&AttributeValue::B(a.clone())), enc(&AttributeValue::B(b.clone())));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
        }

        #[test]
        fn composite_order_is_partition_then_sort(p1 in proptest::collection::vec(0u8..3, 0..4),
                                                  s1 in proptest::collection::vec(0u8..3, 0..4),
                                                  p2 in proptest::collection::vec(0u8..3, 0..4),
                                                  s2 in proptest::collection::vec(0u8..3, 0..4)) {
            let k1 = pair(&AttributeValue::B(p1.clone()), &AttributeValue::B(s1.clone()));
            let k2 = pair(&AttributeValue::B(p2.clone()), &AttributeValue::B(s2.clone()));
            prop_assert_eq!(k1.cmp(&k2), (p1, s1).cmp(&(p2, s2)));
        }

        #[test]
        fn components_decode_back(a in ".*", b in proptest::collection::vec(any::<u8>(), 0..8)) {
            let key = pair(&AttributeValue::S(a.clone()), &AttributeValue::B(b.clone()));
            let (va, used) = decode_component(ScalarType::S, &key).unwrap();
            let (vb, used2) = decode_component(ScalarType::B, &key[used..]).unwrap();
            prop_assert_eq!(va, AttributeValue::S(a));
            prop_assert_eq!(vb, AttributeValue::B(b));
            prop_assert_eq!(used + used2, key.len());
        }
    }

    fn schema() -> PrimaryKey {
        PrimaryKey {
            hash: ("id".into(), ScalarType::S),
            range: Some(("n".into(), ScalarType::N)),
        }
    }

    #[track_caller]
    fn check_put(item: &str, expect: &str) {
        let item: Item = serde_json::from_str(item).unwrap();
        let err = schema().encode_item_key(&item).unwrap_err().to_string();
        assert_eq!(err, expect);
    }

    #[test]
    fn put_key_errors_match_aws() {
        check_put(
            r#"{"n":{"N":"1"}}"#,
            "One or more parameter values were invalid: Missing the key id in the item",
        );
        check_put(
            r#"{"id":{"N":"1"},"n":{"N":"1"}}"#,
            "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N",
        );
        check_put(
            r#"{"id":{"S":""},"n":{"N":"1"}}"#,
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id",
        );
    }

    #[test]
    fn key_param_must_match_schema_exactly() {
        let bad = [
            r#"{"id":{"S":"a"}}"#,
            r#"{"id":{"S":"a"},"n":{"S":"1"}}"#,
            r#"{"id":{"S":"a"},"n":{"N":"1"},"x":{"S":"1"}}"#,
        ];
        for k in bad {
            let key: Item = serde_json::from_str(k).unwrap();
            let err = schema().encode_key_param(&key).unwrap_err().to_string();
            assert_eq!(
                err, "The provided key element does not match the schema",
                "{k}"
            );
        }
    }
}
