//! A tiny regular-expression matcher for the `pattern` constraints of the service models.
//!
//! Coral checks `pattern` traits with Java's `String.matches` (whole-string match). The models
//! use only a handful of patterns (see `harness/model/README.md`), all built from:
//!
//! * character classes `[...]` / `[^...]` with ranges and the escapes `\uXXXX` (a surrogate
//!   pair `\uD800\uDC00` is combined into one code point, as Java does), `\xHH`, `\t`, `\r`,
//!   `\n`, `\w`, `\d`, `\s`, `\p{Print}` and escaped punctuation;
//! * `.`, literal characters and escaped literals outside classes;
//! * groups `( ... )`;
//! * quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`;
//! * a leading `^` and a trailing `$` (no-ops under whole-string matching).
//!
//! Anything else (alternation `|` outside a class, back-references, look-around, other `\p{..}`
//! classes, ...) makes [`Pattern::compile`] return `None`; the validator then skips the
//! constraint. Matching is a Pike-VM simulation over code points: linear in the input length,
//! no recursion on the input, so hostile strings cannot blow the stack.

/// A compiled pattern (whole-string match semantics, like Java's `String.matches`).
#[derive(Debug, Clone)]
pub struct Pattern {
    prog: Vec<Inst>,
    classes: Vec<CharClass>,
}

#[derive(Debug, Clone)]
enum Inst {
    /// Consume one code point in class `.0`, then go to the next instruction.
    Char(usize),
    /// Try both targets.
    Split(usize, usize),
    /// Continue at target.
    Jmp(usize),
    /// Whole-string match if the input is exhausted.
    Match,
}

#[derive(Debug, Clone, Default)]
struct CharClass {
    ranges: Vec<(u32, u32)>,
    negated: bool,
}

impl CharClass {
    fn matches(&self, c: char) -> bool {
        let c = c as u32;
        let inside = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        inside != self.negated
    }
}

#[derive(Debug, Clone)]
enum Node {
    Class(usize),
    Group(Vec<Item>),
}

#[derive(Debug, Clone)]
struct Item {
    node: Node,
    min: u32,
    max: Option<u32>,
}

