//! Version 2017.11.29 global tables (CreateGlobalTable, UpdateGlobalTable, DescribeGlobalTable,
//! ListGlobalTables, Describe/UpdateGlobalTableSettings) and replica auto scaling
//! (Describe/UpdateTableReplicaAutoScaling, any version).
//!
//! A version 2017.11.29 global table is a record in redb table `global_tables`
//! (`account \x1f name` → [`LegacyRecord`] as JSON) plus the [`ReplicaGroup`] in each member's
//! metadata, so its members replicate through the same core as version 2019.11.21 replicas.
//! Its members are tables the caller created in each region (AWS: "The table must have the same
//! name … the same primary key … DynamoDB Streams enabled, with the stream containing both the
//! new and the old images … None of the replica tables in the global table can contain any
//! data", API_CreateGlobalTable). Error types follow the model's per-operation lists; texts
//! without an AWS recording are ours and name the failed rule.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{
    AutoScaling, Member, ReplicaDescription, ReplicaGroup, VERSION_2017, load_member, member_key,
    replica_description, replicas_not_in_group, store_meta, table_has_items,
};
use crate::backup_ops::billing_mode_name;
use crate::catalog::{BillingMode, BillingModeSummary, TableClassSummary, TableMeta};
use crate::clock::Timestamp;
use crate::engine::{CATALOG, Engine, Namespace};
use crate::error::{Error, Result};
use crate::table_ops::{change_table_class, parse_billing_mode, switch_billing_mode};

/// `account \x1f name` → [`LegacyRecord`] as JSON.
const GLOBAL_TABLES: TableDefinition<&str, &str> = TableDefinition::new("global_tables");

/// The largest `Limit` of ListGlobalTables (and its default).
const MAX_LIST_GLOBAL_TABLES: usize = 100;

/// What the engine keeps about one version 2017.11.29 global table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LegacyRecord {
    name: String,
    created: Timestamp,
    regions: Vec<String>,
}

/// `{"RegionName": …}` (`Replica`, `CreateReplicaAction`, `DeleteReplicaAction`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct RegionNameItem {
    pub region_name: String,
}

/// CreateGlobalTable request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct CreateGlobalTableInput {
    pub global_table_name: String,
    pub replication_group: Vec<RegionNameItem>,
}

/// `ReplicaUpdate` of UpdateGlobalTable.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct LegacyReplicaUpdate {
    pub create: Option<RegionNameItem>,
    pub delete: Option<RegionNameItem>,
}

/// UpdateGlobalTable request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct UpdateGlobalTableInput {
    pub global_table_name: String,
    pub replica_updates: Vec<LegacyReplicaUpdate>,
}

/// DescribeGlobalTable / DescribeGlobalTableSettings request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GlobalTableNameInput {
    pub global_table_name: String,
}

/// `GlobalTableDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GlobalTableDescription {
    pub replication_group: Vec<ReplicaDescription>,
    pub global_table_arn: String,
    pub creation_date_time: f64,
    pub global_table_status: String,
    pub global_table_name: String,
}

/// Output of CreateGlobalTable, UpdateGlobalTable and DescribeGlobalTable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GlobalTableOutput {
    pub global_table_description: GlobalTableDescription,
}

/// ListGlobalTables request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListGlobalTablesInput {
    pub exclusive_start_global_table_name: Option<String>,
    pub limit: Option<i64>,
    pub region_name: Option<String>,
}

/// `GlobalTable` (an entry of ListGlobalTables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GlobalTableSummary {
    pub global_table_name: String,
    pub replication_group: Vec<RegionNameItem>,
}

/// ListGlobalTables output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ListGlobalTablesOutput {
    pub global_tables: Vec<GlobalTableSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_global_table_name: Option<String>,
}

/// `AutoScalingTargetTrackingScalingPolicyConfiguration{Update,Description}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TargetTracking {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_scale_in: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in_cooldown: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_out_cooldown: Option<i64>,
    pub target_value: f64,
}

/// `AutoScalingPolicyDescription` / `AutoScalingPolicyUpdate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct AutoScalingPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    pub target_tracking_scaling_policy_configuration: TargetTracking,
}

/// `AutoScalingSettingsDescription`: auto scaling of one capacity dimension, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct AutoScalingSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling_role_arn: Option<String>,
    #[serde(default)]
    pub scaling_policies: Vec<AutoScalingPolicy>,
}

/// `AutoScalingSettingsUpdate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct AutoScalingSettingsUpdate {
    pub minimum_units: Option<i64>,
    pub maximum_units: Option<i64>,
    pub auto_scaling_disabled: Option<bool>,
    pub auto_scaling_role_arn: Option<String>,
    pub scaling_policy_update: Option<AutoScalingPolicy>,
}

