//! Recursive-descent parsers producing raw trees: names and values are still placeholders,
//! and nothing is validated beyond syntax. Precedence: OR < AND < NOT < comparisons.
//!
//! The grammar is ambiguous at `(`: `(a) = b` groups an operand, `(a = b)` a condition. The
//! parser tries the operand reading first and backtracks; on failure it reports the furthest
//! token any alternative reached, which is where AWS's parser gives up too.

use super::lexer::{Tok, Token, lex, syntax_error};

/// Nesting deeper than this is reported as a syntax error instead of risking the stack.
const MAX_DEPTH: usize = 100;

/// One raw path element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawElem {
    /// A plain identifier (subject to the reserved-word check).
    Ident(String),
    /// `#name`, to be resolved through ExpressionAttributeNames.
    Name(String),
    /// `[n]`
    Index(usize),
}

/// A raw document path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawPath(pub Vec<RawElem>);

/// A raw function call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawFunc {
    pub name: String,
    pub args: Vec<RawOperand>,
}

/// A raw operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawOperand {
    Path(RawPath),
    /// `:value`
    Value(String),
    Func(RawFunc),
}

/// A raw condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawCond {
    Or(Box<RawCond>, Box<RawCond>),
    And(Box<RawCond>, Box<RawCond>),
    Not(Box<RawCond>),
    Cmp(&'static str, RawOperand, RawOperand),
    Between(RawOperand, RawOperand, RawOperand),
    In(RawOperand, Vec<RawOperand>),
    Func(RawFunc),
}

/// The right-hand side of a raw `SET` action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawSetValue {
    Operand(RawOperand),
    /// `+` or `-` with its operands.
    Arith(&'static str, RawOperand, RawOperand),
}

/// The four update sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Set,
    Remove,
    Add,
    Delete,
}

impl Section {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Section::Set => "SET",
            Section::Remove => "REMOVE",
            Section::Add => "ADD",
            Section::Delete => "DELETE",
        }
    }
}

/// One raw update action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawAction {
    Set(RawPath, RawSetValue),
    Remove(RawPath),
    /// ADD or DELETE with its value placeholder.
    AddDelete(Section, RawPath, String),
}

/// A raw update expression: its sections in source order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawUpdate {
    pub sections: Vec<(Section, Vec<RawAction>)>,
}

/// A raw condition plus what the parser noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParsedCond {
    pub cond: RawCond,
    /// Some parentheses wrap parentheses directly.
    pub redundant_parens: bool,
}

/// A syntax error message (without the `Invalid XExpression: ` prefix).
pub(crate) type SyntaxError = String;

type PResult<T> = Result<T, ()>;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    /// The furthest token index at which any alternative failed.
    furthest: usize,
    redundant: bool,
    depth: usize,
    /// Keywords that cannot be identifiers in this grammar.
    keywords: &'static [&'static str],
}

const CONDITION_KEYWORDS: &[&str] = &["AND", "OR", "NOT", "BETWEEN", "IN"];
const UPDATE_KEYWORDS: &[&str] = &["SET", "REMOVE", "ADD", "DELETE"];

