//! The conformance report (`cargo run -p ddb-conformance -- report`): every operation of the
//! service models × the features its recorded requests exercise × how the engine fares, from
//! the cassette replay checks ([`crate::cassette`]) and from the dynalite expectations
//! ([`crate::dynalite`]), with the operations nothing covers.
//!
//! Features are read from the recorded exchanges: a request member names a feature
//! ([`FEATURES`]), looked up in the request and in the items of a transaction or batch but not
//! inside item data, and `err` is an exchange whose recorded answer is an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::cassette::{self, Counts, Outcome};
use crate::diff::Divergences;
use crate::dynalite;

/// Features and the request members that show them.
pub const FEATURES: &[(&str, &[&str])] = &[
    (
        "cond",
        &[
            "ConditionExpression",
            "Expected",
            "ConditionCheck",
            "KeyConditionExpression",
            "KeyConditions",
        ],
    ),
    (
        "proj",
        &["ProjectionExpression", "AttributesToGet", "Select"],
    ),
    ("filter", &["FilterExpression", "ScanFilter", "QueryFilter"]),
    (
        "page",
        &[
            "Limit",
            "ExclusiveStartKey",
            "ExclusiveStartTableName",
            "ExclusiveStartShardId",
            "NextToken",
            "Segment",
        ],
    ),
    (
        "index",
        &[
            "IndexName",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "GlobalSecondaryIndexUpdates",
        ],
    ),
    (
        "return",
        &[
            "ReturnValues",
            "ReturnValuesOnConditionCheckFailure",
            "ReturnConsumedCapacity",
            "ReturnItemCollectionMetrics",
        ],
    ),
    (
        "update",
        &["UpdateExpression", "AttributeUpdates", "Update"],
    ),
    (
        "stream",
        &["StreamSpecification", "StreamArn", "ShardIterator"],
    ),
    ("partiql", &["Statement", "Statements", "Parameters"]),
    ("token", &["ClientRequestToken", "ClientToken"]),
];

/// The error column: exchanges whose recorded answer is an error.
const ERRORS: &str = "err";

/// Request members holding item data, whose member names are attribute names.
const DATA: &[&str] = &[
    "Item",
    "Key",
    "Keys",
    "ExclusiveStartKey",
    "ExpressionAttributeValues",
    "ExpressionAttributeNames",
    "Parameters",
    "Expected",
    "AttributeUpdates",
    "ScanFilter",
    "QueryFilter",
    "KeyConditions",
];

/// The features a request exercises.
pub fn features(request: &Value) -> BTreeSet<&'static str> {
    let mut members = BTreeSet::new();
    collect_members(request, &mut members);
    FEATURES
        .iter()
        .filter(|(_, names)| names.iter().any(|n| members.contains(*n)))
        .map(|(f, _)| *f)
        .collect()
}

fn collect_members(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                out.insert(k.clone());
                if !DATA.contains(&k.as_str()) {
                    collect_members(child, out);
                }
            }
        }
        // A batch's RequestItems are keyed by table name: the names are not members, their
        // requests are looked into.
        Value::Array(items) => items.iter().for_each(|c| collect_members(c, out)),
        _ => {}
    }
}

/// One operation's row.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Cassette replay outcomes.
    pub cassette: Counts,
    /// Exchanges per feature (and `err`, recorded error answers); the second number counts those that failed.
    pub features: BTreeMap<&'static str, (usize, usize)>,
    /// Dynalite expectations met, and their number.
    pub dynalite: (usize, usize),
}

/// The report: a row per operation of the service models (and any other recorded one).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Cassettes read.
    pub cassettes: usize,
    /// Rows by operation name.
    pub rows: BTreeMap<String, Row>,
    /// Every cassette failure, as [`cassette::failure_report`] shows it.
    pub failures: String,
}

