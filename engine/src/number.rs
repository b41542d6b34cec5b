//! DynamoDB's exact decimal number type.
//!
//! A [`Number`] holds what DynamoDB's `N` type holds: up to 38 significant decimal digits, a
//! magnitude between `1E-130` and `9.9999999999999999999999999999999999999E+125`, or zero.
//! Values are kept canonical (coefficient without trailing zeros, a single zero), so derived
//! equality and hashing are numeric: `1.0 == 1`, `-0 == 0`.
//!
//! # AWS behaviour reproduced, and where it was established
//!
//! * **Syntax** follows Java's `new BigDecimal(String)`: optional `+`/`-`, digits with at most one
//!   `.` (`.5` and `1.` are accepted, `.` alone is not), optional `e`/`E` exponent with optional
//!   sign and at least one digit. No whitespace, no `Infinity`/`NaN`/hex. An exponent, or a scale
//!   (fraction digits minus exponent), that does not fit a Java `int` is rejected as not numeric,
//!   as `BigDecimal` does. (Brief + Java
//!   `BigDecimal` grammar; dynalite's `big.js` grammar is the same except that it refuses a
//!   leading `+`, which we accept as Java does — not verified against AWS.)
//! * **Error messages and their order** (dynalite `validations/index.js` `checkNum`, whose tests
//!   are validated against live DynamoDB; messages present verbatim in
//!   `/work/shared/reference/dynalite/error_tuples.json.gz`):
//!   empty string → `The parameter cannot be converted to a numeric value` (no suffix);
//!   other unparsable input `b` → `The parameter cannot be converted to a numeric value: b`;
//!   then magnitude `>= 1E126` → overflow, magnitude `< 1E-130` → underflow, and only then more
//!   than 38 significant digits. Leading and trailing zeros are not significant
//!   (`0009.99999999999999999999999999999999999990000e125` is accepted: dynalite test
//!   "should put really long numbers").
//! * **Output** is plain notation with trailing zeros stripped (`toPlainString` of the stripped
//!   value): `1.50`→`1.5`, `-0`→`0`, `1E+2`→`100`, `1e-5`→`0.00001`, `9.99…9e125` → 126 digits.
//!   Source: dynalite test "should put really long numbers" (AWS-validated; captured exchange in
//!   `dynalite/exchanges.json.gz`) and dynalite's `bigNum.toFixed()` normalisation.
//! * **Size**: DynamoDB stores numbers in a base-100 format aligned on the decimal point (one
//!   exponent byte, one byte per base-100 digit, one terminator byte for negatives). Size is
//!   `1 + (number of base-100 digits) + (1 if negative)`, at most 21; zero costs 1. So `15` costs
//!   2 but `1.5` costs 3. Sources: dynalite `db/index.js` `valSize` (same count without the 21
//!   cap) and `numToBuffer` (terminator only below 20 mantissa bytes), Zac Charles's
//!   dynamodb-calculator (`min(21, …)`), and 23 literals measured byte-exactly against AWS
//!   (eu-west-2, 2026) by a public DynamoDB conformance suite, all of which this rule reproduces
//!   (see tests).
//! * **Arithmetic** (`ADD`, `SET a = a + :v`) is exact; a result is validated like input:
//!   overflow, underflow, then the 38-digit message. (Overflow wording for `+`: ExtendDB issue
//!   #94, reproduced against AWS. The message for an in-range result needing more than 38 digits
//!   is not verified; we use the 38-digit message.)
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Most significant digits a number may carry.
const MAX_DIGITS: usize = 38;
/// Largest adjusted exponent (exponent of the leading digit) allowed.
const MAX_ADJ: i64 = 125;
/// Smallest adjusted exponent allowed.
const MIN_ADJ: i64 = -130;
/// `10^38`, the exclusive upper bound of a coefficient.
const TEN_POW_38: u128 = 100_000_000_000_000_000_000_000_000_000_000_000_000;
/// `10^37`, the inclusive lower bound of a normalised 38-digit mantissa.
const TEN_POW_37: u128 = TEN_POW_38 / 10;

