//! From PartiQL syntax to the engine's typed trees: literals to [`AttributeValue`]s, WHERE to
//! [`Condition`], SET/REMOVE to [`UpdateAction`]s, and the key a write's WHERE pins.

use std::collections::{BTreeMap, HashSet};

use super::ast::{BinOp, Expr, IsWhat, Lit, Path};
use super::parser::{not_well_formed, position};
use crate::error::Error;
use crate::expr::{Comparator, Condition, DocPath, Operand, SetOperand, SetValue, UpdateAction};
use crate::keys::PrimaryKey;
use crate::number::Number;
use crate::value::{AttributeValue, Item, ScalarType};

type Result<T> = std::result::Result<T, Error>;

/// AWS's message when a write's WHERE does not pin the whole primary key (DynamoDB Local
/// 3.3.1).
pub(crate) const MISSING_KEY_EQUALITY: &str =
    "Where clause does not contain a mandatory equality on all key attributes";

/// The message for a key value of the wrong type (DynamoDB Local 3.3.1).
pub(crate) fn key_type_mismatch(name: &str) -> Error {
    Error::Validation(format!(
        "Key attribute's data type should match its data type in table's schema: Key {name}"
    ))
}

/// One statement's source and parameters.
pub(crate) struct Ctx<'a> {
    pub(crate) src: &'a str,
    pub(crate) params: &'a [AttributeValue],
}

pub(crate) fn doc_path(p: &Path) -> DocPath {
    DocPath(p.elems.clone())
}

fn comparator(op: BinOp) -> Option<Comparator> {
    Some(match op {
        BinOp::Eq => Comparator::Eq,
        BinOp::Ne => Comparator::Ne,
        BinOp::Lt => Comparator::Lt,
        BinOp::Le => Comparator::Le,
        BinOp::Gt => Comparator::Gt,
        BinOp::Ge => Comparator::Ge,
        BinOp::Add | BinOp::Sub => return None,
    })
}

