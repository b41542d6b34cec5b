//! PartiQL tokens with byte spans.

use std::ops::Range;

/// One token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare identifier or keyword, as written.
    Ident(String),
    /// A double-quoted identifier, unescaped.
    Quoted(String),
    /// A single-quoted string literal, unescaped.
    Str(String),
    /// A number literal, as written.
    Num(String),
    /// `?`
    Param,
    /// Punctuation and operators: `* , . [ ] { } ( ) : = <> != < <= > >= + - << >>`.
    Punct(&'static str),
}

/// A token and where it sits in the statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Range<usize>,
}

impl Token {
    /// Whether this is the keyword `kw` (case-insensitive, bare only).
    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn is(&self, p: &str) -> bool {
        matches!(&self.tok, Tok::Punct(q) if *q == p)
    }
}

const PUNCT: [&str; 21] = [
    "<<", ">>", "<>", "!=", "<=", ">=", "*", ",", ".", "[", "]", "{", "}", "(", ")", ":", "=", "<",
    ">", "+", "-",
];

/// Splits `src` into tokens. `Err` carries the byte offset of the first character that
/// cannot start a token (or of an unterminated quote).
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, usize> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // `--` line comments, as PartiQL allows.
        if src[i..].starts_with("--") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let tok = if c == b'\'' || c == b'"' {
            let (text, end) = quoted(src, i, c).ok_or(start)?;
            i = end;
            if c == b'\'' {
                Tok::Str(text)
            } else {
                Tok::Quoted(text)
            }
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    i = j;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            Tok::Num(src[start..i].to_string())
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if c == b'?' {
            i += 1;
            Tok::Param
        } else {
            let p = PUNCT
                .iter()
                .find(|p| src[i..].starts_with(**p))
                .ok_or(start)?;
            i += p.len();
            Tok::Punct(p)
        };
        out.push(Token {
            tok,
            span: start..i,
        });
    }
    Ok(out)
}

/// A quoted string starting at `start` with quote `q`; a doubled quote stands for one.
/// Returns the text and the offset after the closing quote.
fn quoted(src: &str, start: usize, q: u8) -> Option<(String, usize)> {
    let bytes = src.as_bytes();
    let mut text = String::new();
    let mut i = start + 1;
    let mut seg = i;
    loop {
        let b = *bytes.get(i)?;
        if b == q {
            text.push_str(&src[seg..i]);
            if bytes.get(i + 1) == Some(&q) {
                text.push(q as char);
                i += 2;
                seg = i;
                continue;
            }
            return Some((text, i + 1));
        }
        i += 1;
    }
}
