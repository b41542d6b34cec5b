//! A practical subset of Amazon Ion text, as DynamoDB's Ion export writes items: a sequence of
//! top-level structs `{Item: {...}}` (an optional `$ion_1_0` marker first).
//!
//! Supported values and the DynamoDB types they become: strings (`"…"`, `'''…'''`) → `S`;
//! integers and decimals (`12`, `-1.5`, `1.`, `15d-1`, `1e3`, `1_000`) → `N`; `true`/`false`
//! → `BOOL`; `null` (and typed nulls like `null.string`) → `NULL`; blobs `{{base64}}` → `B`;
//! lists `[…]` → `L`; structs `{…}` → `M`; lists annotated `$dynamodb_SS::`, `$dynamodb_NS::`,
//! `$dynamodb_BS::` → sets. Field names may be identifiers, `'quoted symbols'` or strings;
//! `//` and `/* */` comments are skipped.
//!
//! Not supported, each reported as a failed record: binary Ion, timestamps, symbol values,
//! s-expressions, clobs, `nan`/`inf`, other annotations. A syntax error ends the object (the
//! rest of it cannot be resynchronised) and counts as one failed record.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

/// One parsed value.
#[derive(Debug, Clone, PartialEq)]
enum Ion {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Blob(Vec<u8>),
    Symbol(String),
    List(Vec<Ion>),
    Struct(Vec<(String, Ion)>),
    Annotated(String, Box<Ion>),
}

/// One top-level record: its text and its item as DynamoDB JSON, or why it is not one.
pub(crate) struct IonRecord {
    /// The record's source text.
    pub(crate) raw: String,
    /// `{"attr": {"S": …}, …}`, ready for the item deserializer.
    pub(crate) item: Result<Value, String>,
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.i..).unwrap_or("")
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("Ion syntax error at byte {}: {what}", self.i))
    }

    fn skip_ws(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.i += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.i += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                self.i += 2 + body.find("*/").map_or(body.len(), |e| e + 2);
            } else {
                return;
            }
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(&format!("expected '{}'", c as char))
        }
    }

    fn identifier(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_alphabetic()
                    || *c == '_'
                    || *c == '$'
                    || (*i > 0 && c.is_ascii_digit()))
            })
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return None;
        }
        self.i += len;
        rest.get(..len)
    }

    /// A quoted string body after its opening `quote`, with Ion's escapes.
    fn quoted(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.i += at + 1;
                    return Ok(out);
                }
                '\\' => {
                    let Some((_, e)) = chars.next() else { break };
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\\' | '"' | '\'' | '/' => out.push(e),
                        'u' => {
                            let hex: String =
                                (0..4).filter_map(|_| chars.next().map(|p| p.1)).collect();
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(ch) => out.push(ch),
                                None => return self.err("invalid \\u escape"),
                            }
                        }
                        _ => return self.err("unsupported escape"),
                    }
                }
                c => out.push(c),
            }
        }
        self.err("unterminated string")
    }

    fn value(&mut self) -> Result<Ion, String> {
        self.skip_ws();
        let rest = self.rest();
        let v = if let Some(body) = rest.strip_prefix("{{") {
            let Some(end) = body.find("}}") else {
                return self.err("unterminated blob");
            };
            let text: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
            self.i += 2 + end + 2;
            Ion::Blob(B64.decode(text).map_err(|e| format!("invalid blob: {e}"))?)
        } else if rest.starts_with('{') {
            self.i += 1;
            let mut fields = Vec::new();
            loop {
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    break;
                }
                let name = match self.peek() {
                    Some(b'"') => {
                        self.i += 1;
                        self.quoted('"')?
                    }
                    Some(b'\'') => {
                        self.i += 1;
                        self.quoted('\'')?
                    }
                    _ => match self.identifier() {
                        Some(id) => id.to_string(),
                        None => return self.err("expected a field name"),
                    },
                };
                self.expect(b':')?;
                fields.push((name, self.value()?));
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {}
                    _ => return self.err("expected ',' or '}'"),
                }
            }
            Ion::Struct(fields)
        } else if rest.starts_with('[') {
            self.i += 1;
            let mut items = Vec::new();
            loop {
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    break;
                }
                items.push(self.value()?);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {}
                    _ => return self.err("expected ',' or ']'"),
                }
            }
            Ion::List(items)
        } else if rest.starts_with("'''") {
            let mut s = String::new();
            while self.rest().starts_with("'''") {
                self.i += 3;
                let body = self.rest();
                let Some(end) = body.find("'''") else {
                    return self.err("unterminated long string");
                };
                s.push_str(&body[..end]);
                self.i += end + 3;
                self.skip_ws();
            }
            Ion::String(s)
        } else if rest.starts_with('"') {
            self.i += 1;
            Ion::String(self.quoted('"')?)
        } else if rest.starts_with('\'') {
            self.i += 1;
            let sym = self.quoted('\'')?;
            return self.after_symbol(sym);
        } else if rest.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
            let len = rest
                .find(|c: char| {
                    !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_' | ':'))
                })
                .unwrap_or(rest.len());
            self.i += len;
            Ion::Number(rest[..len].to_string())
        } else if let Some(id) = self.identifier() {
            let id = id.to_string();
            return self.after_symbol(id);
        } else {
            return self.err("unexpected character");
        };
        Ok(v)
    }

    /// A symbol just read: an annotation when `::` follows, else a keyword or symbol value.
    fn after_symbol(&mut self, sym: String) -> Result<Ion, String> {
        self.skip_ws();
        if self.rest().starts_with("::") {
            self.i += 2;
            return Ok(Ion::Annotated(sym, Box::new(self.value()?)));
        }
        Ok(match sym.as_str() {
            "true" => Ion::Bool(true),
            "false" => Ion::Bool(false),
            "null" => Ion::Null,
            s if s.starts_with("null.") => Ion::Null,
            _ => Ion::Symbol(sym),
        })
    }
}