impl Ctx<'_> {
    /// A literal's value. `span` is where the literal (or its enclosing tuple field) sits.
    pub(crate) fn value(&self, lit: &Lit, span: &std::ops::Range<usize>) -> Result<AttributeValue> {
        Ok(match lit {
            Lit::Str(s) => AttributeValue::S(s.clone()),
            Lit::Num(n) => {
                let num: Number = n
                    .parse()
                    .map_err(|e: crate::number::NumberError| Error::Validation(e.to_string()))?;
                if n.starts_with('-') && num.is_zero() {
                    return Err(Error::Validation(format!(
                        "Negative zero decimal is not supported under key root at {}",
                        position(self.src, span)
                    )));
                }
                AttributeValue::N(num)
            }
            Lit::Bool(b) => AttributeValue::Bool(*b),
            Lit::Null => AttributeValue::Null,
            Lit::Param(i) => self
                .params
                .get(*i)
                .cloned()
                .ok_or_else(|| Error::validation(PARAM_COUNT))?,
            Lit::Tuple(fields) => {
                let mut m = BTreeMap::new();
                for (k, _, v, vspan) in fields {
                    m.insert(k.clone(), self.value(v, vspan)?);
                }
                AttributeValue::M(m)
            }
            Lit::List(items) => AttributeValue::L(
                items
                    .iter()
                    .map(|v| self.value(v, span))
                    .collect::<Result<_>>()?,
            ),
            Lit::Bag(items) => {
                let values: Vec<AttributeValue> = items
                    .iter()
                    .map(|v| self.value(v, span))
                    .collect::<Result<_>>()?;
                bag(values)?
            }
        })
    }

    /// A condition operand.
    fn operand(&self, e: &Expr) -> Result<Operand> {
        match e {
            Expr::Path(p) => Ok(Operand::Path(doc_path(p))),
            Expr::Lit(l, span) => Ok(Operand::Value(self.value(l, span)?)),
            Expr::Call(name, args, _) if name == "size" => match args.as_slice() {
                [a] => Ok(Operand::Size(Box::new(self.operand(a)?))),
                _ => Err(wrong_arguments(name)),
            },
            Expr::Call(name, _, _) => Err(self.unknown_function(name)),
            Expr::Binary(op @ (BinOp::Add | BinOp::Sub), ..) => Err(Error::Validation(format!(
                "Unsupported operator in Condition Expression. Operator: {}",
                if *op == BinOp::Add { "+" } else { "-" }
            ))),
            _ => Err(not_well_formed(self.src)),
        }
    }

    fn unknown_function(&self, name: &str) -> Error {
        match name {
            "begins_with" | "contains" | "attribute_type" | "exists" | "list_append"
            | "set_add" | "set_delete" | "if_not_exists" => {
                Error::Validation(format!("Function {name} is not supported in this context"))
            }
            _ => Error::Validation(format!("Unrecognized function: {name}")),
        }
    }

    /// A WHERE condition as the engine's condition tree.
    pub(crate) fn condition(&self, e: &Expr) -> Result<Condition> {
        Ok(match e {
            Expr::And(a, b) => {
                Condition::And(Box::new(self.condition(a)?), Box::new(self.condition(b)?))
            }
            Expr::Or(a, b) => {
                Condition::Or(Box::new(self.condition(a)?), Box::new(self.condition(b)?))
            }
            Expr::Not(a) => Condition::Not(Box::new(self.condition(a)?)),
            Expr::Binary(op, a, b) => match comparator(*op) {
                Some(c) => Condition::Compare(c, self.operand(a)?, self.operand(b)?),
                None => {
                    self.operand(e)?;
                    return Err(not_well_formed(self.src));
                }
            },
            Expr::Between(a, lo, hi, negated) => {
                let c = Condition::Between(self.operand(a)?, self.operand(lo)?, self.operand(hi)?);
                if *negated {
                    Condition::Not(Box::new(c))
                } else {
                    c
                }
            }
            Expr::In(a, list, negated) => {
                let c = Condition::In(
                    self.operand(a)?,
                    list.iter()
                        .map(|o| self.operand(o))
                        .collect::<Result<_>>()?,
                );
                if *negated {
                    Condition::Not(Box::new(c))
                } else {
                    c
                }
            }
            Expr::Is(a, what, negated) => {
                let Expr::Path(p) = &**a else {
                    return Err(not_well_formed(self.src));
                };
                let path = doc_path(p);
                match (what, negated) {
                    (IsWhat::Missing, false) => Condition::AttributeNotExists(path),
                    (IsWhat::Missing, true) => Condition::AttributeExists(path),
                    (IsWhat::Null, false) => is_null(path),
                    (IsWhat::Null, true) => Condition::And(
                        Box::new(Condition::AttributeExists(path.clone())),
                        Box::new(Condition::Not(Box::new(is_null(path)))),
                    ),
                }
            }
            Expr::Call(name, args, _) => {
                let two = || -> Result<(Operand, Operand)> {
                    match args.as_slice() {
                        [a, b] => Ok((self.operand(a)?, self.operand(b)?)),
                        _ => Err(wrong_arguments(name)),
                    }
                };
                match name.as_str() {
                    "begins_with" => {
                        let (a, b) = two()?;
                        Condition::BeginsWith(a, b)
                    }
                    "contains" => {
                        let (a, b) = two()?;
                        Condition::Contains(a, b)
                    }
                    "attribute_type" => {
                        let (a, b) = two()?;
                        Condition::AttributeType(a, b)
                    }
                    "exists" => {
                        return Err(Error::validation(
                            "EXISTS can only be used in ExecuteTransaction write requests.",
                        ));
                    }
                    other => return Err(self.unknown_function(other)),
                }
            }
            Expr::Path(_) | Expr::Lit(..) => return Err(not_well_formed(self.src)),
        })
    }

    /// Conditions ANDed, or `None` for none.
    pub(crate) fn conjunction(&self, parts: &[&Expr]) -> Result<Option<Condition>> {
        let mut out: Option<Condition> = None;
        for p in parts {
            let c = self.condition(p)?;
            out = Some(match out {
                Some(prev) => Condition::And(Box::new(prev), Box::new(c)),
                None => c,
            });
        }
        Ok(out)
    }

    /// `key = value` on a top-level attribute: the attribute and the value.
    pub(crate) fn key_equality<'e>(
        &self,
        e: &'e Expr,
    ) -> Result<Option<(&'e str, AttributeValue)>> {
        if let Expr::Binary(BinOp::Eq, a, b) = e {
            let (path, lit) = match (&**a, &**b) {
                (Expr::Path(p), Expr::Lit(l, s)) | (Expr::Lit(l, s), Expr::Path(p)) => (p, (l, s)),
                _ => return Ok(None),
            };
            if let [crate::expr::PathElem::Attr(name)] = path.elems.as_slice() {
                return Ok(Some((name.as_str(), self.value(lit.0, lit.1)?)));
            }
        }
        Ok(None)
    }

    /// Splits a write's WHERE into the primary key it pins and the remaining conjuncts.
    pub(crate) fn split_key<'e>(
        &self,
        filter: &'e Expr,
        pk: &PrimaryKey,
    ) -> Result<(Item, Vec<&'e Expr>)> {
        let mut key = Item::new();
        let mut rest = Vec::new();
        for c in conjuncts(filter) {
            match self.key_equality(c)? {
                Some((name, v)) if pk.names().contains(&name) && !key.contains_key(name) => {
                    key.insert(name.to_string(), v);
                }
                _ => rest.push(c),
            }
        }
        for (name, ty) in std::iter::once(&pk.hash).chain(pk.range.as_ref()) {
            match key.get(name) {
                None => return Err(Error::validation(MISSING_KEY_EQUALITY)),
                Some(v) if v.scalar_type() != Some(*ty) => return Err(key_type_mismatch(name)),
                Some(_) => {}
            }
        }
        Ok((key, rest))
    }

    /// The partition-key values a SELECT's WHERE limits it to, if it does: equality or IN
    /// on the partition key, through AND (either side) and OR (both sides).
    pub(crate) fn partition_values(
        &self,
        e: &Expr,
        hash: &str,
    ) -> Result<Option<Vec<AttributeValue>>> {
        Ok(match e {
            Expr::And(a, b) => {
                match (
                    self.partition_values(a, hash)?,
                    self.partition_values(b, hash)?,
                ) {
                    (Some(x), Some(y)) => Some(
                        x.into_iter()
                            .filter(|v| y.iter().any(|w| crate::expr::values_equal(v, w)))
                            .collect(),
                    ),
                    (x, None) => x,
                    (None, y) => y,
                }
            }
            Expr::Or(a, b) => {
                match (
                    self.partition_values(a, hash)?,
                    self.partition_values(b, hash)?,
                ) {
                    (Some(mut x), Some(y)) => {
                        for v in y {
                            if !x.iter().any(|w| crate::expr::values_equal(&v, w)) {
                                x.push(v);
                            }
                        }
                        Some(x)
                    }
                    _ => None,
                }
            }
            Expr::In(a, list, false) => match &**a {
                Expr::Path(p) if p.elems == [crate::expr::PathElem::Attr(hash.to_string())] => {
                    let mut out: Vec<AttributeValue> = Vec::new();
                    for item in list {
                        let Expr::Lit(l, s) = item else {
                            return Ok(None);
                        };
                        let v = self.value(l, s)?;
                        if !out.iter().any(|w| crate::expr::values_equal(&v, w)) {
                            out.push(v);
                        }
                    }
                    Some(out)
                }
                _ => None,
            },
            _ => match self.key_equality(e)? {
                Some((name, v)) if name == hash => Some(vec![v]),
                _ => None,
            },
        })
    }

    /// One SET or REMOVE clause as an update action.
    pub(crate) fn set_action(&self, target: &Path, value: &Expr) -> Result<UpdateAction> {
        let path = doc_path(target);
        if let Expr::Call(name, args, _) = value
            && (name == "set_add" || name == "set_delete")
        {
            let [Expr::Path(first), v] = args.as_slice() else {
                return Err(wrong_arguments(name));
            };
            if doc_path(first) != path {
                return Err(Error::Validation(format!(
                    "The first argument to {} must equal the assignment value",
                    name.to_ascii_uppercase()
                )));
            }
            let Expr::Lit(l, s) = v else {
                return Err(not_well_formed(self.src));
            };
            let v = self.value(l, s)?;
            return Ok(if name == "set_add" {
                UpdateAction::Add(path, v)
            } else {
                UpdateAction::Delete(path, v)
            });
        }
        let v = match value {
            Expr::Binary(BinOp::Add, a, b) => {
                SetValue::Plus(self.set_operand(a)?, self.set_operand(b)?)
            }
            Expr::Binary(BinOp::Sub, a, b) => {
                SetValue::Minus(self.set_operand(a)?, self.set_operand(b)?)
            }
            other => SetValue::Operand(self.set_operand(other)?),
        };
        Ok(UpdateAction::Set(path, v))
    }

    fn set_operand(&self, e: &Expr) -> Result<SetOperand> {
        match e {
            Expr::Path(p) => Ok(SetOperand::Path(doc_path(p))),
            Expr::Lit(l, s) => Ok(SetOperand::Value(self.value(l, s)?)),
            Expr::Call(name, args, _) if name == "list_append" => match args.as_slice() {
                [a, b] => Ok(SetOperand::ListAppend(
                    Box::new(self.set_operand(a)?),
                    Box::new(self.set_operand(b)?),
                )),
                _ => Err(wrong_arguments(name)),
            },
            Expr::Call(name, args, _) if name == "if_not_exists" => match args.as_slice() {
                [Expr::Path(p), b] => Ok(SetOperand::IfNotExists(
                    doc_path(p),
                    Box::new(self.set_operand(b)?),
                )),
                _ => Err(wrong_arguments(name)),
            },
            Expr::Call(name, _, _) => Err(self.unknown_function(name)),
            _ => Err(not_well_formed(self.src)),
        }
    }
}

