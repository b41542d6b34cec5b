//! Static validation: raw trees in, typed trees out, or AWS's exact error.
//!
//! AWS reports one error per expression, chosen by category in a fixed priority order, and
//! within a category the first one in source order. The orders below follow the dynalite
//! test suite, which is maintained against live DynamoDB.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::ast::{
    Comparator, Condition, DocPath, KeyCondition, KeyOp, KeyPredicate, Operand, PathElem,
    SetOperand, SetValue, Update, UpdateAction,
};
use super::eval::compare_values;
use super::parser::{
    RawAction, RawCond, RawElem, RawFunc, RawOperand, RawPath, RawSetValue, Section,
};
use crate::value::AttributeValue;

static RESERVED: OnceLock<BTreeSet<String>> = OnceLock::new();

/// Whether `word` is one of DynamoDB's 573 reserved words (case-insensitive).
pub fn is_reserved(word: &str) -> bool {
    RESERVED
        .get_or_init(|| {
            include_str!("reserved_words.txt")
                .lines()
                .map(|l| l.trim().to_ascii_uppercase())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .contains(&word.to_ascii_uppercase())
}

/// Sets `slot` unless an earlier error already filled it.
fn first(slot: &mut Option<String>, msg: impl FnOnce() -> String) {
    if slot.is_none() {
        *slot = Some(msg());
    }
}

/// Names and values of one request, and which of them the expressions used.
pub(crate) struct Ctx<'a> {
    pub names: Option<&'a BTreeMap<String, String>>,
    pub values: Option<&'a BTreeMap<String, AttributeValue>>,
    pub used_names: BTreeSet<String>,
    pub used_values: BTreeSet<String>,
}

impl Ctx<'_> {
    fn name(&mut self, n: &str) -> Option<String> {
        let v = self.names?.get(n)?.clone();
        self.used_names.insert(n.to_string());
        Some(v)
    }

    fn value(&mut self, v: &str) -> Option<AttributeValue> {
        let val = self.values?.get(v)?.clone();
        self.used_values.insert(v.to_string());
        Some(val)
    }
}

/// The type tag AWS's static checks see for an operand, if known before evaluation.
fn value_type(v: &AttributeValue) -> &'static str {
    v.type_name()
}

/// The long type names AWS uses in some messages (`LIST`, `BOOLEAN`, …).
fn long_type_name(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "STRING",
        AttributeValue::N(_) => "NUMBER",
        AttributeValue::B(_) => "BINARY",
        AttributeValue::Bool(_) => "BOOLEAN",
        AttributeValue::Null => "NULL",
        AttributeValue::L(_) => "LIST",
        AttributeValue::M(_) => "MAP",
        // Not confirmed against AWS; named like DynamoDB's own type enumeration.
        AttributeValue::Ss(_) => "STRING_SET",
        AttributeValue::Ns(_) => "NUMBER_SET",
        AttributeValue::Bs(_) => "BINARY_SET",
    }
}

/// AWS's rendering of a value inside `AttributeValue: {S:a}`.
fn aws_value_text(v: &AttributeValue) -> String {
    let inner = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => B64.encode(b),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".to_string(),
        AttributeValue::Ss(v) => v.join(","),
        AttributeValue::Ns(v) => v
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        AttributeValue::Bs(v) => v
            .iter()
            .map(|b| B64.encode(b))
            .collect::<Vec<_>>()
            .join(","),
        AttributeValue::L(_) | AttributeValue::M(_) => "[object Object]".to_string(),
    };
    format!("{{{}:{}}}", v.type_name(), inner)
}

