//! Kinesis streaming destinations: Enable/Disable/Describe/UpdateKinesisStreamingDestination
//! store destinations and statuses (nothing is delivered).

use ddb_engine::{Engine, Error, Namespace};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const KS1: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/one";
const KS2: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/two";

fn input<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("bad test input: {e}"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("serialize: {e}"))
}

struct Fixture {
    engine: Engine,
    ns: Namespace,
}

fn fixture() -> Fixture {
    let engine = Engine::in_memory().unwrap_or_else(|e| panic!("engine: {e}"));
    let f = Fixture {
        engine,
        ns: Namespace::new("111122223333", "us-east-1"),
    };
    f.create("tbl");
    f
}

impl Fixture {
    fn create(&self, name: &str) {
        self.engine
            .create_table(
                &self.ns,
                input(json!({
                    "TableName": name,
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST"
                })),
            )
            .unwrap_or_else(|e| panic!("create table: {e}"));
    }

    fn enable(&self, table: &str, arn: &str, precision: Option<&str>) -> Result<Value, Error> {
        let mut req = json!({"TableName": table, "StreamArn": arn});
        if let Some(p) = precision {
            req["EnableKinesisStreamingConfiguration"] =
                json!({"ApproximateCreationDateTimePrecision": p});
        }
        self.engine
            .enable_kinesis_streaming_destination(&self.ns, input(req))
            .map(|o| to_json(&o))
    }

    fn disable(&self, table: &str, arn: &str) -> Result<Value, Error> {
        self.engine
            .disable_kinesis_streaming_destination(
                &self.ns,
                input(json!({"TableName": table, "StreamArn": arn})),
            )
            .map(|o| to_json(&o))
    }

    fn update(&self, table: &str, arn: &str, precision: &str) -> Result<Value, Error> {
        self.engine
            .update_kinesis_streaming_destination(
                &self.ns,
                input(json!({"TableName": table, "StreamArn": arn,
                    "UpdateKinesisStreamingConfiguration":
                        {"ApproximateCreationDateTimePrecision": precision}})),
            )
            .map(|o| to_json(&o))
    }

    fn describe(&self, table: &str) -> Result<Value, Error> {
        self.engine
            .describe_kinesis_streaming_destination(&self.ns, input(json!({"TableName": table})))
            .map(|o| to_json(&o))
    }