/// AWS's message when the `?` count and `Parameters` differ (DynamoDB Local 3.3.1).
pub(crate) const PARAM_COUNT: &str = "Number of parameters in request and statement don't match.";

fn wrong_arguments(name: &str) -> Error {
    Error::Validation(format!(
        "Incorrect number of arguments for function: {name}"
    ))
}

fn is_null(path: DocPath) -> Condition {
    Condition::AttributeType(
        Operand::Path(path),
        Operand::Value(AttributeValue::S("NULL".into())),
    )
}

/// The top-level AND operands of a condition.
pub(crate) fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::And(a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        other => vec![other],
    }
}

/// A bag literal as a string or number set, with AWS's messages (DynamoDB Local 3.3.1, which
/// also refuses binary parameters in a bag).
fn bag(values: Vec<AttributeValue>) -> Result<AttributeValue> {
    let dup = || Error::validation("Input collection contains duplicates");
    let unsupported = || {
        Error::validation(
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags",
        )
    };
    match values.first() {
        Some(AttributeValue::S(_)) => {
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for v in values {
                let AttributeValue::S(s) = v else {
                    return Err(unsupported());
                };
                if !seen.insert(s.clone()) {
                    return Err(dup());
                }
                out.push(s);
            }
            Ok(AttributeValue::Ss(out))
        }
        Some(AttributeValue::N(_)) => {
            let mut out: Vec<Number> = Vec::new();
            for v in values {
                let AttributeValue::N(n) = v else {
                    return Err(unsupported());
                };
                if out.contains(&n) {
                    return Err(dup());
                }
                out.push(n);
            }
            Ok(AttributeValue::Ns(out))
        }
        _ => Err(unsupported()),
    }
}

/// Whether `v` has the key type `ty`.
pub(crate) fn has_type(v: &AttributeValue, ty: ScalarType) -> bool {
    v.scalar_type() == Some(ty)
}
