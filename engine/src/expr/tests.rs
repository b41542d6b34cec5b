//! Data-driven tests of the expression API: one `check_*` function per behaviour, many
//! one-line cases.

use std::collections::BTreeMap;

use super::*;
use crate::value::Item;

fn names(json: &str) -> Option<BTreeMap<String, String>> {
    (!json.is_empty()).then(|| serde_json::from_str(json).expect("names json"))
}

fn values(json: &str) -> Option<BTreeMap<String, AttributeValue>> {
    (!json.is_empty()).then(|| serde_json::from_str(json).expect("values json"))
}

/// The values of `json` that `expr` mentions, so shared fixtures pass the unused-value check.
fn used_values(expr: &str, json: &str) -> Option<BTreeMap<String, AttributeValue>> {
    let mut all = values(json)?;
    all.retain(|k, _| {
        expr.match_indices(k.as_str()).any(|(i, _)| {
            !expr[i + k.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    });
    Some(all)
}

fn item(json: &str) -> Item {
    if json.is_empty() {
        return Item::new();
    }
    serde_json::from_str(json).expect("item json")
}

/// Which expression parameter a test string goes to.
#[derive(Clone, Copy)]
enum Kind {
    Cond,
    Upd,
    Proj,
    Filter,
    Key,
}
use Kind::*;

fn input<'a>(
    kind: Kind,
    expr: &'a str,
    n: &'a Option<BTreeMap<String, String>>,
    v: &'a Option<BTreeMap<String, AttributeValue>>,
) -> ExpressionInput<'a> {
    let mut i = ExpressionInput {
        names: n.as_ref(),
        values: v.as_ref(),
        ..Default::default()
    };
    match kind {
        Cond => i.condition = Some(expr),
        Upd => i.update = Some(expr),
        Proj => i.projection = Some(expr),
        Filter => i.filter = Some(expr),
        Key => i.key_condition = Some(expr),
    }
    i
}

/// `expr` fails static validation with exactly `msg`.
#[track_caller]
fn check_err(kind: Kind, expr: &str, n: &str, v: &str, msg: &str) {
    let (n, v) = (names(n), values(v));
    match parse(&input(kind, expr, &n, &v), &["pk"]) {
        Ok(e) => panic!("{expr:?} parsed: {e:?}"),
        Err(e) => assert_eq!(e.to_string(), msg, "for {expr:?}"),
    }
}

/// The condition `expr` evaluates to `want` on `item`.
#[track_caller]
fn check_cond(expr: &str, v: &str, it: &str, want: bool) {
    let (n, v) = (None, used_values(expr, v));
    let e = parse(&input(Cond, expr, &n, &v), &[]).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    let c = e.condition.expect("condition");
    assert_eq!(
        c.evaluate(&item(it)).expect("evaluates"),
        want,
        "{expr:?} on {it}"
    );
    // NOT always flips the result.
    let not = Condition::Not(Box::new(c));
    assert_eq!(not.evaluate(&item(it)).expect("evaluates"), !want);
}

/// Applying `expr` to `before` gives `after`.
#[track_caller]
fn check_update(expr: &str, v: &str, before: &str, after: &str) {
    let (n, v) = (None, used_values(expr, v));
    let e = parse(&input(Upd, expr, &n, &v), &["pk"]).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    let mut it = item(before);
    e.update
        .expect("update")
        .apply(&mut it)
        .unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    assert_eq!(it, item(after), "{expr:?} on {before}");
}

/// Applying `expr` to `before` fails at run time with `msg`.
#[track_caller]
fn check_update_err(expr: &str, v: &str, before: &str, msg: &str) {
    let (n, v) = (None, used_values(expr, v));
    let e = parse(&input(Upd, expr, &n, &v), &["pk"]).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    let mut it = item(before);
    let err = e
        .update
        .expect("update")
        .apply(&mut it)
        .expect_err("should fail");
    assert_eq!(err.to_string(), msg, "{expr:?} on {before}");
}

/// Projecting `item` with `expr` gives `want`.
#[track_caller]
fn check_projection(expr: &str, n: &str, it: &str, want: &str) {
    let (n, v) = (names(n), None);
    let e = parse(&input(Proj, expr, &n, &v), &[]).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    assert_eq!(
        e.projection.expect("projection").apply(&item(it)),
        item(want),
        "{expr:?}"
    );
}

/// The key condition `expr` parses into `want` (Debug form).
#[track_caller]
fn check_key(expr: &str, v: &str, want: &str) {
    let (n, v) = (None, used_values(expr, v));
    let e = parse(&input(Key, expr, &n, &v), &[]).unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    let kc = e.key_condition.expect("key condition");
    let j = |v: &AttributeValue| serde_json::to_string(v).expect("serializes");
    let got: Vec<String> = kc
        .predicates
        .iter()
        .map(|p| match &p.op {
            KeyOp::Compare(c, v) => format!("{} {} {}", p.attribute, c.as_str(), j(v)),
            KeyOp::Between(a, b) => format!("{} BETWEEN {} AND {}", p.attribute, j(a), j(b)),
            KeyOp::BeginsWith(v) => format!("begins_with({}, {})", p.attribute, j(v)),
        })
        .collect();
    assert_eq!(got.join("; "), want);
}

const V: &str = r#"{":s":{"S":"abc"},":n":{"N":"5"},":b":{"B":"AQI="},":l":{"L":[{"N":"1"}]}}"#;

// ---- syntax errors ----

#[test]
fn syntax_errors_quote_token_and_neighbours() {
    check_err(
        Upd,
        "SET a",
        "",
        "",
        r#"Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a""#,
    );
    check_err(
        Upd,
        "ADD hits : incr",
        "",
        "",
        r#"Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr""#,
    );
    check_err(
        Upd,
        "SET numx = numx / :v",
        "",
        r#"{":v":{"N":"1"}}"#,
        r#"Invalid UpdateExpression: Syntax error; token: "/", near: "numx / :v""#,
    );
    check_err(
        Upd,
        "INVALID SYNTAX HERE",
        "",
        "",
        r#"Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX""#,
    );
    check_err(
        Upd,
        "SET a = ",
        "",
        "",
        r#"Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "= ""#,
    );
    check_err(
        Proj,
        "a,",
        "",
        "",
        r#"Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ",""#,
    );
    check_err(
        Proj,
        "a b",
        "",
        "",
        r#"Invalid ProjectionExpression: Syntax error; token: "b", near: "a b""#,
    );
    check_err(
        Cond,
        "a = = b",
        "",
        "",
        r#"Invalid ConditionExpression: Syntax error; token: "=", near: "= = b""#,
    );
    check_err(
        Key,
        "pk = :type AND",
        "",
        r#"{":type":{"S":"x"}}"#,
        r#"Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND""#,
    );
    check_err(
        Filter,
        "a > between",
        "",
        "",
        r#"Invalid FilterExpression: Syntax error; token: "between", near: "> between""#,
    );
}

#[test]
fn empty_expressions_are_rejected() {
    check_err(
        Cond,
        "",
        "",
        "",
        "Invalid ConditionExpression: The expression can not be empty;",
    );
    check_err(
        Upd,
        "  ",
        "",
        "",
        "Invalid UpdateExpression: The expression can not be empty;",
    );
    check_err(
        Proj,
        "",
        "",
        "",
        "Invalid ProjectionExpression: The expression can not be empty;",
    );
    check_err(
        Key,
        "",
        "",
        "",
        "Invalid KeyConditionExpression: The expression can not be empty;",
    );
    check_err(
        Filter,
        "",
        "",
        "",
        "Invalid FilterExpression: The expression can not be empty;",
    );
}

// ---- static validation ----

#[test]
fn names_and_values_maps_are_checked() {
    check_err(
        Cond,
        "a = :a",
        "{}",
        "",
        "ExpressionAttributeNames must not be empty",
    );
    check_err(
        Cond,
        "a = :a",
        r#"{"a":"b"}"#,
        "",
        r#"ExpressionAttributeNames contains invalid key: Syntax error; key: "a""#,
    );
    check_err(
        Cond,
        "a = :a",
        "",
        "{}",
        "ExpressionAttributeValues must not be empty",
    );
    check_err(
        Cond,
        "a = :a",
        "",
        r#"{"b":{"S":"x"}}"#,
        r#"ExpressionAttributeValues contains invalid key: Syntax error; key: "b""#,
    );
    check_err(
        Proj,
        "a",
        r##"{"#a":"a","#b":"b"}"##,
        "",
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}",
    );
    check_err(
        Cond,
        "a = :b",
        "",
        r#"{":a":{"S":"x"},":b":{"S":"x"}}"#,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a}",
    );
}

