//! DynamoDB expressions: condition, filter, key-condition, update and projection.
//!
//! One request's expressions go through [`parse`] together, because AWS checks unused and
//! undefined `ExpressionAttributeNames`/`ExpressionAttributeValues` across all of them.
//! [`check_parameters`] comes first: it rejects names or values sent without an expression
//! that could use them (its message depends on the operation). The result of [`parse`]
//! holds typed trees with names and values substituted:
//!
//! - [`Condition::evaluate`] tests an item, empty when there is none (ConditionExpression,
//!   FilterExpression);
//! - [`Update::apply`] runs an UpdateExpression on an item (start from the key attributes
//!   when the item does not exist), [`Update::updated_paths`] names what it wrote, for
//!   `ReturnValues` `UPDATED_OLD`/`UPDATED_NEW` through [`project_paths`];
//! - [`Projection::apply`] and [`project_paths`] cut an item down to some paths;
//! - [`KeyCondition`] lists the key predicates of a KeyConditionExpression and
//!   [`KeyCondition::matches`] tests an item; matching predicates to the key schema
//!   ("Query condition missed key schema element", value types) is the caller's job.
//!
//! Also public: [`resolve`] (the value at a path), [`values_equal`] and [`compare_values`]
//! (DynamoDB equality and order), [`is_reserved`], and AWS's runtime update messages
//! ([`INCORRECT_TYPE`], [`INVALID_PATH`], [`MISSING_ATTRIBUTE`]).
//!
//! ```
//! use std::collections::BTreeMap;
//! use ddb_engine::{AttributeValue, Item};
//! use ddb_engine::expr::{ExpressionInput, parse};
//!
//! let values: BTreeMap<String, AttributeValue> =
//!     [(":one".to_string(), AttributeValue::N("1".parse().unwrap()))].into();
//! let input = ExpressionInput {
//!     condition: Some("attribute_not_exists(hits) OR hits < :one"),
//!     update: Some("SET hits = if_not_exists(hits, :one)"),
//!     values: Some(&values),
//!     ..Default::default()
//! };
//! let exprs = parse(&input, &["pk"]).unwrap();
//! let mut item = Item::new();
//! assert!(exprs.condition.unwrap().evaluate(&item).unwrap());
//! exprs.update.unwrap().apply(&mut item).unwrap();
//! assert_eq!(item["hits"], values[":one"]);
//! ```
//!
//! Pipeline: `lexer` (tokens with byte spans) → `parser` (raw trees, syntax errors quoting
//! the token and its neighbours) → `validate` (AWS's static errors in AWS's priority order,
//! typed trees) → `eval`/`update`/`projection`. Every error is an [`Error::Validation`] with
//! AWS's exact text.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::value::AttributeValue;

mod ast;
mod cache;
mod eval;
mod lexer;
mod parser;
mod projection;
mod update;
mod validate;

pub use ast::{
    Comparator, Condition, DocPath, KeyCondition, KeyOp, KeyPredicate, Operand, PathElem,
    Projection, SetOperand, SetValue, Update, UpdateAction,
};
pub use eval::{compare_values, resolve, values_equal};
pub use projection::project_paths;
pub use update::{INCORRECT_TYPE, INVALID_PATH, MISSING_ATTRIBUTE};
pub use validate::is_reserved;

/// Everything expression-related in one request. Names and values are shared by all its
/// expressions, and AWS checks unused/undefined names and values across all of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExpressionInput<'a> {
    /// ConditionExpression.
    pub condition: Option<&'a str>,
    /// UpdateExpression.
    pub update: Option<&'a str>,
    /// ProjectionExpression.
    pub projection: Option<&'a str>,
    /// FilterExpression.
    pub filter: Option<&'a str>,
    /// KeyConditionExpression.
    pub key_condition: Option<&'a str>,
    /// ExpressionAttributeNames.
    pub names: Option<&'a BTreeMap<String, String>>,
    /// ExpressionAttributeValues.
    pub values: Option<&'a BTreeMap<String, AttributeValue>>,
}

/// The parsed, validated expressions of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expressions {
    /// ConditionExpression.
    pub condition: Option<Condition>,
    /// UpdateExpression.
    pub update: Option<Update>,
    /// ProjectionExpression.
    pub projection: Option<Projection>,
    /// FilterExpression.
    pub filter: Option<Condition>,
    /// KeyConditionExpression.
    pub key_condition: Option<KeyCondition>,
}

fn invalid(kind: &str, msg: String) -> Error {
    Error::Validation(format!("Invalid {kind}: {msg}"))
}

