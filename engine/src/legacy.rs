//! DynamoDB's legacy (pre-expression) parameters: `Expected`, `AttributeUpdates`,
//! `KeyConditions`, `QueryFilter`/`ScanFilter`, `AttributesToGet` and `ConditionalOperator`.
//!
//! Each is validated with AWS's messages and translated into the trees of [`crate::expr`],
//! so conditions, updates and projections have one evaluator. Where a legacy operator means
//! what an expression means, it becomes that expression (LegacyConditionalParameters.Conditions.md,
//! and dynalite's scan and putItem functionality tests, which ran against AWS):
//!
//! | legacy | expression |
//! |---|---|
//! | `EQ`, `NE`, `LT`, `LE`, `GT`, `GE` | `a = :v`, `a <> :v`, … (a missing attribute or another type never matches, except for `NE`, which is then true) |
//! | `NOT_NULL`, `NULL` | `attribute_exists(a)`, `attribute_not_exists(a)` |
//! | `CONTAINS` | `contains(a, :v)`: substring, subsequence, set member, list element |
//! | `NOT_CONTAINS` | `NOT contains(a, :v)`: true when `a` is missing |
//! | `BEGINS_WITH`, `IN`, `BETWEEN` | `begins_with(a, :v)`, `a IN (…)`, `a BETWEEN :lo AND :hi` |
//! | `Expected` `Value` (`Exists` true or absent) | `a = :v` |
//! | `Expected` `Exists: false` | `attribute_not_exists(a)` |
//! | several conditions | joined by `AND`, or by `OR` with `ConditionalOperator: OR` |
//!
//! `AttributeUpdates` (API reference, AttributeValueUpdate; dynalite's updateItem tests):
//! `PUT` (the default) is `SET a = :v`; `DELETE` without a value is `REMOVE a`, with a set
//! `DELETE a :v`; `ADD` of a number or set is `ADD a :v` (creating the attribute when it is
//! missing), and `ADD` of a list appends: `SET a = list_append(if_not_exists(a, []), :v)`.
//! A legacy update that meets an attribute of the wrong type fails with
//! [`TYPE_MISMATCH`] rather than the expression message; see [`update_error`].

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::expr::{
    self, Comparator, DocPath, KeyCondition, KeyOp, KeyPredicate, Operand, Projection, SetOperand,
    SetValue, Update, UpdateAction, compare_values,
};
use crate::value::AttributeValue;

/// One entry of `Expected`: an existence test (`Exists`, `Value`) or a comparison
/// (`ComparisonOperator` with `AttributeValueList` or `Value`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExpectedAttributeValue {
    /// The value the attribute must equal (or the single comparison argument).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<AttributeValue>,
    /// Whether the attribute must exist (`true` needs a `Value`, `false` forbids one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// `EQ`, `NE`, `LE`, `LT`, `GE`, `GT`, `NOT_NULL`, `NULL`, `CONTAINS`, `NOT_CONTAINS`,
    /// `BEGINS_WITH`, `IN` or `BETWEEN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
    /// The comparison's arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// One entry of `AttributeUpdates`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeValueUpdate {
    /// The value to put, add or delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<AttributeValue>,
    /// `PUT` (the default), `ADD` or `DELETE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// One entry of `KeyConditions`, `QueryFilter` or `ScanFilter`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Condition {
    /// The operator; see [`ExpectedAttributeValue::comparison_operator`].
    pub comparison_operator: String,
    /// The operator's arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// AWS's message when a legacy `ADD` or `DELETE` meets an attribute of another type.
pub const TYPE_MISMATCH: &str = "Type mismatch for attribute to update";

/// Translates an error of [`Update::apply`] on an update built by
/// [`attribute_updates_to_update`] into the message AWS gives for legacy updates.
pub fn update_error(e: Error) -> Error {
    match e {
        Error::Validation(m) if m == expr::INCORRECT_TYPE => Error::validation(TYPE_MISMATCH),
        other => other,
    }
}

/// A legacy comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
    NotNull,
    Null,
    Contains,
    NotContains,
    BeginsWith,
    In,
    Between,
}

const OPS: [(Op, &str); 13] = [
    (Op::Eq, "EQ"),
    (Op::Ne, "NE"),
    (Op::Le, "LE"),
    (Op::Lt, "LT"),
    (Op::Ge, "GE"),
    (Op::Gt, "GT"),
    (Op::NotNull, "NOT_NULL"),
    (Op::Null, "NULL"),
    (Op::Contains, "CONTAINS"),
    (Op::NotContains, "NOT_CONTAINS"),
    (Op::BeginsWith, "BEGINS_WITH"),
    (Op::In, "IN"),
    (Op::Between, "BETWEEN"),
];

