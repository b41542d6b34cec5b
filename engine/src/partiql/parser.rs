//! Recursive descent over the tokens: statements, conditions (OR < AND < NOT < predicates <
//! `+`/`-` < primaries) and literals.
//!
//! Syntax errors are AWS's `Statement wasn't well formed, can't be processed: <statement>`;
//! errors about a well-formed but unsupported piece quote its position as
//! `line:column:length`, as DynamoDB does (`Duplicate keys in tuple. Key: a under root at
//! 1:69:3`, from DynamoDB Local 3.3.1).

use std::ops::Range;

use super::ast::{BinOp, Expr, IsWhat, Lit, Path, Returning, SelectList, Statement, UpdateClause};
use super::lexer::{Tok, Token, lex};
use crate::error::Error;
use crate::expr::PathElem;

/// Words that cannot be bare attribute names.
const RESERVED: &[&str] = &[
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "is",
    "between",
    "insert",
    "into",
    "value",
    "values",
    "update",
    "set",
    "remove",
    "delete",
    "returning",
    "order",
    "by",
    "asc",
    "desc",
    "exists",
    "missing",
    "null",
    "true",
    "false",
];

/// `line:column:length` of a span, as AWS quotes positions.
pub(crate) fn position(src: &str, span: &Range<usize>) -> String {
    let before = &src[..span.start.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let len = src.get(span.clone()).map_or(0, |s| s.chars().count());
    format!("{line}:{col}:{len}")
}

/// AWS's message for a statement it cannot parse.
pub(crate) fn not_well_formed(src: &str) -> Error {
    Error::Validation(format!(
        "Statement wasn't well formed, can't be processed: {src}"
    ))
}

/// How deeply parentheses, NOT, calls and literals may nest. Deeper statements are refused
/// as not well formed instead of exhausting the stack (a statement may be 8 KB).
const MAX_DEPTH: usize = 64;

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    params: usize,
    depth: usize,
}

type PResult<T> = Result<T, Error>;

/// Parses one statement. Also returns the number of `?` parameters it holds.
pub fn parse(src: &str) -> Result<(Statement, usize), Error> {
    let toks = lex(src).map_err(|_| not_well_formed(src))?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        params: 0,
        depth: 0,
    };
    let stmt = p.statement()?;
    if p.pos != p.toks.len() {
        return Err(p.bad());
    }
    Ok((stmt, p.params))
}

impl<'s> Parser<'s> {
    fn bad(&self) -> Error {
        not_well_formed(self.src)
    }