/// An Ion number as a DynamoDB number string: `d`/`D` exponents become `e`, underscores and a
/// trailing `.` go; timestamps, `nan`, `inf` and radix forms are refused.
fn number(text: &str) -> Result<String, String> {
    let t: String = text.chars().filter(|c| *c != '_').collect();
    let t = t.replace(['d', 'D'], "e");
    let t = t.strip_suffix('.').map(str::to_string).unwrap_or(t);
    let t = t.replace(".e", "e");
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && !t.starts_with("0x")
        && t.chars().any(|c| c.is_ascii_digit());
    if ok {
        Ok(t)
    } else {
        Err(format!("unsupported Ion number or timestamp: {text}"))
    }
}

/// The DynamoDB JSON of one Ion value.
fn to_json(v: &Ion) -> Result<Value, String> {
    Ok(match v {
        Ion::Null => json!({"NULL": true}),
        Ion::Bool(b) => json!({"BOOL": b}),
        Ion::Number(n) => json!({"N": number(n)?}),
        Ion::String(s) => json!({"S": s}),
        Ion::Blob(b) => json!({"B": B64.encode(b)}),
        Ion::List(items) => json!({"L": items.iter().map(to_json).collect::<Result<Vec<_>, _>>()?}),
        Ion::Struct(fields) => json!({"M": fields_to_map(fields)?}),
        Ion::Annotated(a, inner) => {
            let Ion::List(items) = inner.as_ref() else {
                return Err(format!(
                    "unsupported Ion annotation {a} on a non-list value"
                ));
            };
            let each = |f: &dyn Fn(&Ion) -> Option<Value>| {
                items
                    .iter()
                    .map(|i| f(i).ok_or_else(|| format!("{a} holds a value of another type")))
                    .collect::<Result<Vec<_>, _>>()
            };
            match a.as_str() {
                "$dynamodb_SS" => json!({"SS": each(&|i| match i {
                    Ion::String(s) => Some(json!(s)),
                    _ => None,
                })?}),
                "$dynamodb_NS" => json!({"NS": each(&|i| match i {
                    Ion::Number(n) => number(n).ok().map(Value::String),
                    _ => None,
                })?}),
                "$dynamodb_BS" => json!({"BS": each(&|i| match i {
                    Ion::Blob(b) => Some(json!(B64.encode(b))),
                    _ => None,
                })?}),
                _ => return Err(format!("unsupported Ion annotation {a}")),
            }
        }
        Ion::Symbol(s) => return Err(format!("unsupported Ion symbol value {s}")),
    })
}