impl AutoScalingSettings {
    /// `self` with `update` applied; a policy without a name gets AWS's default name
    /// `DynamoDB{Read|Write}CapacityUtilization:{resource}`.
    fn updated(&self, update: &AutoScalingSettingsUpdate, default_policy: &str) -> Result<Self> {
        let mut s = self.clone();
        if let Some(v) = update.minimum_units {
            s.minimum_units = Some(v);
        }
        if let Some(v) = update.maximum_units {
            s.maximum_units = Some(v);
        }
        if let (Some(min), Some(max)) = (s.minimum_units, s.maximum_units)
            && min > max
        {
            return Err(Error::validation(format!(
                "Minimum capacity {min} cannot be larger than the maximum capacity {max}"
            )));
        }
        if let Some(v) = update.auto_scaling_disabled {
            s.auto_scaling_disabled = Some(v);
        }
        if let Some(v) = &update.auto_scaling_role_arn {
            s.auto_scaling_role_arn = Some(v.clone());
        }
        if let Some(p) = &update.scaling_policy_update {
            let target = p.target_tracking_scaling_policy_configuration.target_value;
            if !(20.0..=90.0).contains(&target) {
                return Err(Error::validation(format!(
                    "Target value {target} is out of range: the target utilization must be between 20 and 90"
                )));
            }
            let name = p
                .policy_name
                .clone()
                .unwrap_or_else(|| default_policy.to_string());
            s.scaling_policies
                .retain(|q| q.policy_name.as_deref() != Some(name.as_str()));
            s.scaling_policies.push(AutoScalingPolicy {
                policy_name: Some(name),
                target_tracking_scaling_policy_configuration: p
                    .target_tracking_scaling_policy_configuration
                    .clone(),
            });
        }
        if s.auto_scaling_disabled.is_none() {
            s.auto_scaling_disabled = Some(false);
        }
        Ok(s)
    }
}

/// Which capacity an auto scaling setting scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capacity {
    Read,
    Write,
}

impl AutoScaling {
    /// The settings slot of `cap` for the table (`index` None) or for GSI `index`.
    fn get(&self, cap: Capacity, index: Option<&str>) -> Option<&AutoScalingSettings> {
        match (cap, index) {
            (Capacity::Read, None) => self.read.as_ref(),
            (Capacity::Write, None) => self.write.as_ref(),
            (Capacity::Read, Some(i)) => self.index_read.get(i),
            (Capacity::Write, Some(i)) => self.index_write.get(i),
        }
    }

    /// Applies `update` to the `cap` settings of the table (`index` None) or of GSI `index`;
    /// a new scaling policy is named `DynamoDB{Read|Write}CapacityUtilization:table/{table}`
    /// (followed by `/index/{index}` for a GSI).
    fn apply(
        &mut self,
        cap: Capacity,
        index: Option<&str>,
        update: &AutoScalingSettingsUpdate,
        table: &str,
    ) -> Result<()> {
        let metric = match cap {
            Capacity::Read => "DynamoDBReadCapacityUtilization",
            Capacity::Write => "DynamoDBWriteCapacityUtilization",
        };
        let current = self.get(cap, index).cloned().unwrap_or_default();
        match index {
            None => {
                let updated = current.updated(update, &format!("{metric}:table/{table}"))?;
                match cap {
                    Capacity::Read => self.read = Some(updated),
                    Capacity::Write => self.write = Some(updated),
                }
            }
            Some(i) => {
                let updated =
                    current.updated(update, &format!("{metric}:table/{table}/index/{i}"))?;
                let map = match cap {
                    Capacity::Read => &mut self.index_read,
                    Capacity::Write => &mut self.index_write,
                };
                map.insert(i.to_owned(), updated);
            }
        }
        Ok(())
    }
}

/// `ReplicaGlobalSecondaryIndexSettingsDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaIndexSettingsDescription {
    pub index_name: String,
    pub index_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_read_capacity_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_read_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_write_capacity_units: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_write_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
}

/// `ReplicaSettingsDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaSettingsDescription {
    pub region_name: String,
    pub replica_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_billing_mode_summary: Option<BillingModeSummary>,
    pub replica_provisioned_read_capacity_units: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_provisioned_read_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
    pub replica_provisioned_write_capacity_units: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_provisioned_write_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_global_secondary_index_settings: Option<Vec<ReplicaIndexSettingsDescription>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_table_class_summary: Option<TableClassSummary>,
}

/// Output of DescribeGlobalTableSettings and UpdateGlobalTableSettings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct DescribeGlobalTableSettingsOutput {
    pub global_table_name: String,
    pub replica_settings: Vec<ReplicaSettingsDescription>,
}

/// `GlobalTableGlobalSecondaryIndexSettingsUpdate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GlobalIndexSettingsUpdate {
    pub index_name: String,
    pub provisioned_write_capacity_units: Option<i64>,
    pub provisioned_write_capacity_auto_scaling_settings_update: Option<AutoScalingSettingsUpdate>,
}

/// `ReplicaGlobalSecondaryIndexSettingsUpdate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaIndexSettingsUpdate {
    pub index_name: String,
    pub provisioned_read_capacity_units: Option<i64>,
    pub provisioned_read_capacity_auto_scaling_settings_update: Option<AutoScalingSettingsUpdate>,
}

