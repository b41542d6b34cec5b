//! CloudWatch Contributor Insights settings of tables and their indexes:
//! DescribeContributorInsights, UpdateContributorInsights, ListContributorInsights.
//!
//! Only the settings are kept: no CloudWatch rule exists and no metrics are produced. There
//! are no transitional states afterwards: UpdateContributorInsights answers `ENABLING` or
//! `DISABLING` as AWS does, and every later read says `ENABLED` or `DISABLED`.
//!
//! Layout in redb: `contributor_insights`: catalog key of the table, `\x1f`, index name (empty
//! for the table itself) → [`InsightsEntry`] as JSON. An entry remembers the `TableId` it was
//! made for, so a table deleted and created again under the same name starts `DISABLED`.
//!
//! Rule names follow AWS's `DynamoDBContributorInsights-<PKC|PKT|SKC|SKT>-<table>-<ms>` form;
//! the ResourceNotFoundException texts are the ones table operations answer.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;
use crate::clock::Timestamp;
use crate::engine::{CATALOG, Engine, Namespace};
use crate::error::{Error, Result};

const INSIGHTS: TableDefinition<&str, &str> = TableDefinition::new("contributor_insights");

/// The largest `MaxResults` of ListContributorInsights, and its default.
pub const MAX_LIST_CONTRIBUTOR_INSIGHTS: i64 = 100;

/// The mode used when none is given.
const DEFAULT_MODE: &str = "ACCESSED_AND_THROTTLED_KEYS";

/// One table's or index's Contributor Insights setting as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct InsightsEntry {
    table_id: String,
    enabled: bool,
    mode: String,
    updated: Timestamp,
}

/// DescribeContributorInsights request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeContributorInsightsInput {
    /// The table's name or ARN.
    pub table_name: String,
    /// One of its indexes.
    #[serde(default)]
    pub index_name: Option<String>,
}

/// DescribeContributorInsights response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeContributorInsightsOutput {
    /// The table's name.
    pub table_name: String,
    /// The index, when one was asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_name: Option<String>,
    /// The CloudWatch rules, while enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributor_insights_rule_list: Option<Vec<String>>,
    /// `ENABLED` or `DISABLED`.
    pub contributor_insights_status: String,
    /// When the setting last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_date_time: Option<f64>,
    /// `ACCESSED_AND_THROTTLED_KEYS` or `THROTTLED_KEYS`, while enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributor_insights_mode: Option<String>,
}

/// UpdateContributorInsights request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateContributorInsightsInput {
    /// The table's name or ARN.
    pub table_name: String,
    /// One of its indexes.
    #[serde(default)]
    pub index_name: Option<String>,
    /// `ENABLE` or `DISABLE`.
    pub contributor_insights_action: String,
    /// `ACCESSED_AND_THROTTLED_KEYS` (default) or `THROTTLED_KEYS`.
    #[serde(default)]
    pub contributor_insights_mode: Option<String>,
}

/// UpdateContributorInsights response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateContributorInsightsOutput {
    /// The table's name.
    pub table_name: String,
    /// The index, when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_name: Option<String>,
    /// `ENABLING` or `DISABLING`.
    pub contributor_insights_status: String,
    /// The mode, when enabling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributor_insights_mode: Option<String>,
}

/// ListContributorInsights request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListContributorInsightsInput {
    /// Only this table (name or ARN).
    #[serde(default)]
    pub table_name: Option<String>,
    /// Where the previous page stopped.
    #[serde(default)]
    pub next_token: Option<String>,
    /// At most this many (default and maximum 100).
    #[serde(default)]
    pub max_results: Option<i64>,
}

/// ListContributorInsights response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListContributorInsightsOutput {
    /// Tables and indexes whose setting was ever changed.
    pub contributor_insights_summaries: Vec<ContributorInsightsSummary>,
    /// Where the next page starts, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ContributorInsightsSummary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ContributorInsightsSummary {
    pub table_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_name: Option<String>,
    pub contributor_insights_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributor_insights_mode: Option<String>,
}

fn entry_key(meta: &TableMeta, index: Option<&str>) -> String {
    format!("{}\x1f{}", meta.catalog_key(), index.unwrap_or(""))
}

