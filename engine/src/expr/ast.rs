//! Typed expression trees, with expression attribute names and values already substituted.

use std::fmt;

use crate::value::AttributeValue;

/// One step of a document path: a map key (or top-level attribute name) or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElem {
    /// A map key or top-level attribute name.
    Attr(String),
    /// A list index.
    Index(usize),
}

/// A document path such as `a.b[3].c`, names resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocPath(pub Vec<PathElem>);

impl DocPath {
    /// A path naming one top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        DocPath(vec![PathElem::Attr(name.into())])
    }

    /// The top-level attribute this path starts at.
    pub fn head(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathElem::Attr(a)) => Some(a),
            _ => None,
        }
    }

    /// The path as AWS prints it in error messages: `[a, b, [1]]`.
    pub fn aws_display(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| match e {
                PathElem::Attr(a) => a.clone(),
                PathElem::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }
}

impl fmt::Display for DocPath {
    /// Writes the path in expression syntax, e.g. `a.b[3]` (names are not escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            match e {
                PathElem::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathElem::Attr(a) => write!(f, ".{a}")?,
                PathElem::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparator {
    /// The operator as written in an expression.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }

    /// The operator with its operands swapped: `a < b` is `b > a`.
    pub fn flip(self) -> Self {
        match self {
            Comparator::Lt => Comparator::Gt,
            Comparator::Le => Comparator::Ge,
            Comparator::Gt => Comparator::Lt,
            Comparator::Ge => Comparator::Le,
            other => other,
        }
    }

    pub(crate) fn from_str(s: &str) -> Option<Self> {
        Some(match s {
            "=" => Comparator::Eq,
            "<>" => Comparator::Ne,
            "<" => Comparator::Lt,
            "<=" => Comparator::Le,
            ">" => Comparator::Gt,
            ">=" => Comparator::Ge,
            _ => return None,
        })
    }
}

/// An operand of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// The value at a document path of the item (absent if the item has none).
    Path(DocPath),
    /// An expression attribute value.
    Value(AttributeValue),
    /// `size(operand)`.
    Size(Box<Operand>),
}

/// A condition (ConditionExpression or FilterExpression).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `a AND b`
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`
    Not(Box<Condition>),
    /// `a <op> b`
    Compare(Comparator, Operand, Operand),
    /// `a BETWEEN b AND c`
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, ...)`
    In(Operand, Vec<Operand>),
    /// `attribute_exists(path)`
    AttributeExists(DocPath),
    /// `attribute_not_exists(path)`
    AttributeNotExists(DocPath),
    /// `attribute_type(operand, type)`
    AttributeType(Operand, Operand),
    /// `begins_with(operand, prefix)`
    BeginsWith(Operand, Operand),
    /// `contains(operand, operand)`
    Contains(Operand, Operand),
}

/// An operand on the right-hand side of a `SET` action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetOperand {
    /// The value at a path of the item as it was before the update.
    Path(DocPath),
    /// An expression attribute value.
    Value(AttributeValue),
    /// `if_not_exists(path, operand)`
    IfNotExists(DocPath, Box<SetOperand>),
    /// `list_append(list, list)`
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

/// The right-hand side of a `SET` action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// A single operand.
    Operand(SetOperand),
    /// `a + b` (numbers).
    Plus(SetOperand, SetOperand),
    /// `a - b` (numbers).
    Minus(SetOperand, SetOperand),
}

/// One action of an update expression.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value`
    Set(DocPath, SetValue),
    /// `REMOVE path`
    Remove(DocPath),
    /// `ADD path :value` (number or set)
    Add(DocPath, AttributeValue),
    /// `DELETE path :set`
    Delete(DocPath, AttributeValue),
}

/// A parsed UpdateExpression: its actions in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The actions, in the order written.
    pub actions: Vec<UpdateAction>,
}

/// A parsed ProjectionExpression.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The projected paths, in the order written.
    pub paths: Vec<DocPath>,
}

/// The operator of one key condition.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyOp {
    /// `k <op> :v` with any comparator but `<>` (operands normalized so the key is on the left).
    Compare(Comparator, AttributeValue),
    /// `k BETWEEN :lo AND :hi`
    Between(AttributeValue, AttributeValue),
    /// `begins_with(k, :prefix)`
    BeginsWith(AttributeValue),
}

/// One condition of a KeyConditionExpression, on one key attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPredicate {
    /// The key attribute's name.
    pub attribute: String,
    /// The test applied to it.
    pub op: KeyOp,
}

/// A parsed KeyConditionExpression: one or two predicates on distinct top-level attributes.
///
/// Which predicate is the partition key and which the sort key depends on the table or
/// index schema; the caller matches them (and reports AWS's schema errors).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    /// The predicates, in the order written.
    pub predicates: Vec<KeyPredicate>,
}

impl KeyCondition {
    /// The predicate on `attribute`, if any.
    pub fn predicate(&self, attribute: &str) -> Option<&KeyPredicate> {
        self.predicates.iter().find(|p| p.attribute == attribute)
    }
}