/// `ReplicaSettingsUpdate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaSettingsUpdate {
    pub region_name: String,
    pub replica_provisioned_read_capacity_units: Option<i64>,
    pub replica_provisioned_read_capacity_auto_scaling_settings_update:
        Option<AutoScalingSettingsUpdate>,
    pub replica_global_secondary_index_settings_update: Option<Vec<ReplicaIndexSettingsUpdate>>,
    pub replica_table_class: Option<String>,
}

/// UpdateGlobalTableSettings request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct UpdateGlobalTableSettingsInput {
    pub global_table_name: String,
    pub global_table_billing_mode: Option<String>,
    pub global_table_provisioned_write_capacity_units: Option<i64>,
    pub global_table_provisioned_write_capacity_auto_scaling_settings_update:
        Option<AutoScalingSettingsUpdate>,
    pub global_table_global_secondary_index_settings_update: Option<Vec<GlobalIndexSettingsUpdate>>,
    pub replica_settings_update: Option<Vec<ReplicaSettingsUpdate>>,
}

/// `ReplicaGlobalSecondaryIndexAutoScalingDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaIndexAutoScalingDescription {
    pub index_name: String,
    pub index_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_read_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_write_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
}

/// `ReplicaAutoScalingDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaAutoScalingDescription {
    pub region_name: String,
    pub replica_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<Vec<ReplicaIndexAutoScalingDescription>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_provisioned_read_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_provisioned_write_capacity_auto_scaling_settings: Option<AutoScalingSettings>,
}

/// `TableAutoScalingDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TableAutoScalingDescription {
    pub table_name: String,
    pub table_status: String,
    pub replicas: Vec<ReplicaAutoScalingDescription>,
}

/// Output of Describe/UpdateTableReplicaAutoScaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct DescribeTableReplicaAutoScalingOutput {
    pub table_auto_scaling_description: TableAutoScalingDescription,
}

/// `GlobalSecondaryIndexAutoScalingUpdate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct IndexAutoScalingUpdate {
    pub index_name: Option<String>,
    pub provisioned_write_capacity_auto_scaling_update: Option<AutoScalingSettingsUpdate>,
}

/// `ReplicaGlobalSecondaryIndexAutoScalingUpdate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaIndexAutoScalingUpdate {
    pub index_name: Option<String>,
    pub provisioned_read_capacity_auto_scaling_update: Option<AutoScalingSettingsUpdate>,
}

/// `ReplicaAutoScalingUpdate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaAutoScalingUpdate {
    pub region_name: String,
    pub replica_global_secondary_index_updates: Option<Vec<ReplicaIndexAutoScalingUpdate>>,
    pub replica_provisioned_read_capacity_auto_scaling_update: Option<AutoScalingSettingsUpdate>,
}

/// UpdateTableReplicaAutoScaling request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct UpdateTableReplicaAutoScalingInput {
    pub table_name: String,
    pub global_secondary_index_updates: Option<Vec<IndexAutoScalingUpdate>>,
    pub provisioned_write_capacity_auto_scaling_update: Option<AutoScalingSettingsUpdate>,
    pub replica_updates: Option<Vec<ReplicaAutoScalingUpdate>>,
}

fn record_key(account: &str, name: &str) -> String {
    format!("{account}\x1f{name}")
}

fn load_record(
    table: &impl ReadableTable<&'static str, &'static str>,
    key: &str,
) -> Result<Option<LegacyRecord>> {
    match table.get(key)? {
        None => Ok(None),
        Some(v) => serde_json::from_str(v.value())
            .map(Some)
            .map_err(|e| Error::Internal(format!("global table record is corrupt: {e}"))),
    }
}

fn save_record(txn: &redb::WriteTransaction, account: &str, record: &LegacyRecord) -> Result<()> {
    let json = serde_json::to_string(record).map_err(|e| Error::Internal(e.to_string()))?;
    txn.open_table(GLOBAL_TABLES)?
        .insert(record_key(account, &record.name).as_str(), json.as_str())?;
    Ok(())
}

/// Drops `region` from the version 2017.11.29 global table `name` (its table was deleted);
/// the record goes when no region is left.
pub(crate) fn remove_region(
    txn: &redb::WriteTransaction,
    account: &str,
    name: &str,
    region: &str,
) -> Result<()> {
    let key = record_key(account, name);
    let record = load_record(&txn.open_table(GLOBAL_TABLES)?, &key)?;
    if let Some(mut record) = record {
        record.regions.retain(|r| r != region);
        if record.regions.is_empty() {
            txn.open_table(GLOBAL_TABLES)?.remove(key.as_str())?;
        } else {
            save_record(txn, account, &record)?;
        }
    }
    Ok(())
}

fn global_table_not_found(name: &str) -> Error {
    Error::GlobalTableNotFound(format!(
        "Global table not found: Global table with name: '{name}' does not exist."
    ))
}