/// Resolves a raw path: reports reserved words and undefined names through the callbacks.
fn resolve_path(
    ctx: &mut Ctx,
    raw: &RawPath,
    reserved: &mut Option<String>,
    undefined_name: &mut Option<String>,
) -> Option<DocPath> {
    let mut out = Vec::with_capacity(raw.0.len());
    let mut ok = true;
    for e in &raw.0 {
        match e {
            RawElem::Ident(s) => {
                if is_reserved(s) {
                    first(reserved, || {
                        format!("Attribute name is a reserved keyword; reserved keyword: {s}")
                    });
                }
                out.push(PathElem::Attr(s.clone()));
            }
            RawElem::Name(n) => match ctx.name(n) {
                Some(v) => out.push(PathElem::Attr(v)),
                None => {
                    first(undefined_name, || {
                        format!(
                            "An expression attribute name used in the document path is not defined; attribute name: {n}"
                        )
                    });
                    ok = false;
                }
            },
            RawElem::Index(i) => out.push(PathElem::Index(*i)),
        }
    }
    ok.then_some(DocPath(out))
}

fn undefined_value(v: &str) -> String {
    format!("An expression attribute value used in expression is not defined; attribute value: {v}")
}

// ---------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------

/// Errors of a condition that win in source order across the whole expression.
#[derive(Default)]
struct CondErrors {
    unknown_function: Option<String>,
    misused_function: Option<String>,
    reserved: Option<String>,
    /// The first leaf condition's error, once any leaf had one.
    condition: Option<String>,
}

/// Errors of one leaf condition, in priority order.
#[derive(Default)]
struct LeafErrors {
    attr_name_val: Option<String>,
    operand: Option<String>,
    distinct: Option<String>,
    function: Option<String>,
}

impl LeafErrors {
    fn first(self) -> Option<String> {
        self.attr_name_val
            .or(self.operand)
            .or(self.distinct)
            .or(self.function)
    }
}

/// An operand during validation.
enum VOp {
    Path(DocPath),
    Value(AttributeValue),
    Size(Box<VOp>),
    /// A function other than `size`, with the type it would produce.
    OtherFunc(String, Option<&'static str>),
    /// An undefined name or value; an error was recorded.
    Unresolved,
}

impl VOp {
    /// dynalite's `getType`: a value's type or a function's result type.
    fn ty(&self) -> Option<&'static str> {
        match self {
            VOp::Value(v) => Some(value_type(v)),
            VOp::Size(_) => Some("N"),
            VOp::OtherFunc(_, t) => *t,
            _ => None,
        }
    }

    fn immediate(&self) -> Option<&AttributeValue> {
        match self {
            VOp::Value(v) => Some(v),
            _ => None,
        }
    }

    fn into_operand(self) -> Option<Operand> {
        match self {
            VOp::Path(p) => Some(Operand::Path(p)),
            VOp::Value(v) => Some(Operand::Value(v)),
            VOp::Size(inner) => Some(Operand::Size(Box::new(inner.into_operand()?))),
            _ => None,
        }
    }
}

struct CondValidator<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    errs: CondErrors,
}

const CONDITION_FUNCTIONS: &[(&str, usize)] = &[
    ("attribute_exists", 1),
    ("attribute_not_exists", 1),
    ("attribute_type", 2),
    ("begins_with", 2),
    ("contains", 2),
    ("size", 1),
];

/// The most operands `IN` takes (Limits.html, expression parameters).
const MAX_IN_OPERANDS: usize = 100;
const VALID_TYPES: &[&str] = &["S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"];

impl CondValidator<'_, '_> {
    fn misused(&mut self, ops: &[VOp]) {
        for op in ops {
            if let VOp::OtherFunc(name, _) = op {
                first(&mut self.errs.misused_function, || {
                    format!(
                        "The function is not allowed to be used this way in an expression; function: {name}"
                    )
                });
                return;
            }
        }
    }

    fn distinct(name: &str, args: &[VOp], le: &mut LeafErrors) {
        if let [VOp::Path(a), VOp::Path(b)] = args
            && a == b
        {
            first(&mut le.distinct, || {
                format!(
                    "The first operand must be distinct from the remaining operands for this operator or function; operator: {name}, first operand: {}",
                    a.aws_display()
                )
            });
        }
    }