fn fields_to_map(fields: &[(String, Ion)]) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    for (k, v) in fields {
        if m.insert(k.clone(), to_json(v)?).is_some() {
            return Err(format!("duplicate field {k}"));
        }
    }
    Ok(m)
}

/// The records of one Ion text object.
pub(crate) fn records(text: &str) -> Vec<IonRecord> {
    let mut p = Parser { s: text, i: 0 };
    let mut out = Vec::new();
    loop {
        p.skip_ws();
        if p.peek().is_none() {
            break;
        }
        let start = p.i;
        match p.value() {
            Ok(Ion::Symbol(s)) if s == "$ion_1_0" => continue,
            Ok(v) => {
                let raw = text.get(start..p.i).unwrap_or("").to_string();
                let item = match v {
                    Ion::Struct(fields) => match fields.as_slice() {
                        [(name, Ion::Struct(item))] if name == "Item" => {
                            fields_to_map(item).map(Value::Object)
                        }
                        _ => Err("an Ion record must be a struct with one field, Item".to_string()),
                    },
                    _ => Err("an Ion record must be a struct {Item: {...}}".to_string()),
                };
                out.push(IonRecord { raw, item });
            }
            Err(e) => {
                out.push(IonRecord {
                    raw: text.get(start..).unwrap_or("").chars().take(200).collect(),
                    item: Err(e),
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamodb_export_records_become_items() {
        let text = r#"$ion_1_0
{Item:{id:"a1",n:15d-1,i:1_000,f:1.,ok:true,nothing:null,bytes:{{aGk=}},
  tags:$dynamodb_SS::["x","y"],nums:$dynamodb_NS::[1,2.5],list:[1,"two"],m:{'k k':"v"}}}
// a comment
{Item:{id:"a2"}} /* another */
"#;
        let recs = records(text);
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs[0].item.clone().expect("item"),
            json!({"id": {"S": "a1"}, "n": {"N": "15e-1"}, "i": {"N": "1000"}, "f": {"N": "1"},
                   "ok": {"BOOL": true}, "nothing": {"NULL": true}, "bytes": {"B": "aGk="},
                   "tags": {"SS": ["x", "y"]}, "nums": {"NS": ["1", "2.5"]},
                   "list": {"L": [{"N": "1"}, {"S": "two"}]}, "m": {"M": {"k k": {"S": "v"}}}})
        );
        assert_eq!(
            recs[1].item.clone().expect("item"),
            json!({"id": {"S": "a2"}})
        );
        assert!(recs[1].raw.starts_with("{Item"));
    }

    #[test]
    fn unsupported_values_fail_their_record_and_syntax_errors_end_the_object() {
        let recs = records(
            "{Item:{t:2007-01-01T}}\n{Item:{s:sym}}\n{NotItem:{}}\n{Item:{a:\"x\"}}\n{Item:{a:",
        );
        let errors: Vec<bool> = recs.iter().map(|r| r.item.is_err()).collect();
        assert_eq!(errors, [true, true, true, false, true]);
        assert!(recs[0].item.clone().expect_err("ts").contains("timestamp"));
    }
}