/// Checks that `meta` can join a version 2017.11.29 global table whose other members look like
/// `like` (API_CreateGlobalTable's conditions).
fn check_joinable(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    like: Option<&TableMeta>,
) -> Result<()> {
    if meta.global.group.is_some() {
        return Err(Error::GlobalTableAlreadyExists(format!(
            "Table {} in region {} is already a replica of a global table",
            meta.name, meta.region
        )));
    }
    if !meta
        .stream
        .as_ref()
        .is_some_and(|s| s.enabled && s.view_type == "NEW_AND_OLD_IMAGES")
    {
        return Err(Error::invalid_parameter(format!(
            "Table {} in region {} must have DynamoDB Streams enabled with StreamViewType NEW_AND_OLD_IMAGES",
            meta.name, meta.region
        )));
    }
    if table_has_items(txn, meta)? {
        return Err(Error::invalid_parameter(format!(
            "Table {} in region {} is not empty; a replica table of a global table must be empty when it joins",
            meta.name, meta.region
        )));
    }
    if let Some(like) = like {
        let indexes = |m: &TableMeta| {
            m.gsis
                .iter()
                .chain(&m.lsis)
                .map(|i| (i.name.clone(), i.key_schema.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        if meta.primary_key() != like.primary_key() {
            return Err(Error::invalid_parameter(format!(
                "Table {} in region {} does not have the same key schema as the other replicas",
                meta.name, meta.region
            )));
        }
        if indexes(meta) != indexes(like) {
            return Err(Error::invalid_parameter(format!(
                "Table {} in region {} does not have the same secondary indexes as the other replicas",
                meta.name, meta.region
            )));
        }
    }
    Ok(())
}

fn legacy_group(record: &LegacyRecord, members: &BTreeMap<String, Member>) -> ReplicaGroup {
    ReplicaGroup {
        version: VERSION_2017.into(),
        members: record
            .regions
            .iter()
            .map(|r| {
                members.get(r).cloned().unwrap_or_else(|| Member {
                    region: r.clone(),
                    ..Member::default()
                })
            })
            .collect(),
        strong: false,
        witnesses: Vec::new(),
        created: record.created,
        source_hold: BTreeMap::new(),
    }
}

impl Engine {
    /// Loads the members of a version 2017.11.29 global table.
    fn legacy_members(
        catalog: &impl ReadableTable<&'static str, &'static str>,
        account: &str,
        record: &LegacyRecord,
    ) -> Result<Vec<TableMeta>> {
        let mut out = Vec::new();
        for r in &record.regions {
            if let Some(m) = Engine::load_meta(catalog, &member_key(account, r, &record.name))? {
                out.push(m);
            }
        }
        Ok(out)
    }

    fn describe_legacy(
        account: &str,
        record: &LegacyRecord,
        members: &[TableMeta],
        status: &str,
    ) -> GlobalTableDescription {
        let replication_group = members
            .iter()
            .filter_map(|m| {
                let group = m.global.group.as_ref()?;
                let mut d = replica_description(m, group, &m.region, "ACTIVE");
                d.replica_arn = None;
                Some(d)
            })
            .collect();
        GlobalTableDescription {
            replication_group,
            global_table_arn: format!("arn:aws:dynamodb::{account}:global-table/{}", record.name),
            creation_date_time: record.created.as_epoch_seconds(),
            global_table_status: status.into(),
            global_table_name: record.name.clone(),
        }
    }

    /// CreateGlobalTable (version 2017.11.29): joins the existing, empty tables of this name
    /// in the listed regions into one global table.
    pub fn create_global_table(
        &self,
        ns: &Namespace,
        input: CreateGlobalTableInput,
    ) -> Result<GlobalTableOutput> {
        let mut regions: Vec<String> = input
            .replication_group
            .iter()
            .map(|r| r.region_name.clone())
            .collect();
        regions.sort();
        regions.dedup();
        let now = self.clock.now();
        let name = input.global_table_name.clone();
        self.write(|txn| {
            let key = record_key(&ns.account, &name);
            if load_record(&txn.open_table(GLOBAL_TABLES)?, &key)?.is_some() {
                return Err(Error::GlobalTableAlreadyExists(format!(
                    "Global table already exists: {name}"
                )));
            }
            let mut catalog = txn.open_table(CATALOG)?;
            let mut members = Vec::new();
            for r in &regions {
                let meta = Engine::load_meta(&catalog, &member_key(&ns.account, r, &name))?
                    .ok_or_else(|| {
                        Error::TableNotFound(format!("Table: {name} not found in region: {r}"))
                    })?;
                check_joinable(txn, &meta, members.first())?;
                members.push(meta);
            }
            let record = LegacyRecord {
                name: name.clone(),
                created: now,
                regions: regions.clone(),
            };
            let group = legacy_group(&record, &BTreeMap::new());
            for m in &mut members {
                m.global.group = Some(group.clone());
                store_meta(&mut catalog, m)?;
            }
            save_record(txn, &ns.account, &record)?;
            Ok(GlobalTableOutput {
                global_table_description: Engine::describe_legacy(
                    &ns.account,
                    &record,
                    &members,
                    "CREATING",
                ),
            })
        })
    }

    /// UpdateGlobalTable (version 2017.11.29): adds or removes replicas. A removed replica's
    /// table stays in its region as a regional table.
    pub fn update_global_table(
        &self,
        ns: &Namespace,
        input: UpdateGlobalTableInput,
    ) -> Result<GlobalTableOutput> {
        let name = input.global_table_name.clone();
        self.write(|txn| {
            let key = record_key(&ns.account, &name);
            let mut record = load_record(&txn.open_table(GLOBAL_TABLES)?, &key)?
                .ok_or_else(|| global_table_not_found(&name))?;
            let mut catalog = txn.open_table(CATALOG)?;
            let mut members = Engine::legacy_members(&catalog, &ns.account, &record)?;
            let mut removed = Vec::new();
            for u in &input.replica_updates {
                if u.create.is_some() == u.delete.is_some() {
                    return Err(Error::invalid_parameter(
                        "One of Create or Delete must be specified in a ReplicaUpdate",
                    ));
                }
                if let Some(c) = &u.create {
                    if record.regions.contains(&c.region_name) {
                        return Err(Error::ReplicaAlreadyExists(format!(
                            "Replica already exists in region: {}",
                            c.region_name
                        )));
                    }
                    let meta = Engine::load_meta(
                        &catalog,
                        &member_key(&ns.account, &c.region_name, &name),
                    )?
                    .ok_or_else(|| {
                        Error::TableNotFound(format!(
                            "Table: {name} not found in region: {}",
                            c.region_name
                        ))
                    })?;
                    check_joinable(txn, &meta, members.first())?;
                    record.regions.push(c.region_name.clone());
                    members.push(meta);
                }
                if let Some(d) = &u.delete {
                    if !record.regions.contains(&d.region_name) {
                        return Err(Error::ReplicaNotFound(format!(
                            "Replica not found in region: {}",
                            d.region_name
                        )));
                    }
                    record.regions.retain(|r| *r != d.region_name);
                    if let Some(pos) = members.iter().position(|m| m.region == d.region_name) {
                        removed.push(members.remove(pos));
                    }
                }
            }
            record.regions.sort();
            members.sort_by(|a, b| a.region.cmp(&b.region));
            let known: BTreeMap<String, Member> = members
                .iter()
                .filter_map(|m| m.global.group.as_ref()?.member(&m.region).cloned())
                .map(|m| (m.region.clone(), m))
                .collect();
            let group = legacy_group(&record, &known);
            for m in &mut members {
                m.global.group = Some(group.clone());
                store_meta(&mut catalog, m)?;
            }
            for m in &mut removed {
                m.global.group = None;
                store_meta(&mut catalog, m)?;
            }
            if record.regions.is_empty() {
                txn.open_table(GLOBAL_TABLES)?.remove(key.as_str())?;
            } else {
                save_record(txn, &ns.account, &record)?;
            }
            Ok(GlobalTableOutput {
                global_table_description: Engine::describe_legacy(
                    &ns.account,
                    &record,
                    &members,
                    "ACTIVE",
                ),
            })
        })
    }

    /// DescribeGlobalTable (version 2017.11.29).
    pub fn describe_global_table(
        &self,
        ns: &Namespace,
        input: GlobalTableNameInput,
    ) -> Result<GlobalTableOutput> {
        self.read(|txn| {
            let record = match txn.open_table(GLOBAL_TABLES) {
                Ok(t) => load_record(&t, &record_key(&ns.account, &input.global_table_name))?,
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(e.into()),
            }
            .ok_or_else(|| global_table_not_found(&input.global_table_name))?;
            let catalog = txn.open_table(CATALOG)?;
            let members = Engine::legacy_members(&catalog, &ns.account, &record)?;
            Ok(GlobalTableOutput {
                global_table_description: Engine::describe_legacy(
                    &ns.account,
                    &record,
                    &members,
                    "ACTIVE",
                ),
            })
        })
    }

    /// ListGlobalTables (version 2017.11.29): names in order, optionally only those with a
    /// replica in `RegionName`, at most `Limit` (default and maximum 100).
    pub fn list_global_tables(
        &self,
        ns: &Namespace,
        input: ListGlobalTablesInput,
    ) -> Result<ListGlobalTablesOutput> {
        let limit = match input.limit {
            Some(l) if l > MAX_LIST_GLOBAL_TABLES as i64 => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {MAX_LIST_GLOBAL_TABLES}"
                )));
            }
            Some(l) => usize::try_from(l.max(1)).unwrap_or(1),
            None => MAX_LIST_GLOBAL_TABLES,
        };
        let prefix = format!("{}\x1f", ns.account);
        self.read(|txn| {
            let table = match txn.open_table(GLOBAL_TABLES) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => {
                    return Ok(ListGlobalTablesOutput {
                        global_tables: Vec::new(),
                        last_evaluated_global_table_name: None,
                    });
                }
                Err(e) => return Err(e.into()),
            };
            let start = match &input.exclusive_start_global_table_name {
                Some(s) => format!("{prefix}{s}"),
                None => prefix.clone(),
            };
            let mut out = Vec::new();
            let mut more = false;
            for row in table.range(start.as_str()..)? {
                let (k, v) = row?;
                let Some(name) = k.value().strip_prefix(prefix.as_str()) else {
                    break;
                };
                if input.exclusive_start_global_table_name.as_deref() == Some(name) {
                    continue;
                }
                let record: LegacyRecord = serde_json::from_str(v.value())
                    .map_err(|e| Error::Internal(format!("global table record is corrupt: {e}")))?;
                if let Some(r) = &input.region_name
                    && !record.regions.contains(r)
                {
                    continue;
                }
                if out.len() == limit {
                    more = true;
                    break;
                }
                out.push(GlobalTableSummary {
                    global_table_name: record.name.clone(),
                    replication_group: record
                        .regions
                        .iter()
                        .map(|r| RegionNameItem {
                            region_name: r.clone(),
                        })
                        .collect(),
                });
            }
            let last = more
                .then(|| out.last().map(|g| g.global_table_name.clone()))
                .flatten();
            Ok(ListGlobalTablesOutput {
                global_tables: out,
                last_evaluated_global_table_name: last,
            })
        })
    }

    /// DescribeGlobalTableSettings (version 2017.11.29).
    pub fn describe_global_table_settings(
        &self,
        ns: &Namespace,
        input: GlobalTableNameInput,
    ) -> Result<DescribeGlobalTableSettingsOutput> {
        self.read(|txn| {
            let record = match txn.open_table(GLOBAL_TABLES) {
                Ok(t) => load_record(&t, &record_key(&ns.account, &input.global_table_name))?,
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(e.into()),
            }
            .ok_or_else(|| global_table_not_found(&input.global_table_name))?;
            let catalog = txn.open_table(CATALOG)?;
            let members = Engine::legacy_members(&catalog, &ns.account, &record)?;
            Ok(settings_output(&record.name, &members))
        })
    }

    /// UpdateGlobalTableSettings (version 2017.11.29): billing mode, write capacity and its
    /// auto scaling on every replica; read capacity, its auto scaling and table class per
    /// replica; the same per global secondary index.
    pub fn update_global_table_settings(
        &self,
        ns: &Namespace,
        input: UpdateGlobalTableSettingsInput,
    ) -> Result<DescribeGlobalTableSettingsOutput> {
        let now = self.clock.now();
        self.write(|txn| {
            let record = load_record(
                &txn.open_table(GLOBAL_TABLES)?,
                &record_key(&ns.account, &input.global_table_name),
            )?
            .ok_or_else(|| global_table_not_found(&input.global_table_name))?;
            let mut catalog = txn.open_table(CATALOG)?;
            let mut members = Engine::legacy_members(&catalog, &ns.account, &record)?;
            let name = record.name.clone();
            let mode = parse_billing_mode(input.global_table_billing_mode.as_deref());
            for u in input.replica_settings_update.iter().flatten() {
                if !record.regions.contains(&u.region_name) {
                    return Err(Error::ReplicaNotFound(format!(
                        "Replica not found in region: {}",
                        u.region_name
                    )));
                }
            }
            let index_names: Vec<String> = input
                .global_table_global_secondary_index_settings_update
                .iter()
                .flatten()
                .map(|g| g.index_name.clone())
                .chain(
                    input
                        .replica_settings_update
                        .iter()
                        .flatten()
                        .flat_map(|r| r.replica_global_secondary_index_settings_update.iter().flatten())
                        .map(|g| g.index_name.clone()),
                )
                .collect();
            for m in &mut members {
                let target = mode.unwrap_or(m.billing_mode);
                let provisioned_given = input.global_table_provisioned_write_capacity_units.is_some()
                    || input
                        .replica_settings_update
                        .iter()
                        .flatten()
                        .any(|r| r.replica_provisioned_read_capacity_units.is_some())
                    || input
                        .global_table_global_secondary_index_settings_update
                        .iter()
                        .flatten()
                        .any(|g| g.provisioned_write_capacity_units.is_some());
                if target == BillingMode::PAY_PER_REQUEST && provisioned_given {
                    return Err(Error::invalid_parameter(
                        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                    ));
                }
                if target == BillingMode::PROVISIONED
                    && m.billing_mode == BillingMode::PAY_PER_REQUEST
                    && input.global_table_provisioned_write_capacity_units.is_none()
                    && input
                        .global_table_provisioned_write_capacity_auto_scaling_settings_update
                        .is_none()
                {
                    return Err(Error::invalid_parameter(
                        "ProvisionedWriteCapacityUnits or its auto scaling settings must be specified when BillingMode is PROVISIONED",
                    ));
                }
                for i in &index_names {
                    if !m.gsis.iter().any(|g| g.name == *i) {
                        return Err(Error::IndexNotFound(format!(
                            "Requested resource not found: Index: {i} not found"
                        )));
                    }
                }
                switch_billing_mode(m, target, now);
                if let Some(w) = input.global_table_provisioned_write_capacity_units {
                    m.throughput.write = w;
                }
                if let Some(u) = &input.global_table_provisioned_write_capacity_auto_scaling_settings_update {
                    m.global.autoscaling.apply(Capacity::Write, None, u, &name)?;
                }
                for g in input.global_table_global_secondary_index_settings_update.iter().flatten() {
                    if let Some(idx) = m.gsis.iter_mut().find(|x| x.name == g.index_name)
                        && let Some(w) = g.provisioned_write_capacity_units
                    {
                        idx.throughput.get_or_insert_with(Default::default).write = w;
                    }
                    if let Some(u) = &g.provisioned_write_capacity_auto_scaling_settings_update {
                        m.global.autoscaling.apply(Capacity::Write, Some(g.index_name.as_str()), u, &name)?;
                    }
                }
                let region = m.region.clone();
                for r in input
                    .replica_settings_update
                    .iter()
                    .flatten()
                    .filter(|r| r.region_name == region)
                {
                    if let Some(read) = r.replica_provisioned_read_capacity_units {
                        m.throughput.read = read;
                    }
                    if let Some(u) = &r.replica_provisioned_read_capacity_auto_scaling_settings_update {
                        m.global.autoscaling.apply(Capacity::Read, None, u, &name)?;
                    }
                    change_table_class(m, r.replica_table_class.as_deref(), now);
                    for g in r.replica_global_secondary_index_settings_update.iter().flatten() {
                        if let Some(idx) = m.gsis.iter_mut().find(|x| x.name == g.index_name)
                            && let Some(read) = g.provisioned_read_capacity_units
                        {
                            idx.throughput.get_or_insert_with(Default::default).read = read;
                        }
                        if let Some(u) = &g.provisioned_read_capacity_auto_scaling_settings_update {
                            m.global.autoscaling.apply(Capacity::Read, Some(g.index_name.as_str()), u, &name)?;
                        }
                    }
                }
                store_meta(&mut catalog, m)?;
            }
            Ok(settings_output(&name, &members))
        })
    }

    /// DescribeTableReplicaAutoScaling: the auto scaling settings of the table and of each of
    /// its replicas (the table alone when it is not global).
    pub fn describe_table_replica_auto_scaling(
        &self,
        ns: &Namespace,
        input: crate::table_ops::TableNameInput,
    ) -> Result<DescribeTableReplicaAutoScalingOutput> {
        self.read(|txn| {
            let catalog = txn.open_table(CATALOG)?;
            let meta = Engine::load_meta(&catalog, &ns.table_key(&input.table_name))?
                .ok_or_else(|| resource_not_found(&input.table_name))?;
            let members = group_members(&catalog, &meta)?;
            Ok(autoscaling_output(&meta, &members))
        })
    }

    /// UpdateTableReplicaAutoScaling: write auto scaling (table and GSIs) on every replica,
    /// read auto scaling per replica.
    pub fn update_table_replica_auto_scaling(
        &self,
        ns: &Namespace,
        input: UpdateTableReplicaAutoScalingInput,
    ) -> Result<DescribeTableReplicaAutoScalingOutput> {
        self.write(|txn| {
            let mut catalog = txn.open_table(CATALOG)?;
            let meta = Engine::load_meta(&catalog, &ns.table_key(&input.table_name))?
                .ok_or_else(|| resource_not_found(&input.table_name))?;
            if meta.billing_mode == BillingMode::PAY_PER_REQUEST {
                return Err(Error::validation(format!(
                    "Auto scaling cannot be configured for table {} because its BillingMode is PAY_PER_REQUEST",
                    meta.name
                )));
            }
            let mut members = group_members(&catalog, &meta)?;
            let name = meta.name.clone();
            let mut missing = Vec::new();
            for r in input.replica_updates.iter().flatten() {
                if !members.iter().any(|m| m.region == r.region_name) {
                    missing.push(r.region_name.clone());
                }
            }
            if !missing.is_empty() {
                return Err(replicas_not_in_group(&missing));
            }
            let indexes = input
                .global_secondary_index_updates
                .iter()
                .flatten()
                .filter_map(|g| g.index_name.clone())
                .chain(
                    input
                        .replica_updates
                        .iter()
                        .flatten()
                        .flat_map(|r| r.replica_global_secondary_index_updates.iter().flatten())
                        .filter_map(|g| g.index_name.clone()),
                );
            for i in indexes {
                if !meta.gsis.iter().any(|g| g.name == i) {
                    return Err(Error::ResourceNotFound(format!(
                        "Requested resource not found: Index: {i} not found"
                    )));
                }
            }
            for m in &mut members {
                if let Some(u) = &input.provisioned_write_capacity_auto_scaling_update {
                    m.global.autoscaling.apply(Capacity::Write, None, u, &name)?;
                }
                for g in input.global_secondary_index_updates.iter().flatten() {
                    if let (Some(i), Some(u)) =
                        (&g.index_name, &g.provisioned_write_capacity_auto_scaling_update)
                    {
                        m.global.autoscaling.apply(Capacity::Write, Some(i.as_str()), u, &name)?;
                    }
                }
                for r in input
                    .replica_updates
                    .iter()
                    .flatten()
                    .filter(|r| r.region_name == m.region)
                {
                    if let Some(u) = &r.replica_provisioned_read_capacity_auto_scaling_update {
                        m.global.autoscaling.apply(Capacity::Read, None, u, &name)?;
                    }
                    for g in r.replica_global_secondary_index_updates.iter().flatten() {
                        if let (Some(i), Some(u)) =
                            (&g.index_name, &g.provisioned_read_capacity_auto_scaling_update)
                        {
                            m.global.autoscaling.apply(Capacity::Read, Some(i.as_str()), u, &name)?;
                        }
                    }
                }
                store_meta(&mut catalog, m)?;
            }
            let own = members
                .iter()
                .find(|m| m.region == meta.region)
                .cloned()
                .unwrap_or(meta);
            Ok(autoscaling_output(&own, &members))
        })
    }
}