impl Report {
    /// Checks every cassette below `root` and replays the dynalite expectations; `progress`
    /// is called with (done, total, what) as the work goes. `Err` names a cassette that does
    /// not load.
    pub fn build(
        root: &Path,
        progress: &mut dyn FnMut(usize, usize, &str),
    ) -> Result<Report, String> {
        let divergences = Divergences::bundled();
        // The dynalite replay counts as one step.
        let mut cassettes = 0;
        let results = cassette::check_all_with(root, &divergences, &mut |i, n, name| {
            cassettes = n;
            progress(i, n + 1, name);
        })?;
        let total = cassettes + 1;
        progress(cassettes, total, "dynalite expectations");
        let dynalite = dynalite::replay(&[]);
        progress(total, total, "done");

        let mut report = Report {
            cassettes,
            ..Report::default()
        };
        for op in operation_names() {
            report.rows.entry(op.to_string()).or_default();
        }
        for (op, counts) in cassette::summarize(&results) {
            report.rows.entry(op).or_default().cassette = counts;
        }
        for r in &results {
            let row = report.rows.entry(r.row_name().to_string()).or_default();
            let failed = matches!(r.outcome, Outcome::Fail(_));
            let mut fs = features(&r.request);
            if r.recorded_status != 200 {
                fs.insert(ERRORS);
            }
            for f in fs {
                let cell = row.features.entry(f).or_default();
                cell.0 += 1;
                cell.1 += usize::from(failed);
            }
        }
        for ((op, _kind), (passed, total)) in &dynalite.counts {
            let row = report.rows.entry(op.clone()).or_default();
            row.dynalite.0 += passed;
            row.dynalite.1 += total;
        }
        report.failures = cassette::failure_report(&results);
        Ok(report)
    }

    /// Whether any recorded exchange failed.
    pub fn has_failures(&self) -> bool {
        self.rows.values().any(|r| r.cassette.fail > 0)
    }

    /// The matrix as fixed-width text: operation, cassette pass/known/fail, dynalite
    /// met/total, and per feature the number of recorded exchanges exercising it (`n/f!` when
    /// `f` of them fail, `.` for none). Deterministic: the stable part of the report.
    pub fn matrix(&self) -> String {
        let columns: Vec<&str> = FEATURES
            .iter()
            .map(|(f, _)| *f)
            .chain(std::iter::once(ERRORS))
            .collect();
        let mut s = format!(
            "{:<36} {:>4} {:>5} {:>4} {:>9}",
            "operation", "pass", "known", "fail", "dynalite"
        );
        for c in &columns {
            s.push_str(&format!(" {c:>7}"));
        }
        s.push('\n');
        let mut total = Row::default();
        for (op, row) in &self.rows {
            let dynalite = match row.dynalite {
                (_, 0) => ".".to_string(),
                (p, t) => format!("{p}/{t}"),
            };
            s.push_str(&format!(
                "{op:<36} {:>4} {:>5} {:>4} {dynalite:>9}",
                row.cassette.pass, row.cassette.known, row.cassette.fail
            ));
            for c in &columns {
                s.push_str(&format!(" {:>7}", cell(row.features.get(c))));
                if let Some((n, f)) = row.features.get(c) {
                    let t = total.features.entry(c).or_default();
                    t.0 += n;
                    t.1 += f;
                }
            }
            s.push('\n');
            total.cassette.pass += row.cassette.pass;
            total.cassette.known += row.cassette.known;
            total.cassette.fail += row.cassette.fail;
            total.dynalite.0 += row.dynalite.0;
            total.dynalite.1 += row.dynalite.1;
        }
        s.push_str(&format!(
            "{:<36} {:>4} {:>5} {:>4} {:>9}",
            "total",
            total.cassette.pass,
            total.cassette.known,
            total.cassette.fail,
            format!("{}/{}", total.dynalite.0, total.dynalite.1)
        ));
        for c in &columns {
            s.push_str(&format!(" {:>7}", cell(total.features.get(c))));
        }
        s.push('\n');
        s
    }