impl<'a> Parser<'a> {
    fn new(src: &'a str, keywords: &'static [&'static str]) -> Self {
        Parser {
            src,
            toks: lex(src),
            pos: 0,
            furthest: 0,
            redundant: false,
            depth: 0,
            keywords,
        }
    }

    fn tok(&self) -> &Token {
        // The token list always ends with Eof and `pos` never passes it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn text(&self, t: &Token) -> &'a str {
        self.src.get(t.span.clone()).unwrap_or("")
    }

    fn fail<T>(&mut self) -> PResult<T> {
        self.furthest = self.furthest.max(self.pos);
        Err(())
    }

    fn bump(&mut self) {
        if self.tok().kind != Tok::Eof {
            self.pos += 1;
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.tok().kind, Tok::Punct(q) if q == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> PResult<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            self.fail()
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        let t = self.tok();
        t.kind == Tok::Ident && self.text(t).eq_ignore_ascii_case(kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn is_keyword(&self, word: &str) -> bool {
        self.keywords.iter().any(|k| k.eq_ignore_ascii_case(word))
    }

    fn error(&self) -> SyntaxError {
        syntax_error(self.src, &self.toks, self.furthest.max(self.pos))
    }

    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            return self.fail();
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// An identifier that is not a grammar keyword, or a `#name`.
    fn path_name(&mut self) -> PResult<RawElem> {
        let t = self.tok().clone();
        match t.kind {
            Tok::Ident => {
                let s = self.text(&t);
                if self.is_keyword(s) {
                    return self.fail();
                }
                self.bump();
                Ok(RawElem::Ident(s.to_string()))
            }
            Tok::Name => {
                self.bump();
                Ok(RawElem::Name(self.text(&t).to_string()))
            }
            _ => self.fail(),
        }
    }

    /// The `.x` and `[n]` steps after a path's head.
    fn path_tail(&mut self, elems: &mut Vec<RawElem>) -> PResult<()> {
        loop {
            if self.eat_punct(".") {
                elems.push(self.path_name()?);
            } else if self.eat_punct("[") {
                let t = self.tok().clone();
                if t.kind != Tok::Number {
                    return self.fail();
                }
                let Ok(n) = self.text(&t).parse::<usize>() else {
                    return self.fail();
                };
                self.bump();
                self.expect_punct("]")?;
                elems.push(RawElem::Index(n));
            } else {
                return Ok(());
            }
        }
    }

    fn path(&mut self) -> PResult<RawPath> {
        let mut elems = vec![self.path_name()?];
        self.path_tail(&mut elems)?;
        Ok(RawPath(elems))
    }

    /// `name(args)` where the name is any identifier but a keyword.
    fn function(&mut self, allow_parens: bool) -> PResult<RawFunc> {
        let t = self.tok().clone();
        let name = self.text(&t).to_string();
        if t.kind != Tok::Ident || self.is_keyword(&name) {
            return self.fail();
        }
        self.bump();
        self.expect_punct("(")?;
        let mut args = vec![self.operand_parens(allow_parens)?.0];
        while self.eat_punct(",") {
            args.push(self.operand_parens(allow_parens)?.0);
        }
        self.expect_punct(")")?;
        Ok(RawFunc { name, args })
    }

    /// An operand, possibly parenthesized. Returns whether the whole operand was wrapped in
    /// parentheses. With `grouped_paths`, `(a.b).c` continues a parenthesized path.
    fn operand_parens(&mut self, grouped_paths: bool) -> PResult<(RawOperand, bool)> {
        self.enter()?;
        let r = self.operand_parens_inner(grouped_paths);
        self.leave();
        r
    }

    fn operand_parens_inner(&mut self, grouped_paths: bool) -> PResult<(RawOperand, bool)> {
        if self.eat_punct("(") {
            let (inner, wrapped) = self.operand_parens(grouped_paths)?;
            self.expect_punct(")")?;
            if wrapped {
                self.redundant = true;
            }
            if let RawOperand::Path(RawPath(mut elems)) = inner {
                if grouped_paths && (self.is_punct(".") || self.is_punct("[")) {
                    self.path_tail(&mut elems)?;
                    return Ok((RawOperand::Path(RawPath(elems)), false));
                }
                return Ok((RawOperand::Path(RawPath(elems)), true));
            }
            return Ok((inner, true));
        }
        Ok((self.operand(grouped_paths)?, false))
    }

    fn operand(&mut self, grouped_paths: bool) -> PResult<RawOperand> {
        let t = self.tok().clone();
        match t.kind {
            Tok::Value => {
                self.bump();
                Ok(RawOperand::Value(self.text(&t).to_string()))
            }
            Tok::Ident
                if matches!(
                    self.toks.get(self.pos + 1).map(|t| &t.kind),
                    Some(Tok::Punct("("))
                ) =>
            {
                Ok(RawOperand::Func(self.function(grouped_paths)?))
            }
            _ => Ok(RawOperand::Path(self.path()?)),
        }
    }

    // ---- conditions ----

    fn or(&mut self) -> PResult<(RawCond, bool)> {
        self.enter()?;
        let r = (|| {
            let (mut left, mut wrapped) = self.and()?;
            while self.eat_kw("OR") {
                let (right, _) = self.and()?;
                left = RawCond::Or(Box::new(left), Box::new(right));
                wrapped = false;
            }
            Ok((left, wrapped))
        })();
        self.leave();
        r
    }

    fn and(&mut self) -> PResult<(RawCond, bool)> {
        let (mut left, mut wrapped) = self.not()?;
        while self.eat_kw("AND") {
            let (right, _) = self.not()?;
            left = RawCond::And(Box::new(left), Box::new(right));
            wrapped = false;
        }
        Ok((left, wrapped))
    }

    fn not(&mut self) -> PResult<(RawCond, bool)> {
        if self.eat_kw("NOT") {
            self.enter()?;
            let r = self.not();
            self.leave();
            let (inner, _) = r?;
            return Ok((RawCond::Not(Box::new(inner)), false));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<(RawCond, bool)> {
        let save = (self.pos, self.redundant);
        if let Ok(c) = self.simple() {
            return Ok((c, false));
        }
        (self.pos, self.redundant) = save;
        if self.eat_punct("(") {
            let (inner, wrapped) = self.or()?;
            self.expect_punct(")")?;
            if wrapped {
                self.redundant = true;
            }
            return Ok((inner, true));
        }
        self.fail()
    }

    fn simple(&mut self) -> PResult<RawCond> {
        let (x, _) = self.operand_parens(true)?;
        if let Tok::Punct(p @ ("=" | "<>" | "<" | "<=" | ">" | ">=")) = self.tok().kind {
            self.bump();
            let (y, _) = self.operand_parens(true)?;
            return Ok(RawCond::Cmp(p, x, y));
        }
        if self.eat_kw("BETWEEN") {
            let (y, _) = self.operand_parens(true)?;
            if !self.eat_kw("AND") {
                return self.fail();
            }
            let (z, _) = self.operand_parens(true)?;
            return Ok(RawCond::Between(x, y, z));
        }
        if self.eat_kw("IN") {
            self.expect_punct("(")?;
            let mut list = vec![self.operand_parens(true)?.0];
            while self.eat_punct(",") {
                list.push(self.operand_parens(true)?.0);
            }
            self.expect_punct(")")?;
            return Ok(RawCond::In(x, list));
        }
        match x {
            RawOperand::Func(f) => Ok(RawCond::Func(f)),
            _ => self.fail(),
        }
    }

    fn expect_eof(&mut self) -> PResult<()> {
        if self.tok().kind == Tok::Eof {
            Ok(())
        } else {
            self.fail()
        }
    }

    // ---- update ----

    fn section_keyword(&self) -> Option<Section> {
        [Section::Set, Section::Remove, Section::Add, Section::Delete]
            .into_iter()
            .find(|s| self.is_kw(s.name()))
    }

    fn update(&mut self) -> PResult<RawUpdate> {
        let mut sections = Vec::new();
        loop {
            let Some(section) = self.section_keyword() else {
                return self.fail();
            };
            self.bump();
            let mut actions = vec![self.action(section)?];
            while self.eat_punct(",") {
                actions.push(self.action(section)?);
            }
            sections.push((section, actions));
            if self.tok().kind == Tok::Eof {
                return Ok(RawUpdate { sections });
            }
        }
    }

    fn action(&mut self, section: Section) -> PResult<RawAction> {
        let path = self.path()?;
        match section {
            Section::Set => {
                self.expect_punct("=")?;
                Ok(RawAction::Set(path, self.set_value()?))
            }
            Section::Remove => Ok(RawAction::Remove(path)),
            Section::Add | Section::Delete => {
                let t = self.tok().clone();
                if t.kind != Tok::Value {
                    return self.fail();
                }
                self.bump();
                Ok(RawAction::AddDelete(
                    section,
                    path,
                    self.text(&t).to_string(),
                ))
            }
        }
    }

    /// `operand [(+|-) operand]`, or the same inside one pair of parentheses.
    fn set_value(&mut self) -> PResult<RawSetValue> {
        let save = (self.pos, self.redundant);
        if let Ok(v) = self.arith() {
            if self.at_action_end() {
                return Ok(v);
            }
            self.fail::<()>().ok();
        }
        (self.pos, self.redundant) = save;
        if self.eat_punct("(") {
            let v = self.arith()?;
            self.expect_punct(")")?;
            return Ok(v);
        }
        self.fail()
    }

    fn at_action_end(&self) -> bool {
        self.tok().kind == Tok::Eof || self.is_punct(",") || self.section_keyword().is_some()
    }

    fn arith(&mut self) -> PResult<RawSetValue> {
        let (x, _) = self.operand_parens(false)?;
        for op in ["+", "-"] {
            if self.eat_punct(op) {
                let (y, _) = self.operand_parens(false)?;
                return Ok(RawSetValue::Arith(op, x, y));
            }
        }
        Ok(RawSetValue::Operand(x))
    }

    // ---- projection ----

    fn projection(&mut self) -> PResult<Vec<RawPath>> {
        let mut paths = vec![self.path()?];
        while self.eat_punct(",") {
            paths.push(self.path()?);
        }
        self.expect_eof()?;
        Ok(paths)
    }
}

/// The most operators one expression may hold (Limits.html, expression parameters).
const MAX_OPERATORS: usize = 300;

/// Counts a condition's operators from its tokens: AND, OR, NOT, comparators, IN and
/// function calls (BETWEEN and its AND count once). Exact for well-formed conditions.
fn count_operators(p: &Parser) -> usize {
    let mut n = 0;
    for (i, t) in p.toks.iter().enumerate() {
        n += match t.kind {
            Tok::Punct("=" | "<>" | "<" | "<=" | ">" | ">=") => 1,
            Tok::Ident => {
                let w = p.text(t);
                let call = matches!(p.toks.get(i + 1).map(|t| &t.kind), Some(Tok::Punct("(")));
                usize::from(
                    ["AND", "OR", "NOT", "IN"]
                        .iter()
                        .any(|k| w.eq_ignore_ascii_case(k))
                        || (call && !p.is_keyword(w)),
                )
            }
            _ => 0,
        };
    }
    n
}

/// Parses a condition (ConditionExpression, FilterExpression, KeyConditionExpression).
pub(crate) fn parse_condition(src: &str) -> Result<ParsedCond, SyntaxError> {
    let mut p = Parser::new(src, CONDITION_KEYWORDS);
    // Checked before parsing, which also bounds the depth of the trees built later. The
    // message is quoted in aws/aws-sdk-js#3721; that AWS ranks it before syntax errors is a
    // guess.
    let operators = count_operators(&p);
    if operators > MAX_OPERATORS {
        return Err(format!(
            "The expression contains too many operators; operator count: {operators}"
        ));
    }
    match p.or().and_then(|(c, _)| p.expect_eof().map(|()| c)) {
        Ok(cond) => Ok(ParsedCond {
            cond,
            redundant_parens: p.redundant,
        }),
        Err(()) => Err(p.error()),
    }
}

/// Parses an UpdateExpression.
pub(crate) fn parse_update(src: &str) -> Result<RawUpdate, SyntaxError> {
    let mut p = Parser::new(src, UPDATE_KEYWORDS);
    p.update().map_err(|()| p.error())
}

/// Parses a ProjectionExpression.
pub(crate) fn parse_projection(src: &str) -> Result<Vec<RawPath>, SyntaxError> {
    let mut p = Parser::new(src, &[]);
    p.projection().map_err(|()| p.error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn syntax(src: &str, expect: &str) {
        let err = parse_condition(src).expect_err("should fail");
        assert_eq!(err, expect);
    }

    #[test]
    fn precedence_or_and_not() {
        let c = parse_condition("NOT a = :a AND b = :b OR c = :c")
            .unwrap()
            .cond;
        let RawCond::Or(l, _) = c else {
            panic!("{c:?}")
        };
        let RawCond::And(l, _) = *l else { panic!() };
        assert!(matches!(*l, RawCond::Not(_)));
    }

    #[test]
    fn grouped_operands_and_conditions() {
        assert!(parse_condition("(a) = (b)").is_ok());
        assert!(parse_condition("(a = b)").is_ok());
        assert!(parse_condition("(a)between(b.c[45].#d)and(:a)").is_ok());
        assert!(parse_condition("((a.b)).c > d").unwrap().redundant_parens);
        assert!(
            !parse_condition("((a=a) OR (a=a))")
                .unwrap()
                .redundant_parens
        );
        assert!(
            parse_condition("a=a OR ((a=a OR a=a))")
                .unwrap()
                .redundant_parens
        );
    }

    #[test]
    fn syntax_errors_name_the_token() {
        syntax("a > 4", r#"Syntax error; token: "4", near: "> 4""#);
        syntax("a in b", r#"Syntax error; token: "b", near: "in b""#);
        syntax("a = ", r#"Syntax error; token: "<EOF>", near: "= ""#);
    }

    #[test]
    fn update_sections() {
        let u = parse_update(
            "SET a = b + :c, d = (list_append(e, :f)) REMOVE g[1] ADD h :i DELETE j :k",
        )
        .unwrap();
        assert_eq!(u.sections.len(), 4);
        assert!(parse_update("set a = b + c + d").is_err());
        assert!(parse_update("set a = (b + c)").is_ok());
        assert!(parse_update("set a = (b) + (c)").is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("{}a = b{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse_condition(&src).is_err());
    }
}
