//! Legacy parameters through the item operations: `Expected`, `ConditionalOperator`,
//! `AttributeUpdates` and `AttributesToGet` against a real engine, following dynalite's
//! putItem/updateItem/getItem functionality tests (which ran against AWS).

use ddb_engine::{Engine, Error, Item, Namespace};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

struct Fixture {
    engine: Engine,
    ns: Namespace,
}

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

fn item(v: Value) -> Item {
    input(v)
}

fn fixture() -> Fixture {
    let engine = Engine::builder()
        .seed(1)
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let ns = Namespace::new("000000000000", "us-east-1");
    engine
        .create_table(
            &ns,
            input(json!({
                "TableName": "t",
                "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"
            })),
        )
        .unwrap_or_else(|e| panic!("create table: {e}"));
    Fixture { engine, ns }
}

impl Fixture {
    fn put(&self, req: Value) -> Result<Option<Item>, Error> {
        let mut req = req;
        req["TableName"] = json!("t");
        self.engine
            .put_item(&self.ns, input(req))
            .map(|o| o.attributes)
    }

    fn update(&self, req: Value) -> Result<Option<Item>, Error> {
        let mut req = req;
        req["TableName"] = json!("t");
        self.engine
            .update_item(&self.ns, input(req))
            .map(|o| o.attributes)
    }

    fn delete(&self, req: Value) -> Result<Option<Item>, Error> {
        let mut req = req;
        req["TableName"] = json!("t");
        self.engine
            .delete_item(&self.ns, input(req))
            .map(|o| o.attributes)
    }

    fn get(&self, req: Value) -> Option<Item> {
        let mut req = req;
        req["TableName"] = json!("t");
        self.engine
            .get_item(&self.ns, input(req))
            .unwrap_or_else(|e| panic!("get: {e}"))
            .item
    }

    fn get_a(&self, key: &str) -> Option<Item> {
        self.get(json!({"Key": {"a": {"S": key}}, "ConsistentRead": true}))
    }
}

fn failed<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => format!("{}: {e}", e.aws_type()),
    }
}

const CONDITIONAL: &str = "ConditionalCheckFailedException: The conditional request failed";

#[test]
fn put_with_expected_checks_the_old_item() {
    let f = fixture();
    assert_eq!(
        failed(f.put(json!({"Item": {"a": {"S": "1"}}, "Expected": {"a": {"Value": {"S": "1"}}}}))),
        CONDITIONAL
    );
    assert!(
        f.put(json!({"Item": {"a": {"S": "1"}, "b": {"S": "x"}}, "Expected": {"a": {"Exists": false}}}))
            .is_ok()
    );
    assert_eq!(
        failed(f.put(json!({"Item": {"a": {"S": "1"}}, "Expected": {"a": {"Exists": false}}}))),
        CONDITIONAL
    );
    assert_eq!(
        failed(f.put(
            json!({"Item": {"a": {"S": "1"}}, "Expected": {"b": {"ComparisonOperator": "NULL"}}})
        )),
        CONDITIONAL
    );
    // One failing condition is enough with AND, not with OR.
    let multi =
        json!({"a": {"Value": {"S": "1"}}, "b": {"Exists": false}, "c": {"Value": {"S": "y"}}});
    assert_eq!(
        failed(f.put(json!({"Item": {"a": {"S": "1"}}, "Expected": multi}))),
        CONDITIONAL
    );
    assert!(
        f.put(json!({"Item": {"a": {"S": "1"}}, "Expected": multi, "ConditionalOperator": "OR"}))
            .is_ok()
    );
    assert_eq!(f.get_a("1"), Some(item(json!({"a": {"S": "1"}}))));
}

#[test]
fn delete_with_expected_checks_the_old_item() {
    let f = fixture();
    f.put(json!({"Item": {"a": {"S": "1"}, "b": {"N": "5"}}}))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        failed(f.delete(json!({"Key": {"a": {"S": "1"}}, "Expected": {"b": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}}}))),
        CONDITIONAL
    );
    assert!(
        f.delete(json!({"Key": {"a": {"S": "1"}}, "Expected": {"b": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "5"}]}}}))
            .is_ok()
    );
    assert_eq!(f.get_a("1"), None);
}

#[test]
fn legacy_validation_comes_before_the_table_lookup() {
    let f = fixture();
    let r = f.engine.put_item(
        &f.ns,
        input(json!({"TableName": "missing", "Item": {}, "Expected": {"a": {"Exists": true}}})),
    );
    assert_eq!(
        failed(r),
        "ValidationException: One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"
    );
    let r = f.engine.update_item(
        &f.ns,
        input(json!({"TableName": "missing", "Key": {}, "Expected": {"a": {}}, "AttributeUpdates": {"a": {"x": "whatever"}}})),
    );
    assert_eq!(
        failed(r),
        "ValidationException: One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
    );
}

