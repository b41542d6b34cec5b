//! Time to Live (settings, messages, the cooldown and the expiry sweep), tagging, DescribeLimits
//! and DescribeEndpoints against a real engine on a manual clock.

use std::sync::Arc;
use std::time::Duration;

use ddb_engine::{
    Engine, Error, Item, ManualClock, Namespace, TTL_COOLDOWN_MILLIS, TTL_MAX_AGE_SECONDS,
    Timestamp, tagging_access_denied,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// 2024-01-01T00:00:00Z.
const START_SECONDS: i64 = 1_704_067_200;

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("serialize: {e}"))
}

struct Fixture {
    engine: Engine,
    clock: ManualClock,
    ns: Namespace,
}

/// Table `tbl` (hash `id` S, GSI `by_g` on `g`) and table `tagged` (hash `id` S, tags `a=1, b=2`),
/// on a manual clock at [`START_SECONDS`].
fn fixture() -> Fixture {
    let clock = ManualClock::new(Timestamp(START_SECONDS * 1000));
    let engine = Engine::builder()
        .seed(5)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap_or_else(|e| panic!("engine: {e}"));
    let ns = Namespace::new("111122223333", "us-east-1");
    let f = Fixture { engine, clock, ns };
    f.create(json!({
        "TableName": "tbl",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                 {"AttributeName": "g", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by_g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}],
        "BillingMode": "PAY_PER_REQUEST"
    }));
    f.create(json!({
        "TableName": "tagged",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    }));
    f
}

impl Fixture {
    fn create(&self, table: Value) {
        self.engine
            .create_table(&self.ns, input(table))
            .unwrap_or_else(|e| panic!("create table: {e}"));
    }

    fn arn(&self, table: &str) -> String {
        format!("arn:aws:dynamodb:us-east-1:111122223333:table/{table}")
    }