pub(crate) fn key_is_valid(key: &str, sigil: char) -> bool {
    let mut chars = key.chars();
    chars.next() == Some(sigil)
        && key.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks the ExpressionAttributeNames/Values maps themselves.
fn check_maps(input: &ExpressionInput) -> Result<(), Error> {
    let any_expression = input.condition.is_some()
        || input.update.is_some()
        || input.projection.is_some()
        || input.filter.is_some()
        || input.key_condition.is_some();
    if let Some(names) = input.names {
        if !any_expression {
            return Err(Error::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        if names.is_empty() {
            return Err(Error::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if let Some(k) = names.keys().find(|k| !key_is_valid(k, '#')) {
            return Err(Error::Validation(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
            )));
        }
    }
    if let Some(values) = input.values {
        if values.is_empty() {
            return Err(Error::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        if let Some(k) = values.keys().find(|k| !key_is_valid(k, ':')) {
            return Err(Error::Validation(format!(
                "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
            )));
        }
    }
    Ok(())
}

/// The checks AWS makes before parsing, on which expression parameters are present: names
/// need some expression, values need one of the operation's expressions that take values.
/// `value_expressions` lists those in AWS's order: `["ConditionExpression"]` for PutItem and
/// DeleteItem, `["UpdateExpression", "ConditionExpression"]` for UpdateItem,
/// `["FilterExpression", "KeyConditionExpression"]` for Query, `["FilterExpression"]` for
/// Scan. Call it before [`parse`].
pub fn check_parameters(input: &ExpressionInput, value_expressions: &[&str]) -> Result<(), Error> {
    let present = |name: &str| match name {
        "ConditionExpression" => input.condition.is_some(),
        "UpdateExpression" => input.update.is_some(),
        "ProjectionExpression" => input.projection.is_some(),
        "FilterExpression" => input.filter.is_some(),
        "KeyConditionExpression" => input.key_condition.is_some(),
        _ => false,
    };
    let any = [
        "ConditionExpression",
        "UpdateExpression",
        "ProjectionExpression",
        "FilterExpression",
        "KeyConditionExpression",
    ]
    .into_iter()
    .any(present);
    if input.names.is_some() && !any {
        return Err(Error::validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    if input.values.is_some()
        && !value_expressions.is_empty()
        && !value_expressions.iter().any(|e| present(e))
    {
        let verb = if value_expressions.len() > 1 {
            "are"
        } else {
            "is"
        };
        return Err(Error::Validation(format!(
            "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
            value_expressions.join(" and ")
        )));
    }
    Ok(())
}

/// The longest expression AWS accepts, in UTF-8 bytes (ServiceQuotas: 4 KB).
pub const MAX_EXPRESSION_SIZE: usize = 4096;

/// Rejects empty and oversized expressions before parsing. The size message is quoted from a
/// real AWS error ("Invalid FilterExpression: Expression size has exceeded the maximum allowed
/// size; expression size: 5872").
fn non_empty<'s>(kind: &str, src: &'s str) -> Result<&'s str, Error> {
    if src.trim().is_empty() {
        Err(invalid(
            kind,
            "The expression can not be empty;".to_string(),
        ))
    } else if src.len() > MAX_EXPRESSION_SIZE {
        Err(invalid(
            kind,
            format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                src.len()
            ),
        ))
    } else {
        Ok(src)
    }
}

impl Update {
    /// AWS's error when the update writes one of `key_attributes`. [`parse`] runs this; callers
    /// that parse before they know the table's key run it once they do.
    pub fn check_key_attributes(&self, key_attributes: &[&str]) -> Result<(), Error> {
        match self
            .updated_attributes()
            .into_iter()
            .find(|a| key_attributes.contains(a))
        {
            Some(attr) => Err(Error::Validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {attr}. This attribute is part of the key"
            ))),
            None => Ok(()),
        }
    }
}

fn condition(ctx: &mut validate::Ctx, kind: &str, src: &str) -> Result<Condition, Error> {
    let parsed = cache::condition(non_empty(kind, src)?).map_err(|m| invalid(kind, m))?;
    validate::condition(ctx, &parsed.cond, parsed.redundant_parens).map_err(|m| invalid(kind, m))
}

/// Parses and statically validates every expression of a request, the way AWS does before
/// touching any item. `key_attributes` are the table's (or index's) key attribute names:
/// an update may not write them, and a Query's filter may not read them.
///
/// Order of checks: the names/values maps; then Update, Condition, KeyCondition, Filter and
/// Projection expressions, each fully (empty, syntax, then semantic errors); then unused
/// names and values; then key attributes in the update; then the key condition's shape;
/// then key attributes in a Query's filter.
pub fn parse(input: &ExpressionInput, key_attributes: &[&str]) -> Result<Expressions, Error> {
    check_maps(input)?;
    let mut ctx = validate::Ctx {
        names: input.names,
        values: input.values,
        used_names: Default::default(),
        used_values: Default::default(),
    };
    let mut out = Expressions::default();
    if let Some(src) = input.update {
        let kind = "UpdateExpression";
        let raw = cache::update(non_empty(kind, src)?).map_err(|m| invalid(kind, m))?;
        out.update = Some(validate::update(&mut ctx, &raw).map_err(|m| invalid(kind, m))?);
    }
    if let Some(src) = input.condition {
        out.condition = Some(condition(&mut ctx, "ConditionExpression", src)?);
    }
    let key_condition = match input.key_condition {
        Some(src) => Some(condition(&mut ctx, "KeyConditionExpression", src)?),
        None => None,
    };
    if let Some(src) = input.filter {
        out.filter = Some(condition(&mut ctx, "FilterExpression", src)?);
    }
    if let Some(src) = input.projection {
        let kind = "ProjectionExpression";
        let raw = cache::projection(non_empty(kind, src)?).map_err(|m| invalid(kind, m))?;
        let paths = validate::projection(&mut ctx, &raw).map_err(|m| invalid(kind, m))?;
        out.projection = Some(Projection { paths });
    }
    if let Some(names) = input.names {
        let unused: Vec<&str> = names
            .keys()
            .filter(|k| !ctx.used_names.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            return Err(Error::Validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
    }
    if let Some(values) = input.values {
        let unused: Vec<&str> = values
            .keys()
            .filter(|k| !ctx.used_values.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            return Err(Error::Validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
    }
    if let Some(update) = &out.update {
        update.check_key_attributes(key_attributes)?;
    }
    if let Some(kc) = &key_condition {
        out.key_condition = Some(validate::key_condition(kc).map_err(Error::Validation)?);
        if let Some(filter) = &out.filter
            && let Some(k) = validate::first_key_attribute(filter, key_attributes)
        {
            return Err(Error::Validation(format!(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
