//! Warm throughput of tables and global secondary indexes (CreateTable, UpdateTable,
//! DescribeTable), and the checks AWS makes on `OnDemandThroughput`.
//!
//! **What AWS describes.** DescribeTable always returns `WarmThroughput` for the table and for
//! each GSI, even when none was ever set: 12,000 read and 4,000 write units per second for an
//! on-demand table or GSI, the provisioned capacity for a provisioned one. Sources: the
//! localstack snapshots recorded against AWS (`shared/reference/localstack-snapshots`,
//! `test_gsi_with_billing_mode[PAY_PER_REQUEST]`: 12000/4000 for table and GSI;
//! `[PROVISIONED]`: table 5/5 and GSI 1/1 from their capacities; `test_table_warm_throughput`:
//! CreateTable with 1000/1200 on a 5/5 table answers `Status` `UPDATING`, DescribeTable
//! later `ACTIVE`), and the ack-api-quirks findings measured on AWS in 2026-10
//! (DDB-TABLE-061: a provisioned table's warm throughput is the highest capacity it ever had
//! and never decreases, a switch to on-demand raises it to 12000/4000 and it stays there
//! after switching back; DDB-TABLE-179/155: an increase is answered with the old values and
//! `UPDATING`). CreateTable and DeleteTable answers carry no `WarmThroughput` unless the
//! request set one (the same snapshots).
//!
//! So the engine keeps a high-water mark ([`Warm`]) per table and GSI, raised by requests,
//! by capacity increases and by switches to on-demand, and describes the larger of it and the
//! current baseline. AWS takes minutes to raise warm throughput; here it is done at once, so
//! only the answer to the request that raised it says `UPDATING`.
//!
//! **Texts** (all ack-api-quirks, measured on AWS): DDB-TABLE-039 (CreateTable: below the
//! on-demand initial values, below the provisioned capacity; OnDemandThroughput outside of
//! valid range; `{}` and single members accepted), DDB-TABLE-059/061/179 and DDB-TABLE-457
//! (UpdateTable: a decrease, or zero or negative values, "decreasing WarmThroughput is not
//! supported"; the GSI `{}` text), and the quota texts of the same catalogue's capacity
//! findings ("Subscriber limit exceeded: Requested … exceeds TableMaxReadCapacityUnits of the
//! account in region …").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::{BillingMode, OnDemandThroughput, Throughput};
use crate::error::{Error, Result};

/// The warm throughput of a new on-demand table or GSI (AWS's developer guide, "Initial
/// throughput for on-demand capacity mode"; DescribeTable of a new on-demand table).
pub const ON_DEMAND_INITIAL: Warm = Warm {
    read: 12_000,
    write: 4_000,
};

/// AWS's default per-table read and write quota (`TableMaxReadCapacityUnits`, as
/// DescribeLimits answers); warm and on-demand maximums above it are refused.
const TABLE_MAX_UNITS: i64 = 40_000;

/// AWS's link in the "lower than initial throughput for OnDemand" message.
const ON_DEMAND_INITIAL_URL: &str = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html#on-demand-capacity-mode-initial";

/// `WarmThroughput` as sent in CreateTable, UpdateTable and the GSI actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WarmThroughputInput {
    /// Read units per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_units_per_second: Option<i64>,
    /// Write units per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_units_per_second: Option<i64>,
}

impl WarmThroughputInput {
    /// Whether neither member is given (`{}`).
    pub fn is_empty(&self) -> bool {
        self.read_units_per_second.is_none() && self.write_units_per_second.is_none()
    }
}

/// The warm throughput a table or GSI has reached, in units per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warm {
    /// Read units per second.
    pub read: i64,
    /// Write units per second.
    pub write: i64,
}

impl Warm {
    /// The larger of each member.
    pub fn max(self, other: Warm) -> Warm {
        Warm {
            read: self.read.max(other.read),
            write: self.write.max(other.write),
        }
    }

    /// Described with `status` (`ACTIVE` or `UPDATING`).
    pub fn describe(self, status: &str) -> WarmThroughputDescription {
        WarmThroughputDescription {
            read_units_per_second: self.read,
            write_units_per_second: self.write,
            status: status.to_string(),
        }
    }
}