#[test]
fn undefined_names_and_values() {
    check_err(
        Upd,
        "SET #a = :a",
        "",
        r#"{":a":{"S":"x"}}"#,
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #a",
    );
    check_err(
        Upd,
        "SET a = :a",
        "",
        "",
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :a",
    );
    check_err(
        Filter,
        ":a < :b",
        "",
        "",
        "Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: :a",
    );
}

#[test]
fn reserved_words_are_rejected_in_paths() {
    check_err(
        Cond,
        "name = :s",
        "",
        V,
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name",
    );
    check_err(
        Proj,
        "a.abORt",
        "",
        "",
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: abORt",
    );
    check_err(
        Upd,
        "REMOVE Absolute",
        "",
        "",
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Absolute",
    );
}

#[test]
fn functions_are_checked() {
    check_err(
        Cond,
        "whatever(a)",
        "",
        "",
        "Invalid ConditionExpression: Invalid function name; function: whatever",
    );
    check_err(
        Cond,
        "size(a)",
        "",
        "",
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size",
    );
    check_err(
        Cond,
        "contains(a, b) = c",
        "",
        "",
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: contains",
    );
    check_err(
        Cond,
        "begins_with(a)",
        "",
        "",
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1",
    );
    check_err(
        Cond,
        "begins_with(a, :n)",
        "",
        r#"{":n":{"N":"1"}}"#,
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
    );
    check_err(
        Cond,
        "attribute_exists(:s)",
        "",
        r#"{":s":{"S":"1"}}"#,
        "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists",
    );
    check_err(
        Cond,
        "attribute_type(a, :s)",
        "",
        r#"{":s":{"S":"X"}}"#,
        "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}",
    );
    check_err(
        Cond,
        "size(:n) > a",
        "",
        r#"{":n":{"BOOL":true}}"#,
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: BOOL",
    );
}