#[test]
fn mixing_legacy_and_expressions_is_rejected() {
    let f = fixture();
    assert_eq!(
        failed(f.update(json!({
            "Key": {"a": {"S": "1"}}, "Expected": {"a": {}}, "AttributeUpdates": {},
            "ConditionExpression": "", "UpdateExpression": ""
        }))),
        "ValidationException: Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression, ConditionExpression}"
    );
    assert_eq!(
        failed(f.update(json!({
            "Key": {"a": {"S": "1"}}, "Expected": {"a": {}}, "ExpressionAttributeValues": {}
        }))),
        "ValidationException: ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null"
    );
    assert_eq!(
        failed(f.put(json!({
            "Item": {"a": {"S": "1"}}, "Expected": {"a": {}}, "ExpressionAttributeValues": {}
        }))),
        "ValidationException: ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"
    );
}

#[test]
fn update_cannot_touch_the_key() {
    let f = fixture();
    assert_eq!(
        failed(f.update(
            json!({"Key": {"a": {"S": "1"}}, "AttributeUpdates": {"a": {"Value": {"S": "2"}}}})
        )),
        "ValidationException: One or more parameter values were invalid: Cannot update attribute a. This attribute is part of the key"
    );
}

#[test]
fn attribute_updates_apply_and_return_updated_values() {
    let f = fixture();
    let key = json!({"a": {"S": "1"}});
    let new = f
        .update(json!({
            "Key": key,
            "AttributeUpdates": {
                "b": {"Action": "DELETE"},
                "c": {"Action": "DELETE", "Value": {"SS": ["a", "b"]}},
                "d": {"Action": "ADD", "Value": {"N": "5"}},
                "e": {"Action": "ADD", "Value": {"SS": ["a", "b"]}},
                "f": {"Action": "ADD", "Value": {"L": [{"S": "a"}, {"N": "1"}]}}
            },
            "ReturnValues": "UPDATED_NEW"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        new,
        Some(item(
            json!({"d": {"N": "5"}, "e": {"SS": ["a", "b"]}, "f": {"L": [{"S": "a"}, {"N": "1"}]}})
        ))
    );
    let new = f
        .update(json!({
            "Key": key,
            "AttributeUpdates": {
                "d": {"Action": "ADD", "Value": {"N": "3"}},
                "f": {"Action": "ADD", "Value": {"L": [{"S": "b"}]}},
                "e": {"Action": "DELETE", "Value": {"SS": ["a"]}},
                "g": {"Value": {"BOOL": true}}
            },
            "Expected": {"d": {"Value": {"N": "5"}}},
            "ReturnValues": "UPDATED_NEW"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        new,
        Some(item(json!({
            "d": {"N": "8"}, "e": {"SS": ["b"]}, "g": {"BOOL": true},
            "f": {"L": [{"S": "a"}, {"N": "1"}, {"S": "b"}]}
        })))
    );
    assert_eq!(
        failed(f.update(json!({"Key": key, "AttributeUpdates": {"g": {"Action": "DELETE"}}, "Expected": {"d": {"Value": {"N": "5"}}}}))),
        CONDITIONAL
    );
}

/// Legacy ADD and DELETE on an attribute of another type fail with AWS's legacy message,
/// not the expression one (dynalite's "should return ValidationException if trying to
/// delete/add incorrect types").
#[test]
fn legacy_type_mismatch_uses_the_legacy_message() {
    let f = fixture();
    f.put(json!({"Item": {"a": {"S": "1"}, "b": {"S": "x"}, "c": {"SS": ["x"]}, "d": {"BOOL": true}}}))
        .unwrap_or_else(|e| panic!("{e}"));
    for (attr, action, value) in [
        ("b", "DELETE", json!({"NS": ["1"]})),
        ("b", "DELETE", json!({"BS": ["YQ=="]})),
        ("c", "DELETE", json!({"NS": ["1"]})),
        ("b", "ADD", json!({"NS": ["1"]})),
        ("d", "ADD", json!({"N": "1"})),
    ] {
        assert_eq!(
            failed(f.update(json!({
                "Key": {"a": {"S": "1"}},
                "AttributeUpdates": {attr: {"Action": action, "Value": value}}
            }))),
            "ValidationException: Type mismatch for attribute to update",
            "{action} {attr}"
        );
    }
}

#[test]
fn get_item_projects_attributes_to_get() {
    let f = fixture();
    f.put(json!({"Item": {"a": {"S": "1"}, "b": {"S": "x"}, "c": {"N": "2"}}}))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        f.get(json!({"Key": {"a": {"S": "1"}}, "AttributesToGet": ["c", "z", "a"]})),
        Some(item(json!({"a": {"S": "1"}, "c": {"N": "2"}})))
    );
    let r = f.engine.get_item(
        &f.ns,
        input(json!({"TableName": "t", "Key": {"a": {"S": "1"}}, "AttributesToGet": ["a", "a"]})),
    );
    assert_eq!(
        failed(r),
        "ValidationException: One or more parameter values were invalid: Duplicate value in attribute name: a"
    );
}