    fn update_ttl(&self, table: &str, enabled: bool, attr: &str) -> Result<Value, Error> {
        self.engine
            .update_time_to_live(
                &self.ns,
                input(json!({"TableName": table,
                    "TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attr}})),
            )
            .map(|o| to_json(&o))
    }

    fn describe_ttl(&self, table: &str) -> Result<Value, Error> {
        self.engine
            .describe_time_to_live(&self.ns, input(json!({ "TableName": table })))
            .map(|o| to_json(&o))
    }

    fn put(&self, table: &str, item: Value) {
        self.engine
            .put_item(&self.ns, input(json!({"TableName": table, "Item": item})))
            .unwrap_or_else(|e| panic!("put: {e}"));
    }

    fn ids(&self, table: &str) -> Vec<String> {
        let items: Vec<Item> = self
            .engine
            .items(&self.ns, table)
            .unwrap_or_else(|e| panic!("items: {e}"));
        items
            .iter()
            .map(|i| to_json(&i["id"])["S"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn item_count(&self, table: &str) -> (u64, u64) {
        let d = self
            .engine
            .describe_table(&self.ns, input(json!({ "TableName": table })))
            .unwrap_or_else(|e| panic!("describe: {e}"));
        (d.table.item_count, d.table.table_size_bytes)
    }

    fn advance_past_cooldown(&self) {
        let ms = u64::try_from(TTL_COOLDOWN_MILLIS).unwrap_or(u64::MAX);
        self.clock.advance(Duration::from_millis(ms));
    }

    fn tag(&self, body: Value) -> Result<(), Error> {
        self.engine.tag_resource(&self.ns, input(body)).map(|_| ())
    }

    fn untag(&self, body: Value) -> Result<(), Error> {
        self.engine
            .untag_resource(&self.ns, input(body))
            .map(|_| ())
    }

    fn list_tags(&self, body: Value) -> Result<Value, Error> {
        self.engine
            .list_tags_of_resource(&self.ns, input(body))
            .map(|o| to_json(&o))
    }

    fn tags_of(&self, table: &str) -> Value {
        self.list_tags(json!({ "ResourceArn": self.arn(table) }))
            .unwrap_or_else(|e| panic!("list tags: {e}"))
    }
}

#[track_caller]
fn check_err(result: Result<impl std::fmt::Debug, Error>, aws_type: &str, message: &str) {
    match result {
        Ok(v) => panic!("expected {aws_type} {message:?}, got {v:?}"),
        Err(e) => {
            assert_eq!(e.aws_type(), aws_type, "{e}");
            assert_eq!(e.to_string(), message);
        }
    }
}

// ---- UpdateTimeToLive / DescribeTimeToLive ----

#[test]
fn fresh_table_describes_ttl_disabled_without_attribute() {
    let f = fixture();
    assert_eq!(
        f.describe_ttl("tbl").unwrap(),
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
    );
}

#[test]
fn enabling_ttl_echoes_the_specification_and_describes_enabled() {
    let f = fixture();
    assert_eq!(
        f.update_ttl("tbl", true, "exp").unwrap(),
        json!({"TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})
    );
    assert_eq!(
        f.describe_ttl("tbl").unwrap(),
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}})
    );
    // The other table is untouched.
    assert_eq!(
        f.describe_ttl("tagged").unwrap()["TimeToLiveDescription"]["TimeToLiveStatus"],
        "DISABLED"
    );
}

#[test]
fn disabling_ttl_forgets_the_attribute() {
    let f = fixture();
    f.update_ttl("tbl", true, "exp").unwrap();
    f.advance_past_cooldown();
    assert_eq!(
        f.update_ttl("tbl", false, "exp").unwrap(),
        json!({"TimeToLiveSpecification": {"Enabled": false, "AttributeName": "exp"}})
    );
    assert_eq!(
        f.describe_ttl("tbl").unwrap(),
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
    );
    f.advance_past_cooldown();
    f.update_ttl("tbl", true, "other").unwrap();
    assert_eq!(
        f.describe_ttl("tbl").unwrap()["TimeToLiveDescription"]["AttributeName"],
        "other"
    );
}

#[test]
fn disabling_ttl_that_was_never_enabled_is_refused() {
    let f = fixture();
    check_err(
        f.update_ttl("tbl", false, "exp"),
        "ValidationException",
        "TimeToLive is already disabled",
    );
}

#[test]
fn enabling_ttl_twice_is_refused_even_after_the_cooldown() {
    let f = fixture();
    f.update_ttl("tbl", true, "exp").unwrap();
    f.advance_past_cooldown();
    check_err(
        f.update_ttl("tbl", true, "exp"),
        "ValidationException",
        "TimeToLive is already enabled",
    );
}

#[test]
fn another_attribute_while_enabled_is_refused_for_enable_and_disable() {
    let f = fixture();
    f.update_ttl("tbl", true, "exp").unwrap();
    for enabled in [true, false] {
        check_err(
            f.update_ttl("tbl", enabled, "other"),
            "ValidationException",
            "TimeToLive is active on a different AttributeName: current AttributeName is exp",
        );
    }
}

#[test]
fn a_second_change_within_the_hour_is_refused_after_the_content_checks() {
    let f = fixture();
    f.update_ttl("tbl", true, "exp").unwrap();
    f.clock.advance(Duration::from_secs(59 * 60));
    check_err(
        f.update_ttl("tbl", false, "exp"),
        "ValidationException",
        "Time to live has been modified multiple times within a fixed interval",
    );
    // Content errors win over the cooldown.
    check_err(
        f.update_ttl("tbl", true, "exp"),
        "ValidationException",
        "TimeToLive is already enabled",
    );
    f.clock.advance(Duration::from_secs(60));
    f.update_ttl("tbl", false, "exp").unwrap();
    // The refused attempts did not extend the window, and the new change starts another one.
    check_err(
        f.update_ttl("tbl", true, "exp"),
        "ValidationException",
        "Time to live has been modified multiple times within a fixed interval",
    );
}

#[test]
fn ttl_operations_on_a_missing_table_are_resource_not_found() {
    let f = fixture();
    let msg = "Requested resource not found: Table: nope not found";
    check_err(f.describe_ttl("nope"), "ResourceNotFoundException", msg);
    check_err(
        f.update_ttl("nope", true, "exp"),
        "ResourceNotFoundException",
        msg,
    );
}

#[test]
fn ttl_operations_accept_a_table_arn() {
    let f = fixture();
    f.update_ttl(&f.arn("tbl"), true, "exp").unwrap();
    assert_eq!(
        f.describe_ttl("tbl").unwrap()["TimeToLiveDescription"]["TimeToLiveStatus"],
        "ENABLED"
    );
}

#[test]
fn a_recreated_table_does_not_inherit_ttl() {
    let f = fixture();
    f.update_ttl("tagged", true, "exp").unwrap();
    f.engine
        .delete_table(&f.ns, input(json!({"TableName": "tagged"})))
        .unwrap();
    f.create(json!({
        "TableName": "tagged",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    }));
    assert_eq!(
        f.describe_ttl("tagged").unwrap()["TimeToLiveDescription"]["TimeToLiveStatus"],
        "DISABLED"
    );
    // And no cooldown carries over either.
    f.update_ttl("tagged", true, "exp").unwrap();
}

// ---- expire_ttl ----

fn seconds(offset: i64) -> String {
    (START_SECONDS + offset).to_string()
}

#[test]
fn expire_ttl_deletes_only_numbers_at_or_before_now_and_under_five_years_old() {
    let f = fixture();
    f.update_ttl("tbl", true, "exp").unwrap();
    let cases = [
        ("past", json!({"N": seconds(-10)})),
        ("now", json!({"N": seconds(0)})),
        (
            "half-second-ago",
            json!({"N": format!("{}.5", START_SECONDS - 1)}),
        ),
        ("almost-5y", json!({"N": seconds(-TTL_MAX_AGE_SECONDS + 1)})),
        ("future", json!({"N": seconds(1)})),
        (
            "fraction-ahead",
            json!({"N": format!("{START_SECONDS}.001")}),
        ),
        ("5y", json!({"N": seconds(-TTL_MAX_AGE_SECONDS)})),
        ("6y", json!({"N": seconds(-6 * 365 * 86_400)})),
        (
            "millis",
            json!({"N": ((START_SECONDS - 10) * 1000).to_string()}),
        ),
        ("negative", json!({"N": "-1"})),
        ("string", json!({"S": seconds(-10)})),
        ("set", json!({"NS": [seconds(-10)]})),
        ("nested", json!({"M": {"exp": {"N": seconds(-10)}}})),
    ];
    for (id, exp) in &cases {
        f.put("tbl", json!({"id": {"S": id}, "exp": exp, "g": {"S": "x"}}));
    }
    f.put("tbl", json!({"id": {"S": "no-attribute"}, "g": {"S": "x"}}));
    f.put(
        "tagged",
        json!({"id": {"S": "other-table"}, "exp": {"N": seconds(-10)}}),
    );

    assert_eq!(f.engine.expire_ttl().unwrap(), 4);
    let mut left = f.ids("tbl");
    left.sort();
    let mut want = vec![
        "future",
        "fraction-ahead",
        "5y",
        "6y",
        "millis",
        "negative",
        "string",
        "set",
        "nested",
        "no-attribute",
    ];
    want.sort();
    assert_eq!(left, want);
    // A table without TTL keeps its items.
    assert_eq!(f.ids("tagged"), vec!["other-table"]);
    // Nothing more to do until the clock moves.
    assert_eq!(f.engine.expire_ttl().unwrap(), 0);
}

#[test]
fn expire_ttl_keeps_stats_and_indexes_current() {
    let f = fixture();
    f.update_ttl("tbl", true, "exp").unwrap();
    f.put("tbl", json!({"id": {"S": "keep"}, "g": {"S": "x"}}));
    let kept = f.item_count("tbl");
    f.put(
        "tbl",
        json!({"id": {"S": "gone"}, "g": {"S": "x"}, "exp": {"N": seconds(100)}}),
    );
    assert_eq!(f.engine.expire_ttl().unwrap(), 0);
    f.clock.advance(Duration::from_secs(100));
    assert_eq!(f.engine.expire_ttl().unwrap(), 1);
    assert_eq!(f.item_count("tbl"), kept);
    let index = f.engine.index_items(&f.ns, "tbl", "by_g").unwrap();
    assert_eq!(index.len(), 1);
    assert_eq!(to_json(&index[0]["id"]), json!({"S": "keep"}));
}

#[test]
fn expire_ttl_ignores_tables_whose_ttl_was_disabled() {
    let f = fixture();
    f.update_ttl("tbl", true, "exp").unwrap();
    f.put("tbl", json!({"id": {"S": "a"}, "exp": {"N": seconds(10)}}));
    f.advance_past_cooldown();
    f.update_ttl("tbl", false, "exp").unwrap();
    assert_eq!(f.engine.expire_ttl().unwrap(), 0);
    assert_eq!(f.ids("tbl"), vec!["a"]);
}

#[test]
fn expire_ttl_sweeps_every_namespace() {
    let f = fixture();
    let other = Namespace::new("999999999999", "eu-west-1");
    f.engine
        .create_table(
            &other,
            input(json!({
                "TableName": "tbl",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"
            })),
        )
        .unwrap();
    f.engine
        .update_time_to_live(
            &other,
            input(json!({"TableName": "tbl",
                "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})),
        )
        .unwrap();
    f.engine
        .put_item(
            &other,
            input(json!({"TableName": "tbl",
                "Item": {"id": {"S": "x"}, "exp": {"N": seconds(-1)}}})),
        )
        .unwrap();
    f.put("tbl", json!({"id": {"S": "y"}, "exp": {"N": seconds(-1)}}));
    assert_eq!(f.engine.expire_ttl().unwrap(), 1);
    assert!(f.engine.items(&other, "tbl").unwrap().is_empty());
    assert_eq!(f.ids("tbl"), vec!["y"]);
}

// ---- Tagging ----

#[test]
fn create_table_tags_are_listed_in_order() {
    let f = fixture();
    assert_eq!(
        f.tags_of("tagged"),
        json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})
    );
    assert_eq!(f.tags_of("tbl"), json!({"Tags": []}));
}

#[test]
fn tag_resource_overwrites_in_place_and_appends_new_keys() {
    let f = fixture();
    f.tag(json!({"ResourceArn": f.arn("tagged"),
        "Tags": [{"Key": "c", "Value": "3"}, {"Key": "a", "Value": "one"},
                 {"Key": "empty", "Value": ""}]}))
        .unwrap();
    assert_eq!(
        f.tags_of("tagged"),
        json!({"Tags": [{"Key": "a", "Value": "one"}, {"Key": "b", "Value": "2"},
                        {"Key": "c", "Value": "3"}, {"Key": "empty", "Value": ""}]})
    );
}

#[test]
fn untag_resource_removes_keys_and_ignores_unknown_ones() {
    let f = fixture();
    f.untag(json!({"ResourceArn": f.arn("tagged"), "TagKeys": ["a", "zz"]}))
        .unwrap();
    assert_eq!(
        f.tags_of("tagged"),
        json!({"Tags": [{"Key": "b", "Value": "2"}]})
    );
}

#[track_caller]
fn check_tag(tags: Value, message: &str) {
    let f = fixture();
    check_err(
        f.tag(json!({"ResourceArn": f.arn("tagged"), "Tags": tags})),
        "ValidationException",
        message,
    );
    // All or nothing: the valid tags of a refused request are not applied.
    assert_eq!(
        f.tags_of("tagged")["Tags"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn empty_tag_list_is_refused() {
    check_tag(json!([]), "Atleast one Tag needs to be provided as Input.");
}

#[test]
fn tag_key_rules() {
    let long = "k".repeat(129);
    check_tag(
        json!([{"Key": "ok", "Value": "v"}, {"Key": long, "Value": "v"}]),
        &format!("The Tag Key provided is invalid, Key: {long}"),
    );
    check_tag(
        json!([{"Key": "", "Value": "v"}]),
        "The Tag Key provided is invalid, Key: ",
    );
    check_tag(
        json!([{"Value": "v"}]),
        "The Tag Key provided is invalid, Key: null",
    );
    check_tag(
        json!([{"Key": "a,b", "Value": "v"}]),
        "The Tag Key provided is invalid, Key: a,b",
    );
    check_tag(
        json!([{"Key": "ok", "Value": "v"}, {"Key": "aws:zzz", "Value": "v"}]),
        "Tag Key cannot be prefixed with aws:, Key: aws:zzz",
    );
    check_tag(
        json!([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}]),
        "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup",
    );
}

#[test]
fn tag_value_rules() {
    let long = "v".repeat(257);
    check_tag(
        json!([{"Key": "k", "Value": long}]),
        &format!("The Tag Value provided is invalid, Value: {long}"),
    );
    check_tag(
        json!([{"Key": "k"}]),
        "The Tag Value provided is invalid, Value: null",
    );
    check_tag(
        json!([{"Key": "k", "Value": "100%"}]),
        "The Tag Value provided is invalid, Value: 100%",
    );
}

#[test]
fn tag_alphabet_accepts_letters_of_any_script_and_aws_punctuation() {
    let f = fixture();
    let max_key = "k".repeat(128);
    let max_value = "v".repeat(256);
    f.tag(json!({"ResourceArn": f.arn("tbl"), "Tags": [
        {"Key": "ключ", "Value": "café 表"},
        {"Key": "a+b-c=d.e_f:g/h@i", "Value": "x y"},
        {"Key": max_key, "Value": max_value}
    ]}))
    .unwrap();
    assert_eq!(f.tags_of("tbl")["Tags"].as_array().map(Vec::len), Some(3));
}

#[test]
fn fifty_tags_are_counted_after_the_merge() {
    let f = fixture();
    let tags = |range: std::ops::Range<usize>, v: &str| -> Value {
        range
            .map(|i| json!({"Key": format!("k{i:02}"), "Value": v}))
            .collect()
    };
    // `tagged` has a and b: 48 more make 50.
    f.tag(json!({"ResourceArn": f.arn("tagged"), "Tags": tags(0..48, "v")}))
        .unwrap();
    // Overwriting all 50 keeps 50.
    f.tag(json!({"ResourceArn": f.arn("tagged"), "Tags": tags(0..48, "w")}))
        .unwrap();
    check_err(
        f.tag(json!({"ResourceArn": f.arn("tagged"), "Tags": [{"Key": "k01", "Value": "x"}, {"Key": "new", "Value": "x"}]})),
        "ValidationException",
        "Number of Tags exceed the current limit for the provided ResourceArn",
    );
    let listed = f.tags_of("tagged");
    assert_eq!(listed["Tags"].as_array().map(Vec::len), Some(50));
    assert_eq!(listed["Tags"][3], json!({"Key": "k01", "Value": "w"}));
    assert!(listed.get("NextToken").is_none());
}

#[test]
fn untag_rules() {
    let f = fixture();
    let arn = f.arn("tagged");
    check_err(
        f.untag(json!({"ResourceArn": arn, "TagKeys": []})),
        "ValidationException",
        "Atleast one Tag Key needs to be provided as Input.",
    );
    let keys: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    check_err(
        f.untag(json!({"ResourceArn": arn, "TagKeys": keys})),
        "ValidationException",
        "Number of Tags exceed the current limit for the provided ResourceArn",
    );
    let long = "k".repeat(129);
    check_err(
        f.untag(json!({"ResourceArn": arn, "TagKeys": ["a", long]})),
        "ValidationException",
        &format!("The Tag Key provided is invalid, Key: {long}"),
    );
    assert_eq!(
        f.tags_of("tagged")["Tags"].as_array().map(Vec::len),
        Some(2)
    );
}

#[track_caller]
fn check_arn(arn: Option<&str>, message: &str) {
    let f = fixture();
    let mut list = json!({});
    let mut tag = json!({"Tags": [{"Key": "k", "Value": "v"}]});
    let mut untag = json!({"TagKeys": ["k"]});
    if let Some(arn) = arn {
        for body in [&mut list, &mut tag, &mut untag] {
            body["ResourceArn"] = json!(arn);
        }
    }
    check_err(f.list_tags(list), "ValidationException", message);
    check_err(f.tag(tag), "ValidationException", message);
    check_err(f.untag(untag), "ValidationException", message);
}

#[test]
fn resource_arn_rules() {
    check_arn(None, "Invalid TableArn");
    for arn in [
        "a:b:c:d:e:f/g",
        "arn:aws:dynamodb:us-east-1:111122223333:table/ab",
        "arn:aws:dynamodb:us-east-1:111122223333:table/tagged/index/x",
        "arn:aws:s3:us-east-1:111122223333:table/tagged",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/tagged",
        "arn:aws:dynamodb:us-east-1:acct:table/tagged",
    ] {
        check_arn(
            Some(arn),
            &format!("Invalid TableArn: Invalid ResourceArn provided as input {arn}"),
        );
    }
}

#[test]
fn missing_tables_are_resource_not_found_with_aws_texts() {
    let f = fixture();
    let arn = f.arn("nope");
    let named = format!("Requested resource not found: ResourcArn: {arn} not found");
    check_err(
        f.list_tags(json!({ "ResourceArn": arn })),
        "ResourceNotFoundException",
        &named,
    );
    check_err(
        f.tag(json!({"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]})),
        "ResourceNotFoundException",
        &named,
    );
    check_err(
        f.untag(json!({"ResourceArn": arn, "TagKeys": ["k"]})),
        "ResourceNotFoundException",
        "Requested resource not found",
    );
    // Validation of the tags comes before the lookup.
    check_err(
        f.tag(json!({"ResourceArn": arn, "Tags": []})),
        "ValidationException",
        "Atleast one Tag needs to be provided as Input.",
    );
}

#[test]
fn list_tags_next_token_continues_from_its_index() {
    let f = fixture();
    let arn = f.arn("tagged");
    assert_eq!(
        f.list_tags(json!({"ResourceArn": arn, "NextToken": "1"}))
            .unwrap(),
        json!({"Tags": [{"Key": "b", "Value": "2"}]})
    );
    assert_eq!(
        f.list_tags(json!({"ResourceArn": arn, "NextToken": "9"}))
            .unwrap(),
        json!({"Tags": []})
    );
    check_err(
        f.list_tags(json!({"ResourceArn": arn, "NextToken": "x"})),
        "ValidationException",
        "Invalid NextToken: x",
    );
}

#[test]
fn unparseable_resource_arns_are_access_denied_before_validation() {
    let ns = Namespace::new("111122223333", "us-east-1");
    let denied = |arn: Option<&str>| tagging_access_denied("TagResource", &ns, arn);
    let msg = |r: &str| {
        format!(
            "User: arn:aws:iam::111122223333:root is not authorized to perform: dynamodb:TagResource on resource: {r}"
        )
    };
    assert_eq!(denied(Some("")), Some(msg("*")));
    for arn in ["abcd", "a:b:c:d:e:f", "a:b:c:d:e/f"] {
        assert_eq!(denied(Some(arn)), Some(msg(arn)));
    }
    for arn in [
        "a:b:c:d:e:f/g",
        "arn:aws:dynamodb:us-east-1:111122223333:table/tagged",
    ] {
        assert_eq!(denied(Some(arn)), None);
    }
    assert_eq!(denied(None), None);
}

// ---- DescribeLimits / DescribeEndpoints ----

#[test]
fn describe_limits_answers_the_default_quotas() {
    let f = fixture();
    let out = f.engine.describe_limits(&f.ns, input(json!({}))).unwrap();
    assert_eq!(
        to_json(&out),
        json!({"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
               "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000})
    );
}

#[test]
fn describe_endpoints_names_the_callers_region() {
    let f = fixture();
    let ns = Namespace::new("111122223333", "eu-central-1");
    let out = f.engine.describe_endpoints(&ns, input(json!({}))).unwrap();
    assert_eq!(
        to_json(&out),
        json!({"Endpoints": [{"Address": "dynamodb.eu-central-1.amazonaws.com",
                              "CachePeriodInMinutes": 1440}]})
    );
}