/// `TableWarmThroughputDescription` / `GlobalSecondaryIndexWarmThroughputDescription`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WarmThroughputDescription {
    /// Read units per second.
    pub read_units_per_second: i64,
    /// Write units per second.
    pub write_units_per_second: i64,
    /// `ACTIVE`, or `UPDATING` while an increase is in progress.
    pub status: String,
}

/// What a message names: the table, or one of its GSIs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    /// The base table.
    Table,
    /// A global secondary index.
    Index(&'a str),
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Table => f.write_str("table"),
            Target::Index(name) => write!(f, "index {name}"),
        }
    }
}

/// The warm throughput a table or GSI has without any request: the on-demand initial values,
/// or its provisioned capacity.
pub(crate) fn baseline(mode: BillingMode, throughput: Option<&Throughput>) -> Warm {
    match mode {
        BillingMode::PAY_PER_REQUEST => ON_DEMAND_INITIAL,
        BillingMode::PROVISIONED => throughput
            .map(|t| Warm {
                read: t.read,
                write: t.write,
            })
            .unwrap_or(Warm { read: 0, write: 0 }),
    }
}

/// What DescribeTable shows: the high-water mark, never below the current baseline.
pub(crate) fn effective(
    stored: Option<Warm>,
    mode: BillingMode,
    throughput: Option<&Throughput>,
) -> Warm {
    let base = baseline(mode, throughput);
    stored.map_or(base, |w| w.max(base))
}

fn too_high(member: &str, target: Target<'_>, region: &str) -> Error {
    Error::LimitExceeded(format!(
        "Subscriber limit exceeded: Requested {member} for WarmThroughput for {target} exceeds TableMaxReadCapacityUnits of the account in region {region}"
    ))
}

/// Checks a `WarmThroughput` of CreateTable (or of a GSI being created) and returns the
/// warm throughput it starts with: `None` when the request set no member. `provisioned` is
/// the (read, write) capacity of a provisioned table or GSI, `None` for on-demand.
pub(crate) fn at_create(
    input: Option<&WarmThroughputInput>,
    provisioned: Option<(i64, i64)>,
    target: Target<'_>,
    region: &str,
) -> Result<Option<Warm>> {
    let Some(input) = input.filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    let base = match provisioned {
        None => ON_DEMAND_INITIAL,
        Some((read, write)) => Warm { read, write },
    };
    raise(input, base, target, region, |member, capacity| match provisioned {
        None => format!(
            "Requested {member} for WarmThroughput for {target} is lower than initial throughput for OnDemand. See: {ON_DEMAND_INITIAL_URL}"
        ),
        Some(_) => format!(
            "Requested {member} for WarmThroughput for {target} is lower than {capacity} of ProvisionedThroughput"
        ),
    })
    .map(Some)
}

/// Checks a `WarmThroughput` of UpdateTable (or of a GSI Update action) against `current`,
/// the warm throughput described now, and returns the raised one. A member below the current
/// value (zero and negative ones included) is refused; an equal one is accepted.
pub(crate) fn at_update(
    input: &WarmThroughputInput,
    current: Warm,
    target: Target<'_>,
    region: &str,
) -> Result<Warm> {
    raise(input, current, target, region, |member, _| {
        format!(
            "Requested {member} for WarmThroughput for {target} is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
        )
    })
}

/// Checks each member of `input`, read then write, against `floor` (`below(member,
/// capacity member)` words the refusal) and the quota, and returns the warm throughput asked
/// for: each given member, or the floor.
fn raise(
    input: &WarmThroughputInput,
    floor: Warm,
    target: Target<'_>,
    region: &str,
    below: impl Fn(&str, &str) -> String,
) -> Result<Warm> {
    for (value, floor, member, capacity) in [
        (
            input.read_units_per_second,
            floor.read,
            "ReadUnitsPerSecond",
            "ReadCapacityUnits",
        ),
        (
            input.write_units_per_second,
            floor.write,
            "WriteUnitsPerSecond",
            "WriteCapacityUnits",
        ),
    ] {
        let Some(v) = value else { continue };
        if v < floor {
            return Err(Error::invalid_parameter(below(member, capacity)));
        }
        if v > TABLE_MAX_UNITS {
            return Err(too_high(member, target, region));
        }
    }
    Ok(Warm {
        read: input.read_units_per_second.unwrap_or(floor.read),
        write: input.write_units_per_second.unwrap_or(floor.write),
    })
}