    /// (StreamArn, DestinationStatus, precision) of every destination of `table`.
    fn statuses(&self, table: &str) -> Vec<(String, String, String)> {
        let d = self
            .describe(table)
            .unwrap_or_else(|e| panic!("describe: {e}"));
        d["KinesisDataStreamDestinations"]
            .as_array()
            .unwrap_or_else(|| panic!("no destinations list: {d}"))
            .iter()
            .map(|x| {
                (
                    x["StreamArn"].as_str().unwrap_or_default().to_string(),
                    x["DestinationStatus"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    x["ApproximateCreationDateTimePrecision"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect()
    }
}

fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_string(), b.to_string(), c.to_string())
}

fn assert_validation(r: Result<Value, Error>, needle: &str) {
    match r {
        Err(Error::Validation(m)) => assert!(m.contains(needle), "message {m:?} lacks {needle:?}"),
        other => panic!("expected a ValidationException containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn a_new_table_has_no_destinations() {
    let f = fixture();
    let d = f.describe("tbl").unwrap();
    assert_eq!(
        d,
        json!({"TableName": "tbl", "KinesisDataStreamDestinations": []})
    );
}

#[test]
fn enable_makes_an_active_destination() {
    let f = fixture();
    let out = f.enable("tbl", KS1, None).unwrap();
    assert_eq!(
        out,
        json!({"TableName": "tbl", "StreamArn": KS1, "DestinationStatus": "ACTIVE",
            "EnableKinesisStreamingConfiguration":
                {"ApproximateCreationDateTimePrecision": "MILLISECOND"}})
    );
    assert_eq!(f.statuses("tbl"), vec![s(KS1, "ACTIVE", "MILLISECOND")]);
    f.enable("tbl", KS2, Some("MICROSECOND")).unwrap();
    assert_eq!(
        f.statuses("tbl"),
        vec![
            s(KS1, "ACTIVE", "MILLISECOND"),
            s(KS2, "ACTIVE", "MICROSECOND")
        ]
    );
}

#[test]
fn disable_keeps_the_destination_listed_as_disabled_and_it_can_be_reenabled() {
    let f = fixture();
    f.enable("tbl", KS1, None).unwrap();
    let out = f.disable("tbl", KS1).unwrap();
    assert_eq!(out["DestinationStatus"], "DISABLED");
    assert_eq!(out["TableName"], "tbl");
    assert_eq!(out["StreamArn"], KS1);
    assert_eq!(f.statuses("tbl"), vec![s(KS1, "DISABLED", "MILLISECOND")]);
    // Disabling again: nothing is active.
    assert_validation(f.disable("tbl", KS1), "not streaming");
    // Re-enabling the same stream reuses its entry.
    f.enable("tbl", KS1, Some("MICROSECOND")).unwrap();
    assert_eq!(f.statuses("tbl"), vec![s(KS1, "ACTIVE", "MICROSECOND")]);
}

#[test]
fn enabling_an_active_destination_twice_is_refused() {
    let f = fixture();
    f.enable("tbl", KS1, None).unwrap();
    assert_validation(f.enable("tbl", KS1, None), "already streaming");
    assert_eq!(f.statuses("tbl"), vec![s(KS1, "ACTIVE", "MILLISECOND")]);
}

#[test]
fn update_changes_the_precision_of_an_active_destination_only() {
    let f = fixture();
    assert_validation(f.update("tbl", KS1, "MICROSECOND"), "not streaming");
    f.enable("tbl", KS1, None).unwrap();
    let out = f.update("tbl", KS1, "MICROSECOND").unwrap();
    assert_eq!(
        out,
        json!({"TableName": "tbl", "StreamArn": KS1, "DestinationStatus": "ACTIVE",
            "UpdateKinesisStreamingConfiguration":
                {"ApproximateCreationDateTimePrecision": "MICROSECOND"}})
    );
    assert_eq!(f.statuses("tbl"), vec![s(KS1, "ACTIVE", "MICROSECOND")]);
    f.disable("tbl", KS1).unwrap();
    assert_validation(f.update("tbl", KS1, "MILLISECOND"), "not streaming");
    assert_eq!(f.statuses("tbl"), vec![s(KS1, "DISABLED", "MICROSECOND")]);
}

#[test]
fn bad_arns_and_precisions_are_validation_errors() {
    let f = fixture();
    assert_validation(f.enable("tbl", "not-an-arn", None), "Invalid StreamArn");
    assert_validation(
        f.enable("tbl", "arn:aws:sqs:us-east-1:111122223333:queue", None),
        "Invalid StreamArn",
    );
    assert_validation(
        f.enable("tbl", KS1, Some("SECOND")),
        "MILLISECOND, MICROSECOND",
    );
    assert_eq!(f.statuses("tbl"), vec![]);
}

#[test]
fn missing_tables_are_not_found() {
    let f = fixture();
    for r in [
        f.enable("nope", KS1, None),
        f.disable("nope", KS1),
        f.update("nope", KS1, "MILLISECOND"),
        f.describe("nope"),
    ] {
        match r {
            Err(Error::ResourceNotFound(m)) => {
                assert_eq!(m, "Requested resource not found: Table: nope not found")
            }
            other => panic!("expected ResourceNotFound, got {other:?}"),
        }
    }
}

#[test]
fn destinations_are_per_table_and_do_not_survive_recreation() {
    let f = fixture();
    f.create("other");
    f.enable("tbl", KS1, None).unwrap();
    assert_eq!(f.statuses("other"), vec![]);
    // A table ARN works wherever a name does.
    let arn = "arn:aws:dynamodb:us-east-1:111122223333:table/tbl";
    assert_eq!(f.statuses(arn), vec![s(KS1, "ACTIVE", "MILLISECOND")]);

    f.engine
        .delete_table(&f.ns, input(json!({"TableName": "tbl"})))
        .unwrap_or_else(|e| panic!("delete: {e}"));
    f.create("tbl");
    assert_eq!(f.statuses("tbl"), vec![]);
}