/// An exact DynamoDB number: `(-1)^negative × coefficient × 10^exponent`.
///
/// Invariants: `coefficient < 10^38` with no trailing zero digit, the adjusted exponent lies in
/// `[-130, 125]`, and zero is exactly `{ negative: false, coefficient: 0, exponent: 0 }`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    coefficient: u128,
    exponent: i16,
}

/// A number AWS refuses; `Display` is AWS's exact `ValidationException` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The empty string.
    #[error("The parameter cannot be converted to a numeric value")]
    Empty,
    /// Text that is not a number; carries the text as given.
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotNumeric(String),
    /// More than 38 significant digits.
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooManyDigits,
    /// Magnitude of `1E126` or more.
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    /// Non-zero magnitude below `1E-130`.
    #[error(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    )]
    Underflow,
}

/// Number of decimal digits of a non-zero `u128`.
fn digit_count(mut v: u128) -> usize {
    let mut n = 0;
    while v > 0 {
        v /= 10;
        n += 1;
    }
    n
}

/// Decimal digits (values 0–9) of `v`, most significant first; empty for zero.
fn digits_of(mut v: u128) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAX_DIGITS);
    while v > 0 {
        out.push((v % 10) as u8);
        v /= 10;
    }
    out.reverse();
    out
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            coefficient: 0,
            exponent: 0,
        }
    }

    /// The integer `v` (always representable: at most 19 digits).
    pub fn from_i64(v: i64) -> Number {
        let mut coefficient = u128::from(v.unsigned_abs());
        if coefficient == 0 {
            return Number::zero();
        }
        let mut exponent = 0i16;
        while coefficient % 10 == 0 {
            coefficient /= 10;
            exponent += 1;
        }
        Number {
            negative: v < 0,
            coefficient,
            exponent,
        }
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }

    /// Whether this is strictly below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Builds a number from decimal digits (values 0–9, leading/trailing zeros allowed) scaled by
    /// `10^exponent`, validating it as AWS does: overflow, underflow, then significant digits.
    fn from_digits(negative: bool, digits: &[u8], exponent: i64) -> Result<Number, NumberError> {
        let Some(first) = digits.iter().position(|&d| d != 0) else {
            return Ok(Number::zero());
        };
        let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
        let significant = &digits[first..=last];
        let trailing = (digits.len() - 1 - last) as i64;
        let exponent = exponent + trailing;
        let adjusted = exponent + significant.len() as i64 - 1;
        if adjusted > MAX_ADJ {
            return Err(NumberError::Overflow);
        }
        if adjusted < MIN_ADJ {
            return Err(NumberError::Underflow);
        }
        if significant.len() > MAX_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        let coefficient = significant
            .iter()
            .fold(0u128, |acc, &d| acc * 10 + u128::from(d));
        // In range: adjusted ∈ [-130, 125] and at most 38 digits, so exponent ∈ [-167, 125].
        let exponent = i16::try_from(exponent).map_err(|_| NumberError::Overflow)?;
        Ok(Number {
            negative,
            coefficient,
            exponent,
        })
    }

    /// Exponent of the leading digit (meaningless for zero).
    fn adjusted(&self) -> i64 {
        i64::from(self.exponent) + digit_count(self.coefficient) as i64 - 1
    }

    /// Coefficient scaled to exactly 38 digits, in `[10^37, 10^38)` (0 for zero).
    fn mantissa38(&self) -> u128 {
        if self.coefficient == 0 {
            return 0;
        }
        let n = digit_count(self.coefficient);
        self.coefficient * 10u128.pow((MAX_DIGITS - n) as u32)
    }

    /// Compares absolute values.
    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => self
                .adjusted()
                .cmp(&other.adjusted())
                .then_with(|| self.mantissa38().cmp(&other.mantissa38())),
        }
    }

    /// Exact `self + other`; errors as AWS does when the result leaves the range or needs more
    /// than 38 significant digits.
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if other.is_zero() {
            return Ok(self.clone());
        }
        if self.is_zero() {
            return Ok(other.clone());
        }
        let base = self.exponent.min(other.exponent);
        let align = |n: &Number| {
            let mut d = digits_of(n.coefficient);
            d.resize(d.len() + (n.exponent - base) as usize, 0);
            d
        };
        let (a, b) = (align(self), align(other));
        if self.negative == other.negative {
            Number::from_digits(self.negative, &add_digits(&a, &b), i64::from(base))
        } else {
            match self.cmp_magnitude(other) {
                Ordering::Equal => Ok(Number::zero()),
                Ordering::Greater => {
                    Number::from_digits(self.negative, &sub_digits(&a, &b), i64::from(base))
                }
                Ordering::Less => {
                    Number::from_digits(other.negative, &sub_digits(&b, &a), i64::from(base))
                }
            }
        }
    }

    /// Exact `self - other`; errors as [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.negated())
    }

    /// `-self` (zero stays zero).
    fn negated(&self) -> Number {
        Number {
            negative: !self.negative && !self.is_zero(),
            ..self.clone()
        }
    }

    /// Bytes AWS bills for this value (attribute name excluded): one exponent byte, one byte per
    /// base-100 digit aligned on the decimal point, one more for a negative number, at most 21;
    /// zero costs 1.
    pub fn size(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        let low = i64::from(self.exponent).div_euclid(2);
        let high = self.adjusted().div_euclid(2);
        let pairs = (high - low + 1) as usize;
        (1 + pairs + usize::from(self.negative)).min(21)
    }

    /// Appends an order-preserving encoding: `memcmp` order of the bytes equals numeric order.
    ///
    /// Layout: zero is the single byte `0x02`. A positive number is `0x03`, the adjusted exponent
    /// plus 130 (one byte, 0..=255), and the 38-digit mantissa as a big-endian `u128` (16 bytes).
    /// A negative number is `0x01` followed by the bitwise complement of the positive layout's
    /// 17 bytes. Every encoding is self-delimiting (its length follows from the first byte).
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(0x02);
            return;
        }
        let exp_byte = (self.adjusted() - MIN_ADJ) as u8;
        let mantissa = self.mantissa38().to_be_bytes();
        if self.negative {
            out.push(0x01);
            out.push(!exp_byte);
            out.extend(mantissa.iter().map(|b| !b));
        } else {
            out.push(0x03);
            out.push(exp_byte);
            out.extend_from_slice(&mantissa);
        }
    }

    /// Decodes what [`Number::encode_ordered`] wrote at the start of `bytes`, returning the
    /// number and the bytes consumed; `None` if the bytes are not a valid encoding.
    pub fn decode_ordered(bytes: &[u8]) -> Option<(Number, usize)> {
        let (&tag, rest) = bytes.split_first()?;
        let negative = match tag {
            0x02 => return Some((Number::zero(), 1)),
            0x01 => true,
            0x03 => false,
            _ => return None,
        };
        let body = rest.get(..17)?;
        let flip = |b: u8| if negative { !b } else { b };
        let adjusted = i64::from(flip(body[0])) + MIN_ADJ;
        let mut raw = [0u8; 16];
        for (dst, &src) in raw.iter_mut().zip(&body[1..]) {
            *dst = flip(src);
        }
        let mantissa = u128::from_be_bytes(raw);
        if !(TEN_POW_37..TEN_POW_38).contains(&mantissa) {
            return None;
        }
        let mut coefficient = mantissa;
        let mut exponent = adjusted - (MAX_DIGITS as i64 - 1);
        while coefficient % 10 == 0 {
            coefficient /= 10;
            exponent += 1;
        }
        let exponent = i16::try_from(exponent).ok()?;
        Some((
            Number {
                negative,
                coefficient,
                exponent,
            },
            18,
        ))
    }

    /// Nearest `f64`, for display and diagnostics only.
    pub fn to_f64_lossy(&self) -> f64 {
        let magnitude = format!("{}e{}", self.coefficient, self.exponent)
            .parse::<f64>()
            .unwrap_or(f64::NAN);
        if self.negative { -magnitude } else { magnitude }
    }
}

