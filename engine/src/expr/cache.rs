//! A bounded cache of parsed expressions, keyed by kind and source text.
//!
//! Only the syntax step is cached: its result depends on the text alone. Validation depends
//! on the request's names and values and always runs. Applications send the same few
//! expressions over and over, so repeated requests skip the lexer and parser.
//! `benches/expressions.rs` measures the difference.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::parser::{self, ParsedCond, RawPath, RawUpdate, SyntaxError};

/// Entries kept before the cache starts over; bounded memory whatever the traffic.
const CAPACITY: usize = 4096;
/// Longer sources are not cached (AWS caps an expression at 4 KB anyway).
const MAX_SOURCE: usize = 4096;

#[derive(Clone)]
enum Entry {
    Condition(Result<ParsedCond, SyntaxError>),
    Update(Result<RawUpdate, SyntaxError>),
    Projection(Result<Vec<RawPath>, SyntaxError>),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Condition,
    Update,
    Projection,
}

fn cache() -> &'static Mutex<HashMap<(Kind, String), Entry>> {
    static CACHE: OnceLock<Mutex<HashMap<(Kind, String), Entry>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cached(kind: Kind, src: &str, parse: impl FnOnce() -> Entry) -> Entry {
    if src.len() > MAX_SOURCE {
        return parse();
    }
    let key = (kind, src.to_string());
    if let Some(hit) = cache().lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return hit.clone();
    }
    let entry = parse();
    let mut map = cache().lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(key, entry.clone());
    entry
}

/// [`parser::parse_condition`], cached.
pub(crate) fn condition(src: &str) -> Result<ParsedCond, SyntaxError> {
    match cached(Kind::Condition, src, || {
        Entry::Condition(parser::parse_condition(src))
    }) {
        Entry::Condition(r) => r,
        _ => parser::parse_condition(src),
    }
}

/// [`parser::parse_update`], cached.
pub(crate) fn update(src: &str) -> Result<RawUpdate, SyntaxError> {
    match cached(Kind::Update, src, || {
        Entry::Update(parser::parse_update(src))
    }) {
        Entry::Update(r) => r,
        _ => parser::parse_update(src),
    }
}

/// [`parser::parse_projection`], cached.
pub(crate) fn projection(src: &str) -> Result<Vec<RawPath>, SyntaxError> {
    match cached(Kind::Projection, src, || {
        Entry::Projection(parser::parse_projection(src))
    }) {
        Entry::Projection(r) => r,
        _ => parser::parse_projection(src),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_parse_equals_fresh_parse() {
        for src in ["a = :b AND attribute_exists(c)", "a = = b", "size(x) > :n"] {
            assert_eq!(condition(src), parser::parse_condition(src));
            assert_eq!(condition(src), parser::parse_condition(src));
        }
        for src in ["SET a = :b REMOVE c", "SET", "ADD n :one"] {
            assert_eq!(update(src), parser::parse_update(src));
            assert_eq!(update(src), parser::parse_update(src));
        }
        assert_eq!(
            projection("a.b[1], c"),
            parser::parse_projection("a.b[1], c")
        );
    }
}