    fn operand(&mut self, raw: &RawOperand, le: &mut LeafErrors) -> VOp {
        match raw {
            RawOperand::Path(p) => {
                let r = resolve_path(self.ctx, p, &mut self.errs.reserved, &mut le.attr_name_val);
                r.map_or(VOp::Unresolved, VOp::Path)
            }
            RawOperand::Value(v) => match self.ctx.value(v) {
                Some(val) => VOp::Value(val),
                None => {
                    first(&mut le.attr_name_val, || undefined_value(v));
                    VOp::Unresolved
                }
            },
            RawOperand::Func(f) => self.function(f, le).0,
        }
    }

    /// Validates a function call; returns it as an operand and, for condition functions,
    /// as a condition.
    fn function(&mut self, f: &RawFunc, le: &mut LeafErrors) -> (VOp, Option<Condition>) {
        let args: Vec<VOp> = f.args.iter().map(|a| self.operand(a, le)).collect();
        self.misused(&args);
        let name = f.name.as_str();
        let Some(&(_, arity)) = CONDITION_FUNCTIONS.iter().find(|(n, _)| *n == name) else {
            first(&mut self.errs.unknown_function, || {
                format!("Invalid function name; function: {name}")
            });
            return (VOp::OtherFunc(f.name.clone(), None), None);
        };
        let other = |t| VOp::OtherFunc(f.name.clone(), t);
        if le.operand.is_some() {
            return (
                if name == "size" {
                    VOp::Unresolved
                } else {
                    other(None)
                },
                None,
            );
        }
        if args.len() != arity {
            le.operand = Some(format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                args.len()
            ));
            return (
                if name == "size" {
                    VOp::Unresolved
                } else {
                    other(None)
                },
                None,
            );
        }
        Self::distinct(name, &args, le);
        let fail = |le: &mut LeafErrors, msg: String| first(&mut le.function, || msg);
        let bad_type = |t: &str| {
            format!(
                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
            )
        };
        let mut args = args.into_iter();
        let (a0, a1) = (args.next(), args.next());
        match name {
            "attribute_exists" | "attribute_not_exists" => {
                let Some(VOp::Path(p)) = a0 else {
                    if le.function.is_none() && !matches!(a0, Some(VOp::Unresolved)) {
                        fail(
                            le,
                            format!(
                                "Operator or function requires a document path; operator or function: {name}"
                            ),
                        );
                    }
                    return (other(None), None);
                };
                let c = if name == "attribute_exists" {
                    Condition::AttributeExists(p)
                } else {
                    Condition::AttributeNotExists(p)
                };
                (other(None), Some(c))
            }
            "begins_with" | "contains" => {
                let (Some(x), Some(y)) = (a0, a1) else {
                    return (other(None), None);
                };
                if name == "begins_with" && le.function.is_none() {
                    for t in [x.ty(), y.ty()].into_iter().flatten() {
                        if t != "S" && t != "B" {
                            fail(le, bad_type(t));
                            return (other(Some("BOOL")), None);
                        }
                    }
                }
                let c = match (x.into_operand(), y.into_operand()) {
                    (Some(x), Some(y)) if name == "begins_with" => {
                        Some(Condition::BeginsWith(x, y))
                    }
                    (Some(x), Some(y)) => Some(Condition::Contains(x, y)),
                    _ => None,
                };
                (other(Some("BOOL")), c)
            }
            "attribute_type" => {
                let (Some(x), Some(y)) = (a0, a1) else {
                    return (other(None), None);
                };
                if le.function.is_none() {
                    match y.ty() {
                        Some("S") => {
                            if let Some(AttributeValue::S(t)) = y.immediate()
                                && !VALID_TYPES.contains(&t.as_str())
                            {
                                // The list is a Java set printed in its iteration order, which
                                // has varied on AWS (dynalite matches it by regex); this is
                                // DynamoDB Local 3.3's order.
                                fail(
                                    le,
                                    format!(
                                        "Invalid attribute type name found; type: {t}, valid types: {{N,BS,L,B,NULL,M,S,SS,NS,BOOL}}"
                                    ),
                                );
                            }
                        }
                        Some(t) => fail(le, bad_type(t)),
                        None => fail(le, bad_type("{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")),
                    }
                }
                let c = match (x.into_operand(), y.into_operand()) {
                    (Some(x), Some(y)) => Some(Condition::AttributeType(x, y)),
                    _ => None,
                };
                (other(Some("BOOL")), c)
            }
            _ => {
                // size
                let Some(x) = a0 else {
                    return (VOp::Unresolved, None);
                };
                if le.function.is_none()
                    && let Some(t @ ("N" | "BOOL" | "NULL")) = x.ty()
                {
                    fail(le, bad_type(t));
                }
                (VOp::Size(Box::new(x)), None)
            }
        }
    }

    fn finish_leaf(&mut self, le: LeafErrors) {
        if self.errs.condition.is_none() {
            self.errs.condition = le.first();
        }
    }

    fn cond(&mut self, raw: &RawCond) -> Option<Condition> {
        match raw {
            RawCond::Or(a, b) | RawCond::And(a, b) => {
                let x = self.cond(a);
                let y = self.cond(b);
                for side in [&**a, &**b] {
                    self.misused_size(side);
                }
                let (x, y) = (Box::new(x?), Box::new(y?));
                Some(if matches!(raw, RawCond::Or(..)) {
                    Condition::Or(x, y)
                } else {
                    Condition::And(x, y)
                })
            }
            RawCond::Not(a) => {
                let x = self.cond(a);
                self.misused_size(a);
                Some(Condition::Not(Box::new(x?)))
            }
            RawCond::Cmp(op, x, y) => {
                let mut le = LeafErrors::default();
                let ops = [self.operand(x, &mut le), self.operand(y, &mut le)];
                self.misused(&ops);
                Self::distinct(op, &ops, &mut le);
                // Ordering a constant that has no order is a static error, not a false
                // comparison (scylladb test_condition_expression.py, test_update_condition_lt).
                if matches!(*op, "<" | "<=" | ">" | ">=")
                    && le.function.is_none()
                    && let Some(v) = ops
                        .iter()
                        .filter_map(VOp::immediate)
                        .find(|v| v.scalar_type().is_none())
                {
                    le.function = Some(format!(
                        "Incorrect operand type for operator or function; operator or function: {op}, operand type: {}",
                        long_type_name(v)
                    ));
                }
                self.finish_leaf(le);
                let [x, y] = ops;
                let cmp = Comparator::from_str(op)?;
                Some(Condition::Compare(
                    cmp,
                    x.into_operand()?,
                    y.into_operand()?,
                ))
            }
            RawCond::Between(x, lo, hi) => {
                let mut le = LeafErrors::default();
                let ops = [
                    self.operand(x, &mut le),
                    self.operand(lo, &mut le),
                    self.operand(hi, &mut le),
                ];
                self.misused(&ops);
                if let (Some(a), Some(b)) = (ops[1].immediate(), ops[2].immediate())
                    && le.function.is_none()
                {
                    if a.type_name() != b.type_name() {
                        le.function = Some(format!(
                            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                            aws_value_text(a),
                            aws_value_text(b)
                        ));
                    } else if compare_values(a, b) == Some(std::cmp::Ordering::Greater) {
                        le.function = Some(format!(
                            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                            aws_value_text(a),
                            aws_value_text(b)
                        ));
                    }
                }
                self.finish_leaf(le);
                let [x, lo, hi] = ops;
                Some(Condition::Between(
                    x.into_operand()?,
                    lo.into_operand()?,
                    hi.into_operand()?,
                ))
            }
            RawCond::In(x, list) => {
                let mut le = LeafErrors::default();
                let x = self.operand(x, &mut le);
                let list: Vec<VOp> = list.iter().map(|o| self.operand(o, &mut le)).collect();
                self.misused(std::slice::from_ref(&x));
                self.misused(&list);
                // Limits.html: at most 100 operands for IN. Message from an AWS error quoted
                // in reapit/foundations#8255.
                if list.len() > MAX_IN_OPERANDS && le.operand.is_none() {
                    le.operand = Some(format!(
                        "The IN operator is provided with too many operands; number of operands: {}",
                        list.len()
                    ));
                }
                self.finish_leaf(le);
                let list: Option<Vec<Operand>> = list.into_iter().map(VOp::into_operand).collect();
                Some(Condition::In(x.into_operand()?, list?))
            }
            RawCond::Func(f) => {
                let mut le = LeafErrors::default();
                let (_, c) = self.function(f, &mut le);
                self.finish_leaf(le);
                c
            }
        }
    }

    /// `size(...)` alone is not a condition.
    fn misused_size(&mut self, c: &RawCond) {
        if let RawCond::Func(f) = c
            && f.name == "size"
        {
            first(&mut self.errs.misused_function, || {
                "The function is not allowed to be used this way in an expression; function: size"
                    .to_string()
            });
        }
    }
}