impl Op {
    fn parse(s: &str) -> Result<Op, Error> {
        OPS.iter().find(|(_, n)| *n == s).map(|(op, _)| *op).ok_or_else(|| {
            // The model check rejects unknown operators before the engine sees them; this
            // is Coral's text for in-process callers.
            Error::Validation(format!(
                "1 validation error detected: Value '{s}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            ))
        })
    }

    fn takes(self, n: usize) -> bool {
        match self {
            Op::NotNull | Op::Null => n == 0,
            Op::In => n > 0,
            Op::Between => n == 2,
            _ => n == 1,
        }
    }

    /// Whether an argument of type `ty` is allowed. EQ and NE take every type (the API
    /// reference; a BOOL `EQ` filter works on AWS, dynalite issue #156); `CONTAINS` takes
    /// what a list may contain but sets, lists and maps; ordering needs S, N or B.
    fn accepts(self, ty: &str) -> bool {
        match self {
            Op::Eq | Op::Ne | Op::NotNull | Op::Null => true,
            Op::Contains | Op::NotContains => matches!(ty, "S" | "N" | "B" | "BOOL" | "NULL"),
            Op::BeginsWith => matches!(ty, "S" | "B"),
            Op::Le | Op::Lt | Op::Ge | Op::Gt | Op::In | Op::Between => {
                matches!(ty, "S" | "N" | "B")
            }
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = OPS.iter().find(|(op, _)| op == self).map_or("", |(_, n)| n);
        f.write_str(name)
    }
}

fn invalid(msg: impl fmt::Display) -> Error {
    Error::invalid_parameter(msg)
}

fn arity_error(op: Op) -> Error {
    invalid(format!(
        "Invalid number of argument(s) for the {op} ComparisonOperator"
    ))
}

/// AWS's checks on one condition's arguments, in AWS's order: count, same type, type
/// allowed for the operator, BETWEEN bounds in order.
fn check_arguments(op: Op, values: &[AttributeValue]) -> Result<(), Error> {
    if !op.takes(values.len()) {
        return Err(arity_error(op));
    }
    if let Some(first) = values.first()
        && values.iter().any(|v| v.type_name() != first.type_name())
    {
        return Err(invalid(
            "AttributeValues inside AttributeValueList must be of same type",
        ));
    }
    if let Some(bad) = values.iter().find(|v| !op.accepts(v.type_name())) {
        return Err(invalid(format!(
            "ComparisonOperator {op} is not valid for {} AttributeValue type",
            bad.type_name()
        )));
    }
    if let (Op::Between, [lo, hi]) = (op, values)
        && compare_values(lo, hi) == Some(Ordering::Greater)
    {
        return Err(Error::validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    Ok(())
}

/// The expression meaning `attr <op> values` (arguments already checked).
fn to_condition(attr: &str, op: Op, values: &[AttributeValue]) -> Result<expr::Condition, Error> {
    use expr::Condition as C;
    let path = DocPath::attr(attr);
    let p = Operand::Path(path.clone());
    let v = |x: &AttributeValue| Operand::Value(x.clone());
    let cmp = |c: Comparator, x: &AttributeValue| C::Compare(c, Operand::Path(path.clone()), v(x));
    Ok(match (op, values) {
        (Op::NotNull, []) => C::AttributeExists(path),
        (Op::Null, []) => C::AttributeNotExists(path),
        (Op::Eq, [x]) => cmp(Comparator::Eq, x),
        (Op::Ne, [x]) => cmp(Comparator::Ne, x),
        (Op::Le, [x]) => cmp(Comparator::Le, x),
        (Op::Lt, [x]) => cmp(Comparator::Lt, x),
        (Op::Ge, [x]) => cmp(Comparator::Ge, x),
        (Op::Gt, [x]) => cmp(Comparator::Gt, x),
        (Op::Contains, [x]) => C::Contains(p, v(x)),
        (Op::NotContains, [x]) => C::Not(Box::new(C::Contains(p, v(x)))),
        (Op::BeginsWith, [x]) => C::BeginsWith(p, v(x)),
        (Op::In, xs) if !xs.is_empty() => C::In(p, xs.iter().map(v).collect()),
        (Op::Between, [lo, hi]) => C::Between(p, v(lo), v(hi)),
        _ => return Err(arity_error(op)),
    })
}

/// Joins conditions with `AND`, or `OR` when `conditional_operator` says so, left to right.
fn combine(
    conditions: Vec<expr::Condition>,
    conditional_operator: Option<&str>,
) -> Option<expr::Condition> {
    let or = conditional_operator == Some("OR");
    conditions.into_iter().reduce(|acc, c| {
        if or {
            expr::Condition::Or(Box::new(acc), Box::new(c))
        } else {
            expr::Condition::And(Box::new(acc), Box::new(c))
        }
    })
}

fn expected_one(attr: &str, e: &ExpectedAttributeValue) -> Result<expr::Condition, Error> {
    if e.attribute_value_list.is_some() && e.value.is_some() {
        return Err(invalid(format!(
            "Value and AttributeValueList cannot be used together for Attribute: {attr}"
        )));
    }
    if let Some(op) = &e.comparison_operator {
        if e.exists.is_some() {
            return Err(invalid(format!(
                "Exists and ComparisonOperator cannot be used together for Attribute: {attr}"
            )));
        }
        let op = Op::parse(op)?;
        // `Value` with a ComparisonOperator is its single argument (AWS accepts it).
        let values: Vec<AttributeValue> = match (&e.attribute_value_list, &e.value) {
            (Some(list), _) => list.clone(),
            (None, Some(v)) => vec![v.clone()],
            (None, None) if matches!(op, Op::Null | Op::NotNull) => Vec::new(),
            (None, None) => {
                return Err(invalid(format!(
                    "Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {attr}"
                )));
            }
        };
        check_arguments(op, &values)?;
        return to_condition(attr, op, &values);
    }
    if e.attribute_value_list.is_some() {
        return Err(invalid(format!(
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}"
        )));
    }
    match (e.exists, &e.value) {
        (Some(false), Some(_)) => Err(invalid(format!(
            "Value cannot be used when Exists is false for Attribute: {attr}"
        ))),
        (Some(false), None) => Ok(expr::Condition::AttributeNotExists(DocPath::attr(attr))),
        (exists, None) => Err(invalid(format!(
            "Value must be provided when Exists is {} for Attribute: {attr}",
            if exists.is_some() { "true" } else { "null" }
        ))),
        (_, Some(v)) => to_condition(attr, Op::Eq, std::slice::from_ref(v)),
    }
}

/// Validates `Expected` (with `ConditionalOperator`) and translates it into a condition
/// on the old item; `None` when the map is empty. Attributes are checked in name order and
/// the first problem is reported with AWS's message.
pub fn expected_to_condition(
    expected: &BTreeMap<String, ExpectedAttributeValue>,
    conditional_operator: Option<&str>,
) -> Result<Option<expr::Condition>, Error> {
    let conditions = expected
        .iter()
        .map(|(attr, e)| expected_one(attr, e))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(combine(conditions, conditional_operator))
}

fn parse_condition(c: &Condition) -> Result<(Op, &[AttributeValue]), Error> {
    let op = Op::parse(&c.comparison_operator)?;
    let values = c.attribute_value_list.as_deref().unwrap_or(&[]);
    check_arguments(op, values)?;
    Ok((op, values))
}

/// Validates a `QueryFilter` or `ScanFilter` (with `ConditionalOperator`) and translates it
/// into a filter condition; `None` when the map is empty.
///
/// Checking that a QueryFilter names no key attribute needs the schema and is the caller's.
pub fn conditions_to_filter(
    conditions: &BTreeMap<String, Condition>,
    conditional_operator: Option<&str>,
) -> Result<Option<expr::Condition>, Error> {
    let mut out = Vec::with_capacity(conditions.len());
    for (attr, c) in conditions {
        let (op, values) = parse_condition(c)?;
        out.push(to_condition(attr, op, values)?);
    }
    Ok(combine(out, conditional_operator))
}

/// Validates `KeyConditions` and translates them into a [`KeyCondition`].
///
/// Order of checks, as AWS's: each condition's arguments; one or two conditions
/// ("Conditions can be of length 1 or 2 only"); then operators a key condition cannot use
/// (`NE`, `NULL`, `NOT_NULL`, `CONTAINS`, `NOT_CONTAINS`, `IN`) fail with "Attempted
/// conditional constraint is not an indexable operation". AWS reports a condition on a
/// non-key attribute ("Query condition missed key schema element") before that last error,
/// so a caller matches the map's names against the schema before calling this.
pub fn key_conditions(conditions: &BTreeMap<String, Condition>) -> Result<KeyCondition, Error> {
    let parsed = conditions
        .iter()
        .map(|(attr, c)| parse_condition(c).map(|(op, values)| (attr, op, values)))
        .collect::<Result<Vec<_>, _>>()?;
    if !(1..=2).contains(&parsed.len()) {
        return Err(Error::validation("Conditions can be of length 1 or 2 only"));
    }
    let predicates = parsed
        .into_iter()
        .map(|(attr, op, values)| {
            let cmp = |c: Comparator, v: &AttributeValue| KeyOp::Compare(c, v.clone());
            let op = match (op, values) {
                (Op::Eq, [v]) => cmp(Comparator::Eq, v),
                (Op::Le, [v]) => cmp(Comparator::Le, v),
                (Op::Lt, [v]) => cmp(Comparator::Lt, v),
                (Op::Ge, [v]) => cmp(Comparator::Ge, v),
                (Op::Gt, [v]) => cmp(Comparator::Gt, v),
                (Op::BeginsWith, [v]) => KeyOp::BeginsWith(v.clone()),
                (Op::Between, [lo, hi]) => KeyOp::Between(lo.clone(), hi.clone()),
                _ => {
                    return Err(Error::validation(
                        "Attempted conditional constraint is not an indexable operation",
                    ));
                }
            };
            Ok(KeyPredicate {
                attribute: attr.clone(),
                op,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(KeyCondition { predicates })
}

/// Validates `AttributesToGet` (no duplicates) and turns it into a projection of
/// top-level attributes.
pub fn attributes_to_get_projection(attributes: &[String]) -> Result<Projection, Error> {
    for (i, a) in attributes.iter().enumerate() {
        if attributes[..i].contains(a) {
            return Err(invalid(format!("Duplicate value in attribute name: {a}")));
        }
    }
    Ok(Projection {
        paths: attributes.iter().map(DocPath::attr).collect(),
    })
}

fn update_action(attr: &str, u: &AttributeValueUpdate) -> Result<UpdateAction, Error> {
    use AttributeValue as V;
    let path = DocPath::attr(attr);
    let action = u.action.as_deref().unwrap_or("PUT");
    let Some(value) = &u.value else {
        return if action == "DELETE" {
            Ok(UpdateAction::Remove(path))
        } else {
            Err(invalid(
                "Only DELETE action is allowed when no attribute value is specified",
            ))
        };
    };
    match (action, value) {
        ("PUT", v) => Ok(UpdateAction::Set(
            path,
            SetValue::Operand(SetOperand::Value(v.clone())),
        )),
        ("DELETE", V::Ss(_) | V::Ns(_) | V::Bs(_)) => Ok(UpdateAction::Delete(path, value.clone())),
        ("DELETE", v) => Err(invalid(format!(
            "DELETE action with value is not supported for the type {}",
            v.type_name()
        ))),
        ("ADD", V::N(_) | V::Ss(_) | V::Ns(_) | V::Bs(_)) => {
            Ok(UpdateAction::Add(path, value.clone()))
        }
        // ADD of a list appends to the list, or creates it (dynalite's updateItem tests
        // "should add list value" and "should just add valid ADD actions if nothing exists").
        ("ADD", V::L(_)) => {
            let current = SetOperand::IfNotExists(
                path.clone(),
                Box::new(SetOperand::Value(V::L(Vec::new()))),
            );
            Ok(UpdateAction::Set(
                path,
                SetValue::Operand(SetOperand::ListAppend(
                    Box::new(current),
                    Box::new(SetOperand::Value(value.clone())),
                )),
            ))
        }
        ("ADD", v) => Err(invalid(format!(
            "ADD action is not supported for the type {}",
            v.type_name()
        ))),
        (other, _) => Err(Error::Validation(format!(
            "1 validation error detected: Value '{other}' at 'attributeUpdates.{attr}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
        ))),
    }
}

/// Validates `AttributeUpdates` and translates them into an update; `None` when the map is
/// empty. Each entry is checked in name order; then, when `key_attributes` (in key-schema
/// order) are given, none of them may be updated. Callers run it once before the table is
/// known (no key attributes) and again with the schema's, as AWS reports in that order.
pub fn attribute_updates_to_update(
    updates: &BTreeMap<String, AttributeValueUpdate>,
    key_attributes: &[&str],
) -> Result<Option<Update>, Error> {
    let actions = updates
        .iter()
        .map(|(attr, u)| update_action(attr, u))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(k) = key_attributes.iter().find(|k| updates.contains_key(**k)) {
        return Err(invalid(format!(
            "Cannot update attribute {k}. This attribute is part of the key"
        )));
    }
    Ok((!actions.is_empty()).then_some(Update { actions }))
}

#[cfg(test)]
mod tests {
    //! Data-driven tests: each legacy parameter (as request JSON) against the expression it
    //! becomes, written in expression syntax with values inline, or against AWS's message.

    use super::*;
    use crate::value::Item;

    fn value(v: &AttributeValue) -> String {
        serde_json::to_string(v).unwrap_or_default()
    }

    fn operand(o: &Operand) -> String {
        match o {
            Operand::Path(p) => p.to_string(),
            Operand::Value(v) => value(v),
            Operand::Size(o) => format!("size({})", operand(o)),
        }
    }

    fn render(c: &expr::Condition) -> String {
        use expr::Condition as C;
        match c {
            C::And(a, b) => format!("({} AND {})", render(a), render(b)),
            C::Or(a, b) => format!("({} OR {})", render(a), render(b)),
            C::Not(a) => format!("NOT {}", render(a)),
            C::Compare(op, a, b) => format!("{} {} {}", operand(a), op.as_str(), operand(b)),
            C::Between(a, lo, hi) => {
                format!("{} BETWEEN {} AND {}", operand(a), operand(lo), operand(hi))
            }
            C::In(a, list) => {
                let list: Vec<String> = list.iter().map(operand).collect();
                format!("{} IN ({})", operand(a), list.join(", "))
            }
            C::AttributeExists(p) => format!("attribute_exists({p})"),
            C::AttributeNotExists(p) => format!("attribute_not_exists({p})"),
            C::AttributeType(a, t) => format!("attribute_type({}, {})", operand(a), operand(t)),
            C::BeginsWith(a, b) => format!("begins_with({}, {})", operand(a), operand(b)),
            C::Contains(a, b) => format!("contains({}, {})", operand(a), operand(b)),
        }
    }

    fn set_operand(o: &SetOperand) -> String {
        match o {
            SetOperand::Path(p) => p.to_string(),
            SetOperand::Value(v) => value(v),
            SetOperand::IfNotExists(p, o) => format!("if_not_exists({p}, {})", set_operand(o)),
            SetOperand::ListAppend(a, b) => {
                format!("list_append({}, {})", set_operand(a), set_operand(b))
            }
        }
    }

    fn render_update(u: &Update) -> String {
        let actions: Vec<String> = u
            .actions
            .iter()
            .map(|a| match a {
                UpdateAction::Set(p, SetValue::Operand(o)) => {
                    format!("SET {p} = {}", set_operand(o))
                }
                UpdateAction::Set(p, SetValue::Plus(a, b)) => {
                    format!("SET {p} = {} + {}", set_operand(a), set_operand(b))
                }
                UpdateAction::Set(p, SetValue::Minus(a, b)) => {
                    format!("SET {p} = {} - {}", set_operand(a), set_operand(b))
                }
                UpdateAction::Remove(p) => format!("REMOVE {p}"),
                UpdateAction::Add(p, v) => format!("ADD {p} {}", value(v)),
                UpdateAction::Delete(p, v) => format!("DELETE {p} {}", value(v)),
            })
            .collect();
        actions.join(", ")
    }

    fn outcome<T>(r: Result<T, Error>, show: impl Fn(T) -> String) -> String {
        match r {
            Ok(t) => show(t),
            Err(e) => format!("{}: {e}", e.aws_type()),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("bad test JSON {json}: {e}"))
    }

    /// `Expected` (and `ConditionalOperator`) → condition or error.
    #[track_caller]
    fn check_expected(json: &str, op: Option<&str>, expect: &str) {
        let got = outcome(expected_to_condition(&parse(json), op), |c| {
            c.as_ref().map(render).unwrap_or_else(|| "<none>".into())
        });
        assert_eq!(got, expect, "Expected {json}");
    }

    /// `QueryFilter`/`ScanFilter` → condition or error.
    #[track_caller]
    fn check_filter(json: &str, op: Option<&str>, expect: &str) {
        let got = outcome(conditions_to_filter(&parse(json), op), |c| {
            c.as_ref().map(render).unwrap_or_else(|| "<none>".into())
        });
        assert_eq!(got, expect, "filter {json}");
    }

    /// `AttributeUpdates` (table keys `a`, `b`) → update or error.
    #[track_caller]
    fn check_updates(json: &str, expect: &str) {
        let got = outcome(
            attribute_updates_to_update(&parse(json), &["a", "b"]),
            |u| {
                u.as_ref()
                    .map(render_update)
                    .unwrap_or_else(|| "<none>".into())
            },
        );
        assert_eq!(got, expect, "AttributeUpdates {json}");
    }

    /// `KeyConditions` → key condition (debug form) or error.
    #[track_caller]
    fn check_keys(json: &str, expect: &str) {
        let got = outcome(key_conditions(&parse(json)), |k| {
            let preds: Vec<String> = k
                .predicates
                .iter()
                .map(|p| match &p.op {
                    KeyOp::Compare(c, v) => format!("{} {} {}", p.attribute, c.as_str(), value(v)),
                    KeyOp::Between(lo, hi) => {
                        format!("{} BETWEEN {} AND {}", p.attribute, value(lo), value(hi))
                    }
                    KeyOp::BeginsWith(v) => format!("begins_with({}, {})", p.attribute, value(v)),
                })
                .collect();
            preds.join(" AND ")
        });
        assert_eq!(got, expect, "KeyConditions {json}");
    }

    /// A filter evaluated against an item.
    #[track_caller]
    fn check_eval(filter: &str, item: &str, expect: bool) {
        let cond = conditions_to_filter(&parse(filter), None)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("filter {filter} did not convert"));
        let item: Item = parse(item);
        assert_eq!(
            cond.evaluate(&item).ok(),
            Some(expect),
            "{filter} on {item:?}"
        );
    }

    /// `Expected` evaluated against an old item (`{}` when there is none).
    #[track_caller]
    fn check_expected_eval(expected: &str, op: Option<&str>, item: &str, expect: bool) {
        let cond = expected_to_condition(&parse(expected), op)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("Expected {expected} did not convert"));
        let item: Item = parse(item);
        assert_eq!(
            cond.evaluate(&item).ok(),
            Some(expect),
            "{expected} on {item:?}"
        );
    }

    /// `AttributeUpdates` applied to an item: the new item, or the error.
    #[track_caller]
    fn check_apply(updates: &str, item: &str, expect: &str) {
        let mut item: Item = parse(item);
        let got = match attribute_updates_to_update(&parse(updates), &[]) {
            Ok(Some(u)) => match u.apply(&mut item).map_err(update_error) {
                Ok(()) => serde_json::to_string(&item).unwrap_or_default(),
                Err(e) => e.to_string(),
            },
            Ok(None) => "<none>".into(),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expect, "{updates}");
    }

    const BAD: &str = "ValidationException: One or more parameter values were invalid: ";

    #[test]
    fn expected_value_is_equality() {
        check_expected(r#"{"a":{"Value":{"S":"x"}}}"#, None, r#"a = {"S":"x"}"#);
        check_expected(
            r#"{"a":{"Value":{"S":"x"},"Exists":true}}"#,
            None,
            r#"a = {"S":"x"}"#,
        );
    }

    #[test]
    fn expected_exists_false_is_attribute_not_exists() {
        check_expected(r#"{"a":{"Exists":false}}"#, None, "attribute_not_exists(a)");
    }

    #[test]
    fn expected_empty_map_is_no_condition() {
        check_expected("{}", None, "<none>");
    }

    #[test]
    fn expected_several_are_joined_with_and_or_or() {
        check_expected(
            r#"{"a":{"Exists":false},"b":{"ComparisonOperator":"NULL"},"c":{"ComparisonOperator":"NOT_NULL"}}"#,
            None,
            "((attribute_not_exists(a) AND attribute_not_exists(b)) AND attribute_exists(c))",
        );
        check_expected(
            r#"{"a":{"Exists":false},"b":{"ComparisonOperator":"NULL"}}"#,
            Some("OR"),
            "(attribute_not_exists(a) OR attribute_not_exists(b))",
        );
        check_expected(
            r#"{"a":{"Exists":false},"b":{"ComparisonOperator":"NULL"}}"#,
            Some("AND"),
            "(attribute_not_exists(a) AND attribute_not_exists(b))",
        );
    }

    #[test]
    fn expected_value_with_operator_is_the_argument() {
        check_expected(
            r#"{"a":{"Value":{"N":"5"},"ComparisonOperator":"GT"}}"#,
            None,
            r#"a > {"N":"5"}"#,
        );
    }

    #[test]
    fn expected_operators_translate() {
        let one = |op: &str, expect: &str| {
            let json = format!(
                r#"{{"a":{{"ComparisonOperator":"{op}","AttributeValueList":[{{"S":"x"}}]}}}}"#
            );
            check_expected(&json, None, expect);
        };
        one("EQ", r#"a = {"S":"x"}"#);
        one("NE", r#"a <> {"S":"x"}"#);
        one("LE", r#"a <= {"S":"x"}"#);
        one("LT", r#"a < {"S":"x"}"#);
        one("GE", r#"a >= {"S":"x"}"#);
        one("GT", r#"a > {"S":"x"}"#);
        one("CONTAINS", r#"contains(a, {"S":"x"})"#);
        one("NOT_CONTAINS", r#"NOT contains(a, {"S":"x"})"#);
        one("BEGINS_WITH", r#"begins_with(a, {"S":"x"})"#);
        one("IN", r#"a IN ({"S":"x"})"#);
        check_expected(
            r#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"2"}]}}"#,
            None,
            r#"a BETWEEN {"N":"1"} AND {"N":"2"}"#,
        );
        check_expected(
            r#"{"a.b":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"},{"N":"2"}]}}"#,
            None,
            r#"a.b IN ({"N":"1"}, {"N":"2"})"#,
        );
    }

    #[test]
    fn expected_messages_match_aws() {
        check_expected(
            r#"{"a":{}}"#,
            None,
            &format!("{BAD}Value must be provided when Exists is null for Attribute: a"),
        );
        check_expected(
            r#"{"a":{"Exists":true}}"#,
            None,
            &format!("{BAD}Value must be provided when Exists is true for Attribute: a"),
        );
        check_expected(
            r#"{"a":{"Exists":false,"Value":{"S":"a"}}}"#,
            None,
            &format!("{BAD}Value cannot be used when Exists is false for Attribute: a"),
        );
        check_expected(
            r#"{"a":{"ComparisonOperator":"LT"}}"#,
            None,
            &format!(
                "{BAD}Value or AttributeValueList must be used with ComparisonOperator: LT for Attribute: a"
            ),
        );
        check_expected(
            r#"{"a":{"Exists":true,"ComparisonOperator":"LT"}}"#,
            None,
            &format!("{BAD}Exists and ComparisonOperator cannot be used together for Attribute: a"),
        );
        check_expected(
            r#"{"a":{"AttributeValueList":[{"S":"a"}],"Value":{"S":"a"},"ComparisonOperator":"LT"}}"#,
            None,
            &format!("{BAD}Value and AttributeValueList cannot be used together for Attribute: a"),
        );
        check_expected(
            r#"{"a":{"Value":{"S":"a"},"AttributeValueList":[]}}"#,
            None,
            &format!("{BAD}Value and AttributeValueList cannot be used together for Attribute: a"),
        );
        check_expected(
            r#"{"a":{"AttributeValueList":[{"S":"a"}]}}"#,
            None,
            &format!(
                "{BAD}AttributeValueList can only be used with a ComparisonOperator for Attribute: a"
            ),
        );
        check_expected(
            r#"{"a":{"Exists":true,"AttributeValueList":[]}}"#,
            None,
            &format!(
                "{BAD}AttributeValueList can only be used with a ComparisonOperator for Attribute: a"
            ),
        );
        check_expected(
            r#"{"a":{"AttributeValueList":[],"ComparisonOperator":"EQ"}}"#,
            None,
            &format!("{BAD}Invalid number of argument(s) for the EQ ComparisonOperator"),
        );
        check_expected(
            r#"{"a":{"Value":{"S":"a"},"ComparisonOperator":"NULL"}}"#,
            None,
            &format!("{BAD}Invalid number of argument(s) for the NULL ComparisonOperator"),
        );
        check_expected(
            r#"{"a":{"Value":{"S":"a"},"ComparisonOperator":"BETWEEN"}}"#,
            None,
            &format!("{BAD}Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        );
        check_expected(
            r#"{"a":{"AttributeValueList":[],"ComparisonOperator":"IN"}}"#,
            None,
            &format!("{BAD}Invalid number of argument(s) for the IN ComparisonOperator"),
        );
        check_expected(
            r#"{"a":{"ComparisonOperator":"IN","AttributeValueList":[{"S":"b"},{"N":"1"}]}}"#,
            None,
            &format!("{BAD}AttributeValues inside AttributeValueList must be of same type"),
        );
        check_expected(
            r#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"S":"b"},{"S":"a"}]}}"#,
            None,
            "ValidationException: The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        );
    }

    #[test]
    fn expected_first_bad_attribute_in_name_order_is_reported() {
        check_expected(
            r#"{"b":{},"a":{"Exists":true}}"#,
            None,
            &format!("{BAD}Value must be provided when Exists is true for Attribute: a"),
        );
    }

    #[test]
    fn filter_arity_is_checked_per_operator() {
        for (op, list) in [
            ("EQ", "[]"),
            ("NE", r#"[{"S":"a"},{"S":"a"}]"#),
            ("LE", "[]"),
            ("CONTAINS", "[]"),
            ("BEGINS_WITH", "[]"),
            ("NULL", r#"[{"S":"a"}]"#),
            ("NOT_NULL", r#"[{"S":"a"}]"#),
            ("IN", "[]"),
            ("BETWEEN", r#"[{"S":"a"}]"#),
        ] {
            check_filter(
                &format!(r#"{{"a":{{"ComparisonOperator":"{op}","AttributeValueList":{list}}}}}"#),
                None,
                &format!("{BAD}Invalid number of argument(s) for the {op} ComparisonOperator"),
            );
        }
        check_filter(
            r#"{"a":{"ComparisonOperator":"EQ"}}"#,
            None,
            &format!("{BAD}Invalid number of argument(s) for the EQ ComparisonOperator"),
        );
    }

    #[test]
    fn filter_types_are_checked_per_operator() {
        let bad = |op: &str, v: &str, ty: &str| {
            check_filter(
                &format!(r#"{{"a":{{"ComparisonOperator":"{op}","AttributeValueList":[{v}]}}}}"#),
                None,
                &format!("{BAD}ComparisonOperator {op} is not valid for {ty} AttributeValue type"),
            );
        };
        bad("LT", r#"{"BOOL":true}"#, "BOOL");
        bad("LE", r#"{"NULL":true}"#, "NULL");
        bad("GT", r#"{"SS":["a"]}"#, "SS");
        bad("GE", r#"{"NS":["1"]}"#, "NS");
        bad("IN", r#"{"BS":["abcd"]}"#, "BS");
        bad("IN", r#"{"M":{}}"#, "M");
        bad("CONTAINS", r#"{"L":[]}"#, "L");
        bad("NOT_CONTAINS", r#"{"SS":["a"]}"#, "SS");
        bad("BEGINS_WITH", r#"{"N":"1"}"#, "N");
        bad("BEGINS_WITH", r#"{"BOOL":true}"#, "BOOL");
        check_filter(
            r#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"L":[]},{"L":[]}]}}"#,
            None,
            &format!("{BAD}ComparisonOperator BETWEEN is not valid for L AttributeValue type"),
        );
    }

    #[test]
    fn filter_eq_and_contains_accept_what_aws_accepts() {
        check_filter(
            r#"{"a":{"ComparisonOperator":"EQ","AttributeValueList":[{"BOOL":true}]}}"#,
            None,
            r#"a = {"BOOL":true}"#,
        );
        check_filter(
            r#"{"a":{"ComparisonOperator":"NE","AttributeValueList":[{"SS":["x"]}]}}"#,
            None,
            r#"a <> {"SS":["x"]}"#,
        );
        check_filter(
            r#"{"a":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"NULL":true}]}}"#,
            None,
            r#"contains(a, {"NULL":true})"#,
        );
    }

    #[test]
    fn filter_same_type_comes_before_operator_type() {
        check_filter(
            r#"{"a":{"ComparisonOperator":"IN","AttributeValueList":[{"BOOL":true},{"N":"1"}]}}"#,
            None,
            &format!("{BAD}AttributeValues inside AttributeValueList must be of same type"),
        );
    }

    #[test]
    fn filter_between_bounds_must_be_ordered() {
        check_filter(
            r#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"10"},{"N":"9"}]}}"#,
            None,
            "ValidationException: The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        );
        check_filter(
            r#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"9"},{"N":"9"}]}}"#,
            None,
            r#"a BETWEEN {"N":"9"} AND {"N":"9"}"#,
        );
    }

    #[test]
    fn filter_or_joins_in_name_order() {
        check_filter(
            r#"{"b":{"ComparisonOperator":"NULL"},"a":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"1"}]}}"#,
            Some("OR"),
            r#"(a > {"N":"1"} OR attribute_not_exists(b))"#,
        );
        check_filter("{}", None, "<none>");
    }

    #[test]
    fn key_conditions_translate() {
        check_keys(
            r#"{"a":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"x"}]},"b":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"2"}]}}"#,
            r#"a = {"S":"x"} AND b BETWEEN {"N":"1"} AND {"N":"2"}"#,
        );
        check_keys(
            r#"{"b":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"x"}]}}"#,
            r#"begins_with(b, {"S":"x"})"#,
        );
        check_keys(
            r#"{"b":{"ComparisonOperator":"LT","AttributeValueList":[{"S":"x"}]}}"#,
            r#"b < {"S":"x"}"#,
        );
    }

    #[test]
    fn key_conditions_messages_match_aws() {
        check_keys(
            "{}",
            "ValidationException: Conditions can be of length 1 or 2 only",
        );
        check_keys(
            r#"{"a":{"ComparisonOperator":"NULL"},"b":{"ComparisonOperator":"NULL"},"c":{"ComparisonOperator":"NULL"}}"#,
            "ValidationException: Conditions can be of length 1 or 2 only",
        );
        check_keys(
            r#"{"a":{"ComparisonOperator":"LT","AttributeValueList":[{"BOOL":true}]}}"#,
            &format!("{BAD}ComparisonOperator LT is not valid for BOOL AttributeValue type"),
        );
        for op in ["NULL", "NOT_NULL"] {
            check_keys(
                &format!(r#"{{"a":{{"ComparisonOperator":"{op}"}}}}"#),
                "ValidationException: Attempted conditional constraint is not an indexable operation",
            );
        }
        for op in ["NE", "CONTAINS", "NOT_CONTAINS", "IN"] {
            check_keys(
                &format!(
                    r#"{{"a":{{"ComparisonOperator":"{op}","AttributeValueList":[{{"S":"a"}}]}}}}"#
                ),
                "ValidationException: Attempted conditional constraint is not an indexable operation",
            );
        }
    }

    #[test]
    fn attributes_to_get_become_a_projection() {
        let p = attributes_to_get_projection(&["b".into(), "a.b".into()]);
        assert_eq!(
            p.map(|p| p.paths),
            Ok(vec![DocPath::attr("b"), DocPath::attr("a.b")])
        );
        assert_eq!(
            attributes_to_get_projection(&["a".into(), "b".into(), "a".into()]),
            Err(Error::invalid_parameter(
                "Duplicate value in attribute name: a"
            ))
        );
    }

    #[test]
    fn attribute_updates_translate() {
        check_updates(r#"{"c":{"Value":{"S":"x"}}}"#, r#"SET c = {"S":"x"}"#);
        check_updates(
            r#"{"c":{"Action":"PUT","Value":{"M":{}}}}"#,
            r#"SET c = {"M":{}}"#,
        );
        check_updates(r#"{"c":{"Action":"DELETE"}}"#, "REMOVE c");
        check_updates(
            r#"{"c":{"Action":"DELETE","Value":{"SS":["x"]}}}"#,
            r#"DELETE c {"SS":["x"]}"#,
        );
        check_updates(
            r#"{"c":{"Action":"ADD","Value":{"N":"1"}}}"#,
            r#"ADD c {"N":"1"}"#,
        );
        check_updates(
            r#"{"c":{"Action":"ADD","Value":{"BS":["YQ=="]}}}"#,
            r#"ADD c {"BS":["YQ=="]}"#,
        );
        check_updates(
            r#"{"c":{"Action":"ADD","Value":{"L":[{"S":"x"}]}}}"#,
            r#"SET c = list_append(if_not_exists(c, {"L":[]}), {"L":[{"S":"x"}]})"#,
        );
        check_updates("{}", "<none>");
    }

    #[test]
    fn attribute_updates_messages_match_aws() {
        check_updates(
            r#"{"c":{"x":"whatever"}}"#,
            &format!("{BAD}Only DELETE action is allowed when no attribute value is specified"),
        );
        check_updates(
            r#"{"c":{"Action":"ADD"}}"#,
            &format!("{BAD}Only DELETE action is allowed when no attribute value is specified"),
        );
        for v in [
            r#"{"S":"1"}"#,
            r#"{"N":"1"}"#,
            r#"{"B":"Yg=="}"#,
            r#"{"NULL":true}"#,
            r#"{"BOOL":true}"#,
            r#"{"M":{}}"#,
            r#"{"L":[]}"#,
        ] {
            let ty = parse::<AttributeValue>(v).type_name();
            check_updates(
                &format!(r#"{{"c":{{"Action":"DELETE","Value":{v}}}}}"#),
                &format!("{BAD}DELETE action with value is not supported for the type {ty}"),
            );
        }
        for v in [
            r#"{"S":"1"}"#,
            r#"{"B":"Yg=="}"#,
            r#"{"NULL":true}"#,
            r#"{"BOOL":true}"#,
            r#"{"M":{}}"#,
        ] {
            let ty = parse::<AttributeValue>(v).type_name();
            check_updates(
                &format!(r#"{{"c":{{"Action":"ADD","Value":{v}}}}}"#),
                &format!("{BAD}ADD action is not supported for the type {ty}"),
            );
        }
    }

    #[test]
    fn attribute_updates_may_not_touch_the_key() {
        check_updates(
            r#"{"d":{"Value":{"N":"1"}},"b":{"Value":{"S":"x"}}}"#,
            &format!("{BAD}Cannot update attribute b. This attribute is part of the key"),
        );
        // Key attributes are reported in key-schema order, after the per-entry checks.
        check_updates(
            r#"{"b":{"Value":{"S":"x"}},"a":{"Value":{"S":"x"}}}"#,
            &format!("{BAD}Cannot update attribute a. This attribute is part of the key"),
        );
        check_updates(
            r#"{"b":{"Value":{"S":"x"}},"c":{"Action":"ADD","Value":{"S":"x"}}}"#,
            &format!("{BAD}ADD action is not supported for the type S"),
        );
    }

    #[test]
    fn legacy_ne_and_not_contains_match_a_missing_attribute() {
        let ne = r#"{"b":{"ComparisonOperator":"NE","AttributeValueList":[{"S":"1234"}]}}"#;
        check_eval(ne, r#"{}"#, true);
        check_eval(ne, r#"{"b":{"N":"1234"}}"#, true);
        check_eval(ne, r#"{"b":{"S":"1234"}}"#, false);
        let nc =
            r#"{"b":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"bde"}]}}"#;
        check_eval(nc, r#"{}"#, true);
        check_eval(nc, r#"{"b":{"S":"abdef"}}"#, false);
        check_eval(nc, r#"{"b":{"SS":["abd","bde"]}}"#, false);
        check_eval(nc, r#"{"b":{"S":"abd"}}"#, true);
        check_eval(nc, r#"{"b":{"B":"YWJkZWY="}}"#, true);
    }

    #[test]
    fn legacy_comparisons_never_match_other_types_or_missing() {
        let lt = r#"{"b":{"ComparisonOperator":"LT","AttributeValueList":[{"N":"10"}]}}"#;
        check_eval(lt, r#"{"b":{"N":"9.5"}}"#, true);
        check_eval(lt, r#"{"b":{"N":"10"}}"#, false);
        check_eval(lt, r#"{"b":{"S":"1"}}"#, false);
        check_eval(lt, r#"{}"#, false);
        let eq = r#"{"b":{"ComparisonOperator":"EQ","AttributeValueList":[{"N":"3"}]}}"#;
        check_eval(eq, r#"{"b":{"NS":["3","2","1"]}}"#, false);
        check_eval(eq, r#"{"b":{"S":"3"}}"#, false);
        check_eval(eq, r#"{"b":{"N":"3.0"}}"#, true);
    }

    #[test]
    fn legacy_eq_on_sets_ignores_order() {
        let eq = r#"{"b":{"ComparisonOperator":"EQ","AttributeValueList":[{"SS":["Black","Red","Green"]}]}}"#;
        check_eval(eq, r#"{"b":{"SS":["Green","Black","Red"]}}"#, true);
        check_eval(eq, r#"{"b":{"SS":["Green","Black"]}}"#, false);
    }

    #[test]
    fn legacy_contains_finds_substrings_set_members_and_list_elements() {
        let c = r#"{"b":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"N":"234"}]}}"#;
        check_eval(c, r#"{"b":{"N":"1234"}}"#, false);
        check_eval(c, r#"{"b":{"NS":["123","234"]}}"#, true);
        check_eval(c, r#"{"b":{"SS":["234"]}}"#, false);
        check_eval(c, r#"{"b":{"L":[{"S":"abd"},{"N":"234"}]}}"#, true);
        check_eval(c, r#"{"b":{"L":[{"N":"1234"}]}}"#, false);
        let s = r#"{"b":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"ell"}]}}"#;
        check_eval(s, r#"{"b":{"S":"hello"}}"#, true);
        check_eval(s, r#"{}"#, false);
    }

    #[test]
    fn legacy_begins_with_in_and_between_evaluate() {
        let bw = r#"{"b":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"he"}]}}"#;
        check_eval(bw, r#"{"b":{"S":"hello"}}"#, true);
        check_eval(bw, r#"{"b":{"SS":["hello"]}}"#, false);
        let inn = r#"{"b":{"ComparisonOperator":"IN","AttributeValueList":[{"S":"c"},{"S":"d"}]}}"#;
        check_eval(inn, r#"{"b":{"S":"d"}}"#, true);
        check_eval(inn, r#"{"b":{"SS":["d"]}}"#, false);
        let btw =
            r#"{"b":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"S":"c"},{"S":"d"}]}}"#;
        check_eval(btw, r#"{"b":{"S":"c"}}"#, true);
        check_eval(btw, r#"{"b":{"S":"b"}}"#, false);
        check_eval(btw, r#"{}"#, false);
    }

    #[test]
    fn expected_evaluates_against_the_old_item() {
        // putItem functionality tests in dynalite's suite.
        let multi = r#"{"a":{"Value":{"S":"x"}},"b":{"Exists":false},"c":{"Value":{"S":"y"}}}"#;
        check_expected_eval(multi, None, r#"{"a":{"S":"x"},"c":{"S":"y"}}"#, true);
        check_expected_eval(multi, None, r#"{"a":{"S":"x"},"c":{"S":"z"}}"#, false);
        check_expected_eval(multi, Some("OR"), r#"{"a":{"S":"q"},"c":{"S":"z"}}"#, true);
        check_expected_eval(r#"{"a":{"Value":{"S":"x"}}}"#, None, "{}", false);
        check_expected_eval(r#"{"a":{"Exists":false}}"#, None, "{}", true);
        check_expected_eval(
            r#"{"active":{"Value":{"BOOL":false},"Exists":true}}"#,
            None,
            r#"{"active":{"BOOL":false}}"#,
            true,
        );
    }

    #[test]
    fn add_creates_missing_attributes_and_appends_lists() {
        check_apply(
            r#"{"b":{"Action":"DELETE"},"c":{"Action":"DELETE","Value":{"SS":["a","b"]}},"d":{"Action":"ADD","Value":{"N":"5"}},"e":{"Action":"ADD","Value":{"SS":["a","b"]}},"f":{"Action":"ADD","Value":{"L":[{"S":"a"},{"N":"1"}]}}}"#,
            r#"{"a":{"S":"k"}}"#,
            r#"{"a":{"S":"k"},"d":{"N":"5"},"e":{"SS":["a","b"]},"f":{"L":[{"S":"a"},{"N":"1"}]}}"#,
        );
        check_apply(
            r#"{"b":{"Action":"ADD","Value":{"L":[{"S":"b"},{"N":"2"}]}}}"#,
            r#"{"b":{"L":[{"S":"a"},{"N":"1"}]}}"#,
            r#"{"b":{"L":[{"S":"a"},{"N":"1"},{"S":"b"},{"N":"2"}]}}"#,
        );
        check_apply(
            r#"{"b":{"Action":"ADD","Value":{"N":"3"}}}"#,
            r#"{"b":{"N":"1"}}"#,
            r#"{"b":{"N":"4"}}"#,
        );
        check_apply(
            r#"{"b":{"Action":"ADD","Value":{"SS":["c","a"]}}}"#,
            r#"{"b":{"SS":["a","b"]}}"#,
            r#"{"b":{"SS":["a","b","c"]}}"#,
        );
    }

    #[test]
    fn delete_removes_values_and_empties_sets() {
        check_apply(
            r#"{"b":{"Action":"DELETE"},"c":{"Value":{"S":"a"}}}"#,
            r#"{"b":{"S":"a"}}"#,
            r#"{"c":{"S":"a"}}"#,
        );
        check_apply(
            r#"{"b":{"Action":"DELETE","Value":{"NS":["1","4"]}}}"#,
            r#"{"b":{"NS":["1","2","3"]}}"#,
            r#"{"b":{"NS":["2","3"]}}"#,
        );
        check_apply(
            r#"{"b":{"Action":"DELETE","Value":{"NS":["2","3"]}}}"#,
            r#"{"b":{"NS":["2","3"]}}"#,
            "{}",
        );
    }

    #[test]
    fn wrong_existing_type_is_a_type_mismatch() {
        for (updates, item) in [
            (
                r#"{"b":{"Action":"DELETE","Value":{"NS":["1"]}}}"#,
                r#"{"b":{"S":"x"}}"#,
            ),
            (
                r#"{"b":{"Action":"DELETE","Value":{"BS":["YQ=="]}}}"#,
                r#"{"b":{"SS":["x"]}}"#,
            ),
            (
                r#"{"b":{"Action":"ADD","Value":{"NS":["1"]}}}"#,
                r#"{"b":{"S":"x"}}"#,
            ),
            (
                r#"{"d":{"Action":"ADD","Value":{"N":"1"}}}"#,
                r#"{"d":{"S":"x"}}"#,
            ),
            (
                r#"{"d":{"Action":"ADD","Value":{"L":[]}}}"#,
                r#"{"d":{"S":"x"}}"#,
            ),
        ] {
            check_apply(updates, item, TYPE_MISMATCH);
        }
    }
}
