//! Compact binary encoding of items for storage (not the wire form).
//!
//! Layout: a version byte, then for an item a varint count of attributes, each a
//! length-prefixed name and a tagged value. Numbers are stored in canonical text form.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::number::Number;
use crate::value::{AttributeValue, Item};

const VERSION: u8 = 1;

const T_S: u8 = 1;
const T_N: u8 = 2;
const T_B: u8 = 3;
const T_TRUE: u8 = 4;
const T_FALSE: u8 = 5;
const T_NULL: u8 = 6;
const T_M: u8 = 7;
const T_L: u8 = 8;
const T_SS: u8 = 9;
const T_NS: u8 = 10;
const T_BS: u8 = 11;

/// Encodes an item for storage.
pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    put_map(&mut out, item);
    out
}

/// Decodes a stored item; corrupt bytes are an internal error, never a panic.
pub fn decode_item(bytes: &[u8]) -> Result<Item> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte()? != VERSION {
        return Err(corrupt());
    }
    let item = r.map()?;
    if r.pos != bytes.len() {
        return Err(corrupt());
    }
    Ok(item)
}

fn corrupt() -> Error {
    Error::Internal("stored item is corrupt".into())
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len());
    out.extend_from_slice(b);
}

fn put_map(out: &mut Vec<u8>, m: &BTreeMap<String, AttributeValue>) {
    put_varint(out, m.len());
    for (k, v) in m {
        put_bytes(out, k.as_bytes());
        put_value(out, v);
    }
}

fn put_value(out: &mut Vec<u8>, v: &AttributeValue) {
    match v {
        AttributeValue::S(s) => {
            out.push(T_S);
            put_bytes(out, s.as_bytes());
        }
        AttributeValue::N(n) => {
            out.push(T_N);
            put_bytes(out, n.to_string().as_bytes());
        }
        AttributeValue::B(b) => {
            out.push(T_B);
            put_bytes(out, b);
        }
        AttributeValue::Bool(true) => out.push(T_TRUE),
        AttributeValue::Bool(false) => out.push(T_FALSE),
        AttributeValue::Null => out.push(T_NULL),
        AttributeValue::M(m) => {
            out.push(T_M);
            put_map(out, m);
        }
        AttributeValue::L(l) => {
            out.push(T_L);
            put_varint(out, l.len());
            for e in l {
                put_value(out, e);
            }
        }
        AttributeValue::Ss(v) => {
            out.push(T_SS);
            put_varint(out, v.len());
            for s in v {
                put_bytes(out, s.as_bytes());
            }
        }
        AttributeValue::Ns(v) => {
            out.push(T_NS);
            put_varint(out, v.len());
            for n in v {
                put_bytes(out, n.to_string().as_bytes());
            }
        }
        AttributeValue::Bs(v) => {
            out.push(T_BS);
            put_varint(out, v.len());
            for b in v {
                put_bytes(out, b);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.pos).ok_or_else(corrupt)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<usize> {
        let mut v: usize = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= usize::from(b & 0x7f)
                .checked_shl(shift)
                .ok_or_else(corrupt)?;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt())
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()?;
        let end = self.pos.checked_add(n).ok_or_else(corrupt)?;
        let s = self.bytes.get(self.pos..end).ok_or_else(corrupt)?;
        self.pos = end;
        Ok(s)
    }

    fn string(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| corrupt())
    }

    fn number(&mut self) -> Result<Number> {
        self.string()?.parse().map_err(|_| corrupt())
    }

    fn map(&mut self) -> Result<BTreeMap<String, AttributeValue>> {
        let n = self.varint()?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value()?;
            m.insert(k, v);
        }
        Ok(m)
    }

    fn count(&mut self) -> Result<usize> {
        let n = self.varint()?;
        // Each element takes at least one byte; a larger count is corrupt.
        if n > self.bytes.len().saturating_sub(self.pos) {
            return Err(corrupt());
        }
        Ok(n)
    }

    fn value(&mut self) -> Result<AttributeValue> {
        Ok(match self.byte()? {
            T_S => AttributeValue::S(self.string()?),
            T_N => AttributeValue::N(self.number()?),
            T_B => AttributeValue::B(self.bytes()?.to_vec()),
            T_TRUE => AttributeValue::Bool(true),
            T_FALSE => AttributeValue::Bool(false),
            T_NULL => AttributeValue::Null,
            T_M => AttributeValue::M(self.map()?),
            T_L => {
                let n = self.count()?;
                let mut l = Vec::with_capacity(n);
                for _ in 0..n {
                    l.push(self.value()?);
                }
                AttributeValue::L(l)
            }
            T_SS => {
                let n = self.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.string()?);
                }
                AttributeValue::Ss(v)
            }
            T_NS => {
                let n = self.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.number()?);
                }
                AttributeValue::Ns(v)
            }
            T_BS => {
                let n = self.count()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.bytes()?.to_vec());
                }
                AttributeValue::Bs(v)
            }
            _ => return Err(corrupt()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_roundtrip() {
        let item: Item = serde_json::from_str(
            r#"{"a":{"S":"x"},"n":{"N":"-1.5"},"b":{"B":"AAEC"},"t":{"BOOL":true},"f":{"BOOL":false},
                "z":{"NULL":true},"m":{"M":{"k":{"L":[{"S":""},{"NS":["1","2"]}]}}},
                "ss":{"SS":["p","q"]},"bs":{"BS":["AA=="]}}"#,
        )
        .unwrap();
        let bytes = encode_item(&item);
        assert_eq!(decode_item(&bytes).unwrap(), item);
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        let item: Item =
            serde_json::from_str(r#"{"a":{"S":"xyz"},"l":{"L":[{"N":"1"}]}}"#).unwrap();
        let bytes = encode_item(&item);
        for cut in 0..bytes.len() {
            assert!(decode_item(&bytes[..cut]).is_err());
        }
    }
}
