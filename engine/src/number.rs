//! TEMPORARY stub of the exact decimal `Number`; replaced by the real implementation.
use std::fmt;
use std::str::FromStr;

/// An exact DynamoDB number (stub).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

impl PartialOrd for Number {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Number {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.f().total_cmp(&o.f()).then_with(|| self.0.cmp(&o.0))
    }
}

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
    /// Billed size.
    pub fn size(&self) -> usize {
        self.0.len() / 2 + 1
    }
}

// Naive stand-ins for the real Number's API, so the expression module compiles before the
// real implementation lands. Replaced wholesale on merge.
impl Number {
    /// Zero.
    pub fn zero() -> Self {
        Number("0".into())
    }
    /// From an integer.
    pub fn from_i64(n: i64) -> Self {
        Number(n.to_string())
    }
    fn f(&self) -> f64 {
        self.0.parse().unwrap_or(0.0)
    }
    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.f() == 0.0
    }
    /// Whether this is below zero.
    pub fn is_negative(&self) -> bool {
        self.f() < 0.0
    }
    /// Sum.
    pub fn checked_add(&self, o: &Number) -> Result<Number, NumberError> {
        Ok(Number(format!("{}", self.f() + o.f())))
    }
    /// Difference.
    pub fn checked_sub(&self, o: &Number) -> Result<Number, NumberError> {
        Ok(Number(format!("{}", self.f() - o.f())))
    }
}
