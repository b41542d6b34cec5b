//! PLACEHOLDER for the expression language (being written on branch dev-expr); it refuses
//! every expression with a ValidationException so nothing is silently accepted.
#![allow(missing_docs)]
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::value::{AttributeValue, Item};

pub struct ExpressionInput<'a> {
    pub condition: Option<&'a str>,
    pub update: Option<&'a str>,
    pub projection: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub key_condition: Option<&'a str>,
    pub names: Option<&'a BTreeMap<String, String>>,
    pub values: Option<&'a BTreeMap<String, AttributeValue>>,
}
#[derive(Debug, Clone)]
pub struct Condition;
#[derive(Debug, Clone)]
pub struct Update;
#[derive(Debug, Clone)]
pub struct Projection;
#[derive(Debug, Clone)]
pub struct KeyCondition;
#[derive(Debug, Clone)]
pub struct DocPath;
#[derive(Debug, Default)]
pub struct Expressions {
    pub condition: Option<Condition>,
    pub update: Option<Update>,
    pub projection: Option<Projection>,
    pub filter: Option<Condition>,
    pub key_condition: Option<KeyCondition>,
}
pub fn parse(input: &ExpressionInput, _key_attributes: &[&str]) -> Result<Expressions> {
    if input.condition.is_some() || input.update.is_some() || input.projection.is_some() {
        return Err(Error::validation(
            "expressions are not available in this build",
        ));
    }
    Ok(Expressions::default())
}
impl Condition {
    pub fn evaluate(&self, _item: &Item) -> Result<bool> {
        Ok(true)
    }
}
impl Update {
    pub fn apply(&self, _item: &mut Item) -> Result<()> {
        Ok(())
    }
    pub fn updated_paths(&self) -> Vec<DocPath> {
        Vec::new()
    }
}
impl Projection {
    pub fn apply(&self, item: &Item) -> Item {
        item.clone()
    }
}
pub fn project_paths(item: &Item, _paths: &[DocPath]) -> Item {
    item.clone()
}