/// Upper bound on compiled program size (counted repetitions are expanded).
const MAX_PROGRAM: usize = 20_000;

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    classes: &'a mut Vec<CharClass>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn add_class(&mut self, class: CharClass) -> usize {
        self.classes.push(class);
        self.classes.len() - 1
    }

    /// Parses a sequence until `)` (if `in_group`) or the end.
    fn sequence(&mut self, in_group: bool, depth: usize) -> Option<Vec<Item>> {
        if depth > 16 {
            return None;
        }
        let mut items = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return if in_group { None } else { Some(items) };
            };
            let node = match c {
                ')' => {
                    return if in_group {
                        self.pos += 1;
                        Some(items)
                    } else {
                        None
                    };
                }
                '(' => {
                    self.pos += 1;
                    if self.peek() == Some('?') {
                        return None; // non-capturing / look-around: unsupported
                    }
                    Node::Group(self.sequence(true, depth + 1)?)
                }
                '[' => {
                    self.pos += 1;
                    let class = self.class()?;
                    Node::Class(self.add_class(class))
                }
                '.' => {
                    self.pos += 1;
                    let class = CharClass {
                        ranges: vec![(0x0A, 0x0A), (0x0D, 0x0D)],
                        negated: true,
                    };
                    Node::Class(self.add_class(class))
                }
                '^' if self.pos == 0 => {
                    self.pos += 1;
                    continue;
                }
                '$' if self.pos + 1 == self.chars.len() => {
                    self.pos += 1;
                    continue;
                }
                '|' | '*' | '+' | '?' | '{' | '^' | '$' => return None,
                '\\' => {
                    self.pos += 1;
                    let mut class = CharClass::default();
                    self.escape(&mut class)?;
                    Node::Class(self.add_class(class))
                }
                _ => {
                    self.pos += 1;
                    let class = CharClass {
                        ranges: vec![(c as u32, c as u32)],
                        negated: false,
                    };
                    Node::Class(self.add_class(class))
                }
            };
            let (min, max) = self.quantifier()?;
            items.push(Item { node, min, max });
        }
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while matches!(self.peek(), Some('0'..='9')) {
            self.pos += 1;
        }
        let s: String = self.chars.get(start..self.pos)?.iter().collect();
        s.parse().ok()
    }

    fn quantifier(&mut self) -> Option<(u32, Option<u32>)> {
        let q = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                self.pos += 1;
                let min = self.number()?;
                let max = match self.next()? {
                    '}' => return Some((min, Some(min))),
                    ',' => {
                        if self.peek() == Some('}') {
                            None
                        } else {
                            Some(self.number()?)
                        }
                    }
                    _ => return None,
                };
                if self.next()? != '}' {
                    return None;
                }
                if max.is_some_and(|m| m < min) {
                    return None;
                }
                return Some((min, max));
            }
            _ => return Some((1, Some(1))),
        };
        self.pos += 1;
        if matches!(self.peek(), Some('?' | '+')) {
            return None; // lazy / possessive quantifiers: unsupported
        }
        Some(q)
    }

    fn hex(&mut self, digits: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..digits {
            v = v * 16 + self.next()?.to_digit(16)?;
        }
        Some(v)
    }

    /// Parses an escape (after the backslash) into `class`. Returns the single code point if
    /// the escape denotes exactly one character (usable as a range bound).
    fn escape(&mut self, class: &mut CharClass) -> Option<Option<u32>> {
        let c = self.next()?;
        let single = match c {
            'u' => {
                let hi = self.hex(4)?;
                if (0xD800..0xDC00).contains(&hi)
                    && self.chars.get(self.pos) == Some(&'\\')
                    && self.chars.get(self.pos + 1) == Some(&'u')
                {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex(4)?;
                    if (0xDC00..0xE000).contains(&lo) {
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        self.pos = save;
                        hi
                    }
                } else {
                    hi
                }
            }
            'x' => self.hex(2)?,
            't' => 0x09,
            'n' => 0x0A,
            'r' => 0x0D,
            'f' => 0x0C,
            'w' => {
                class
                    .ranges
                    .extend([(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]);
                return Some(None);
            }
            'd' => {
                class.ranges.push((0x30, 0x39));
                return Some(None);
            }
            's' => {
                class.ranges.extend([(0x09, 0x0D), (0x20, 0x20)]);
                return Some(None);
            }
            'p' => {
                let name: String = {
                    if self.next()? != '{' {
                        return None;
                    }
                    let mut s = String::new();
                    loop {
                        match self.next()? {
                            '}' => break s,
                            ch => s.push(ch),
                        }
                    }
                };
                match name.as_str() {
                    // java.util.regex POSIX class (US-ASCII): [\p{Graph}\x20]
                    "Print" => class.ranges.push((0x20, 0x7E)),
                    "Graph" => class.ranges.push((0x21, 0x7E)),
                    "Alnum" => class
                        .ranges
                        .extend([(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)]),
                    _ => return None,
                }
                return Some(None);
            }
            c if c.is_ascii_alphanumeric() => return None, // unknown letter escape
            c => c as u32,
        };
        class.ranges.push((single, single));
        Some(Some(single))
    }

    /// Parses a class body after `[` up to and including `]`.
    fn class(&mut self) -> Option<CharClass> {
        let mut class = CharClass::default();
        if self.peek() == Some('^') {
            class.negated = true;
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self.next()?;
            let lo = match c {
                ']' if !first => return Some(class),
                '[' | '&' if !first => return None, // nested classes / intersections
                '\\' => match self.escape(&mut class)? {
                    Some(v) => {
                        class.ranges.pop();
                        v
                    }
                    None => {
                        first = false;
                        continue;
                    }
                },
                c => c as u32,
            };
            first = false;
            // range?
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                self.pos += 1;
                let hi = match self.next()? {
                    '\\' => {
                        let mut tmp = CharClass::default();
                        self.escape(&mut tmp)??
                    }
                    c => c as u32,
                };
                if hi < lo {
                    return None;
                }
                class.ranges.push((lo, hi));
            } else {
                class.ranges.push((lo, lo));
            }
        }
    }
}

fn emit(items: &[Item], prog: &mut Vec<Inst>) -> Option<()> {
    for item in items {
        for _ in 0..item.min {
            emit_node(&item.node, prog)?;
        }
        match item.max {
            None => {
                let split = prog.len();
                prog.push(Inst::Split(0, 0));
                emit_node(&item.node, prog)?;
                prog.push(Inst::Jmp(split));
                let end = prog.len();
                prog[split] = Inst::Split(split + 1, end);
            }
            Some(max) => {
                let mut holes = Vec::new();
                for _ in item.min..max {
                    holes.push(prog.len());
                    prog.push(Inst::Split(0, 0));
                    emit_node(&item.node, prog)?;
                    if prog.len() > MAX_PROGRAM {
                        return None;
                    }
                }
                let end = prog.len();
                for h in holes {
                    prog[h] = Inst::Split(h + 1, end);
                }
            }
        }
        if prog.len() > MAX_PROGRAM {
            return None;
        }
    }
    Some(())
}

fn emit_node(node: &Node, prog: &mut Vec<Inst>) -> Option<()> {
    match node {
        Node::Class(i) => prog.push(Inst::Char(*i)),
        Node::Group(items) => emit(items, prog)?,
    }
    if prog.len() > MAX_PROGRAM {
        return None;
    }
    Some(())
}

