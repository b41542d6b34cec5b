//! TEMPORARY stub of the exact decimal `Number`; replaced by the real implementation.
use std::fmt;
use std::str::FromStr;

/// An exact DynamoDB number (stub).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(String);

/// A number AWS refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The parameter cannot be converted to a numeric value: {0}")]
pub struct NumberError(String);

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, NumberError> {
        Ok(Number(s.to_string()))
    }
}
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl Number {
    /// Order-preserving encoding (stub: not order-preserving).
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.as_bytes());
        out.extend_from_slice(&[0, 0]);
    }
    /// Decodes [`Number::encode_ordered`] (stub).
    pub fn decode_ordered(bytes: &[u8]) -> Option<(Number, usize)> {
        let end = bytes.windows(2).position(|w| w == [0, 0])?;
        Some((
            Number(String::from_utf8(bytes[..end].to_vec()).ok()?),
            end + 2,
        ))
    }
    /// Billed size.
    pub fn size(&self) -> usize {
        self.0.len() / 2 + 1
    }
}
