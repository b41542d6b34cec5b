//! Evaluating conditions against an item.
//!
//! Semantics (Expressions.OperatorsAndFunctions.md): comparisons are true only between values
//! of the same type; strings compare by UTF-8 bytes, binary by unsigned bytes, numbers
//! numerically; sets are equal regardless of order; a missing attribute makes every
//! comparison false except `<>`, which is the negation of `=`.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::ast::{
    Comparator, Condition, DocPath, KeyCondition, KeyOp, KeyPredicate, Operand, PathElem,
};
use crate::error::Error;
use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// The value at `path` in `item`, if there is one.
pub fn resolve<'a>(item: &'a Item, path: &DocPath) -> Option<&'a AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElem::Attr(a) => item.get(a)?,
        PathElem::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttributeValue::M(m)) => m.get(a)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn set_eq<T: std::hash::Hash + Eq>(a: &[T], b: &[T]) -> bool {
    // Sets hold no duplicates, so equal sizes and inclusion mean equality; hashed, so large
    // sets compare in linear time.
    if a.len() != b.len() {
        return false;
    }
    let members: std::collections::HashSet<&T> = b.iter().collect();
    a.iter().all(|x| members.contains(x))
}

/// DynamoDB equality: deep, with sets compared regardless of order.
pub fn values_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::Ss(x), V::Ss(y)) => set_eq(x, y),
        (V::Ns(x), V::Ns(y)) => set_eq(x, y),
        (V::Bs(x), V::Bs(y)) => set_eq(x, y),
        (V::L(x), V::L(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (V::M(x), V::M(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The order of two scalars of the same type (S, N or B); `None` otherwise.
pub fn compare_values(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    use AttributeValue as V;
    match (a, b) {
        (V::S(x), V::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (V::N(x), V::N(y)) => Some(x.cmp(y)),
        (V::B(x), V::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `size()` of a value: string length in UTF-16 code units (dynalite's suite, checked against
/// AWS, has `size("abÿ") = 3`; AWS's Java strings count UTF-16 units), binary length,
/// element count.
pub(crate) fn size_of(v: &AttributeValue) -> Option<usize> {
    use AttributeValue as V;
    Some(match v {
        V::S(s) => s.encode_utf16().count(),
        V::B(b) => b.len(),
        V::Ss(s) => s.len(),
        V::Ns(s) => s.len(),
        V::Bs(s) => s.len(),
        V::L(l) => l.len(),
        V::M(m) => m.len(),
        V::N(_) | V::Bool(_) | V::Null => return None,
    })
}

fn operand<'a>(item: &'a Item, o: &'a Operand) -> Option<Cow<'a, AttributeValue>> {
    match o {
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(inner) => {
            let v = operand(item, inner)?;
            let n = size_of(&v)?;
            let n = i64::try_from(n).ok()?;
            Some(Cow::Owned(AttributeValue::N(Number::from_i64(n))))
        }
    }
}

fn compare(op: Comparator, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    match op {
        Comparator::Eq => matches!((a, b), (Some(a), Some(b)) if values_equal(a, b)),
        Comparator::Ne => !matches!((a, b), (Some(a), Some(b)) if values_equal(a, b)),
        _ => {
            let (Some(a), Some(b)) = (a, b) else {
                return false;
            };
            let Some(ord) = compare_values(a, b) else {
                return false;
            };
            match op {
                Comparator::Lt => ord == Ordering::Less,
                Comparator::Le => ord != Ordering::Greater,
                Comparator::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
    }
}

fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (haystack, needle) {
        (V::S(h), V::S(n)) => h.contains(n.as_str()),
        (V::B(h), V::B(n)) => n.is_empty() || h.windows(n.len()).any(|w| w == n.as_slice()),
        (V::Ss(h), V::S(n)) => h.contains(n),
        (V::Ns(h), V::N(n)) => h.contains(n),
        (V::Bs(h), V::B(n)) => h.contains(n),
        (V::L(h), n) => h.iter().any(|x| values_equal(x, n)),
        _ => false,
    }
}

impl Condition {
    /// Evaluates the condition against `item` (empty when there is no item).
    pub fn evaluate(&self, item: &Item) -> Result<bool, Error> {
        Ok(self.eval(item))
    }

    fn eval(&self, item: &Item) -> bool {
        let get = |o| operand(item, o);
        match self {
            Condition::And(a, b) => a.eval(item) && b.eval(item),
            Condition::Or(a, b) => a.eval(item) || b.eval(item),
            Condition::Not(a) => !a.eval(item),
            Condition::Compare(op, x, y) => compare(*op, get(x).as_deref(), get(y).as_deref()),
            Condition::Between(x, lo, hi) => {
                let (Some(x), Some(lo), Some(hi)) = (get(x), get(lo), get(hi)) else {
                    return false;
                };
                compare_values(&lo, &x).is_some_and(|o| o != Ordering::Greater)
                    && compare_values(&x, &hi).is_some_and(|o| o != Ordering::Greater)
            }
            Condition::In(x, list) => {
                let Some(x) = get(x) else {
                    return false;
                };
                list.iter()
                    .any(|o| get(o).is_some_and(|v| values_equal(&x, &v)))
            }
            Condition::AttributeExists(p) => resolve(item, p).is_some(),
            Condition::AttributeNotExists(p) => resolve(item, p).is_none(),
            Condition::AttributeType(x, t) => match (get(x), get(t)) {
                (Some(x), Some(t)) => matches!(&*t, AttributeValue::S(t) if t == x.type_name()),
                _ => false,
            },
            Condition::BeginsWith(x, p) => match (get(x).as_deref(), get(p).as_deref()) {
                (Some(AttributeValue::S(x)), Some(AttributeValue::S(p))) => {
                    x.starts_with(p.as_str())
                }
                (Some(AttributeValue::B(x)), Some(AttributeValue::B(p))) => x.starts_with(p),
                _ => false,
            },
            Condition::Contains(x, y) => match (get(x), get(y)) {
                (Some(x), Some(y)) => contains(&x, &y),
                _ => false,
            },
        }
    }
}

impl KeyPredicate {
    /// Whether `item`'s key attribute satisfies this predicate.
    pub fn matches(&self, item: &Item) -> bool {
        let Some(v) = item.get(&self.attribute) else {
            return false;
        };
        match &self.op {
            KeyOp::Compare(op, k) => compare(*op, Some(v), Some(k)),
            KeyOp::Between(lo, hi) => {
                compare_values(lo, v).is_some_and(|o| o != Ordering::Greater)
                    && compare_values(v, hi).is_some_and(|o| o != Ordering::Greater)
            }
            KeyOp::BeginsWith(p) => match (v, p) {
                (AttributeValue::S(x), AttributeValue::S(p)) => x.starts_with(p.as_str()),
                (AttributeValue::B(x), AttributeValue::B(p)) => x.starts_with(p),
                _ => false,
            },
        }
    }
}

impl KeyCondition {
    /// Whether `item` satisfies every predicate.
    pub fn matches(&self, item: &Item) -> bool {
        self.predicates.iter().all(|p| p.matches(item))
    }
}
