//! Fixture definition files: tables in the CreateTable shape and seed items, as JSON or YAML,
//! with items in DynamoDB JSON (`{"id": {"S": "u1"}}`) or plain JSON (`{"id": "u1"}`).

use std::path::Path;

use serde_json::{Map, Value};

use crate::fixture::FixtureError;

/// The syntax of a definition text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON.
    Json,
    /// YAML (1.2; a JSON text is valid YAML too).
    Yaml,
}

impl Syntax {
    /// YAML for paths ending in `.yaml` or `.yml` (any case), JSON otherwise.
    pub fn of_path(path: &Path) -> Syntax {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml") => {
                Syntax::Yaml
            }
            _ => Syntax::Json,
        }
    }

    /// Parses `text` into a JSON value.
    pub fn parse(self, text: &str) -> Result<Value, FixtureError> {
        match self {
            Syntax::Json => {
                serde_json::from_str(text).map_err(|e| FixtureError::Definition(e.to_string()))
            }
            Syntax::Yaml => serde_norway::from_str(text)
                .map_err(|e| FixtureError::Definition(format!("YAML: {e}"))),
        }
    }
}

/// CreateTable requests from a definition: one object or a list of them.
pub fn tables(value: Value) -> Result<Vec<Value>, FixtureError> {
    match value {
        Value::Array(tables) => {
            if let Some(bad) = tables.iter().position(|t| !t.is_object()) {
                return Err(FixtureError::Definition(format!(
                    "table {bad} of the list is not an object in the CreateTable shape"
                )));
            }
            Ok(tables)
        }
        Value::Object(_) => Ok(vec![value]),
        _ => Err(FixtureError::Definition(
            "tables must be a CreateTable object or a list of them".into(),
        )),
    }
}

/// Seed items from a definition: `{table: [item, …]}`, each item in DynamoDB JSON or plain
/// JSON (see [`item`]). Returns `(table, item in DynamoDB JSON)` pairs in file order.
pub fn items(value: Value) -> Result<Vec<(String, Value)>, FixtureError> {
    let Value::Object(map) = value else {
        return Err(FixtureError::Definition(
            "items must be an object of table name to item list".into(),
        ));
    };
    let mut out = Vec::new();
    for (table, list) in map {
        let Value::Array(list) = list else {
            return Err(FixtureError::Definition(format!(
                "items of {table} must be a list"
            )));
        };
        for (i, it) in list.into_iter().enumerate() {
            let it = item(it)
                .map_err(|e| FixtureError::Definition(format!("item {i} of {table}: {e}")))?;
            out.push((table.clone(), it));
        }
    }
    Ok(out)
}

/// One item in DynamoDB JSON. An item whose every attribute is already an attribute value
/// (an object with one type descriptor — `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`,
/// `BS` — holding a value of that descriptor's JSON type) is taken as DynamoDB JSON; any other
/// object is plain JSON and converted: strings → `S`, numbers → `N` (as written; beyond 17
/// significant digits write them in DynamoDB JSON), booleans → `BOOL`, null → `NULL`, lists →
/// `L`, objects → `M`.
pub fn item(value: Value) -> Result<Value, String> {
    let Value::Object(map) = value else {
        return Err("an item must be an object".into());
    };
    if map.values().all(is_attribute_value) {
        return Ok(Value::Object(map));
    }
    Ok(Value::Object(
        map.into_iter().map(|(k, v)| (k, plain(v))).collect(),
    ))
}

fn is_attribute_value(v: &Value) -> bool {
    let Value::Object(m) = v else { return false };
    let mut entries = m.iter();
    let (Some((tag, inner)), None) = (entries.next(), entries.next()) else {
        return false;
    };
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    match tag.as_str() {
        "S" | "N" | "B" => inner.is_string(),
        "BOOL" => inner.is_boolean(),
        "NULL" => inner == &Value::Bool(true),
        "SS" | "NS" | "BS" => strings(inner),
        "L" => inner
            .as_array()
            .is_some_and(|a| a.iter().all(is_attribute_value)),
        "M" => inner
            .as_object()
            .is_some_and(|m| m.values().all(is_attribute_value)),
        _ => false,
    }
}