/// Validates a parsed condition and substitutes names and values.
pub(crate) fn condition(
    ctx: &mut Ctx,
    raw: &RawCond,
    redundant_parens: bool,
) -> Result<Condition, String> {
    let mut v = CondValidator {
        ctx,
        errs: CondErrors::default(),
    };
    let c = v.cond(raw);
    v.misused_size(raw);
    let e = v.errs;
    if redundant_parens {
        return Err("The expression has redundant parentheses;".to_string());
    }
    if let Some(m) = e
        .unknown_function
        .or(e.misused_function)
        .or(e.reserved)
        .or(e.condition)
    {
        return Err(m);
    }
    // Without an error every part resolved, so the tree is complete.
    c.ok_or_else(|| "Syntax error; token: \"<EOF>\", near: \"\"".to_string())
}

// ---------------------------------------------------------------------------------------
// Paths overlapping (update and projection)
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct PathErrors {
    overlap: Option<String>,
    conflict: Option<String>,
}

/// Records `path` and reports overlaps and conflicts with the paths before it.
fn check_path(seen: &mut Vec<DocPath>, path: &DocPath, errs: &mut PathErrors) {
    if errs.overlap.is_some() {
        return;
    }
    for old in seen.iter() {
        let mut diverged = false;
        for (a, b) in old.0.iter().zip(&path.0) {
            match (a, b) {
                (PathElem::Attr(_), PathElem::Index(_))
                | (PathElem::Index(_), PathElem::Attr(_)) => {
                    // dynalite keeps the last conflict; the first is as good a witness.
                    first(&mut errs.conflict, || {
                        format!(
                            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                            old.aws_display(),
                            path.aws_display()
                        )
                    });
                    diverged = true;
                    break;
                }
                _ if a != b => {
                    diverged = true;
                    break;
                }
                _ => {}
            }
        }
        if !diverged {
            errs.overlap = Some(format!(
                "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                old.aws_display(),
                path.aws_display()
            ));
            return;
        }
    }
    seen.push(path.clone());
}