    /// Operations no cassette records, and those neither a cassette nor a dynalite
    /// expectation covers.
    pub fn gaps(&self) -> (Vec<&str>, Vec<&str>) {
        let recorded = |r: &Row| r.cassette.pass + r.cassette.known + r.cassette.fail > 0;
        let unrecorded: Vec<&str> = self
            .rows
            .iter()
            .filter(|(_, r)| !recorded(r))
            .map(|(op, _)| op.as_str())
            .collect();
        let uncovered = self
            .rows
            .iter()
            .filter(|(_, r)| !recorded(r) && r.dynalite.1 == 0)
            .map(|(op, _)| op.as_str())
            .collect();
        (unrecorded, uncovered)
    }

    /// The matrix, a legend and the gaps: what `report` prints (failures aside).
    pub fn text(&self) -> String {
        let (unrecorded, uncovered) = self.gaps();
        let legend: Vec<String> = FEATURES
            .iter()
            .map(|(f, members)| format!("  {f:<8} {}", members.join(", ")))
            .collect();
        format!(
            "{}\nfeature columns: recorded exchanges whose request has one of these members \
             (n/f! when f of them fail; . none):\n{}\n  {ERRORS:<8} the recorded answer is an \
             error\n\n{} of {} operations have recorded exchanges; not recorded ({}): {}\n\
             covered by neither a cassette nor a dynalite expectation ({}): {}\n",
            self.matrix(),
            legend.join("\n"),
            self.rows.len() - unrecorded.len(),
            self.rows.len(),
            unrecorded.len(),
            unrecorded.join(", "),
            uncovered.len(),
            uncovered.join(", ")
        )
    }
}

/// A feature cell of the matrix: `.` for no exchange, `n`, or `n/f!` when `f` of them fail.
fn cell(counts: Option<&(usize, usize)>) -> String {
    match counts {
        None => ".".to_string(),
        Some((n, 0)) => n.to_string(),
        Some((n, f)) => format!("{n}/{f}!"),
    }
}

/// Every operation of the DynamoDB and DynamoDB Streams service models.
pub fn operation_names() -> Vec<&'static str> {
    let models = [
        ddb_harness::protocol::validate::ServiceModel::dynamodb(),
        ddb_harness::protocol::validate::ServiceModel::streams(),
    ];
    models.iter().flat_map(|m| m.operation_names()).collect()
}

/// A one-line progress bar: `[#####·····] 12/40 name`.
pub fn progress_line(done: usize, total: usize, what: &str) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let what: String = what.chars().take(50).collect();
    format!(
        "[{}{}] {done}/{total} {what:<50}",
        "#".repeat(filled),
        "·".repeat(WIDTH - filled)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn features_come_from_request_members_not_item_data() {
        let f = features(&json!({"TableName": "t", "Item": {"Limit": {"N": "1"}},
            "ConditionExpression": "attribute_exists(pk)", "ReturnValues": "ALL_OLD"}));
        assert_eq!(f, BTreeSet::from(["cond", "return"]));
        let f = features(&json!({"TransactItems": [{"ConditionCheck": {"Key": {}}},
            {"Update": {"UpdateExpression": "SET a = :a"}}]}));
        assert_eq!(f, BTreeSet::from(["cond", "update"]));
        let f =
            features(&json!({"RequestItems": {"t": {"Keys": [], "ProjectionExpression": "a"}}}));
        assert_eq!(f, BTreeSet::from(["proj"]));
    }

    #[test]
    fn progress_line_fills_in_proportion() {
        assert!(progress_line(0, 4, "a").starts_with(&format!("[{}]", "·".repeat(30))));
        assert!(progress_line(4, 4, "b").starts_with(&format!("[{}]", "#".repeat(30))));
        assert!(progress_line(0, 0, "c").contains("0/0 c"));
        assert!(progress_line(5, 4, "d").starts_with(&format!("[{}]", "#".repeat(30))));
    }
}
