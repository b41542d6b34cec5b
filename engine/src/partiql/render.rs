//! Typed expression trees written back as DynamoDB expression text, with every name and value
//! behind a placeholder, so PartiQL writes run through the engine's own item operations.

use std::collections::BTreeMap;

use crate::expr::{Condition, DocPath, Operand, PathElem, SetOperand, SetValue, UpdateAction};
use crate::value::AttributeValue;

/// Expression text being built, with its names and values.
#[derive(Debug, Default)]
pub(crate) struct Render {
    pub(crate) names: BTreeMap<String, String>,
    pub(crate) values: BTreeMap<String, AttributeValue>,
}

impl Render {
    fn name(&mut self, n: &str) -> String {
        if let Some((k, _)) = self.names.iter().find(|(_, v)| *v == n) {
            return k.clone();
        }
        let k = format!("#n{}", self.names.len());
        self.names.insert(k.clone(), n.to_string());
        k
    }

    pub(crate) fn value(&mut self, v: &AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v.clone());
        k
    }

    pub(crate) fn path(&mut self, p: &DocPath) -> String {
        let mut out = String::new();
        for (i, e) in p.0.iter().enumerate() {
            match e {
                PathElem::Attr(a) => {
                    if i > 0 {
                        out.push('.');
                    }
                    let n = self.name(a);
                    out.push_str(&n);
                }
                PathElem::Index(n) => out.push_str(&format!("[{n}]")),
            }
        }
        out
    }

    fn operand(&mut self, o: &Operand) -> String {
        match o {
            Operand::Path(p) => self.path(p),
            Operand::Value(v) => self.value(v),
            Operand::Size(inner) => format!("size({})", self.operand(inner)),
        }
    }

    /// A condition, fully parenthesized.
    pub(crate) fn condition(&mut self, c: &Condition) -> String {
        match c {
            Condition::And(a, b) => format!("({}) AND ({})", self.condition(a), self.condition(b)),
            Condition::Or(a, b) => format!("({}) OR ({})", self.condition(a), self.condition(b)),
            Condition::Not(a) => format!("NOT ({})", self.condition(a)),
            Condition::Compare(op, a, b) => {
                format!("{} {} {}", self.operand(a), op.as_str(), self.operand(b))
            }
            Condition::Between(a, lo, hi) => format!(
                "{} BETWEEN {} AND {}",
                self.operand(a),
                self.operand(lo),
                self.operand(hi)
            ),
            Condition::In(a, list) => {
                let head = self.operand(a);
                let items: Vec<String> = list.iter().map(|o| self.operand(o)).collect();
                format!("{head} IN ({})", items.join(", "))
            }
            Condition::AttributeExists(p) => format!("attribute_exists({})", self.path(p)),
            Condition::AttributeNotExists(p) => format!("attribute_not_exists({})", self.path(p)),
            Condition::AttributeType(a, t) => {
                format!("attribute_type({}, {})", self.operand(a), self.operand(t))
            }
            Condition::BeginsWith(a, b) => {
                format!("begins_with({}, {})", self.operand(a), self.operand(b))
            }
            Condition::Contains(a, b) => {
                format!("contains({}, {})", self.operand(a), self.operand(b))
            }
        }
    }

    fn set_operand(&mut self, o: &SetOperand) -> String {
        match o {
            SetOperand::Path(p) => self.path(p),
            SetOperand::Value(v) => self.value(v),
            SetOperand::IfNotExists(p, v) => {
                format!("if_not_exists({}, {})", self.path(p), self.set_operand(v))
            }
            SetOperand::ListAppend(a, b) => {
                format!(
                    "list_append({}, {})",
                    self.set_operand(a),
                    self.set_operand(b)
                )
            }
        }
    }

    /// An update expression: its actions grouped by clause, in order within each clause.
    pub(crate) fn update(&mut self, actions: &[UpdateAction]) -> String {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut add = Vec::new();
        let mut delete = Vec::new();
        for a in actions {
            match a {
                UpdateAction::Set(p, v) => {
                    let lhs = self.path(p);
                    let rhs = match v {
                        SetValue::Operand(o) => self.set_operand(o),
                        SetValue::Plus(a, b) => {
                            format!("{} + {}", self.set_operand(a), self.set_operand(b))
                        }
                        SetValue::Minus(a, b) => {
                            format!("{} - {}", self.set_operand(a), self.set_operand(b))
                        }
                    };
                    set.push(format!("{lhs} = {rhs}"));
                }
                UpdateAction::Remove(p) => remove.push(self.path(p)),
                UpdateAction::Add(p, v) => {
                    let s = format!("{} {}", self.path(p), self.value(v));
                    add.push(s);
                }
                UpdateAction::Delete(p, v) => {
                    let s = format!("{} {}", self.path(p), self.value(v));
                    delete.push(s);
                }
            }
        }
        let mut out = Vec::new();
        for (kw, list) in [
            ("SET", set),
            ("REMOVE", remove),
            ("ADD", add),
            ("DELETE", delete),
        ] {
            if !list.is_empty() {
                out.push(format!("{kw} {}", list.join(", ")));
            }
        }
        out.join(" ")
    }

    /// The names map, or `None` when empty (AWS rejects an empty map).
    pub(crate) fn names(&self) -> Option<BTreeMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// The values map, or `None` when empty.
    pub(crate) fn values(&self) -> Option<BTreeMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}