fn resource_not_found(name: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

/// `meta` and the other members of its group, in region order.
fn group_members(
    catalog: &impl ReadableTable<&'static str, &'static str>,
    meta: &TableMeta,
) -> Result<Vec<TableMeta>> {
    let Some(group) = &meta.global.group else {
        return Ok(vec![meta.clone()]);
    };
    let mut out = Vec::new();
    for r in group.regions() {
        if r == meta.region {
            out.push(meta.clone());
        } else if let Some(m) = load_member(catalog, meta, r)? {
            out.push(m);
        }
    }
    Ok(out)
}

fn settings_output(name: &str, members: &[TableMeta]) -> DescribeGlobalTableSettingsOutput {
    DescribeGlobalTableSettingsOutput {
        global_table_name: name.to_string(),
        replica_settings: members
            .iter()
            .map(|m| ReplicaSettingsDescription {
                region_name: m.region.clone(),
                replica_status: "ACTIVE".into(),
                replica_billing_mode_summary: Some(BillingModeSummary {
                    billing_mode: billing_mode_name(m.billing_mode).into(),
                    last_update_to_pay_per_request_date_time: m
                        .pay_per_request_since
                        .map(Timestamp::as_epoch_seconds),
                }),
                replica_provisioned_read_capacity_units: m.throughput.read,
                replica_provisioned_read_capacity_auto_scaling_settings: m
                    .global
                    .autoscaling
                    .get(Capacity::Read, None)
                    .cloned(),
                replica_provisioned_write_capacity_units: m.throughput.write,
                replica_provisioned_write_capacity_auto_scaling_settings: m
                    .global
                    .autoscaling
                    .get(Capacity::Write, None)
                    .cloned(),
                replica_global_secondary_index_settings: (!m.gsis.is_empty()).then(|| {
                    m.gsis
                        .iter()
                        .map(|g| {
                            let t = g.throughput.clone().unwrap_or_default();
                            ReplicaIndexSettingsDescription {
                                index_name: g.name.clone(),
                                index_status: "ACTIVE".into(),
                                provisioned_read_capacity_units: Some(t.read),
                                provisioned_read_capacity_auto_scaling_settings: m
                                    .global
                                    .autoscaling
                                    .get(Capacity::Read, Some(g.name.as_str()))
                                    .cloned(),
                                provisioned_write_capacity_units: Some(t.write),
                                provisioned_write_capacity_auto_scaling_settings: m
                                    .global
                                    .autoscaling
                                    .get(Capacity::Write, Some(g.name.as_str()))
                                    .cloned(),
                            }
                        })
                        .collect()
                }),
                replica_table_class_summary: Some(TableClassSummary {
                    table_class: m.table_class.clone().unwrap_or_else(|| "STANDARD".into()),
                    last_update_date_time: m.table_class_updated.map(Timestamp::as_epoch_seconds),
                }),
            })
            .collect(),
    }
}

fn autoscaling_output(
    meta: &TableMeta,
    members: &[TableMeta],
) -> DescribeTableReplicaAutoScalingOutput {
    DescribeTableReplicaAutoScalingOutput {
        table_auto_scaling_description: TableAutoScalingDescription {
            table_name: meta.name.clone(),
            table_status: "ACTIVE".into(),
            replicas: members
                .iter()
                .map(|m| ReplicaAutoScalingDescription {
                    region_name: m.region.clone(),
                    replica_status: "ACTIVE".into(),
                    global_secondary_indexes: (!m.gsis.is_empty()).then(|| {
                        m.gsis
                            .iter()
                            .map(|g| ReplicaIndexAutoScalingDescription {
                                index_name: g.name.clone(),
                                index_status: "ACTIVE".into(),
                                provisioned_read_capacity_auto_scaling_settings: m
                                    .global
                                    .autoscaling
                                    .get(Capacity::Read, Some(g.name.as_str()))
                                    .cloned(),
                                provisioned_write_capacity_auto_scaling_settings: m
                                    .global
                                    .autoscaling
                                    .get(Capacity::Write, Some(g.name.as_str()))
                                    .cloned(),
                            })
                            .collect()
                    }),
                    replica_provisioned_read_capacity_auto_scaling_settings: m
                        .global
                        .autoscaling
                        .get(Capacity::Read, None)
                        .cloned(),
                    replica_provisioned_write_capacity_auto_scaling_settings: m
                        .global
                        .autoscaling
                        .get(Capacity::Write, None)
                        .cloned(),
                })
                .collect(),
        },
    }
}