    /// Enters one nesting level; `leave` must follow on success.
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.bad());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_kw(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_kw(kw))
    }

    fn peek_punct(&self, p: &str) -> bool {
        self.peek().is_some_and(|t| t.is(p))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.peek_kw(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let hit = self.peek_punct(p);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.bad())
        }
    }

    fn punct(&mut self, p: &str) -> PResult<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.bad())
        }
    }

    fn next(&mut self) -> PResult<Token> {
        let t = self.peek().cloned().ok_or_else(|| self.bad())?;
        self.pos += 1;
        Ok(t)
    }

    /// A table or index name: bare or double-quoted.
    fn name(&mut self) -> PResult<String> {
        match self.next()?.tok {
            Tok::Quoted(s) => Ok(s),
            Tok::Ident(s) if !is_reserved(&s) => Ok(s),
            _ => Err(self.bad()),
        }
    }

    fn statement(&mut self) -> PResult<Statement> {
        if self.eat_kw("select") {
            self.select()
        } else if self.eat_kw("insert") {
            self.insert()
        } else if self.eat_kw("update") {
            self.update()
        } else if self.eat_kw("delete") {
            self.kw("from")?;
            let table = self.name()?;
            self.kw("where")?;
            let filter = self.condition()?;
            let returning = self.returning()?;
            Ok(Statement::Delete {
                table,
                filter,
                returning,
            })
        } else if self.eat_kw("exists") {
            self.punct("(")?;
            self.kw("select")?;
            let inner = self.select_body(true)?;
            self.punct(")")?;
            match inner {
                Statement::Select {
                    list: SelectList::Star,
                    table,
                    index: None,
                    filter: Some(filter),
                    order_by,
                } if order_by.is_empty() => Ok(Statement::Exists { table, filter }),
                _ => Err(self.bad()),
            }
        } else {
            Err(self.bad())
        }
    }

    fn select(&mut self) -> PResult<Statement> {
        self.select_body(false)
    }

    fn select_body(&mut self, nested: bool) -> PResult<Statement> {
        let list = if self.eat_punct("*") {
            SelectList::Star
        } else {
            let mut paths = vec![self.select_path()?];
            while self.eat_punct(",") {
                paths.push(self.select_path()?);
            }
            SelectList::Paths(paths)
        };
        self.kw("from")?;
        let table = self.name()?;
        let index = if self.eat_punct(".") {
            Some(self.name()?)
        } else {
            None
        };
        let filter = if self.eat_kw("where") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if !nested && self.eat_kw("order") {
            self.kw("by")?;
            loop {
                let path = self.path()?;
                let desc = if self.eat_kw("desc") {
                    true
                } else {
                    self.eat_kw("asc");
                    false
                };
                order_by.push((path, desc));
                if !self.eat_punct(",") {
                    break;
                }
            }
        }
        Ok(Statement::Select {
            list,
            table,
            index,
            filter,
            order_by,
        })
    }

    /// A projected path; a function call here is AWS's "Unexpected path component".
    fn select_path(&mut self) -> PResult<Path> {
        if let (Some(t), Some(next)) = (self.peek(), self.toks.get(self.pos + 1))
            && matches!(t.tok, Tok::Ident(_))
            && next.is("(")
        {
            return Err(Error::Validation(format!(
                "Unexpected path component at {}",
                position(self.src, &t.span)
            )));
        }
        self.path()
    }

    fn insert(&mut self) -> PResult<Statement> {
        self.kw("into")?;
        let table = self.name()?;
        self.kw("value")?;
        let value = self.additive()?;
        if self.peek_kw("returning") {
            return Err(Error::validation("RETURNING is not supported in INSERT"));
        }
        Ok(Statement::Insert { table, value })
    }

    fn update(&mut self) -> PResult<Statement> {
        let table = self.name()?;
        let mut clauses = Vec::new();
        loop {
            if self.eat_kw("set") {
                loop {
                    let path = self.path()?;
                    self.punct("=")?;
                    let value = self.additive()?;
                    clauses.push(UpdateClause::Set(path, value));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
            } else if self.eat_kw("remove") {
                clauses.push(UpdateClause::Remove(self.path()?));
            } else {
                break;
            }
        }
        if clauses.is_empty() {
            return Err(self.bad());
        }
        self.kw("where")?;
        let filter = self.condition()?;
        let returning = self.returning()?;
        Ok(Statement::Update {
            table,
            clauses,
            filter,
            returning,
        })
    }

    fn returning(&mut self) -> PResult<Option<Returning>> {
        if !self.eat_kw("returning") {
            return Ok(None);
        }
        let all = if self.eat_kw("all") {
            true
        } else {
            self.kw("modified")?;
            false
        };
        let old = if self.eat_kw("old") {
            true
        } else {
            self.kw("new")?;
            false
        };
        self.punct("*")?;
        Ok(Some(match (all, old) {
            (true, true) => Returning::AllOld,
            (false, true) => Returning::ModifiedOld,
            (true, false) => Returning::AllNew,
            (false, false) => Returning::ModifiedNew,
        }))
    }

    /// A path: a name, then `.name` and `[n]` steps.
    fn path(&mut self) -> PResult<Path> {
        let first = self.next()?;
        let head = match first.tok {
            Tok::Quoted(s) => s,
            Tok::Ident(s) if !is_reserved(&s) => s,
            _ => return Err(self.bad()),
        };
        let mut elems = vec![PathElem::Attr(head)];
        let mut end = first.span.end;
        loop {
            if self.peek_punct(".") {
                self.pos += 1;
                let t = self.next()?;
                match t.tok {
                    Tok::Quoted(s) => elems.push(PathElem::Attr(s)),
                    Tok::Ident(s) => elems.push(PathElem::Attr(s)),
                    _ => return Err(self.bad()),
                }
                end = t.span.end;
            } else if self.peek_punct("[") {
                self.pos += 1;
                let t = self.next()?;
                match t.tok {
                    Tok::Num(n) => {
                        let i = n.parse::<usize>().map_err(|_| self.bad())?;
                        elems.push(PathElem::Index(i));
                    }
                    Tok::Str(s) => elems.push(PathElem::Attr(s)),
                    _ => return Err(self.bad()),
                }
                let close = self.next()?;
                if !close.is("]") {
                    return Err(self.bad());
                }
                end = close.span.end;
            } else {
                break;
            }
        }
        Ok(Path {
            elems,
            span: first.span.start..end,
        })
    }

    fn condition(&mut self) -> PResult<Expr> {
        let mut left = self.and()?;
        while self.eat_kw("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut left = self.not()?;
        while self.eat_kw("and") {
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> PResult<Expr> {
        if self.eat_kw("not") {
            self.enter()?;
            let inner = self.not()?;
            self.leave();
            Ok(Expr::Not(Box::new(inner)))
        } else {
            self.predicate()
        }
    }

    fn predicate(&mut self) -> PResult<Expr> {
        let left = self.additive()?;
        let op = match self.peek().map(|t| &t.tok) {
            Some(Tok::Punct("=")) => Some(BinOp::Eq),
            Some(Tok::Punct("<>" | "!=")) => Some(BinOp::Ne),
            Some(Tok::Punct("<")) => Some(BinOp::Lt),
            Some(Tok::Punct("<=")) => Some(BinOp::Le),
            Some(Tok::Punct(">")) => Some(BinOp::Gt),
            Some(Tok::Punct(">=")) => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.additive()?;
            return Ok(Expr::Binary(op, Box::new(left), Box::new(right)));
        }
        if self.eat_kw("is") {
            let negated = self.eat_kw("not");
            let what = if self.eat_kw("missing") {
                IsWhat::Missing
            } else if self.eat_kw("null") {
                IsWhat::Null
            } else {
                return Err(self.bad());
            };
            return Ok(Expr::Is(Box::new(left), what, negated));
        }
        let negated = self.peek_kw("not")
            && self
                .toks
                .get(self.pos + 1)
                .is_some_and(|t| t.is_kw("between") || t.is_kw("in"));
        if negated {
            self.pos += 1;
        }
        if self.eat_kw("between") {
            let lo = self.additive()?;
            self.kw("and")?;
            let hi = self.additive()?;
            return Ok(Expr::Between(
                Box::new(left),
                Box::new(lo),
                Box::new(hi),
                negated,
            ));
        }
        if self.eat_kw("in") {
            let close = if self.eat_punct("[") {
                "]"
            } else {
                self.punct("(")?;
                ")"
            };
            let mut list = vec![self.additive()?];
            while self.eat_punct(",") {
                list.push(self.additive()?);
            }
            self.punct(close)?;
            return Ok(Expr::In(Box::new(left), list, negated));
        }
        if negated {
            return Err(self.bad());
        }
        Ok(left)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut left = self.primary()?;
        loop {
            let op = if self.peek_punct("+") {
                BinOp::Add
            } else if self.peek_punct("-") {
                BinOp::Sub
            } else {
                break;
            };
            self.pos += 1;
            let right = self.primary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.primary_inner();
        self.leave();
        e
    }

    fn primary_inner(&mut self) -> PResult<Expr> {
        let t = self.peek().cloned().ok_or_else(|| self.bad())?;
        match &t.tok {
            Tok::Punct("(") => {
                self.pos += 1;
                let e = self.condition()?;
                self.punct(")")?;
                Ok(e)
            }
            Tok::Ident(name)
                if self.toks.get(self.pos + 1).is_some_and(|n| n.is("(")) && !is_reserved(name) =>
            {
                self.pos += 2;
                let mut args = Vec::new();
                if !self.eat_punct(")") {
                    args.push(self.condition()?);
                    while self.eat_punct(",") {
                        args.push(self.condition()?);
                    }
                    self.punct(")")?;
                }
                let end = self.toks[self.pos - 1].span.end;
                Ok(Expr::Call(
                    name.to_ascii_lowercase(),
                    args,
                    t.span.start..end,
                ))
            }
            Tok::Ident(_) | Tok::Quoted(_)
                if !(t.is_kw("true") || t.is_kw("false") || t.is_kw("null")) =>
            {
                Ok(Expr::Path(self.path()?))
            }
            _ => {
                let start = t.span.start;
                let lit = self.literal()?;
                let end = self.toks[self.pos - 1].span.end;
                Ok(Expr::Lit(lit, start..end))
            }
        }
    }

    fn literal(&mut self) -> PResult<Lit> {
        self.enter()?;
        let l = self.literal_inner();
        self.leave();
        l
    }

    fn literal_inner(&mut self) -> PResult<Lit> {
        let t = self.next()?;
        Ok(match t.tok {
            Tok::Str(s) => Lit::Str(s),
            Tok::Num(n) => Lit::Num(n),
            Tok::Punct("-") => match self.next()?.tok {
                Tok::Num(n) => Lit::Num(format!("-{n}")),
                _ => return Err(self.bad()),
            },
            Tok::Param => {
                self.params += 1;
                Lit::Param(self.params - 1)
            }
            Tok::Ident(ref s) if s.eq_ignore_ascii_case("true") => Lit::Bool(true),
            Tok::Ident(ref s) if s.eq_ignore_ascii_case("false") => Lit::Bool(false),
            Tok::Ident(ref s) if s.eq_ignore_ascii_case("null") => Lit::Null,
            Tok::Punct("[") => Lit::List(self.elements("]")?),
            Tok::Punct("<<") => {
                let items = self.elements(">>")?;
                if items.is_empty() {
                    return Err(Error::Validation(format!(
                        "Empty bags are not supported at {}",
                        position(self.src, &t.span)
                    )));
                }
                Lit::Bag(items)
            }
            Tok::Punct("{") => {
                let mut fields: Vec<(String, Range<usize>, Lit, Range<usize>)> = Vec::new();
                if !self.eat_punct("}") {
                    loop {
                        let k = self.next()?;
                        let key = match k.tok {
                            Tok::Str(s) => s,
                            Tok::Ident(_) | Tok::Quoted(_) => {
                                return Err(Error::Validation(format!(
                                    "Tuple keys must be of type String. Actual type: VariableReference under root at {}",
                                    position(self.src, &k.span)
                                )));
                            }
                            _ => return Err(self.bad()),
                        };
                        self.punct(":")?;
                        let vstart = self.peek().map_or(0, |t| t.span.start);
                        let v = self.literal()?;
                        let vend = self.toks[self.pos - 1].span.end;
                        if fields.iter().any(|(f, ..)| *f == key) {
                            return Err(Error::Validation(format!(
                                "Duplicate keys in tuple. Key: {key} under root at {}",
                                position(self.src, &k.span)
                            )));
                        }
                        fields.push((key, k.span, v, vstart..vend));
                        if !self.eat_punct(",") {
                            break;
                        }
                    }
                    self.punct("}")?;
                }
                Lit::Tuple(fields)
            }
            _ => return Err(self.bad()),
        })
    }

    fn elements(&mut self, close: &str) -> PResult<Vec<Lit>> {
        let mut items = Vec::new();
        if self.eat_punct(close) {
            return Ok(items);
        }
        loop {
            items.push(self.literal()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.punct(close)?;
        Ok(items)
    }
}

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}