// ---------------------------------------------------------------------------------------
// Update
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct UpdateErrors {
    reserved: Option<String>,
    unknown_function: Option<String>,
    section: Option<String>,
    attr_name: Option<String>,
    attr_val: Option<String>,
    paths: PathErrors,
    operand: Option<String>,
    function: Option<String>,
}

/// An update operand during validation.
enum UOp {
    Path(DocPath),
    Value(AttributeValue),
    Func(SetOperand),
    Unresolved,
}

impl UOp {
    fn immediate_type(&self) -> Option<&'static str> {
        match self {
            UOp::Value(v) => Some(v.type_name()),
            _ => None,
        }
    }

    fn into_set_operand(self) -> Option<SetOperand> {
        match self {
            UOp::Path(p) => Some(SetOperand::Path(p)),
            UOp::Value(v) => Some(SetOperand::Value(v)),
            UOp::Func(f) => Some(f),
            UOp::Unresolved => None,
        }
    }
}

struct UpdateValidator<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    errs: UpdateErrors,
}

impl UpdateValidator<'_, '_> {
    fn path(&mut self, p: &RawPath) -> Option<DocPath> {
        resolve_path(
            self.ctx,
            p,
            &mut self.errs.reserved,
            &mut self.errs.attr_name,
        )
    }

    fn value(&mut self, v: &str) -> Option<AttributeValue> {
        let r = self.ctx.value(v);
        if r.is_none() {
            first(&mut self.errs.attr_val, || undefined_value(v));
        }
        r
    }