/// Sum of two equal-scale digit strings (most significant first).
fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let len = a.len().max(b.len()) + 1;
    let mut out = vec![0u8; len];
    let mut carry = 0u8;
    for i in 0..len {
        let da = if i < a.len() { a[a.len() - 1 - i] } else { 0 };
        let db = if i < b.len() { b[b.len() - 1 - i] } else { 0 };
        let s = da + db + carry;
        out[len - 1 - i] = s % 10;
        carry = s / 10;
    }
    out
}

/// Difference `a - b` of equal-scale digit strings, requiring `a >= b`.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i8;
    for i in 0..a.len() {
        let da = a[a.len() - 1 - i] as i8;
        let db = if i < b.len() {
            b[b.len() - 1 - i] as i8
        } else {
            0
        };
        let mut d = da - db - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out[a.len() - 1 - i] = d as u8;
    }
    out
}

impl FromStr for Number {
    type Err = NumberError;

    /// Parses DynamoDB's number syntax (Java `BigDecimal`), validating range and digits.
    fn from_str(s: &str) -> Result<Number, NumberError> {
        if s.is_empty() {
            return Err(NumberError::Empty);
        }
        let not_numeric = || NumberError::NotNumeric(s.to_string());
        let bytes = s.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut digits = Vec::with_capacity(bytes.len());
        let mut frac_len: i64 = 0;
        let mut seen_point = false;
        let mut mantissa_digits = 0usize;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'0'..=b'9' => {
                    mantissa_digits += 1;
                    // Leading zeros carry no information; skip them to bound the work.
                    if !(digits.is_empty() && c == b'0' && !seen_point) {
                        digits.push(c - b'0');
                    }
                    if seen_point {
                        frac_len += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if mantissa_digits == 0 {
            return Err(not_numeric());
        }
        let mut exponent: i64 = 0;
        if let Some(&c) = bytes.get(i) {
            if c != b'e' && c != b'E' {
                return Err(not_numeric());
            }
            i += 1;
            let exp_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let exp_digits = &bytes[i..];
            if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
                return Err(not_numeric());
            }
            for &d in exp_digits {
                exponent = exponent * 10 + i64::from(d - b'0');
                // Java's BigDecimal refuses an exponent that does not fit an int.
                if exponent > i64::from(i32::MAX) + 1 {
                    return Err(not_numeric());
                }
            }
            if exp_negative {
                exponent = -exponent;
            }
            if exponent > i64::from(i32::MAX) {
                return Err(not_numeric());
            }
        }
        // BigDecimal also refuses a scale (fraction digits minus exponent) outside an int.
        if i32::try_from(frac_len - exponent).is_err() {
            return Err(not_numeric());
        }
        Number::from_digits(negative, &digits, exponent - frac_len)
    }
}

impl fmt::Display for Number {
    /// AWS's canonical form: plain notation, no trailing fractional zeros, `0` for zero.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let digits = self.coefficient.to_string();
        let mut out = String::with_capacity(digits.len() + 170);
        if self.negative {
            out.push('-');
        }
        let exponent = i64::from(self.exponent);
        if exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', exponent as usize));
        } else {
            let point = digits.len() as i64 + exponent;
            if point > 0 {
                let (int, frac) = digits.split_at(point as usize);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-point) as usize));
                out.push_str(&digits);
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.negative => other.cmp_magnitude(self),
            Ordering::Equal => self.cmp_magnitude(other),
            ord => ord,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bigdecimal::BigDecimal;
    use proptest::prelude::*;

    const NOT_NUMERIC: &str = "The parameter cannot be converted to a numeric value";
    const DIGITS: &str = "Attempting to store more than 38 significant digits in a Number";
    const OVERFLOW: &str =
        "Number overflow. Attempting to store a number with magnitude larger than supported range";
    const UNDERFLOW: &str = "Number underflow. Attempting to store a number with magnitude smaller than supported range";

    /// `input` parses and prints as `expect`, or fails with exactly the message `expect`.
    #[track_caller]
    fn check(input: &str, expect: &str) {
        let got = match input.parse::<Number>() {
            Ok(n) => n.to_string(),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expect, "input {input:?}");
    }

    #[track_caller]
    fn check_size(input: &str, expect: usize) {
        let n: Number = input.parse().unwrap();
        assert_eq!(n.size(), expect, "size of {input:?}");
    }

    #[track_caller]
    fn num(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn canonical_output() {
        check("0", "0");
        check("-0", "0");
        check("+0", "0");
        check("0.000", "0");
        check("0e-200", "0");
        check("0e999", "0");
        check("1", "1");
        check("+1", "1");
        check("1.50", "1.5");
        check("1.0", "1");
        check("00100", "100");
        check("1E+2", "100");
        check("1e2", "100");
        check("1E2", "100");
        check("0.0001", "0.0001");
        check("1e-5", "0.00001");
        check(".5", "0.5");
        check("-.5", "-0.5");
        check("1.", "1");
        check("-1.", "-1");
        check("12.345e1", "123.45");
        check("12.345e-1", "1.2345");
        check("-99.1", "-99.1");
        check(
            "0000012345678901234567890123456789012345678",
            "12345678901234567890123456789012345678",
        );
        check(
            "-00001.23456789012345678901234567890123456780000",
            "-1.2345678901234567890123456789012345678",
        );
        check(
            "0009.99999999999999999999999999999999999990000e125",
            "999999999999999999999999999999999999990000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        );
        check(
            "-0001.000e-130",
            "-0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
        );
        check("1E+100", &format!("1{}", "0".repeat(100)));
        check("1.5e-130", &format!("0.{}15", "0".repeat(129)));
    }

    #[test]
    fn rejected_syntax() {
        check("", NOT_NUMERIC);
        check("b", &format!("{NOT_NUMERIC}: b"));
        check(" 1", &format!("{NOT_NUMERIC}:  1"));
        check("1 ", &format!("{NOT_NUMERIC}: 1 "));
        check(".", &format!("{NOT_NUMERIC}: ."));
        check("-", &format!("{NOT_NUMERIC}: -"));
        check("+", &format!("{NOT_NUMERIC}: +"));
        check("+-1", &format!("{NOT_NUMERIC}: +-1"));
        check("--1", &format!("{NOT_NUMERIC}: --1"));
        check("1e", &format!("{NOT_NUMERIC}: 1e"));
        check("1e+", &format!("{NOT_NUMERIC}: 1e+"));
        check("e5", &format!("{NOT_NUMERIC}: e5"));
        check(".e5", &format!("{NOT_NUMERIC}: .e5"));
        check("1.2.3", &format!("{NOT_NUMERIC}: 1.2.3"));
        check("1e5.0", &format!("{NOT_NUMERIC}: 1e5.0"));
        check("1e1e1", &format!("{NOT_NUMERIC}: 1e1e1"));
        check("0x10", &format!("{NOT_NUMERIC}: 0x10"));
        check("Infinity", &format!("{NOT_NUMERIC}: Infinity"));
        check("NaN", &format!("{NOT_NUMERIC}: NaN"));
        check("1_000", &format!("{NOT_NUMERIC}: 1_000"));
        check("١", &format!("{NOT_NUMERIC}: ١"));
        check("1e2147483648", &format!("{NOT_NUMERIC}: 1e2147483648"));
        check(
            "1e99999999999999999999",
            &format!("{NOT_NUMERIC}: 1e99999999999999999999"),
        );
    }

    #[test]
    fn range_and_digit_errors() {
        check("123456789012345678901234567890123456789", DIGITS);
        check("-1.23456789012345678901234567890123456789", DIGITS);
        check(
            "1234567890123456789012345678901234567800000",
            "1234567890123456789012345678901234567800000",
        );
        check("1e126", OVERFLOW);
        check("-1e126", OVERFLOW);
        check("10e125", OVERFLOW);
        check("1e2147483647", OVERFLOW);
        check(
            "9.9999999999999999999999999999999999999E+125",
            &format!("{}{}", "9".repeat(38), "0".repeat(88)),
        );
        check("1e-131", UNDERFLOW);
        check("-1e-131", UNDERFLOW);
        check("0.1e-130", UNDERFLOW);
        check("1e-2147483647", UNDERFLOW);
        check("1e-2147483648", &format!("{NOT_NUMERIC}: 1e-2147483648"));
        check(
            "0.1e-2147483647",
            &format!("{NOT_NUMERIC}: 0.1e-2147483647"),
        );
        check("10.0e2147483647", OVERFLOW);
        check("1E-130", &format!("0.{}1", "0".repeat(129)));
        // Range is checked before digits (dynalite's order).
        check("1234567890123456789012345678901234567891e126", OVERFLOW);
        check("1234567890123456789012345678901234567891e-200", UNDERFLOW);
    }

    #[test]
    fn error_display() {
        assert_eq!(NumberError::Empty.to_string(), NOT_NUMERIC);
        assert_eq!(
            NumberError::NotNumeric("b".into()).to_string(),
            format!("{NOT_NUMERIC}: b")
        );
        assert_eq!(NumberError::TooManyDigits.to_string(), DIGITS);
        assert_eq!(NumberError::Overflow.to_string(), OVERFLOW);
        assert_eq!(NumberError::Underflow.to_string(), UNDERFLOW);
    }

    #[test]
    fn sizes_measured_against_aws() {
        // The 23 literals a public conformance suite measured byte-exactly against AWS.
        check_size("0", 1);
        check_size("1", 2);
        check_size("12", 2);
        check_size("123", 3);
        check_size("1234", 3);
        check_size("12345678901234567890123456789012345678", 20);
        check_size("0042", 2);
        check_size("100", 2);
        check_size("1010", 3);
        check_size("0.0000001", 2);
        check_size("1E125", 2);
        check_size("1E-100", 2);
        check_size("1.5", 3);
        check_size("15", 2);
        check_size("1.2", 3);
        check_size("1.200", 3);
        check_size("1.234", 4);
        check_size("3.14159", 5);
        check_size("123456", 4);
        check_size("100.5", 4);
        check_size("0.15", 2);
        check_size("-42", 3);
        check_size("-0", 1);
    }

    #[test]
    fn sizes_base_100_rule() {
        // Not measured against AWS; follow the base-100 stored format (dynalite, calculator).
        check_size("120", 3);
        check_size("0.012", 3);
        check_size("1.2345678901234567890123456789012345678", 21);
        check_size("-1.2345678901234567890123456789012345678", 21);
        check_size("-12345678901234567890123456789012345678", 21);
        check_size("-1234567890123456789012345678901234567", 21);
        check_size("-123456789012345678901234567890123456", 20);
    }

    #[test]
    fn equality_and_order() {
        assert_eq!(num("1"), num("1.0"));
        assert_eq!(num("-0"), Number::zero());
        assert_eq!(num("1e2"), num("100"));
        assert!(num("-99.1") < num("-10.1"));
        assert!(num("-0.01") < num("0"));
        assert!(num("0.01") < num("0.09"));
        assert!(num("9.9") < num("10"));
        assert!(num("1e-130") < num("1.5e-130"));
        assert!(num("-1e125") < num("-9e124"));
        assert_eq!(Number::from_i64(0), Number::zero());
        assert_eq!(Number::from_i64(-1200), num("-1.2e3"));
        assert_eq!(Number::from_i64(i64::MIN).to_string(), i64::MIN.to_string());
        assert_eq!(Number::from_i64(i64::MAX).to_string(), i64::MAX.to_string());
        assert!(num("-5").is_negative() && !num("-0").is_negative() && num("0.0").is_zero());
        assert_eq!(num("-2.5").to_f64_lossy(), -2.5);
        assert_eq!(format!("{:?}", num("1.50")), "Number(1.5)");
    }

    #[test]
    fn arithmetic() {
        let add = |a: &str, b: &str| match num(a).checked_add(&num(b)) {
            Ok(n) => n.to_string(),
            Err(e) => e.to_string(),
        };
        let sub = |a: &str, b: &str| match num(a).checked_sub(&num(b)) {
            Ok(n) => n.to_string(),
            Err(e) => e.to_string(),
        };
        assert_eq!(add("1", "2"), "3");
        assert_eq!(add("0.1", "0.2"), "0.3");
        assert_eq!(add("1.5", "-1.5"), "0");
        assert_eq!(sub("1", "1.0"), "0");
        assert_eq!(sub("0", "5"), "-5");
        assert_eq!(add("-0.5", "0.25"), "-0.25");
        assert_eq!(add("99", "1"), "100");
        assert_eq!(
            add("9.9999999999999999999999999999999999999E+125", "1E+125"),
            OVERFLOW
        );
        assert_eq!(
            sub("-9.9999999999999999999999999999999999999E+125", "1E+125"),
            OVERFLOW
        );
        assert_eq!(sub("1.1e-130", "1e-130"), UNDERFLOW);
        assert_eq!(add("1e30", "1e-30"), DIGITS);
        assert_eq!(add("1e37", "1"), "10000000000000000000000000000000000001");
        assert_eq!(sub("1e38", "1"), "99999999999999999999999999999999999999");
        assert_eq!(sub("1e39", "1"), DIGITS);
    }

    #[test]
    fn encoding_layout() {
        let enc = |s: &str| {
            let mut v = Vec::new();
            num(s).encode_ordered(&mut v);
            v
        };
        assert_eq!(enc("0"), vec![0x02]);
        assert_eq!(enc("1").len(), 18);
        assert_eq!(Number::decode_ordered(&[]), None);
        assert_eq!(Number::decode_ordered(&[0x03, 0]), None);
        assert_eq!(Number::decode_ordered(&[0x04]), None);
        assert_eq!(Number::decode_ordered(&[0x03; 18]), None);
        let mut bytes = enc("-12.5");
        bytes.extend_from_slice(b"tail");
        assert_eq!(Number::decode_ordered(&bytes), Some((num("-12.5"), 18)));
    }

    /// Any valid DynamoDB number: up to 38 digits, adjusted exponent in range.
    fn any_number() -> impl Strategy<Value = Number> {
        prop_oneof![
            1 => Just(Number::zero()),
            8 => (any::<bool>(), 1u32..=38, any::<u128>(), MIN_ADJ..=MAX_ADJ).prop_map(|(neg, n, raw, adj)| {
                let coefficient = (raw % 10u128.pow(n)).max(1);
                let digits = digits_of(coefficient);
                Number::from_digits(neg, &digits, adj - digits.len() as i64 + 1).unwrap()
            }),
            4 => (any::<bool>(), 0u128..2000, -4i64..4).prop_map(|(neg, c, e)| {
                Number::from_digits(neg, &digits_of(c), e).unwrap()
            }),
        ]
    }

    fn oracle(n: &Number) -> BigDecimal {
        n.to_string().parse().unwrap()
    }

    fn encode(n: &Number) -> Vec<u8> {
        let mut v = Vec::new();
        n.encode_ordered(&mut v);
        v
    }

    /// What AWS would do with an exact result, from the oracle's value.
    fn expected(value: &BigDecimal) -> Result<String, NumberError> {
        let plain = value.normalized().to_plain_string();
        plain.parse::<Number>().map(|n| n.to_string())
    }

    proptest! {
        #[test]
        fn order_matches_oracle(a in any_number(), b in any_number()) {
            let want = oracle(&a).cmp(&oracle(&b));
            prop_assert_eq!(a.cmp(&b), want);
            prop_assert_eq!(encode(&a).cmp(&encode(&b)), want);
            prop_assert_eq!(a == b, want == Ordering::Equal);
        }

        #[test]
        fn encoding_roundtrips(a in any_number(), tail in proptest::collection::vec(any::<u8>(), 0..4)) {
            let mut bytes = encode(&a);
            let len = bytes.len();
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(Number::decode_ordered(&bytes), Some((a, len)));
        }

        #[test]
        fn display_roundtrips(a in any_number()) {
            let text = a.to_string();
            prop_assert_eq!(text.parse::<Number>(), Ok(a.clone()));
            prop_assert_eq!(oracle(&a), text.parse::<BigDecimal>().unwrap());
        }

        #[test]
        fn add_sub_exact(a in any_number(), b in any_number()) {
            let (x, y) = (oracle(&a), oracle(&b));
            prop_assert_eq!(a.checked_add(&b).map(|n| n.to_string()), expected(&(&x + &y)));
            prop_assert_eq!(a.checked_sub(&b).map(|n| n.to_string()), expected(&(&x - &y)));
        }

        #[test]
        fn parse_matches_oracle(neg in any::<bool>(), int in "[0-9]{0,45}", frac in "[0-9]{0,45}", exp in -200i64..200) {
            prop_assume!(!int.is_empty() || !frac.is_empty());
            let text = format!("{}{int}.{frac}e{exp}", if neg { "-" } else { "" });
            let value: BigDecimal = text.parse().unwrap();
            prop_assert_eq!(text.parse::<Number>().map(|n| n.to_string()), expected(&value));
        }
    }
}
