//! The syntax tree of one PartiQL statement, before tables and parameters are known.

use std::ops::Range;

use crate::expr::PathElem;

/// A document path such as `a.b[0]` or `"a"."b"`, with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The steps: the first is always an attribute name.
    pub elems: Vec<PathElem>,
    /// Where it was written.
    pub span: Range<usize>,
}

/// A literal value, possibly holding parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `'text'`
    Str(String),
    /// A number as written (a leading `-` included).
    Num(String),
    /// `TRUE` / `FALSE`
    Bool(bool),
    /// `NULL`
    Null,
    /// `?`: the parameter with this zero-based position.
    Param(usize),
    /// `{'k': v, …}` (a tuple): keys with their spans.
    Tuple(Vec<(String, Range<usize>, Lit, Range<usize>)>),
    /// `[v, …]`
    List(Vec<Lit>),
    /// `<<v, …>>`
    Bag(Vec<Lit>),
}

/// A comparison or arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `=`
    Eq,
    /// `<>` or `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
}

/// What `IS [NOT]` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsWhat {
    /// `IS MISSING`
    Missing,
    /// `IS NULL`
    Null,
}

/// An expression: a condition, an operand or a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A document path of the item.
    Path(Path),
    /// A literal (or parameter) with its span.
    Lit(Lit, Range<usize>),
    /// `name(args)`; the name in lower case.
    Call(String, Vec<Expr>, Range<usize>),
    /// `a <op> b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a AND b`
    And(Box<Expr>, Box<Expr>),
    /// `a OR b`
    Or(Box<Expr>, Box<Expr>),
    /// `NOT a`
    Not(Box<Expr>),
    /// `a [NOT] BETWEEN b AND c`
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    /// `a [NOT] IN [b, …]`
    In(Box<Expr>, Vec<Expr>, bool),
    /// `a IS [NOT] MISSING|NULL`
    Is(Box<Expr>, IsWhat, bool),
}

/// `RETURNING` of UPDATE and DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    /// `ALL OLD *`
    AllOld,
    /// `MODIFIED OLD *`
    ModifiedOld,
    /// `ALL NEW *`
    AllNew,
    /// `MODIFIED NEW *`
    ModifiedNew,
}

impl Returning {
    /// The UpdateItem `ReturnValues` this stands for.
    pub fn return_values(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL_OLD",
            Returning::ModifiedOld => "UPDATED_OLD",
            Returning::AllNew => "ALL_NEW",
            Returning::ModifiedNew => "UPDATED_NEW",
        }
    }

    /// The clause as written, for messages.
    pub fn text(self) -> &'static str {
        match self {
            Returning::AllOld => "RETURNING ALL OLD *",
            Returning::ModifiedOld => "RETURNING MODIFIED OLD *",
            Returning::AllNew => "RETURNING ALL NEW *",
            Returning::ModifiedNew => "RETURNING MODIFIED NEW *",
        }
    }
}

/// One clause of an UPDATE.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateClause {
    /// `SET path = value`
    Set(Path, Expr),
    /// `REMOVE path`
    Remove(Path),
}

/// `SELECT` projection.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectList {
    /// `*`
    Star,
    /// Paths, in order.
    Paths(Vec<Path>),
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT … FROM "t"[."i"] [WHERE …] [ORDER BY …]`
    Select {
        /// The projection.
        list: SelectList,
        /// Table name.
        table: String,
        /// Index name.
        index: Option<String>,
        /// The WHERE condition.
        filter: Option<Expr>,
        /// `ORDER BY` keys with `true` for `DESC`.
        order_by: Vec<(Path, bool)>,
    },
    /// `INSERT INTO "t" VALUE {…}`
    Insert {
        /// Table name.
        table: String,
        /// The item.
        value: Expr,
    },
    /// `UPDATE "t" SET …/REMOVE … WHERE … [RETURNING …]`
    Update {
        /// Table name.
        table: String,
        /// Clauses in order.
        clauses: Vec<UpdateClause>,
        /// The WHERE condition.
        filter: Expr,
        /// The RETURNING clause.
        returning: Option<Returning>,
    },
    /// `DELETE FROM "t" WHERE … [RETURNING ALL OLD *]`
    Delete {
        /// Table name.
        table: String,
        /// The WHERE condition.
        filter: Expr,
        /// The RETURNING clause.
        returning: Option<Returning>,
    },
    /// `EXISTS(SELECT * FROM "t" WHERE …)`: a condition check inside ExecuteTransaction.
    Exists {
        /// Table name.
        table: String,
        /// The WHERE condition.
        filter: Expr,
    },
}

impl Statement {
    /// The table the statement names.
    pub fn table(&self) -> &str {
        match self {
            Statement::Select { table, .. }
            | Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. }
            | Statement::Exists { table, .. } => table,
        }
    }

    /// Whether the statement reads (SELECT) rather than writes.
    pub fn is_read(&self) -> bool {
        matches!(self, Statement::Select { .. })
    }
}