#[test]
fn condition_shape_errors() {
    check_err(
        Cond,
        "a = a",
        "",
        "",
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]",
    );
    check_err(
        Cond,
        "((a = b))",
        "",
        "",
        "Invalid ConditionExpression: The expression has redundant parentheses;",
    );
    check_err(
        Cond,
        "a between :n and :s",
        "",
        r#"{":n":{"N":"1"},":s":{"S":"a"}}"#,
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}",
    );
    check_err(
        Cond,
        "a between :b and :a",
        "",
        r#"{":a":{"S":"a"},":b":{"S":"b"}}"#,
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}",
    );
}

#[test]
fn expression_limits() {
    let list: Vec<String> = (0..101).map(|_| ":a".to_string()).collect();
    let v = r#"{":a":{"N":"1"}}"#;
    check_err(
        Filter,
        &format!("x IN ({})", list.join(",")),
        "",
        v,
        "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101",
    );
    let ors: Vec<&str> = (0..151).map(|_| "x = :a").collect();
    check_err(
        Filter,
        &ors.join(" OR "),
        "",
        v,
        "Invalid FilterExpression: The expression contains too many operators; operator count: 301",
    );
}

#[test]
fn ordering_a_constant_without_order_is_an_error() {
    check_err(
        Cond,
        "a < :l",
        "",
        r#"{":l":{"L":[{"N":"1"}]}}"#,
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: LIST",
    );
    check_err(
        Cond,
        ":l >= a",
        "",
        r#"{":l":{"BOOL":true}}"#,
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: >=, operand type: BOOLEAN",
    );
    check_cond("a = :l", r#"{":l":{"L":[]}}"#, r#"{"a":{"L":[]}}"#, true);
}

#[test]
fn update_static_errors() {
    check_err(
        Upd,
        "SET a = :s SET b = :s",
        "",
        r#"{":s":{"S":"x"}}"#,
        "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;",
    );
    check_err(
        Upd,
        "SET a.b = :s, a = :s",
        "",
        r#"{":s":{"S":"x"}}"#,
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]",
    );
    check_err(
        Upd,
        "REMOVE a.c SET a[1] = :s",
        "",
        r#"{":s":{"S":"x"}}"#,
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, c], path two: [a, [1]]",
    );
    check_err(
        Upd,
        "ADD a :s",
        "",
        r#"{":s":{"S":"x"}}"#,
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND",
    );
    check_err(
        Upd,
        "DELETE a :n",
        "",
        r#"{":n":{"N":"1"}}"#,
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND",
    );
    check_err(
        Upd,
        "SET a = a + :s",
        "",
        r#"{":s":{"S":"x"}}"#,
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S",
    );
    check_err(
        Upd,
        "SET a = list_append(:n, a)",
        "",
        r#"{":n":{"N":"1"}}"#,
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N",
    );
    check_err(
        Upd,
        "SET a = if_not_exists(:n, a)",
        "",
        r#"{":n":{"N":"1"}}"#,
        "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists",
    );
    check_err(
        Upd,
        "SET pk = :n",
        "",
        r#"{":n":{"N":"1"}}"#,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
    );
}