/// The GSI Update action's `WarmThroughput: {}` refusal, checked before the table is looked
/// up (DDB-TABLE-457: AWS answers it even for a missing table).
pub(crate) fn check_gsi_update_not_empty(input: &WarmThroughputInput, index: &str) -> Result<()> {
    if input.is_empty() {
        return Err(Error::invalid_parameter(format!(
            "WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond specified for index: {index}"
        )));
    }
    Ok(())
}

/// Checks an `OnDemandThroughput` (CreateTable, UpdateTable, GSI create and update). Each
/// member must be -1 (no maximum) or at least 1 and at most the table quota; AWS names
/// `MaxReadRequestUnits` whichever member is out of range (DDB-TABLE-039), and an index as
/// `index : <name>` in its on-demand texts (the quota finding's "for index : gsi1").
pub(crate) fn check_on_demand(
    input: &OnDemandThroughput,
    target: Target<'_>,
    region: &str,
) -> Result<()> {
    let target = match target {
        Target::Table => "table".to_string(),
        Target::Index(name) => format!("index : {name}"),
    };
    for (value, member) in [
        (input.max_read_request_units, "MaxReadRequestUnits"),
        (input.max_write_request_units, "MaxWriteRequestUnits"),
    ] {
        match value {
            None | Some(-1) => {}
            Some(v) if v < 1 => {
                return Err(Error::invalid_parameter(format!(
                    "Requested MaxReadRequestUnits for OnDemandThroughput for {target} is outside of valid range"
                )));
            }
            Some(v) if v > TABLE_MAX_UNITS => {
                return Err(Error::LimitExceeded(format!(
                    "Subscriber limit exceeded: Requested {member} for OnDemandThroughput for {target} exceeds TableMaxReadCapacityUnits of the account in region {region}"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Whether an `OnDemandThroughput` sets any member (`{}` sets none).
pub(crate) fn has_maximums(odt: &OnDemandThroughput) -> bool {
    odt.max_read_request_units.is_some() || odt.max_write_request_units.is_some()
}

/// The maximums after a checked `input` is applied to `current`: a given member replaces the
/// current one, -1 removes it; `None` when no maximum remains (DescribeTable then shows no
/// `OnDemandThroughput`, as for a table that never had one).
pub(crate) fn merge_on_demand(
    current: Option<&OnDemandThroughput>,
    input: &OnDemandThroughput,
) -> Option<OnDemandThroughput> {
    let pick = |given: Option<i64>, now: Option<i64>| match given {
        Some(-1) => None,
        Some(v) => Some(v),
        None => now,
    };
    let merged = OnDemandThroughput {
        max_read_request_units: pick(
            input.max_read_request_units,
            current.and_then(|c| c.max_read_request_units),
        ),
        max_write_request_units: pick(
            input.max_write_request_units,
            current.and_then(|c| c.max_write_request_units),
        ),
    };
    has_maximums(&merged).then_some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(read: Option<i64>, write: Option<i64>) -> WarmThroughputInput {
        WarmThroughputInput {
            read_units_per_second: read,
            write_units_per_second: write,
        }
    }

    #[track_caller]
    fn create_err(i: WarmThroughputInput, provisioned: Option<(i64, i64)>) -> String {
        at_create(Some(&i), provisioned, Target::Table, "us-east-1")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn on_demand_tables_start_at_12000_and_4000() {
        let ppr = BillingMode::PAY_PER_REQUEST;
        assert_eq!(effective(None, ppr, None), ON_DEMAND_INITIAL);
        let t = Throughput {
            read: 5,
            write: 7,
            ..Throughput::default()
        };
        assert_eq!(
            effective(None, BillingMode::PROVISIONED, Some(&t)),
            Warm { read: 5, write: 7 }
        );
        // A table that was on demand keeps 12000/4000 after switching back (DDB-TABLE-061).
        assert_eq!(
            effective(Some(ON_DEMAND_INITIAL), BillingMode::PROVISIONED, Some(&t)),
            ON_DEMAND_INITIAL
        );
    }

    #[test]
    fn create_accepts_empty_and_single_members() {
        assert_eq!(
            at_create(Some(&input(None, None)), None, Target::Table, "r").unwrap(),
            None
        );
        assert_eq!(
            at_create(Some(&input(Some(12_001), None)), None, Target::Table, "r").unwrap(),
            Some(Warm {
                read: 12_001,
                write: 4_000
            })
        );
        assert_eq!(
            at_create(
                Some(&input(Some(1000), Some(1200))),
                Some((5, 5)),
                Target::Table,
                "r"
            )
            .unwrap(),
            Some(Warm {
                read: 1000,
                write: 1200
            })
        );
    }

    #[test]
    fn create_below_the_baseline_is_refused_with_aws_texts() {
        assert_eq!(
            create_err(input(Some(1), Some(1)), None),
            format!(
                "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than initial throughput for OnDemand. See: {ON_DEMAND_INITIAL_URL}"
            )
        );
        assert!(create_err(input(Some(12_000), Some(3_999)), None).contains(
            "Requested WriteUnitsPerSecond for WarmThroughput for table is lower than initial"
        ));
        assert_eq!(
            create_err(input(Some(5), Some(5)), Some((10, 10))),
            "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than ReadCapacityUnits of ProvisionedThroughput"
        );
        let err = at_create(
            Some(&input(Some(40_001), None)),
            None,
            Target::Index("g1"),
            "eu-west-1",
        )
        .unwrap_err();
        assert_eq!(err.aws_type(), "LimitExceededException");
        assert_eq!(
            err.to_string(),
            "Subscriber limit exceeded: Requested ReadUnitsPerSecond for WarmThroughput for index g1 exceeds TableMaxReadCapacityUnits of the account in region eu-west-1"
        );
    }

    #[test]
    fn updates_only_raise() {
        let now = ON_DEMAND_INITIAL;
        assert_eq!(
            at_update(&input(Some(12_000), Some(4_000)), now, Target::Table, "r").unwrap(),
            now
        );
        assert_eq!(
            at_update(&input(None, Some(4_002)), now, Target::Table, "r").unwrap(),
            Warm {
                read: 12_000,
                write: 4_002
            }
        );
        for bad in [input(Some(6000), Some(2000)), input(Some(0), Some(0))] {
            assert_eq!(
                at_update(&bad, now, Target::Table, "r")
                    .unwrap_err()
                    .to_string(),
                "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
            );
        }
        assert_eq!(
            at_update(&input(None, Some(1)), now, Target::Index("gsi1"), "r")
                .unwrap_err()
                .to_string(),
            "One or more parameter values were invalid: Requested WriteUnitsPerSecond for WarmThroughput for index gsi1 is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
        );
    }

    #[test]
    fn on_demand_maximums_are_minus_one_or_positive() {
        let odt = |r, w| OnDemandThroughput {
            max_read_request_units: r,
            max_write_request_units: w,
        };
        for bad in [
            odt(Some(0), Some(0)),
            odt(Some(-2), None),
            odt(None, Some(0)),
        ] {
            assert_eq!(
                check_on_demand(&bad, Target::Table, "r")
                    .unwrap_err()
                    .to_string(),
                "One or more parameter values were invalid: Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range"
            );
        }
        check_on_demand(&odt(Some(100), Some(-1)), Target::Table, "r").unwrap();
        let err = check_on_demand(&odt(Some(40_001), None), Target::Index("gsi1"), "eu-west-1")
            .unwrap_err();
        assert_eq!(err.aws_type(), "LimitExceededException");
        assert_eq!(
            err.to_string(),
            "Subscriber limit exceeded: Requested MaxReadRequestUnits for OnDemandThroughput for index : gsi1 exceeds TableMaxReadCapacityUnits of the account in region eu-west-1"
        );
        assert_eq!(
            merge_on_demand(None, &odt(Some(100), None)),
            Some(odt(Some(100), None))
        );
        let now = odt(Some(100), Some(200));
        assert_eq!(
            merge_on_demand(Some(&now), &odt(None, Some(300))),
            Some(odt(Some(100), Some(300)))
        );
        assert_eq!(
            merge_on_demand(Some(&now), &odt(Some(-1), None)),
            Some(odt(None, Some(200)))
        );
        assert_eq!(merge_on_demand(Some(&now), &odt(Some(-1), Some(-1))), None);
        assert_eq!(merge_on_demand(None, &odt(None, None)), None);
    }

    mod through_the_engine {
        use std::sync::Arc;

        use serde_json::{Value, json};

        use crate::clock::{ManualClock, Timestamp};
        use crate::engine::{Engine, Namespace};
        use crate::table_ops::{CreateTableInput, TableNameInput, UpdateTableInput};

        fn engine() -> (Engine, Namespace) {
            let clock = ManualClock::new(Timestamp(1_700_000_000_000));
            let e = Engine::builder()
                .clock(Arc::new(clock))
                .seed(3)
                .build()
                .unwrap();
            (e, Namespace::default())
        }

        fn create(e: &Engine, ns: &Namespace, extra: Value) -> crate::Result<Value> {
            let mut req = json!({
                "TableName": "t",
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "g", "AttributeType": "S"}
                ],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "gsi1",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}
                }]
            });
            for (k, v) in extra.as_object().unwrap() {
                req[k] = v.clone();
            }
            let input: CreateTableInput = serde_json::from_value(req).unwrap();
            let out = e.create_table(ns, input)?;
            Ok(serde_json::to_value(out.table_description).unwrap())
        }

        fn update(e: &Engine, ns: &Namespace, extra: Value) -> crate::Result<Value> {
            let mut req = json!({"TableName": "t"});
            for (k, v) in extra.as_object().unwrap() {
                req[k] = v.clone();
            }
            let input: UpdateTableInput = serde_json::from_value(req).unwrap();
            let out = e.update_table(ns, input)?;
            Ok(serde_json::to_value(out.table_description).unwrap())
        }

        fn describe(e: &Engine, ns: &Namespace) -> Value {
            let out = e
                .describe_table(
                    ns,
                    TableNameInput {
                        table_name: "t".into(),
                    },
                )
                .unwrap();
            serde_json::to_value(out.table).unwrap()
        }

        fn warm(read: i64, write: i64, status: &str) -> Value {
            json!({"ReadUnitsPerSecond": read, "WriteUnitsPerSecond": write, "Status": status})
        }

        #[test]
        fn on_demand_tables_describe_12000_and_4000_without_asking() {
            let (e, ns) = engine();
            let created = create(&e, &ns, json!({"BillingMode": "PAY_PER_REQUEST"})).unwrap();
            assert!(created.get("WarmThroughput").is_none());
            assert!(
                created["GlobalSecondaryIndexes"][0]
                    .get("WarmThroughput")
                    .is_none()
            );
            let d = describe(&e, &ns);
            assert_eq!(d["WarmThroughput"], warm(12_000, 4_000, "ACTIVE"));
            assert_eq!(
                d["GlobalSecondaryIndexes"][0]["WarmThroughput"],
                warm(12_000, 4_000, "ACTIVE")
            );
        }

        #[test]
        fn a_requested_warm_throughput_is_updating_then_active() {
            let (e, ns) = engine();
            let created = create(
                &e,
                &ns,
                json!({
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                    "GlobalSecondaryIndexes": [{
                        "IndexName": "gsi1",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
                    }],
                    "WarmThroughput": {"ReadUnitsPerSecond": 1000, "WriteUnitsPerSecond": 1200}
                }),
            )
            .unwrap();
            assert_eq!(created["WarmThroughput"], warm(1000, 1200, "UPDATING"));
            let d = describe(&e, &ns);
            assert_eq!(d["WarmThroughput"], warm(1000, 1200, "ACTIVE"));
            assert_eq!(
                d["GlobalSecondaryIndexes"][0]["WarmThroughput"],
                warm(1, 1, "ACTIVE")
            );
        }

        #[test]
        fn provisioned_warm_throughput_keeps_the_highest_capacity() {
            let (e, ns) = engine();
            create(
                &e,
                &ns,
                json!({
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "GlobalSecondaryIndexes": null,
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
                }),
            )
            .unwrap();
            for (r, w) in [(3, 3), (1, 1), (2, 1)] {
                update(
                    &e,
                    &ns,
                    json!({"ProvisionedThroughput": {"ReadCapacityUnits": r, "WriteCapacityUnits": w}}),
                )
                .unwrap();
            }
            assert_eq!(describe(&e, &ns)["WarmThroughput"], warm(3, 3, "ACTIVE"));
            let err = update(
                &e,
                &ns,
                json!({"WarmThroughput": {"ReadUnitsPerSecond": 1, "WriteUnitsPerSecond": 1}}),
            )
            .unwrap_err();
            assert!(err.to_string().ends_with(
                "for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
            ));
            let answered = update(
                &e,
                &ns,
                json!({"WarmThroughput": {"ReadUnitsPerSecond": 50, "WriteUnitsPerSecond": 50}}),
            )
            .unwrap();
            assert_eq!(answered["WarmThroughput"], warm(3, 3, "UPDATING"));
            assert_eq!(describe(&e, &ns)["WarmThroughput"], warm(50, 50, "ACTIVE"));
            // On demand and back: 12000/4000 stays.
            update(&e, &ns, json!({"BillingMode": "PAY_PER_REQUEST"})).unwrap();
            update(
                &e,
                &ns,
                json!({
                    "BillingMode": "PROVISIONED",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
                }),
            )
            .unwrap();
            assert_eq!(
                describe(&e, &ns)["WarmThroughput"],
                warm(12_000, 4_000, "ACTIVE")
            );
        }

        #[test]
        fn gsi_updates_raise_warm_throughput_and_on_demand_maximums() {
            let (e, ns) = engine();
            create(&e, &ns, json!({"BillingMode": "PAY_PER_REQUEST"})).unwrap();
            let gsi = |update: Value| json!({"GlobalSecondaryIndexUpdates": [{"Update": update}]});
            let err = update(
                &e,
                &ns,
                gsi(json!({"IndexName": "gsi1", "WarmThroughput": {}})),
            )
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                "One or more parameter values were invalid: WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond specified for index: gsi1"
            );
            let err = update(&e, &ns, gsi(json!({"IndexName": "gsi1"}))).unwrap_err();
            assert_eq!(
                err.to_string(),
                "One or more parameter values were invalid: The only Updates for index: gsi1 when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
            );
            let err = update(
                &e,
                &ns,
                gsi(json!({"IndexName": "gsi1", "WarmThroughput": {"ReadUnitsPerSecond": 100}})),
            )
            .unwrap_err();
            assert!(
                err.to_string()
                    .contains("WarmThroughput for index gsi1 is lower than current")
            );
            let answered = update(
                &e,
                &ns,
                gsi(json!({
                    "IndexName": "gsi1",
                    "WarmThroughput": {"ReadUnitsPerSecond": 12_001, "WriteUnitsPerSecond": 4_001},
                    "OnDemandThroughput": {"MaxReadRequestUnits": 100}
                })),
            )
            .unwrap();
            assert_eq!(
                answered["GlobalSecondaryIndexes"][0]["WarmThroughput"],
                warm(12_000, 4_000, "UPDATING")
            );
            let d = describe(&e, &ns);
            let g = &d["GlobalSecondaryIndexes"][0];
            assert_eq!(g["WarmThroughput"], warm(12_001, 4_001, "ACTIVE"));
            assert_eq!(g["OnDemandThroughput"], json!({"MaxReadRequestUnits": 100}));
            update(
                &e,
                &ns,
                gsi(
                    json!({"IndexName": "gsi1", "OnDemandThroughput": {"MaxReadRequestUnits": -1}}),
                ),
            )
            .unwrap();
            assert!(
                describe(&e, &ns)["GlobalSecondaryIndexes"][0]
                    .get("OnDemandThroughput")
                    .is_none()
            );
        }

        #[test]
        fn table_on_demand_maximums_need_on_demand_billing() {
            let (e, ns) = engine();
            let err = create(
                &e,
                &ns,
                json!({
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                    "GlobalSecondaryIndexes": null,
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "OnDemandThroughput": {"MaxReadRequestUnits": 5}
                }),
            )
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                "One or more parameter values were invalid: MaxReadRequestUnits for OnDemandThroughput cannot be specified when table BillingMode is PROVISIONED."
            );
            create(
                &e,
                &ns,
                json!({"BillingMode": "PAY_PER_REQUEST", "OnDemandThroughput": {"MaxReadRequestUnits": 100}}),
            )
            .unwrap();
            assert_eq!(
                describe(&e, &ns)["OnDemandThroughput"],
                json!({"MaxReadRequestUnits": 100})
            );
            let err = update(
                &e,
                &ns,
                json!({"OnDemandThroughput": {"MaxReadRequestUnits": 0, "MaxWriteRequestUnits": 0}}),
            )
            .unwrap_err();
            assert!(err.to_string().ends_with(
                "Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range"
            ));
            let err = update(&e, &ns, json!({"WarmThroughput": {}})).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("At least one of ProvisionedThroughput")
            );
            let err = update(
                &e,
                &ns,
                json!({
                    "BillingMode": "PROVISIONED",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                    "OnDemandThroughput": {"MaxReadRequestUnits": 5}
                }),
            )
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                "One or more parameter values were invalid: MaxReadRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED"
            );
        }
    }
}