    fn operand(&mut self, raw: &RawOperand) -> UOp {
        match raw {
            RawOperand::Path(p) => self.path(p).map_or(UOp::Unresolved, UOp::Path),
            RawOperand::Value(v) => self.value(v).map_or(UOp::Unresolved, UOp::Value),
            RawOperand::Func(f) => {
                let args: Vec<UOp> = f.args.iter().map(|a| self.operand(a)).collect();
                self.function(&f.name, args)
                    .map_or(UOp::Unresolved, UOp::Func)
            }
        }
    }

    /// Checks a function or `+`/`-`; returns the typed operand when everything resolved.
    fn function(&mut self, name: &str, args: Vec<UOp>) -> Option<SetOperand> {
        let arity = match name {
            "if_not_exists" | "list_append" | "+" | "-" => 2,
            _ => {
                first(&mut self.errs.unknown_function, || {
                    format!("Invalid function name; function: {name}")
                });
                return None;
            }
        };
        if self.errs.function.is_some() {
            return None;
        }
        if args.len() != arity {
            self.errs.function = Some(format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                args.len()
            ));
            return None;
        }
        let want = match name {
            "if_not_exists" => None,
            "list_append" => Some("L"),
            _ => Some("N"),
        };
        if let Some(want) = want {
            for a in &args {
                if let Some(t) = a.immediate_type()
                    && t != want
                {
                    self.errs.function = Some(format!(
                        "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
                    ));
                    return None;
                }
            }
        }
        let mut args = args.into_iter();
        let (a, b) = (args.next()?, args.next()?);
        if name == "if_not_exists" {
            let UOp::Path(p) = a else {
                if !matches!(a, UOp::Unresolved) {
                    self.errs.function = Some(format!(
                        "Operator or function requires a document path; operator or function: {name}"
                    ));
                }
                return None;
            };
            return Some(SetOperand::IfNotExists(p, Box::new(b.into_set_operand()?)));
        }
        let (a, b) = (a.into_set_operand()?, b.into_set_operand()?);
        Some(SetOperand::ListAppend(Box::new(a), Box::new(b)))
    }

    fn set_value(&mut self, raw: &RawSetValue) -> Option<SetValue> {
        match raw {
            RawSetValue::Operand(o) => Some(SetValue::Operand(self.operand(o).into_set_operand()?)),
            RawSetValue::Arith(op, x, y) => {
                let args = vec![self.operand(x), self.operand(y)];
                // Reuse the function checks for arity and immediate operand types.
                let checked = self.function(op, args);
                let SetOperand::ListAppend(a, b) = checked? else {
                    return None;
                };
                Some(if *op == "+" {
                    SetValue::Plus(*a, *b)
                } else {
                    SetValue::Minus(*a, *b)
                })
            }
        }
    }

    fn operator(&mut self, section: Section, v: &AttributeValue) {
        let ty = match v {
            AttributeValue::N(_) if section == Section::Add => return,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => return,
            _ => long_type_name(v),
        };
        // Current AWS appends the allowed type set; dynalite's 2020 expectations predate it.
        // Evidence: DynamoDB Local 3.3 (conformance/scenarios/06_invalid_expressions.json) and
        // real-AWS errors quoted in client test suites ("typeSet: ALLOWED_FOR_ADD_OPERAND").
        first(&mut self.errs.operand, || {
            let name = section.name();
            format!(
                "Incorrect operand type for operator or function; operator: {name}, operand type: {ty}, typeSet: ALLOWED_FOR_{name}_OPERAND"
            )
        });
    }
}