impl Pattern {
    /// Compiles `src`; `None` if it uses a construct this matcher does not support.
    pub fn compile(src: &str) -> Option<Pattern> {
        let mut classes = Vec::new();
        let items = {
            let mut p = Parser {
                chars: src.chars().collect(),
                pos: 0,
                classes: &mut classes,
            };
            p.sequence(false, 0)?
        };
        let mut prog = Vec::new();
        emit(&items, &mut prog)?;
        prog.push(Inst::Match);
        Some(Pattern { prog, classes })
    }

    /// Whether the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        let n = self.prog.len();
        let mut current: Vec<usize> = Vec::with_capacity(n);
        let mut next: Vec<usize> = Vec::with_capacity(n);
        let mut seen = vec![usize::MAX; n];
        let mut stack = Vec::new();
        self.add(0, 0, &mut current, &mut seen, &mut stack);
        for (step, c) in s.chars().enumerate() {
            if current.is_empty() {
                return false;
            }
            next.clear();
            for &pc in &current {
                if let Some(Inst::Char(ci)) = self.prog.get(pc)
                    && self.classes.get(*ci).is_some_and(|cl| cl.matches(c))
                {
                    self.add(pc + 1, step + 1, &mut next, &mut seen, &mut stack);
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        current
            .iter()
            .any(|&pc| matches!(self.prog.get(pc), Some(Inst::Match)))
    }

    /// Adds `pc` and its epsilon closure to `list` (iteratively).
    fn add(
        &self,
        pc: usize,
        gen_id: usize,
        list: &mut Vec<usize>,
        seen: &mut [usize],
        stack: &mut Vec<usize>,
    ) {
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            let Some(slot) = seen.get_mut(pc) else {
                continue;
            };
            if *slot == gen_id {
                continue;
            }
            *slot = gen_id;
            match self.prog.get(pc) {
                Some(Inst::Split(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Some(Inst::Jmp(t)) => stack.push(*t),
                Some(_) => list.push(pc),
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(p: &str, s: &str) -> bool {
        Pattern::compile(p).expect("supported").is_match(s)
    }

    #[test]
    fn model_patterns() {
        assert!(m("[a-zA-Z0-9_.-]+", "abc-_.9"));
        assert!(!m("[a-zA-Z0-9_.-]+", "abc;"));
        assert!(!m("[a-zA-Z0-9_.-]+", ""));
        assert!(m("([0-9a-f]{16})+", "0123456789abcdef0123456789abcdef"));
        assert!(!m("([0-9a-f]{16})+", "0123456789abcdef0"));
        assert!(m("\\p{Print}+", "hello world~"));
        assert!(!m("\\p{Print}+", "tab\t"));
        let xml = "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*";
        assert!(m(xml, "ok \u{1F600}\r\n"));
        assert!(!m(xml, "bad\u{1}"));
        assert!(m("^[^\\$]+$", "abc"));
        assert!(!m("^[^\\$]+$", "a$c"));
        let name = "[A-Za-z0-9][A-Za-z0-9\\-\\_\\.]{0,126}[A-Za-z0-9]";
        assert!(m(name, "ab"));
        assert!(m(name, "a-b.c_d"));
        assert!(!m(name, "a-"));
        assert!(!m(name, &"a".repeat(129)));
        assert!(m(name, &"a".repeat(128)));
        assert!(m("[,;:|\\t ]", "|"));
        assert!(!m("[,;:|\\t ]", "||"));
        assert!(m("[\\x20-\\x21\\x23-\\x2B\\x2D-\\x7E]*", "ab c"));
        assert!(!m("[\\x20-\\x21\\x23-\\x2B\\x2D-\\x7E]*", "a\"b"));
        assert!(!m("[\\x20-\\x21\\x23-\\x2B\\x2D-\\x7E]*", "a,b"));
        let bucket = "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$";
        assert!(m(bucket, "my-bucket.x"));
        assert!(!m(bucket, "-bucket"));
        assert!(m("[0-9]{12}", "123456789012"));
        assert!(!m("[0-9]{12}", "12345678901"));
        let uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
        assert!(m(uuid, "01234567-89ab-cdef-0123-456789abcdef"));
        assert!(!m(uuid, "01234567-89ab-cdef-0123-456789abcdeg"));
    }

    #[test]
    fn unsupported_and_long_inputs() {
        assert!(Pattern::compile("a|b").is_none());
        assert!(Pattern::compile("(?=a)").is_none());
        assert!(Pattern::compile("\\p{Lu}").is_none());
        assert!(Pattern::compile("[a-").is_none());
        let long = "a".repeat(1_000_000);
        assert!(m("[a-zA-Z0-9_.-]+", &long));
    }
}