#[test]
fn projection_static_errors() {
    check_err(
        Proj,
        "a, #a[1]",
        r##"{"#a":"a"}"##,
        "",
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, [1]]",
    );
    check_err(
        Proj,
        "a.b, a[1]",
        "",
        "",
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]",
    );
}

#[test]
fn key_condition_shape_errors() {
    let v = r#"{":a":{"N":"1"}}"#;
    check_err(
        Key,
        "pk = :a OR sk = :a",
        "",
        v,
        "Invalid operator used in KeyConditionExpression: OR",
    );
    check_err(
        Key,
        "pk <> :a",
        "",
        v,
        "Invalid operator used in KeyConditionExpression: <>",
    );
    check_err(
        Key,
        "contains(pk, :a)",
        "",
        v,
        "Invalid operator used in KeyConditionExpression: contains",
    );
    check_err(
        Key,
        "pk.x = :a",
        "",
        v,
        "KeyConditionExpressions cannot have conditions on nested attributes",
    );
    check_err(
        Key,
        "pk = sk",
        "",
        "",
        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
    );
    check_err(
        Key,
        "pk = size(sk)",
        "",
        "",
        "KeyConditionExpressions cannot contain nested operations",
    );
    check_err(
        Key,
        ":a = :a",
        "",
        v,
        "Invalid condition in KeyConditionExpression: No key attribute specified",
    );
    check_err(
        Key,
        "pk = :a AND pk = :a",
        "",
        v,
        "KeyConditionExpressions must only contain one condition per key",
    );
    check_err(
        Key,
        "a = :a AND b = :a AND c = :a",
        "",
        v,
        "Conditions can be of length 1 or 2 only",
    );
}