/// Validates a parsed update expression and substitutes names and values.
pub(crate) fn update(ctx: &mut Ctx, raw: &super::parser::RawUpdate) -> Result<Update, String> {
    let mut v = UpdateValidator {
        ctx,
        errs: UpdateErrors::default(),
    };
    let mut seen_sections = Vec::new();
    let mut seen_paths = Vec::new();
    let mut actions = Vec::new();
    let mut complete = true;
    for (section, raw_actions) in &raw.sections {
        for a in raw_actions {
            let action = match a {
                RawAction::Set(p, val) => {
                    let path = v.path(p);
                    let val = v.set_value(val);
                    if let Some(path) = &path {
                        check_path(&mut seen_paths, path, &mut v.errs.paths);
                    }
                    path.zip(val).map(|(p, v)| UpdateAction::Set(p, v))
                }
                RawAction::Remove(p) => {
                    let path = v.path(p);
                    if let Some(path) = &path {
                        check_path(&mut seen_paths, path, &mut v.errs.paths);
                    }
                    path.map(UpdateAction::Remove)
                }
                RawAction::AddDelete(s, p, val) => {
                    let path = v.path(p);
                    let val = v.value(val);
                    if let Some(path) = &path {
                        check_path(&mut seen_paths, path, &mut v.errs.paths);
                    }
                    if let Some(val) = &val {
                        v.operator(*s, val);
                    }
                    path.zip(val).map(|(p, val)| {
                        if *s == Section::Add {
                            UpdateAction::Add(p, val)
                        } else {
                            UpdateAction::Delete(p, val)
                        }
                    })
                }
            };
            match action {
                Some(a) => actions.push(a),
                None => complete = false,
            }
        }
        if seen_sections.contains(section) {
            first(&mut v.errs.section, || {
                format!(
                    "The \"{}\" section can only be used once in an update expression;",
                    section.name()
                )
            });
        }
        seen_sections.push(*section);
    }
    let e = v.errs;
    if let Some(m) = e
        .reserved
        .or(e.unknown_function)
        .or(e.section)
        .or(e.attr_name)
        .or(e.attr_val)
        .or(e.paths.overlap)
        .or(e.paths.conflict)
        .or(e.operand)
        .or(e.function)
    {
        return Err(m);
    }
    if !complete {
        return Err("Syntax error; token: \"<EOF>\", near: \"\"".to_string());
    }
    Ok(Update { actions })
}

// ---------------------------------------------------------------------------------------
// Projection
// ---------------------------------------------------------------------------------------

/// Validates a parsed projection and substitutes names.
pub(crate) fn projection(ctx: &mut Ctx, raw: &[RawPath]) -> Result<Vec<DocPath>, String> {
    let mut reserved = None;
    let mut attr_name = None;
    let mut perrs = PathErrors::default();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for p in raw {
        if let Some(path) = resolve_path(ctx, p, &mut reserved, &mut attr_name) {
            check_path(&mut seen, &path, &mut perrs);
            out.push(path);
        }
    }
    match reserved.or(attr_name).or(perrs.overlap).or(perrs.conflict) {
        Some(m) => Err(m),
        None => Ok(out),
    }
}

// ---------------------------------------------------------------------------------------
// Key conditions
// ---------------------------------------------------------------------------------------

/// Checks that a validated condition has a key condition's shape and converts it.
/// Errors are complete AWS messages (no `Invalid KeyConditionExpression:` prefix).
pub(crate) fn key_condition(c: &Condition) -> Result<KeyCondition, String> {
    let mut predicates = Vec::new();
    key_walk(c, &mut predicates)?;
    for (i, p) in predicates.iter().enumerate() {
        if predicates[..i]
            .iter()
            .any(|q: &KeyPredicate| q.attribute == p.attribute)
        {
            return Err("KeyConditionExpressions must only contain one condition per key".into());
        }
    }
    if predicates.len() > 2 {
        return Err("Conditions can be of length 1 or 2 only".into());
    }
    Ok(KeyCondition { predicates })
}

fn invalid_operator(op: &str) -> String {
    format!("Invalid operator used in KeyConditionExpression: {op}")
}

