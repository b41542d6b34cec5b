//! Checks AWS makes on which parameters a request uses, before it looks at any attribute
//! value in them: mixing legacy and expression parameters, names or values without an
//! expression. The typed decode of a request validates attribute values, so these run first,
//! on the raw JSON (dynalite tuples 2001, 2672 and 5959, AWS-validated).

use std::collections::BTreeMap;

use crate::error::Result;
use crate::item_ops::{ExpressionParams, check_expression_params};

/// Which legacy and expression parameters each single-item operation knows, in AWS's order.
fn parameters(op: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match op {
        "PutItem" | "DeleteItem" => (
            &["Expected", "ConditionalOperator"],
            &["ConditionExpression"],
        ),
        "UpdateItem" => (
            &["AttributeUpdates", "Expected", "ConditionalOperator"],
            &["UpdateExpression", "ConditionExpression"],
        ),
        "GetItem" => (&["AttributesToGet"], &["ProjectionExpression"]),
        _ => return None,
    })
}

/// Runs the parameter checks of `op` on its raw JSON body; other operations pass.
pub fn precheck_request(op: &str, body: &serde_json::Value) -> Result<()> {
    let Some((legacy, expressions)) = parameters(op) else {
        return Ok(());
    };
    let present = |name: &str| body.get(name).is_some_and(|v| !v.is_null());
    let legacy: Vec<(&str, bool)> = legacy.iter().map(|n| (*n, present(n))).collect();
    let expressions: Vec<(&str, bool)> = expressions.iter().map(|n| (*n, present(n))).collect();
    let params = ExpressionParams {
        expression_attribute_names: present("ExpressionAttributeNames").then(BTreeMap::new),
        expression_attribute_values: present("ExpressionAttributeValues").then(BTreeMap::new),
    };
    check_expression_params(&legacy, &expressions, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(op: &str, body: &str, expect: Option<&str>) {
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            precheck_request(op, &body)
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            expect
        );
    }

    #[test]
    fn mixing_is_reported_before_bad_values() {
        check(
            "PutItem",
            r#"{"Item":{"a":{}},"Expected":{"a":{}},"ConditionExpression":""}"#,
            Some(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
            ),
        );
        check(
            "UpdateItem",
            r#"{"Key":{"a":{}},"ExpressionAttributeValues":{}}"#,
            Some(
                "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null",
            ),
        );
        check(
            "GetItem",
            r#"{"Key":{"a":{}},"ExpressionAttributeNames":{}}"#,
            Some("ExpressionAttributeNames can only be specified when using expressions"),
        );
        check(
            "GetItem",
            r#"{"Key":{"a":{}},"ProjectionExpression":"a"}"#,
            None,
        );
        check(
            "Query",
            r#"{"Expected":{},"ConditionExpression":"x"}"#,
            None,
        );
    }
}
