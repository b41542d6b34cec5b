//! The expression lexer: bytes in, tokens with byte spans out.
//!
//! Tokens keep their byte span so syntax errors can quote the offending token and its
//! neighbours the way AWS does (`Syntax error; token: ":", near: "hits : incr"`).

use std::ops::Range;

/// The kind of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier or keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Ident,
    /// An expression attribute name: `#` followed by `[A-Za-z0-9_]+`.
    Name,
    /// An expression attribute value: `:` followed by `[A-Za-z0-9_]+`.
    Value,
    /// A run of decimal digits (list indexes).
    Number,
    /// One of `( ) [ ] , . = <> < <= > >= + -`.
    Punct(&'static str),
    /// Any other character, including a lone `#` or `:`; never valid in the grammar.
    Unknown,
    /// The end of the input.
    Eof,
}

/// One token and where it sits in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// What the token is.
    pub kind: Tok,
    /// Its byte range in the source.
    pub span: Range<usize>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `src` into tokens; the last token is always [`Tok::Eof`].
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' | b':' => {
                i += 1;
                while i < bytes.len() && is_ident_part(bytes[i]) {
                    i += 1;
                }
                match (i > start + 1, b) {
                    (true, b'#') => Tok::Name,
                    (true, _) => Tok::Value,
                    (false, _) => Tok::Unknown,
                }
            }
            _ if is_ident_start(b) => {
                while i < bytes.len() && is_ident_part(bytes[i]) {
                    i += 1;
                }
                Tok::Ident
            }
            _ if b.is_ascii_digit() => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Number
            }
            _ => {
                let two = bytes.get(i..i + 2);
                let p: Option<&'static str> = match two {
                    Some(b"<>") => Some("<>"),
                    Some(b"<=") => Some("<="),
                    Some(b">=") => Some(">="),
                    _ => None,
                };
                if let Some(p) = p {
                    i += 2;
                    Tok::Punct(p)
                } else {
                    let p: Option<&'static str> = match b {
                        b'(' => Some("("),
                        b')' => Some(")"),
                        b'[' => Some("["),
                        b']' => Some("]"),
                        b',' => Some(","),
                        b'.' => Some("."),
                        b'=' => Some("="),
                        b'<' => Some("<"),
                        b'>' => Some(">"),
                        b'+' => Some("+"),
                        b'-' => Some("-"),
                        _ => None,
                    };
                    match p {
                        Some(p) => {
                            i += 1;
                            Tok::Punct(p)
                        }
                        None => {
                            // Advance by one whole UTF-8 character so spans stay on
                            // character boundaries.
                            let len = src[i..].chars().next().map_or(1, char::len_utf8);
                            i += len;
                            Tok::Unknown
                        }
                    }
                }
            }
        };
        out.push(Token {
            kind,
            span: start..i,
        });
    }
    out.push(Token {
        kind: Tok::Eof,
        span: src.len()..src.len(),
    });
    out
}

/// AWS's syntax error text for the token at `index`: the token itself and the source from
/// the previous token to the next one.
pub(crate) fn syntax_error(src: &str, tokens: &[Token], index: usize) -> String {
    let index = index.min(tokens.len().saturating_sub(1));
    let Some(tok) = tokens.get(index) else {
        return "Syntax error; token: \"<EOF>\", near: \"\"".to_string();
    };
    let text = if tok.kind == Tok::Eof {
        "<EOF>"
    } else {
        src.get(tok.span.clone()).unwrap_or("")
    };
    let start = if index > 0 {
        tokens[index - 1].span.start
    } else {
        tok.span.start
    };
    let end = tokens.get(index + 1).map_or(tok.span.end, |t| t.span.end);
    let near = src.get(start..end).unwrap_or("");
    format!("Syntax error; token: \"{text}\", near: \"{near}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Tok, &str)> {
        lex(src)
            .into_iter()
            .map(|t| (t.kind, &src[t.span]))
            .collect()
    }

    #[test]
    fn lexes_every_token_kind() {
        assert_eq!(
            kinds("a.#b[12] <> :v_1,<=>=(ü"),
            vec![
                (Tok::Ident, "a"),
                (Tok::Punct("."), "."),
                (Tok::Name, "#b"),
                (Tok::Punct("["), "["),
                (Tok::Number, "12"),
                (Tok::Punct("]"), "]"),
                (Tok::Punct("<>"), "<>"),
                (Tok::Value, ":v_1"),
                (Tok::Punct(","), ","),
                (Tok::Punct("<="), "<="),
                (Tok::Punct(">="), ">="),
                (Tok::Punct("("), "("),
                (Tok::Unknown, "ü"),
                (Tok::Eof, ""),
            ]
        );
    }

    #[test]
    fn lone_sigils_are_unknown() {
        assert_eq!(
            kinds("# :")[..2],
            [(Tok::Unknown, "#"), (Tok::Unknown, ":")]
        );
    }

    #[test]
    fn syntax_error_quotes_neighbours() {
        let src = "ADD hits : incr";
        let toks = lex(src);
        assert_eq!(
            syntax_error(src, &toks, 2),
            r#"Syntax error; token: ":", near: "hits : incr""#
        );
        let src = "SET a = ";
        let toks = lex(src);
        assert_eq!(
            syntax_error(src, &toks, 3),
            r#"Syntax error; token: "<EOF>", near: "= ""#
        );
    }
}