fn key_walk(c: &Condition, out: &mut Vec<KeyPredicate>) -> Result<(), String> {
    let (operands, first_must_be_key): (Vec<&Operand>, Option<&str>) = match c {
        Condition::And(a, b) => {
            key_walk(a, out)?;
            return key_walk(b, out);
        }
        Condition::Or(..) => return Err(invalid_operator("OR")),
        Condition::Not(..) => return Err(invalid_operator("NOT")),
        Condition::In(..) => return Err(invalid_operator("IN")),
        Condition::Compare(Comparator::Ne, ..) => return Err(invalid_operator("<>")),
        Condition::AttributeExists(_) => return Err(invalid_operator("attribute_exists")),
        Condition::AttributeNotExists(_) => return Err(invalid_operator("attribute_not_exists")),
        Condition::AttributeType(..) => return Err(invalid_operator("attribute_type")),
        Condition::Contains(..) => return Err(invalid_operator("contains")),
        Condition::Compare(_, x, y) => (vec![x, y], None),
        Condition::Between(x, lo, hi) => (vec![x, lo, hi], Some("BETWEEN")),
        Condition::BeginsWith(x, p) => (vec![x, p], Some("begins_with")),
    };
    if let Some(op) = first_must_be_key
        && !matches!(operands.first(), Some(Operand::Path(_)))
    {
        return Err(format!(
            "Invalid condition in KeyConditionExpression: {op} operator must have the key attribute as its first operand"
        ));
    }
    let paths: Vec<&DocPath> = operands
        .iter()
        .filter_map(|o| match o {
            Operand::Path(p) => Some(p),
            _ => None,
        })
        .collect();
    if paths.first().is_some_and(|p| p.0.len() > 1) {
        return Err("KeyConditionExpressions cannot have conditions on nested attributes".into());
    }
    if paths.len() > 1 {
        return Err(
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
                .into(),
        );
    }
    if operands.iter().any(|o| matches!(o, Operand::Size(_))) {
        return Err("KeyConditionExpressions cannot contain nested operations".into());
    }
    let Some(attribute) = paths.first().and_then(|p| p.head()) else {
        return Err(
            "Invalid condition in KeyConditionExpression: No key attribute specified".into(),
        );
    };
    let attribute = attribute.to_string();
    let value = |o: &Operand| match o {
        Operand::Value(v) => Ok(v.clone()),
        _ => Err(
            "Invalid condition in KeyConditionExpression: No key attribute specified".to_string(),
        ),
    };
    let op = match c {
        Condition::Compare(cmp, x, y) => match (x, y) {
            (Operand::Path(_), v) => KeyOp::Compare(*cmp, value(v)?),
            (v, _) => KeyOp::Compare(cmp.flip(), value(v)?),
        },
        Condition::Between(_, lo, hi) => KeyOp::Between(value(lo)?, value(hi)?),
        Condition::BeginsWith(_, p) => KeyOp::BeginsWith(value(p)?),
        _ => return Err(invalid_operator("?")),
    };
    out.push(KeyPredicate { attribute, op });
    Ok(())
}

/// The first top-level attribute a condition reads, in source order, that is in `keys`.
pub(crate) fn first_key_attribute<'k>(c: &Condition, keys: &[&'k str]) -> Option<&'k str> {
    let mut found = None;
    visit_paths(c, &mut |p| {
        if found.is_none()
            && let Some(h) = p.head()
        {
            found = keys.iter().find(|k| **k == h).copied();
        }
    });
    found
}

fn visit_operand(o: &Operand, f: &mut dyn FnMut(&DocPath)) {
    match o {
        Operand::Path(p) => f(p),
        Operand::Value(_) => {}
        Operand::Size(inner) => visit_operand(inner, f),
    }
}

fn visit_paths(c: &Condition, f: &mut dyn FnMut(&DocPath)) {
    match c {
        Condition::And(a, b) | Condition::Or(a, b) => {
            visit_paths(a, f);
            visit_paths(b, f);
        }
        Condition::Not(a) => visit_paths(a, f),
        Condition::Compare(_, x, y)
        | Condition::AttributeType(x, y)
        | Condition::BeginsWith(x, y)
        | Condition::Contains(x, y) => {
            visit_operand(x, f);
            visit_operand(y, f);
        }
        Condition::Between(x, y, z) => {
            visit_operand(x, f);
            visit_operand(y, f);
            visit_operand(z, f);
        }
        Condition::In(x, list) => {
            visit_operand(x, f);
            for o in list {
                visit_operand(o, f);
            }
        }
        Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => f(p),
    }
}