fn plain(v: Value) -> Value {
    let tagged = |tag: &str, v: Value| {
        let mut m = Map::new();
        m.insert(tag.into(), v);
        Value::Object(m)
    };
    match v {
        Value::String(_) => tagged("S", v),
        Value::Number(n) => tagged("N", Value::String(n.to_string())),
        Value::Bool(_) => tagged("BOOL", v),
        Value::Null => tagged("NULL", Value::Bool(true)),
        Value::Array(a) => tagged("L", Value::Array(a.into_iter().map(plain).collect())),
        Value::Object(m) => tagged(
            "M",
            Value::Object(m.into_iter().map(|(k, v)| (k, plain(v))).collect()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dynamodb_json_items_pass_through() {
        let it = json!({"id": {"S": "u1"}, "tags": {"SS": ["a"]}, "n": {"NULL": true},
                        "doc": {"M": {"x": {"L": [{"N": "1"}]}}}});
        assert_eq!(item(it.clone()), Ok(it));
    }

    #[test]
    fn plain_items_are_converted() {
        let it = json!({"id": "u1", "age": 37, "admin": false, "gone": null,
                        "address": {"city": "Oslo", "zip": [1, "x"]}});
        assert_eq!(
            item(it),
            Ok(
                json!({"id": {"S": "u1"}, "age": {"N": "37"}, "admin": {"BOOL": false},
                      "gone": {"NULL": true},
                      "address": {"M": {"city": {"S": "Oslo"},
                                        "zip": {"L": [{"N": "1"}, {"S": "x"}]}}}})
            )
        );
    }

    #[test]
    fn one_plain_attribute_makes_the_whole_item_plain() {
        // `{"S": "x"}` would be an attribute value, but `n` is plain, so it is a map here.
        let it = json!({"a": {"S": "x"}, "n": 1});
        assert_eq!(
            item(it),
            Ok(json!({"a": {"M": {"S": {"S": "x"}}}, "n": {"N": "1"}}))
        );
    }

    #[test]
    fn yaml_tables_and_items_parse() {
        let tables = Syntax::Yaml
            .parse(
                "- TableName: users\n  AttributeDefinitions:\n    - {AttributeName: id, AttributeType: S}\n  KeySchema:\n    - {AttributeName: id, KeyType: HASH}\n  BillingMode: PAY_PER_REQUEST\n",
            )
            .and_then(tables);
        let tables = tables.map_err(|e| e.to_string());
        assert_eq!(
            tables
                .as_ref()
                .map(|t| t[0]["KeySchema"][0]["KeyType"].clone()),
            Ok(json!("HASH"))
        );
        let items = Syntax::Yaml
            .parse("users:\n  - id: u1\n    age: 3\n")
            .and_then(items)
            .map_err(|e| e.to_string());
        assert_eq!(
            items,
            Ok(vec![(
                "users".to_string(),
                json!({"id": {"S": "u1"}, "age": {"N": "3"}})
            )])
        );
    }

    #[test]
    fn bad_definitions_are_errors() {
        assert!(Syntax::Yaml.parse("a: [").is_err());
        assert!(tables(json!("x")).is_err());
        assert!(tables(json!([{"TableName": "t"}, 3])).is_err());
        assert!(items(json!([])).is_err());
        assert!(items(json!({"t": {}})).is_err());
        assert!(items(json!({"t": [1]})).is_err());
        assert_eq!(Syntax::of_path(Path::new("x/tables.YML")), Syntax::Yaml);
        assert_eq!(Syntax::of_path(Path::new("x/tables.json")), Syntax::Json);
    }
}