#[test]
fn filter_on_key_attributes_is_rejected_in_queries() {
    let n = None;
    let v = values(r#"{":a":{"N":"1"}}"#);
    let i = ExpressionInput {
        key_condition: Some("pk = :a"),
        filter: Some("pk = :a"),
        values: v.as_ref(),
        names: n.as_ref(),
        ..Default::default()
    };
    let e = parse(&i, &["pk"]).expect_err("filter on key");
    assert_eq!(
        e.to_string(),
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: pk"
    );
}

// ---- key conditions ----

#[test]
fn key_conditions_normalize_to_key_first() {
    let v = r#"{":a":{"N":"1"},":b":{"N":"2"},":s":{"S":"x"}}"#;
    check_key(
        "pk = :a AND sk BETWEEN :a AND :b",
        v,
        r#"pk = {"N":"1"}; sk BETWEEN {"N":"1"} AND {"N":"2"}"#,
    );
    check_key(
        ":s = pk AND :a < sk",
        v,
        r#"pk = {"S":"x"}; sk > {"N":"1"}"#,
    );
    check_key(
        "begins_with(sk, :s) AND pk = :a",
        v,
        r#"begins_with(sk, {"S":"x"}); pk = {"N":"1"}"#,
    );
}

// ---- evaluation ----

const ITEM: &str = r#"{"s":{"S":"abc"},"n":{"N":"5"},"b":{"B":"AQI="},"l":{"L":[{"N":"1"},{"S":"x"}]},"m":{"M":{"k":{"S":"v"},"n":{"L":[{"BOOL":true}]}}},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"nul":{"NULL":true}}"#;

#[test]
fn comparisons_need_same_types() {
    check_cond("s = :s", V, ITEM, true);
    check_cond("s < :s", V, ITEM, false);
    check_cond("s <= :s", V, ITEM, true);
    check_cond("n = :n", V, ITEM, true);
    check_cond("n > :s", V, ITEM, false);
    check_cond("n < :s", V, ITEM, false);
    check_cond("n <> :s", V, ITEM, true);
    check_cond("b = :b", V, ITEM, true);
    check_cond("l = :l", V, ITEM, false);
    check_cond("nope = :n", V, ITEM, false);
    check_cond("nope < :n", V, ITEM, false);
    check_cond("nope <> :n", V, ITEM, true);
}

#[test]
fn strings_compare_by_utf8_bytes() {
    let v = r#"{":a":{"S":"Z"},":b":{"S":"a"},":c":{"S":"é"}}"#;
    check_cond(":a < :b", v, "", true);
    check_cond(":b < :c", v, "", true);
}

#[test]
fn numbers_compare_numerically() {
    let v = r#"{":a":{"N":"9"},":b":{"N":"10"},":c":{"N":"-1"}}"#;
    check_cond(":a < :b", v, "", true);
    check_cond(":c < :a", v, "", true);
    check_cond(":a BETWEEN :c AND :b", v, "", true);
    check_cond(":b BETWEEN :c AND :a", v, "", false);
}

#[test]
fn binary_compares_by_unsigned_bytes() {
    let v = r#"{":a":{"B":"fw=="},":b":{"B":"gA=="}}"#;
    check_cond(":a < :b", v, "", true);
}

#[test]
fn sets_are_equal_regardless_of_order() {
    check_cond("ss = :x", r#"{":x":{"SS":["b","a"]}}"#, ITEM, true);
    check_cond("ns = :x", r#"{":x":{"NS":["2","1"]}}"#, ITEM, true);
    check_cond("ss = :x", r#"{":x":{"SS":["a"]}}"#, ITEM, false);
}

#[test]
fn nested_paths_resolve() {
    check_cond("m.k = :x", r#"{":x":{"S":"v"}}"#, ITEM, true);
    check_cond("m.n[0] = :x", r#"{":x":{"BOOL":true}}"#, ITEM, true);
    check_cond("l[1] = :x", r#"{":x":{"S":"x"}}"#, ITEM, true);
    check_cond("l[2] = :x", r#"{":x":{"S":"x"}}"#, ITEM, false);
    check_cond("s[0] = :x", r#"{":x":{"S":"x"}}"#, ITEM, false);
}

#[test]
fn logical_operators_and_precedence() {
    check_cond("n = :n OR s = :n AND s = :n", V, ITEM, true);
    check_cond("(n = :n OR s = :n) AND s = :n", V, ITEM, false);
    check_cond("NOT n = :n OR s = :s", V, ITEM, true);
    check_cond("NOT (n = :n OR s = :s)", V, ITEM, false);
}

#[test]
fn in_and_between() {
    check_cond("n IN (:s, :n)", V, ITEM, true);
    check_cond("n IN (:s, :b)", V, ITEM, false);
    check_cond("nope IN (:s, :n)", V, ITEM, false);
    check_cond(
        "s BETWEEN :lo AND :hi",
        r#"{":lo":{"S":"abb"},":hi":{"S":"abd"}}"#,
        ITEM,
        true,
    );
    check_cond(
        "s BETWEEN :lo AND :hi",
        r#"{":lo":{"N":"1"},":hi":{"N":"2"}}"#,
        ITEM,
        false,
    );
}

#[test]
fn functions_evaluate() {
    check_cond("attribute_exists(m.k)", "", ITEM, true);
    check_cond("attribute_exists(m.z)", "", ITEM, false);
    check_cond("attribute_not_exists(pk)", "", "", true);
    check_cond(
        "attribute_type(nul, :t)",
        r#"{":t":{"S":"NULL"}}"#,
        ITEM,
        true,
    );
    check_cond(
        "attribute_type(ss, :t)",
        r#"{":t":{"S":"NS"}}"#,
        ITEM,
        false,
    );
    check_cond("begins_with(s, :p)", r#"{":p":{"S":"ab"}}"#, ITEM, true);
    check_cond("begins_with(s, :p)", r#"{":p":{"S":"b"}}"#, ITEM, false);
    check_cond("begins_with(b, :p)", r#"{":p":{"B":"AQ=="}}"#, ITEM, true);
    check_cond("contains(s, :p)", r#"{":p":{"S":"bc"}}"#, ITEM, true);
    check_cond("contains(ss, :p)", r#"{":p":{"S":"b"}}"#, ITEM, true);
    check_cond("contains(ns, :p)", r#"{":p":{"N":"3"}}"#, ITEM, false);
    check_cond("contains(l, :p)", r#"{":p":{"S":"x"}}"#, ITEM, true);
    check_cond("size(s) = :n", r#"{":n":{"N":"3"}}"#, ITEM, true);
    check_cond(
        "size(u) = :n",
        r#"{":n":{"N":"3"}}"#,
        r#"{"u":{"S":"abÿ"}}"#,
        true,
    );
    check_cond("size(l) = :n", r#"{":n":{"N":"2"}}"#, ITEM, true);
    check_cond("size(m) = :n", r#"{":n":{"N":"2"}}"#, ITEM, true);
    check_cond("size(ss) > :n", r#"{":n":{"N":"1"}}"#, ITEM, true);
    check_cond("size(n) >= :n", r#"{":n":{"N":"0"}}"#, ITEM, false);
    check_cond("size(nope) >= :n", r#"{":n":{"N":"0"}}"#, ITEM, false);
}

// ---- update application ----

#[test]
fn set_writes_values_and_paths() {
    check_update("SET a = :s", V, "", r#"{"a":{"S":"abc"}}"#);
    check_update(
        "SET a = b, b = a",
        "",
        r#"{"a":{"N":"1"},"b":{"N":"2"}}"#,
        r#"{"a":{"N":"2"},"b":{"N":"1"}}"#,
    );
    check_update(
        "SET m.x = :s",
        V,
        r#"{"m":{"M":{}}}"#,
        r#"{"m":{"M":{"x":{"S":"abc"}}}}"#,
    );
    check_update(
        "SET l[0] = :s",
        V,
        r#"{"l":{"L":[{"N":"1"}]}}"#,
        r#"{"l":{"L":[{"S":"abc"}]}}"#,
    );
    check_update(
        "SET l[9] = :s",
        V,
        r#"{"l":{"L":[{"N":"1"}]}}"#,
        r#"{"l":{"L":[{"N":"1"},{"S":"abc"}]}}"#,
    );
}

#[test]
fn set_arithmetic_and_functions() {
    check_update(
        "SET a = a + :n",
        V,
        r#"{"a":{"N":"2"}}"#,
        r#"{"a":{"N":"7"}}"#,
    );
    check_update(
        "SET a = a - :n",
        V,
        r#"{"a":{"N":"2"}}"#,
        r#"{"a":{"N":"-3"}}"#,
    );
    check_update("SET a = if_not_exists(a, :n)", V, "", r#"{"a":{"N":"5"}}"#);
    check_update(
        "SET a = if_not_exists(a, :n)",
        V,
        r#"{"a":{"S":"x"}}"#,
        r#"{"a":{"S":"x"}}"#,
    );
    check_update(
        "SET a = if_not_exists(a, :n) + :n",
        V,
        "",
        r#"{"a":{"N":"10"}}"#,
    );
    check_update(
        "SET a = list_append(a, :l)",
        V,
        r#"{"a":{"L":[{"S":"x"}]}}"#,
        r#"{"a":{"L":[{"S":"x"},{"N":"1"}]}}"#,
    );
    check_update(
        "SET a = list_append(:l, a)",
        V,
        r#"{"a":{"L":[{"S":"x"}]}}"#,
        r#"{"a":{"L":[{"N":"1"},{"S":"x"}]}}"#,
    );
}

#[test]
fn remove_deletes_attributes_and_elements() {
    check_update(
        "REMOVE a, b",
        "",
        r#"{"a":{"N":"1"},"c":{"N":"3"}}"#,
        r#"{"c":{"N":"3"}}"#,
    );
    check_update(
        "REMOVE l[0], l[2]",
        "",
        r#"{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"}]}}"#,
        r#"{"l":{"L":[{"N":"1"},{"N":"3"}]}}"#,
    );
    check_update(
        "REMOVE l[7]",
        "",
        r#"{"l":{"L":[{"N":"0"}]}}"#,
        r#"{"l":{"L":[{"N":"0"}]}}"#,
    );
    check_update(
        "REMOVE m.k",
        "",
        r#"{"m":{"M":{"k":{"N":"0"}}}}"#,
        r#"{"m":{"M":{}}}"#,
    );
}

#[test]
fn add_numbers_and_sets() {
    check_update("ADD a :n", V, "", r#"{"a":{"N":"5"}}"#);
    check_update("ADD a :n", V, r#"{"a":{"N":"1"}}"#, r#"{"a":{"N":"6"}}"#);
    check_update(
        "ADD a :x",
        r#"{":x":{"SS":["b","c"]}}"#,
        r#"{"a":{"SS":["a","b"]}}"#,
        r#"{"a":{"SS":["a","b","c"]}}"#,
    );
    check_update(
        "ADD a :x",
        r#"{":x":{"NS":["1"]}}"#,
        "",
        r#"{"a":{"NS":["1"]}}"#,
    );
}

#[test]
fn delete_removes_set_elements() {
    check_update(
        "DELETE a :x",
        r#"{":x":{"SS":["b","z"]}}"#,
        r#"{"a":{"SS":["a","b"]}}"#,
        r#"{"a":{"SS":["a"]}}"#,
    );
    check_update(
        "DELETE a :x",
        r#"{":x":{"SS":["a"]}}"#,
        r#"{"a":{"SS":["a"]}}"#,
        "{}",
    );
    check_update("DELETE a :x", r#"{":x":{"SS":["a"]}}"#, "", "{}");
}

#[test]
fn update_runtime_errors() {
    check_update_err("SET a = b", "", "", MISSING_ATTRIBUTE);
    check_update_err("SET a = a + :n", V, r#"{"a":{"S":"x"}}"#, INCORRECT_TYPE);
    check_update_err(
        "SET a = list_append(a, :l)",
        V,
        r#"{"a":{"S":"x"}}"#,
        INCORRECT_TYPE,
    );
    check_update_err("SET m.x = :s", V, "", INVALID_PATH);
    check_update_err("SET m.x = :s", V, r#"{"m":{"L":[]}}"#, INVALID_PATH);
    check_update_err("SET l[0] = :s", V, r#"{"l":{"M":{}}}"#, INVALID_PATH);
    check_update_err("ADD a :n", V, r#"{"a":{"S":"x"}}"#, INCORRECT_TYPE);
    check_update_err(
        "ADD a :x",
        r#"{":x":{"SS":["a"]}}"#,
        r#"{"a":{"NS":["1"]}}"#,
        INCORRECT_TYPE,
    );
    check_update_err(
        "DELETE a :x",
        r#"{":x":{"SS":["a"]}}"#,
        r#"{"a":{"NS":["1"]}}"#,
        INCORRECT_TYPE,
    );
}

#[test]
fn updated_paths_list_every_action() {
    let expr = "SET a.b = :s REMOVE c ADD d :n";
    let (n, v) = (None, used_values(expr, V));
    let e = parse(&input(Upd, expr, &n, &v), &[]).expect("parses");
    let paths: Vec<String> = e
        .update
        .expect("update")
        .updated_paths()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(paths, ["a.b", "c", "d"]);
}

// ---- projection ----

#[test]
fn projections_keep_document_shape() {
    check_projection("s, n", "", ITEM, r#"{"s":{"S":"abc"},"n":{"N":"5"}}"#);
    check_projection("m.k", "", ITEM, r#"{"m":{"M":{"k":{"S":"v"}}}}"#);
    check_projection(
        "l[1], l[0]",
        "",
        ITEM,
        r#"{"l":{"L":[{"N":"1"},{"S":"x"}]}}"#,
    );
    check_projection("l[1]", "", ITEM, r#"{"l":{"L":[{"S":"x"}]}}"#);
    check_projection(
        "m.n[0], m.k",
        "",
        ITEM,
        r#"{"m":{"M":{"k":{"S":"v"},"n":{"L":[{"BOOL":true}]}}}}"#,
    );
    check_projection("nope, m.zz, l[5], s.x", "", ITEM, "{}");
    check_projection(
        "#n",
        r##"{"#n":"name"}"##,
        r#"{"name":{"S":"x"}}"#,
        r#"{"name":{"S":"x"}}"#,
    );
}

#[test]
fn huge_inputs_fail_cleanly() {
    let v = r#"{":a":{"N":"1"}}"#;
    let long = vec!["x = :a"; 100_000].join(" AND ");
    check_err(
        Filter,
        &long,
        "",
        v,
        "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 1099995",
    );
    // Within 4 KB, the operator limit (300) is what refuses it.
    let many = vec!["x = :a"; 160].join(" AND ");
    check_err(
        Filter,
        &many,
        "",
        v,
        "Invalid FilterExpression: The expression contains too many operators; operator count: 319",
    );
    let deep = format!("{}x = :a{}", "(".repeat(100_000), ")".repeat(100_000));
    let (n, vals) = (None, values(v));
    assert!(parse(&input(Filter, &deep, &n, &vals), &[]).is_err());
    let nots = format!("{}x = :a", "NOT ".repeat(100_000));
    assert!(parse(&input(Filter, &nots, &n, &vals), &[]).is_err());
    let calls = format!(
        "SET x = {}:a{}",
        "list_append(".repeat(50_000),
        ", :a)".repeat(50_000)
    );
    assert!(parse(&input(Upd, &calls, &n, &vals), &[]).is_err());
}

#[test]
fn expressions_longer_than_4_kb_are_refused() {
    let ok = format!("a = :v{}", " ".repeat(4096 - 6));
    let long = format!("{ok} ");
    let values: std::collections::BTreeMap<String, crate::value::AttributeValue> = [(
        ":v".to_string(),
        crate::value::AttributeValue::S("x".into()),
    )]
    .into();
    let input = |c: &str| {
        super::parse(
            &super::ExpressionInput {
                condition: Some(c),
                values: Some(&values),
                ..Default::default()
            },
            &[],
        )
    };
    assert!(input(&ok).is_ok());
    assert_eq!(
        input(&long).unwrap_err().to_string(),
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"
    );
}