fn table_not_found(name: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

/// Checks that `index` (if any) is a global secondary index of `meta` (Contributor Insights
/// covers tables and GSIs: `IndexName` is "the global secondary index name", API reference).
fn check_index(meta: &TableMeta, index: Option<&str>) -> Result<()> {
    match index {
        Some(i) if !meta.gsis.iter().any(|g| g.name == i) => Err(Error::ResourceNotFound(format!(
            "Requested resource not found: Index: {i} not found"
        ))),
        _ => Ok(()),
    }
}

fn decode(v: &str) -> Result<InsightsEntry> {
    serde_json::from_str(v).map_err(|e| Error::Internal(format!("insights entry is corrupt: {e}")))
}

/// AWS's rule names for a table (or index) enabled at `at`.
fn rule_list(meta: &TableMeta, index: Option<&str>, mode: &str, at: Timestamp) -> Vec<String> {
    let target = match index {
        Some(i) => format!("{}-{i}", meta.name),
        None => meta.name.clone(),
    };
    let has_sort = meta.key_schema.len() > 1;
    let kinds: &[&str] = match (mode, has_sort) {
        ("THROTTLED_KEYS", false) => &["PKT"],
        ("THROTTLED_KEYS", true) => &["PKT", "SKT"],
        (_, false) => &["PKC", "PKT"],
        (_, true) => &["PKC", "PKT", "SKC", "SKT"],
    };
    kinds
        .iter()
        .map(|k| format!("DynamoDBContributorInsights-{k}-{target}-{}", at.0))
        .collect()
}

impl Engine {
    /// DescribeContributorInsights.
    pub fn describe_contributor_insights(
        &self,
        ns: &Namespace,
        input: DescribeContributorInsightsInput,
    ) -> Result<DescribeContributorInsightsOutput> {
        let meta = self
            .table_meta(ns, &input.table_name)?
            .ok_or_else(|| table_not_found(&input.table_name))?;
        let index = input.index_name.as_deref();
        check_index(&meta, index)?;
        let key = entry_key(&meta, index);
        let entry = self.read(|txn| match txn.open_table(INSIGHTS) {
            Ok(t) => t.get(key.as_str())?.map(|v| decode(v.value())).transpose(),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })?;
        let entry = entry.filter(|e| e.table_id == meta.table_id);
        let enabled = entry.as_ref().is_some_and(|e| e.enabled);
        Ok(DescribeContributorInsightsOutput {
            table_name: meta.name.clone(),
            index_name: input.index_name.clone(),
            contributor_insights_rule_list: entry
                .as_ref()
                .filter(|e| e.enabled)
                .map(|e| rule_list(&meta, index, &e.mode, e.updated)),
            contributor_insights_status: if enabled { "ENABLED" } else { "DISABLED" }.into(),
            last_update_date_time: entry.as_ref().map(|e| e.updated.as_epoch_seconds()),
            contributor_insights_mode: entry.filter(|e| e.enabled).map(|e| e.mode),
        })
    }

    /// UpdateContributorInsights.
    pub fn update_contributor_insights(
        &self,
        ns: &Namespace,
        input: UpdateContributorInsightsInput,
    ) -> Result<UpdateContributorInsightsOutput> {
        let enable = match input.contributor_insights_action.as_str() {
            "ENABLE" => true,
            "DISABLE" => false,
            other => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{other}' at 'contributorInsightsAction' failed to satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]"
                )));
            }
        };
        let now = self.clock.now();
        let key_of = ns.table_key(&input.table_name);
        let (meta, mode) = self.write(|txn| {
            let meta = Engine::load_meta(&txn.open_table(CATALOG)?, &key_of)?
                .ok_or_else(|| table_not_found(&input.table_name))?;
            let index = input.index_name.as_deref();
            check_index(&meta, index)?;
            let mut t = txn.open_table(INSIGHTS)?;
            let key = entry_key(&meta, index);
            let previous = t
                .get(key.as_str())?
                .map(|v| decode(v.value()))
                .transpose()?
                .filter(|e| e.table_id == meta.table_id);
            let mode = input
                .contributor_insights_mode
                .clone()
                .or_else(|| previous.map(|p| p.mode))
                .unwrap_or_else(|| DEFAULT_MODE.to_string());
            let entry = InsightsEntry {
                table_id: meta.table_id.clone(),
                enabled: enable,
                mode: mode.clone(),
                updated: now,
            };
            let json = serde_json::to_string(&entry).map_err(|e| Error::Internal(e.to_string()))?;
            t.insert(key.as_str(), json.as_str())?;
            Ok((meta, mode))
        })?;
        Ok(UpdateContributorInsightsOutput {
            table_name: meta.name,
            index_name: input.index_name,
            contributor_insights_status: if enable { "ENABLING" } else { "DISABLING" }.into(),
            contributor_insights_mode: enable.then_some(mode),
        })
    }

    /// ListContributorInsights: every table and index of this namespace whose setting was
    /// changed, in table then index order.
    pub fn list_contributor_insights(
        &self,
        ns: &Namespace,
        input: ListContributorInsightsInput,
    ) -> Result<ListContributorInsightsOutput> {
        let limit = usize::try_from(
            input
                .max_results
                .unwrap_or(MAX_LIST_CONTRIBUTOR_INSIGHTS)
                .clamp(1, MAX_LIST_CONTRIBUTOR_INSIGHTS),
        )
        .unwrap_or(100);
        let start = match &input.next_token {
            None => 0,
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| Error::validation(format!("Invalid NextToken: {t}")))?,
        };
        let only = match &input.table_name {
            Some(t) => Some(
                self.table_meta(ns, t)?
                    .ok_or_else(|| table_not_found(t))?
                    .catalog_key(),
            ),
            None => None,
        };
        let prefix = ns.prefix();
        let rows = self.read(|txn| {
            let insights = match txn.open_table(INSIGHTS) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let catalog = txn.open_table(CATALOG)?;
            let mut out = Vec::new();
            for row in insights.range(prefix.as_str()..)? {
                let (k, v) = row?;
                let key = k.value();
                if !key.starts_with(prefix.as_str()) {
                    break;
                }
                let Some((table_key, index)) = key.rsplit_once('\x1f') else {
                    continue;
                };
                if only.as_deref().is_some_and(|o| o != table_key) {
                    continue;
                }
                let entry = decode(v.value())?;
                let Some(meta) = Engine::load_meta(&catalog, table_key)? else {
                    continue;
                };
                if meta.table_id != entry.table_id {
                    continue;
                }
                out.push(ContributorInsightsSummary {
                    table_name: meta.name.clone(),
                    index_name: (!index.is_empty()).then(|| index.to_string()),
                    contributor_insights_status: if entry.enabled { "ENABLED" } else { "DISABLED" }
                        .into(),
                    contributor_insights_mode: entry.enabled.then_some(entry.mode),
                });
            }
            Ok(out)
        })?;
        let end = start.saturating_add(limit).min(rows.len());
        let page = rows.get(start.min(rows.len())..end).unwrap_or(&[]).to_vec();
        Ok(ListContributorInsightsOutput {
            contributor_insights_summaries: page,
            next_token: (end < rows.len()).then(|| end.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_ops::CreateTableInput;

    fn engine_with_table() -> (Engine, Namespace) {
        let engine = Engine::in_memory().unwrap();
        let ns = Namespace::default();
        let input: CreateTableInput = serde_json::from_value(serde_json::json!({
            "TableName": "t",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }))
        .unwrap();
        engine.create_table(&ns, input).unwrap();
        (engine, ns)
    }

    #[test]
    fn enable_then_describe_and_list() {
        let (engine, ns) = engine_with_table();
        let d = engine
            .describe_contributor_insights(
                &ns,
                DescribeContributorInsightsInput {
                    table_name: "t".into(),
                    index_name: None,
                },
            )
            .unwrap();
        assert_eq!(d.contributor_insights_status, "DISABLED");
        let u = engine
            .update_contributor_insights(
                &ns,
                UpdateContributorInsightsInput {
                    table_name: "t".into(),
                    index_name: None,
                    contributor_insights_action: "ENABLE".into(),
                    contributor_insights_mode: None,
                },
            )
            .unwrap();
        assert_eq!(u.contributor_insights_status, "ENABLING");
        let d = engine
            .describe_contributor_insights(
                &ns,
                DescribeContributorInsightsInput {
                    table_name: "t".into(),
                    index_name: None,
                },
            )
            .unwrap();
        assert_eq!(d.contributor_insights_status, "ENABLED");
        assert_eq!(d.contributor_insights_rule_list.map(|r| r.len()), Some(2));
        let l = engine
            .list_contributor_insights(&ns, ListContributorInsightsInput::default())
            .unwrap();
        assert_eq!(l.contributor_insights_summaries.len(), 1);
        assert_eq!(
            l.contributor_insights_summaries[0].contributor_insights_status,
            "ENABLED"
        );
    }

    #[test]
    fn unknown_index_and_table_are_not_found() {
        let (engine, ns) = engine_with_table();
        let e = engine
            .describe_contributor_insights(
                &ns,
                DescribeContributorInsightsInput {
                    table_name: "t".into(),
                    index_name: Some("nope".into()),
                },
            )
            .unwrap_err();
        assert_eq!(e.aws_type(), "ResourceNotFoundException");
        let e = engine
            .describe_contributor_insights(
                &ns,
                DescribeContributorInsightsInput {
                    table_name: "missing".into(),
                    index_name: None,
                },
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Requested resource not found: Table: missing not found"
        );
    }

    #[test]
    fn a_recreated_table_starts_disabled() {
        let (engine, ns) = engine_with_table();
        engine
            .update_contributor_insights(
                &ns,
                UpdateContributorInsightsInput {
                    table_name: "t".into(),
                    index_name: None,
                    contributor_insights_action: "ENABLE".into(),
                    contributor_insights_mode: Some("THROTTLED_KEYS".into()),
                },
            )
            .unwrap();
        engine
            .delete_table(
                &ns,
                crate::table_ops::TableNameInput {
                    table_name: "t".into(),
                },
            )
            .unwrap();
        let input: CreateTableInput = serde_json::from_value(serde_json::json!({
            "TableName": "t",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }))
        .unwrap();
        engine.create_table(&ns, input).unwrap();
        let d = engine
            .describe_contributor_insights(
                &ns,
                DescribeContributorInsightsInput {
                    table_name: "t".into(),
                    index_name: None,
                },
            )
            .unwrap();
        assert_eq!(d.contributor_insights_status, "DISABLED");
    }
}
