//! Global tables: replicas of a table in other regions of the same engine, and the
//! replication between them.
//!
//! A global table is a group of tables of one name in several regions of one account, each a
//! real table in its region's namespace. Every member's [`TableMeta`] holds the group
//! ([`ReplicaGroup`]); version 2019.11.21 groups are made with UpdateTable `ReplicaUpdates`
//! (this module's [`apply_replica_updates`]), version 2017.11.29 groups with CreateGlobalTable
//! and UpdateGlobalTable (`legacy`, the version 2017.11.29 operations and the settings and auto
//! scaling operations).
//!
//! Replication: `Engine::store`, the one write path, calls [`record`] in the write's own
//! transaction. For a member of a group it stamps the item with the write's clock time and
//! region (redb table `replication_stamps`: (table number, encoded key) → (ms, region), out of
//! band: the item carries no attribute) and enqueues the new image (or the delete) for every
//! other member in `replication_queue` ((due ms, sequence) → [`Pending`] as JSON), due after
//! the replication lag (`replication_settings`, [`Engine::set_replication_lag`]; 0 by
//! default). [`Engine::replicate_pending`] applies what is due by the engine clock in one write
//! transaction: an entry is applied when its (time, region) is not older than the target item's
//! stamp (last writer wins, ties by region name), through `Engine::store`, so the replica's
//! indexes, stats and stream see it. Applied writes run in a [`Replicating`] scope, in which
//! [`record`] does nothing: a replicated write is never replicated again. Groups with
//! `MultiRegionConsistency: STRONG` skip the queue: their writes are applied to every replica
//! before the write's transaction commits ([`apply_strong`], called by `Engine::write`).
//!
//! Stream records of replicated writes have the ordinary shape, with the replica's own
//! `eventSourceARN` and `awsRegion` and no `userIdentity` (version 2019.11.21 marks nothing;
//! Streams.md's only `userIdentity` is TTL's).
//!
//! Error texts: AWS's as recorded by users and probes — "Cannot add or delete the local
//! region through ReplicaUpdates. …", "Failed to create a the new replica of table with name:
//! ‘NAME’ because one or more replicas already existed as tables.", "Update global table
//! operation failed because one or more replicas were not part of the global table. …",
//! "There are no actions specified in the Replica Update Action of the request.", "Update
//! table operation with more than one type of replica actions not allowed." (ack-api-quirks
//! DDB-TABLE-223, probed 2026-10-09), "Table write capacity should either be Pay-Per-Request or
//! AutoScaled." (hashicorp/terraform-provider-aws#13097), "Disabling Stream is not allowed for a
//! Global Table replica." (terraform-aws-modules/terraform-aws-dynamodb-table#30), "Replica
//! cannot be deleted because it has acted as a source region for new replica(s) being added to
//! the table in the last 24 hours." (go-to-k/cdkd#1442), "MultiRegionConsistency must be set
//! as STRONG when GlobalTableWitnessUpdates parameter is present" and "Unsupported table
//! replica count for global tables with MultiRegionConsistency set to STRONG"
//! (terraform-provider-aws `resource_table.go`).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::{BillingMode, TableDescription, TableMeta};
use crate::clock::Timestamp;
use crate::codec::{decode_item, encode_item};
use crate::engine::{CATALOG, Engine, STATS, items_table_name};
use crate::error::{Error, Result};
use crate::ids::IdSource;
use crate::item_ops::ItemSlot;
use crate::value::Item;

mod legacy;

pub use legacy::{
    AutoScalingPolicy, AutoScalingSettings, AutoScalingSettingsUpdate, CreateGlobalTableInput,
    DescribeGlobalTableSettingsOutput, DescribeTableReplicaAutoScalingOutput,
    GlobalTableDescription, GlobalTableNameInput, GlobalTableOutput, GlobalTableSummary,
    ListGlobalTablesInput, ListGlobalTablesOutput, RegionNameItem, ReplicaSettingsDescription,
    TableAutoScalingDescription, UpdateGlobalTableInput, UpdateGlobalTableSettingsInput,
    UpdateTableReplicaAutoScalingInput,
};

/// The current global tables version.
pub const VERSION_2019: &str = "2019.11.21";
/// The legacy global tables version (CreateGlobalTable).
pub const VERSION_2017: &str = "2017.11.29";

/// How long a region that sourced a new replica cannot be deleted (24 hours).
const SOURCE_HOLD_MS: i64 = 24 * 60 * 60 * 1000;

/// (due ms, sequence) → [`Pending`] as JSON.
const QUEUE: TableDefinition<(i64, u64), &str> = TableDefinition::new("replication_queue");
/// (table number, encoded key) → (ms, region) of the last write applied to that item.
const STAMPS: TableDefinition<(u64, &[u8]), (i64, &str)> =
    TableDefinition::new("replication_stamps");
/// Engine-wide replication settings (name → value).
const SETTINGS: TableDefinition<&str, u64> = TableDefinition::new("replication_settings");
/// The setting holding the replication lag in milliseconds.
const LAG_SETTING: &str = "lag_ms";
/// The counter naming queue entries.
const SEQUENCE_COUNTER: &str = "replication_seq";

/// Regions that may form a multi-Region strongly consistent group (API_GlobalTableWitness…:
/// "The witness must be in a different Region than the replicas and within the same Region
/// set").
const MRSC_REGION_SETS: &[&[&str]] = &[
    &["us-east-1", "us-east-2", "us-west-2"],
    &["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
    &["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
];

/// What a table knows about global tables: its replica group and its auto scaling settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GlobalMeta {
    /// The replica group, while the table is a member of a global table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<ReplicaGroup>,
    /// Auto scaling settings (UpdateTableReplicaAutoScaling, UpdateGlobalTableSettings).
    #[serde(default, skip_serializing_if = "AutoScaling::is_empty")]
    pub autoscaling: AutoScaling,
}

/// The members of a global table, the same in every member's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaGroup {
    /// `2019.11.21` or `2017.11.29`.
    pub version: String,
    /// Every member, by region, in region order (this table's own region included).
    pub members: Vec<Member>,
    /// `MultiRegionConsistency: STRONG`.
    #[serde(default)]
    pub strong: bool,
    /// Witness regions (strong consistency only).
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// When the group was formed.
    pub created: Timestamp,
    /// Region → time until which it cannot be deleted, having sourced a new replica.
    #[serde(default)]
    pub source_hold: BTreeMap<String, i64>,
}

/// One member of a replica group, with its per-replica settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The member's region.
    pub region: String,
    /// `TableClassOverride`, when set.
    #[serde(default)]
    pub table_class: Option<String>,
    /// `ProvisionedThroughputOverride.ReadCapacityUnits`, when set.
    #[serde(default)]
    pub read_override: Option<i64>,
    /// `OnDemandThroughputOverride.MaxReadRequestUnits`, when set.
    #[serde(default)]
    pub max_read_override: Option<i64>,
    /// `KMSMasterKeyId`, when set.
    #[serde(default)]
    pub kms_key: Option<String>,
    /// Per-index read overrides: index name → (read capacity, max read request units).
    #[serde(default)]
    pub index_overrides: BTreeMap<String, (Option<i64>, Option<i64>)>,
}

/// Auto scaling settings of one table (one region).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AutoScaling {
    /// Write capacity auto scaling of the table.
    #[serde(default)]
    pub write: Option<AutoScalingSettings>,
    /// Read capacity auto scaling of the table.
    #[serde(default)]
    pub read: Option<AutoScalingSettings>,
    /// Write capacity auto scaling per GSI.
    #[serde(default)]
    pub index_write: BTreeMap<String, AutoScalingSettings>,
    /// Read capacity auto scaling per GSI.
    #[serde(default)]
    pub index_read: BTreeMap<String, AutoScalingSettings>,
}

impl AutoScaling {
    fn is_empty(&self) -> bool {
        *self == AutoScaling::default()
    }
}

impl ReplicaGroup {
    /// The regions of the members.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.region.as_str())
    }

    fn member(&self, region: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.region == region)
    }

    fn has(&self, region: &str) -> bool {
        self.member(region).is_some()
    }
}

/// `ReplicaDescription` (the members of DescribeTable's `Replicas`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaDescription {
    pub region_name: String,
    pub replica_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_arn: Option<String>,
    #[serde(
        rename = "KMSMasterKeyId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kms_master_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput_override: Option<ReadOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput_override: Option<MaxReadOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<Vec<ReplicaIndexDescription>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_table_class_summary: Option<crate::catalog::TableClassSummary>,
}

/// `ProvisionedThroughputOverride`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReadOverride {
    pub read_capacity_units: Option<i64>,
}

/// `OnDemandThroughputOverride`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct MaxReadOverride {
    pub max_read_request_units: Option<i64>,
}

/// `ReplicaGlobalSecondaryIndexDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaIndexDescription {
    pub index_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput_override: Option<ReadOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput_override: Option<MaxReadOverride>,
}

/// `GlobalTableWitnessDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct WitnessDescription {
    pub region_name: String,
    pub witness_status: String,
}

/// `ReplicaGlobalSecondaryIndex` as sent in a replica Create or Update.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaIndexInput {
    pub index_name: String,
    pub provisioned_throughput_override: Option<ReadOverride>,
    pub on_demand_throughput_override: Option<MaxReadOverride>,
}

/// `CreateReplicationGroupMemberAction` / `UpdateReplicationGroupMemberAction`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicaAction {
    pub region_name: String,
    #[serde(rename = "KMSMasterKeyId")]
    pub kms_master_key_id: Option<String>,
    pub provisioned_throughput_override: Option<ReadOverride>,
    pub on_demand_throughput_override: Option<MaxReadOverride>,
    pub global_secondary_indexes: Option<Vec<ReplicaIndexInput>>,
    pub table_class_override: Option<String>,
}

/// `DeleteReplicationGroupMemberAction` (and the witness actions).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct RegionAction {
    pub region_name: String,
}

/// One element of UpdateTable's `ReplicaUpdates`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ReplicationGroupUpdate {
    pub create: Option<ReplicaAction>,
    pub update: Option<ReplicaAction>,
    pub delete: Option<RegionAction>,
    pub disassociate: Option<RegionAction>,
}

/// One element of UpdateTable's `GlobalTableWitnessUpdates`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct WitnessUpdate {
    pub create: Option<RegionAction>,
    pub delete: Option<RegionAction>,
}

/// The replica part of an UpdateTable request, decoded and checked before the table is read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplicaPlan {
    updates: Vec<ReplicationGroupUpdate>,
    witnesses: Vec<WitnessUpdate>,
    consistency: Option<String>,
}

impl ReplicaPlan {
    /// Decodes `ReplicaUpdates`, `GlobalTableWitnessUpdates` and `MultiRegionConsistency`.
    pub(crate) fn parse(
        replica_updates: Option<&[serde_json::Value]>,
        witness_updates: Option<&[serde_json::Value]>,
        consistency: Option<&str>,
    ) -> Result<ReplicaPlan> {
        let updates: Vec<ReplicationGroupUpdate> = decode_all(replica_updates)?;
        let witnesses: Vec<WitnessUpdate> = decode_all(witness_updates)?;
        for u in &updates {
            let actions = [
                u.create.is_some(),
                u.update.is_some(),
                u.delete.is_some(),
                u.disassociate.is_some(),
            ]
            .into_iter()
            .filter(|a| *a)
            .count();
            if actions == 0 {
                return Err(no_actions());
            }
            if actions > 1 {
                return Err(Error::validation(
                    "Update table operation with more than one type of replica actions not allowed.",
                ));
            }
            if let Some(up) = &u.update
                && up.kms_master_key_id.is_none()
                && up.provisioned_throughput_override.is_none()
                && up.on_demand_throughput_override.is_none()
                && up.global_secondary_indexes.is_none()
                && up.table_class_override.is_none()
            {
                return Err(no_actions());
            }
        }
        for w in &witnesses {
            if w.create.is_some() == w.delete.is_some() {
                return Err(Error::validation(
                    "One or more parameter values were invalid: One of Create or Delete must be specified in a GlobalTableWitnessGroupUpdate",
                ));
            }
        }
        // Even a witness Delete needs it (terraform-provider-aws tolerates this very error when
        // it deletes a witness without it).
        if !witnesses.is_empty() && consistency != Some("STRONG") {
            return Err(Error::validation(
                "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present",
            ));
        }
        Ok(ReplicaPlan {
            updates,
            witnesses,
            consistency: consistency.map(str::to_string),
        })
    }

    /// Whether the request asks for any replica change.
    pub(crate) fn is_empty(&self) -> bool {
        self.updates.is_empty() && self.witnesses.is_empty() && self.consistency.is_none()
    }
}

fn no_actions() -> Error {
    Error::validation("There are no actions specified in the Replica Update Action of the request.")
}

/// What an UpdateTable did to the group, for the response's replica statuses.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplicaChanges {
    created: Vec<String>,
    updated: Vec<String>,
    deleted: Vec<(String, ReplicaDescription)>,
}

/// Regions known to this engine as AWS regions (the model only checks the pattern).
fn check_region_name(region: &str) -> Result<()> {
    let valid = region.split('-').count() >= 3
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(Error::validation(format!(
            "Region {region} is not supported. The latest version of global tables are only supported in commercial regions"
        )))
    }
}

/// Applies UpdateTable's replica changes to `meta` (the table being updated, in `catalog`),
/// creating, updating and deleting the other members' tables inside `txn`.
pub(crate) fn apply_replica_updates(
    txn: &redb::WriteTransaction,
    catalog: &mut redb::Table<&str, &str>,
    meta: &mut TableMeta,
    plan: &ReplicaPlan,
    disabling_stream: bool,
    now: Timestamp,
    ids: &IdSource,
) -> Result<ReplicaChanges> {
    let mut changes = ReplicaChanges::default();
    if disabling_stream && meta.global.group.is_some() {
        return Err(Error::invalid_parameter(
            "Disabling Stream is not allowed for a Global Table replica.",
        ));
    }
    sync_members(txn, catalog, meta)?;
    if plan.is_empty() {
        return Ok(changes);
    }
    if meta
        .global
        .group
        .as_ref()
        .is_some_and(|g| g.version == VERSION_2017)
    {
        return Err(Error::validation(
            "This operation cannot be performed on a global table of version 2017.11.29; use UpdateGlobalTable",
        ));
    }
    let own = meta.region.clone();
    for u in &plan.updates {
        let region = u
            .create
            .as_ref()
            .map(|c| c.region_name.as_str())
            .or(u.update.as_ref().map(|c| c.region_name.as_str()))
            .or(u.delete.as_ref().map(|c| c.region_name.as_str()))
            .or(u.disassociate.as_ref().map(|c| c.region_name.as_str()))
            .unwrap_or_default();
        if region == own {
            return Err(Error::validation(
                "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.",
            ));
        }
        check_region_name(region)?;
    }
    let mut group = meta.global.group.clone().unwrap_or_else(|| ReplicaGroup {
        version: VERSION_2019.into(),
        members: vec![Member {
            region: own.clone(),
            ..Member::default()
        }],
        strong: false,
        witnesses: Vec::new(),
        created: now,
        source_hold: BTreeMap::new(),
    });
    let was_global = meta.global.group.is_some();
    let old_regions: Vec<String> = group.regions().map(str::to_string).collect();
    // Membership first: every problem is reported before anything changes.
    let mut missing = Vec::new();
    for u in &plan.updates {
        if let Some(r) = u
            .update
            .as_ref()
            .map(|a| &a.region_name)
            .or(u.delete.as_ref().map(|a| &a.region_name))
            .or(u.disassociate.as_ref().map(|a| &a.region_name))
            && !group.has(r)
        {
            missing.push(r.clone());
        }
    }
    if !missing.is_empty() {
        return Err(replicas_not_in_group(&missing));
    }
    let creates: Vec<&ReplicaAction> = plan
        .updates
        .iter()
        .filter_map(|u| u.create.as_ref())
        .collect();
    if !creates.is_empty() {
        if meta.billing_mode == BillingMode::PROVISIONED
            && meta
                .global
                .autoscaling
                .write
                .as_ref()
                .is_none_or(|w| w.auto_scaling_disabled == Some(true))
        {
            return Err(Error::validation(
                "Table write capacity should either be Pay-Per-Request or AutoScaled.",
            ));
        }
        for c in &creates {
            let exists = catalog
                .get(member_key(&meta.account, &c.region_name, &meta.name).as_str())?
                .is_some();
            if group.has(&c.region_name) || exists {
                return Err(Error::validation(format!(
                    "Failed to create a the new replica of table with name: \u{2018}{}\u{2019} because one or more replicas already existed as tables.",
                    meta.name
                )));
            }
            for i in c.global_secondary_indexes.iter().flatten() {
                if !meta.gsis.iter().any(|g| g.name == i.index_name) {
                    return Err(Error::invalid_parameter(format!(
                        "Global Secondary Index {} does not exist on the table",
                        i.index_name
                    )));
                }
            }
        }
    }
    // Consistency and witnesses.
    let mut strong = group.strong;
    let mut witnesses = group.witnesses.clone();
    match plan.consistency.as_deref() {
        Some("STRONG") if !group.strong => {
            if was_global {
                return Err(Error::validation(
                    "MultiRegionConsistency cannot be changed on an existing global table",
                ));
            }
            strong = true;
        }
        Some("EVENTUAL") if group.strong => {
            return Err(Error::validation(
                "MultiRegionConsistency cannot be changed on an existing global table",
            ));
        }
        _ => {}
    }
    for w in &plan.witnesses {
        if let Some(c) = &w.create {
            if c.region_name == own
                || group.has(&c.region_name)
                || witnesses.contains(&c.region_name)
            {
                return Err(Error::invalid_parameter(format!(
                    "Witness region {} must be different from the replica regions",
                    c.region_name
                )));
            }
            witnesses.push(c.region_name.clone());
        }
        if let Some(d) = &w.delete {
            let Some(pos) = witnesses.iter().position(|r| *r == d.region_name) else {
                return Err(Error::validation(format!(
                    "Update global table operation failed because one or more witnesses were not part of the global table. Please retry the request without these witnesses: [{}].",
                    d.region_name
                )));
            };
            witnesses.remove(pos);
        }
    }
    // Apply the membership changes to the group.
    for u in &plan.updates {
        if let Some(c) = &u.create {
            group.members.push(Member {
                region: c.region_name.clone(),
                table_class: c.table_class_override.clone(),
                read_override: c
                    .provisioned_throughput_override
                    .as_ref()
                    .and_then(|o| o.read_capacity_units),
                max_read_override: c
                    .on_demand_throughput_override
                    .as_ref()
                    .and_then(|o| o.max_read_request_units),
                kms_key: c.kms_master_key_id.clone(),
                index_overrides: index_overrides(c.global_secondary_indexes.as_deref()),
            });
            changes.created.push(c.region_name.clone());
        }
        if let Some(up) = &u.update {
            if let Some(m) = group
                .members
                .iter_mut()
                .find(|m| m.region == up.region_name)
            {
                if meta.billing_mode == BillingMode::PAY_PER_REQUEST
                    && up.provisioned_throughput_override.is_some()
                {
                    return Err(Error::invalid_parameter(
                        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                    ));
                }
                if let Some(o) = &up.provisioned_throughput_override {
                    m.read_override = o.read_capacity_units;
                }
                if let Some(o) = &up.on_demand_throughput_override {
                    m.max_read_override = o.max_read_request_units;
                }
                if let Some(c) = &up.table_class_override {
                    m.table_class = Some(c.clone());
                }
                if let Some(k) = &up.kms_master_key_id {
                    m.kms_key = Some(k.clone());
                }
                if let Some(list) = &up.global_secondary_indexes {
                    m.index_overrides.extend(index_overrides(Some(list)));
                }
            }
            changes.updated.push(up.region_name.clone());
        }
        for r in u.delete.iter().chain(&u.disassociate) {
            if let Some(until) = group.source_hold.get(&r.region_name)
                && now.0 < *until
            {
                return Err(source_hold_error());
            }
            let shown = replica_description(meta, &group, &r.region_name, "DELETING");
            group.members.retain(|m| m.region != r.region_name);
            changes.deleted.push((r.region_name.clone(), shown));
        }
    }
    group.members.sort_by(|a, b| a.region.cmp(&b.region));
    group.strong = strong;
    group.witnesses = witnesses;
    // A strong group may dissolve (its last replica and witness deleted together).
    let dissolves = group.members.len() == 1 && group.witnesses.is_empty();
    if strong && !dissolves {
        let replicas = group.members.len();
        let ok = (replicas == 3 && group.witnesses.is_empty())
            || (replicas == 2 && group.witnesses.len() == 1);
        if !ok {
            return Err(Error::validation(
                "Unsupported table replica count for global tables with MultiRegionConsistency set to STRONG",
            ));
        }
        let regions: Vec<&str> = group
            .regions()
            .chain(group.witnesses.iter().map(String::as_str))
            .collect();
        if !MRSC_REGION_SETS
            .iter()
            .any(|set| regions.iter().all(|r| set.contains(r)))
        {
            return Err(Error::invalid_parameter(format!(
                "Regions {} are not in the same Region set; multi-Region strong consistency requires one of the US, EU or AP Region sets",
                regions.join(", ")
            )));
        }
        if !was_global && table_has_items(txn, meta)? {
            return Err(Error::validation(
                "Multi-Region strong consistency can only be enabled on an empty table",
            ));
        }
    }
    if !changes.created.is_empty() {
        group
            .source_hold
            .insert(own.clone(), now.0 + SOURCE_HOLD_MS);
        // A global table's replicas have a stream: NEW_AND_OLD_IMAGES unless one exists.
        if !meta.stream.as_ref().is_some_and(|s| s.enabled) {
            meta.stream = Some(crate::catalog::StreamMeta {
                enabled: true,
                view_type: "NEW_AND_OLD_IMAGES".into(),
                label: crate::ids::iso8601_millis(now.0),
            });
            crate::streams::open_stream(txn, meta, now, ids)?;
        }
    }
    group.source_hold.retain(|_, until| *until > now.0);
    // Create the new members' tables, filled from this one.
    for region in &changes.created {
        let member = group.member(region).cloned().unwrap_or_default();
        create_replica(txn, catalog, meta, &member, now, ids)?;
    }
    // Delete the removed members' tables (a disassociated member keeps its table).
    for u in &plan.updates {
        if let Some(d) = &u.delete
            && let Some(replica) = load_member(&*catalog, meta, &d.region_name)?
        {
            drop_table(txn, catalog, &replica, now)?;
        }
        if let Some(d) = &u.disassociate
            && let Some(mut replica) = load_member(&*catalog, meta, &d.region_name)?
        {
            replica.global.group = None;
            store_meta(catalog, &replica)?;
        }
    }
    let group = (group.members.len() > 1).then_some(group);
    meta.global.group = group.clone();
    // Every remaining member (old and new) gets the new group.
    let regions: BTreeSet<String> = old_regions
        .into_iter()
        .chain(
            group
                .iter()
                .flat_map(|g| g.regions().map(str::to_string))
                .collect::<Vec<_>>(),
        )
        .collect();
    for region in regions {
        if region == own {
            continue;
        }
        if let Some(mut other) = load_member(&*catalog, meta, &region)?
            && group.as_ref().is_some_and(|g| g.has(&region))
        {
            // The replica's own table carries its overrides (class, read capacity).
            if let Some(m) = group.as_ref().and_then(|g| g.member(&region)) {
                if let Some(class) = &m.table_class
                    && other.table_class.as_deref() != Some(class.as_str())
                {
                    other.table_class = Some(class.clone());
                    other.table_class_updated = Some(now);
                }
                if let Some(read) = m.read_override
                    && other.billing_mode == BillingMode::PROVISIONED
                {
                    other.throughput.read = read;
                }
            }
            other.global.group = group.clone();
            store_meta(catalog, &other)?;
        }
    }
    Ok(changes)
}

/// Carries the table-wide settings of `meta` to the other members of its group, as AWS does
/// for version 2019.11.21 replicas: global secondary indexes (created with a backfill from the
/// replica's items, or dropped), attribute definitions, billing mode and write capacity. Read
/// capacity, table class and encryption stay per replica.
fn sync_members(
    txn: &redb::WriteTransaction,
    catalog: &mut redb::Table<&str, &str>,
    meta: &TableMeta,
) -> Result<()> {
    let Some(group) = meta
        .global
        .group
        .as_ref()
        .filter(|g| g.version == VERSION_2019)
    else {
        return Ok(());
    };
    for region in group.regions().filter(|r| *r != meta.region) {
        let Some(mut other) = load_member(&*catalog, meta, region)? else {
            continue;
        };
        let before = other.clone();
        other.attribute_definitions = meta.attribute_definitions.clone();
        other.billing_mode = meta.billing_mode;
        other.pay_per_request_since = meta.pay_per_request_since;
        other.throughput.write = meta.throughput.write;
        if other.billing_mode == BillingMode::PAY_PER_REQUEST {
            other.throughput.read = 0;
        }
        let dropped: Vec<crate::catalog::IndexMeta> = other
            .gsis
            .iter()
            .filter(|g| !meta.gsis.iter().any(|m| m.name == g.name))
            .cloned()
            .collect();
        for g in &dropped {
            crate::index::drop_index(txn, &other, g)?;
        }
        other
            .gsis
            .retain(|g| meta.gsis.iter().any(|m| m.name == g.name));
        for g in &meta.gsis {
            if !other.gsis.iter().any(|o| o.name == g.name) {
                other.gsis.push(g.clone());
                crate::index::create_and_backfill(txn, &other, g)?;
            }
        }
        if other != before {
            store_meta(catalog, &other)?;
        }
    }
    Ok(())
}

fn source_hold_error() -> Error {
    Error::validation(
        "Replica cannot be deleted because it has acted as a source region for new replica(s) being added to the table in the last 24 hours.",
    )
}

fn index_overrides(
    list: Option<&[ReplicaIndexInput]>,
) -> BTreeMap<String, (Option<i64>, Option<i64>)> {
    list.unwrap_or(&[])
        .iter()
        .map(|i| {
            (
                i.index_name.clone(),
                (
                    i.provisioned_throughput_override
                        .as_ref()
                        .and_then(|o| o.read_capacity_units),
                    i.on_demand_throughput_override
                        .as_ref()
                        .and_then(|o| o.max_read_request_units),
                ),
            )
        })
        .collect()
}

/// Decodes each of `values` (none when absent) as a `T`, in order.
fn decode_all<T: serde::de::DeserializeOwned>(
    values: Option<&[serde_json::Value]>,
) -> Result<Vec<T>> {
    values
        .unwrap_or(&[])
        .iter()
        .map(|v| serde_json::from_value(v.clone()).map_err(|e| Error::Serialization(e.to_string())))
        .collect()
}

/// The error of an update that names replicas (`missing`) the global table does not have.
fn replicas_not_in_group(missing: &[String]) -> Error {
    Error::validation(format!(
        "Update global table operation failed because one or more replicas were not part of the global table. Please retry the request without these replicas: [{}].",
        missing.join(", ")
    ))
}

fn table_has_items(txn: &redb::WriteTransaction, meta: &TableMeta) -> Result<bool> {
    let name = items_table_name(meta.table_num);
    let t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
    Ok(t.first()?.is_some())
}

/// The catalog key of table `name` of `account` in `region` (`account \x1f region \x1f name`).
pub(super) fn member_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}\x1f{region}\x1f{name}")
}

/// The metadata of the table named like `meta` (same account) in `region`, if there is one.
fn load_member(
    catalog: &impl ReadableTable<&'static str, &'static str>,
    meta: &TableMeta,
    region: &str,
) -> Result<Option<TableMeta>> {
    Engine::load_meta(catalog, &member_key(&meta.account, region, &meta.name))
}

pub(crate) fn store_meta(catalog: &mut redb::Table<&str, &str>, meta: &TableMeta) -> Result<()> {
    let json = serde_json::to_string(meta).map_err(|e| Error::Internal(e.to_string()))?;
    catalog.insert(meta.catalog_key().as_str(), json.as_str())?;
    Ok(())
}

/// Creates the table of `member` as a copy of `source` (definitions, indexes, stream, items
/// and their replication stamps) in the member's region.
fn create_replica(
    txn: &redb::WriteTransaction,
    catalog: &mut redb::Table<&str, &str>,
    source: &TableMeta,
    member: &Member,
    now: Timestamp,
    ids: &IdSource,
) -> Result<()> {
    let table_num = Engine::next_counter(txn, "table")?;
    let mut replica = source.clone();
    replica.region = member.region.clone();
    replica.table_num = table_num;
    replica.table_id = ids.uuid();
    replica.created = now;
    replica.pitr = None;
    replica.restore_summary = None;
    replica.deletion_protection = false;
    replica.tags = Vec::new();
    if let Some(class) = &member.table_class {
        replica.table_class = Some(class.clone());
    }
    if let Some(read) = member.read_override {
        replica.throughput.read = read;
    }
    replica.global.autoscaling.read = None;
    replica.global.autoscaling.index_read.clear();
    // Items, then indexes built from them, then the stream: the copy writes no records.
    let key = replica.catalog_key();
    let (mut count, mut size) = (0u64, 0u64);
    {
        let from_name = items_table_name(source.table_num);
        let to_name = items_table_name(table_num);
        let from = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&from_name))?;
        let mut to = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&to_name))?;
        let mut stamps = txn.open_table(STAMPS)?;
        for row in from.iter()? {
            let (k, v) = row?;
            to.insert(k.value(), v.value())?;
            let item = decode_item(v.value())?;
            count += 1;
            size += crate::value::item_size(&item) as u64;
            let stamp = stamps
                .get((source.table_num, k.value()))?
                .map(|s| (s.value().0, s.value().1.to_string()));
            if let Some((t, origin)) = stamp {
                stamps.insert((table_num, k.value()), (t, origin.as_str()))?;
            }
        }
    }
    txn.open_table(STATS)?.insert(key.as_str(), (count, size))?;
    for idx in replica.lsis.iter().chain(&replica.gsis) {
        crate::index::create_and_backfill(txn, &replica, idx)?;
    }
    for v in &replica.vector_indexes {
        crate::vector::create_and_backfill(txn, &replica, v)?;
    }
    if let Some(s) = replica.stream.as_mut() {
        s.label = crate::ids::iso8601_millis(now.0);
    }
    replica.stream = replica.stream.filter(|s| s.enabled);
    crate::streams::open_stream(txn, &mut replica, now, ids)?;
    store_meta(catalog, &replica)
}

/// Drops a member's table and everything stored with it (what DeleteTable drops).
fn drop_table(
    txn: &redb::WriteTransaction,
    catalog: &mut redb::Table<&str, &str>,
    meta: &TableMeta,
    now: Timestamp,
) -> Result<()> {
    let key = meta.catalog_key();
    crate::streams::close_stream(txn, meta, now)?;
    crate::pitr::drop_log(txn, meta)?;
    catalog.remove(key.as_str())?;
    txn.open_table(STATS)?.remove(key.as_str())?;
    crate::table_ops::drop_table_storage(txn, meta)?;
    drop_stamps(txn, meta.table_num)
}

fn drop_stamps(txn: &redb::WriteTransaction, table_num: u64) -> Result<()> {
    let mut stamps = txn.open_table(STAMPS)?;
    let empty: &[u8] = &[];
    let keys: Vec<Vec<u8>> = stamps
        .range((table_num, empty)..)?
        .map_while(|row| match row {
            Ok((k, _)) if k.value().0 == table_num => Some(Ok(k.value().1.to_vec())),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<std::result::Result<_, _>>()?;
    for k in keys {
        stamps.remove((table_num, k.as_slice()))?;
    }
    Ok(())
}

/// DeleteTable of a member: the other members drop it from their group (a group of one is no
/// longer global). A region that sourced a replica in the last 24 hours cannot be deleted.
pub(crate) fn on_delete_table(
    txn: &redb::WriteTransaction,
    catalog: &mut redb::Table<&str, &str>,
    meta: &TableMeta,
    now: Timestamp,
) -> Result<()> {
    drop_stamps(txn, meta.table_num)?;
    let Some(group) = &meta.global.group else {
        return Ok(());
    };
    if group
        .source_hold
        .get(&meta.region)
        .is_some_and(|until| now.0 < *until)
    {
        return Err(source_hold_error());
    }
    let mut rest = group.clone();
    rest.members.retain(|m| m.region != meta.region);
    let rest = (rest.members.len() > 1).then_some(rest);
    for m in &group.members {
        if m.region == meta.region {
            continue;
        }
        if let Some(mut other) = load_member(&*catalog, meta, &m.region)? {
            other.global.group = rest.clone();
            store_meta(catalog, &other)?;
        }
    }
    if group.version == VERSION_2017 {
        legacy::remove_region(txn, &meta.account, &meta.name, &meta.region)?;
    }
    Ok(())
}

/// The `Replicas` entry of `region` as seen from `meta`.
fn replica_description(
    meta: &TableMeta,
    group: &ReplicaGroup,
    region: &str,
    status: &str,
) -> ReplicaDescription {
    let member = group.member(region).cloned().unwrap_or_default();
    let arn = format!(
        "arn:aws:dynamodb:{region}:{}:table/{}",
        meta.account, meta.name
    );
    ReplicaDescription {
        region_name: region.to_string(),
        replica_status: status.to_string(),
        replica_arn: Some(arn),
        kms_master_key_id: member.kms_key.clone(),
        provisioned_throughput_override: member.read_override.map(|r| ReadOverride {
            read_capacity_units: Some(r),
        }),
        on_demand_throughput_override: member.max_read_override.map(|r| MaxReadOverride {
            max_read_request_units: Some(r),
        }),
        global_secondary_indexes: (!meta.gsis.is_empty()).then(|| {
            meta.gsis
                .iter()
                .map(|g| {
                    let o = member.index_overrides.get(&g.name);
                    ReplicaIndexDescription {
                        index_name: g.name.clone(),
                        provisioned_throughput_override: o.and_then(|o| o.0).map(|r| {
                            ReadOverride {
                                read_capacity_units: Some(r),
                            }
                        }),
                        on_demand_throughput_override: o.and_then(|o| o.1).map(|r| {
                            MaxReadOverride {
                                max_read_request_units: Some(r),
                            }
                        }),
                    }
                })
                .collect()
        }),
        replica_table_class_summary: Some(crate::catalog::TableClassSummary {
            table_class: member
                .table_class
                .clone()
                .or_else(|| meta.table_class.clone())
                .unwrap_or_else(|| "STANDARD".into()),
            last_update_date_time: None,
        }),
    }
}

impl GlobalMeta {
    /// DescribeTable's `Replicas`: every other member, `ACTIVE`.
    pub fn replicas(&self, meta: &TableMeta) -> Option<Vec<ReplicaDescription>> {
        let group = self.group.as_ref()?;
        Some(
            group
                .regions()
                .filter(|r| *r != meta.region)
                .map(|r| replica_description(meta, group, r, "ACTIVE"))
                .collect(),
        )
    }

    /// DescribeTable's `GlobalTableVersion`.
    pub fn version(&self) -> Option<String> {
        self.group.as_ref().map(|g| g.version.clone())
    }

    /// DescribeTable's `MultiRegionConsistency` (version 2019.11.21 groups).
    pub fn consistency(&self) -> Option<String> {
        self.group
            .as_ref()
            .filter(|g| g.version == VERSION_2019)
            .map(|g| if g.strong { "STRONG" } else { "EVENTUAL" }.to_string())
    }

    /// DescribeTable's `GlobalTableWitnesses`.
    pub fn witnesses(&self) -> Option<Vec<WitnessDescription>> {
        self.group
            .as_ref()
            .filter(|g| !g.witnesses.is_empty())
            .map(|g| {
                g.witnesses
                    .iter()
                    .map(|r| WitnessDescription {
                        region_name: r.clone(),
                        witness_status: "ACTIVE".into(),
                    })
                    .collect()
            })
    }
}

/// Shows the replicas an UpdateTable created as `CREATING`, updated as `UPDATING` and deleted
/// as `DELETING` (they are complete already; later describes show them `ACTIVE` or gone).
pub(crate) fn show_changes(changes: &ReplicaChanges, desc: &mut TableDescription) {
    if changes.created.is_empty() && changes.updated.is_empty() && changes.deleted.is_empty() {
        return;
    }
    let replicas = desc.replicas.get_or_insert_with(Vec::new);
    for r in replicas.iter_mut() {
        if changes.created.contains(&r.region_name) {
            r.replica_status = "CREATING".into();
        } else if changes.updated.contains(&r.region_name) {
            r.replica_status = "UPDATING".into();
        }
    }
    replicas.extend(changes.deleted.iter().map(|(_, d)| d.clone()));
    replicas.sort_by(|a, b| a.region_name.cmp(&b.region_name));
}

// ---------------------------------------------------------------------------------------------
// Replication.

thread_local! {
    /// Whether the writes running on this thread are replicated writes being applied.
    static REPLICATING: Cell<bool> = const { Cell::new(false) };
    /// Writes of strongly consistent groups, applied before the transaction commits.
    static STRONG: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
}

/// The scope of one write transaction (entered by `Engine::write`): the strongly consistent
/// writes it owes the other replicas.
pub(crate) struct WriteScope;

impl WriteScope {
    /// Enters the scope of a write transaction.
    pub(crate) fn enter() -> WriteScope {
        STRONG.with(|s| s.borrow_mut().clear());
        WriteScope
    }
}

impl Drop for WriteScope {
    fn drop(&mut self) {
        STRONG.with(|s| s.borrow_mut().clear());
    }
}

/// While alive, writes on this thread are replicated writes: [`record`] ignores them.
struct Replicating(bool);

impl Replicating {
    fn enter() -> Replicating {
        Replicating(REPLICATING.with(|c| c.replace(true)))
    }
}

impl Drop for Replicating {
    fn drop(&mut self) {
        let previous = self.0;
        REPLICATING.with(|c| c.set(previous));
    }
}

/// A write owed to one replica.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// The target table's catalog key.
    target: String,
    /// The encoded primary key.
    key: String,
    /// The new item (encoded, base64), or `None` for a delete.
    item: Option<String>,
    /// The write's clock time (ms).
    ts: i64,
    /// The region the write happened in.
    origin: String,
}

/// Called by `Engine::store` for every item write: stamps a write to a member of a global
/// table and owes it to the other members (queued, or applied before commit when strong).
pub(crate) fn record(
    txn: &redb::WriteTransaction,
    slot: &ItemSlot,
    new: Option<&Item>,
) -> Result<()> {
    let Some(group) = &slot.meta.global.group else {
        return Ok(());
    };
    if REPLICATING.with(Cell::get) {
        return Ok(());
    }
    let meta = &slot.meta;
    let now = crate::clock::write_now();
    txn.open_table(STAMPS)?.insert(
        (meta.table_num, slot.key_bytes.as_slice()),
        (now.0, meta.region.as_str()),
    )?;
    let item = new.map(|i| B64.encode(encode_item(i)));
    let key = B64.encode(&slot.key_bytes);
    let targets = group.regions().filter(|r| *r != meta.region);
    if group.strong {
        STRONG.with(|s| {
            let mut s = s.borrow_mut();
            for region in targets {
                s.push(Pending {
                    target: member_key(&meta.account, region, &meta.name),
                    key: key.clone(),
                    item: item.clone(),
                    ts: now.0,
                    origin: meta.region.clone(),
                });
            }
        });
        return Ok(());
    }
    let lag = txn
        .open_table(SETTINGS)?
        .get(LAG_SETTING)?
        .map(|v| v.value())
        .unwrap_or(0);
    let due = now.0.saturating_add(i64::try_from(lag).unwrap_or(i64::MAX));
    for region in targets {
        let pending = Pending {
            target: member_key(&meta.account, region, &meta.name),
            key: key.clone(),
            item: item.clone(),
            ts: now.0,
            origin: meta.region.clone(),
        };
        let json = serde_json::to_string(&pending).map_err(|e| Error::Internal(e.to_string()))?;
        let seq = Engine::next_counter(txn, SEQUENCE_COUNTER)?;
        txn.open_table(QUEUE)?.insert((due, seq), json.as_str())?;
    }
    Ok(())
}

/// Applies the writes of strongly consistent groups made in this transaction to the other
/// replicas, in the same transaction (called by `Engine::write` before commit).
pub(crate) fn apply_strong(txn: &redb::WriteTransaction) -> Result<()> {
    let pending = STRONG.with(|s| std::mem::take(&mut *s.borrow_mut()));
    for p in &pending {
        apply(txn, p)?;
    }
    Ok(())
}

/// Applies one replicated write, unless the target item has a newer one (last writer wins by
/// clock time, ties by region name) or the target is no longer a member of the origin's group.
fn apply(txn: &redb::WriteTransaction, p: &Pending) -> Result<bool> {
    let corrupt =
        |e: base64::DecodeError| Error::Internal(format!("replication entry is corrupt: {e}"));
    let target = {
        let catalog = txn.open_table(CATALOG)?;
        Engine::load_meta(&catalog, &p.target)?
    };
    let Some(target) = target else {
        return Ok(false);
    };
    if !target
        .global
        .group
        .as_ref()
        .is_some_and(|g| g.has(&p.origin))
    {
        return Ok(false);
    }
    let key = B64.decode(&p.key).map_err(corrupt)?;
    {
        let mut stamps = txn.open_table(STAMPS)?;
        let current = stamps
            .get((target.table_num, key.as_slice()))?
            .map(|s| (s.value().0, s.value().1.to_string()));
        if let Some((t, region)) = current
            && (p.ts, p.origin.as_str()) < (t, region.as_str())
        {
            return Ok(false);
        }
        stamps.insert(
            (target.table_num, key.as_slice()),
            (p.ts, p.origin.as_str()),
        )?;
    }
    let item = match &p.item {
        Some(b) => Some(decode_item(&B64.decode(b).map_err(corrupt)?)?),
        None => None,
    };
    let old = Engine::load_item(txn, &target, &key)?;
    if old.is_none() && item.is_none() {
        return Ok(true);
    }
    let slot = ItemSlot {
        table_key: target.catalog_key(),
        meta: target,
        key_bytes: key,
        old,
    };
    let _replicating = Replicating::enter();
    Engine::store(txn, &slot, item.as_ref())?;
    Ok(true)
}

impl Engine {
    /// Sets the replication lag: a write to a global table reaches the other replicas when
    /// the engine clock has moved this far past it and [`Engine::replicate_pending`] runs.
    pub fn set_replication_lag(&self, lag: std::time::Duration) -> Result<()> {
        let ms = u64::try_from(lag.as_millis()).unwrap_or(u64::MAX);
        self.write(|txn| {
            txn.open_table(SETTINGS)?.insert(LAG_SETTING, ms)?;
            Ok(())
        })
    }

    /// The replication lag ([`Engine::set_replication_lag`]; zero unless set).
    pub fn replication_lag(&self) -> Result<std::time::Duration> {
        self.read(|txn| {
            let ms = match txn.open_table(SETTINGS) {
                Ok(t) => t.get(LAG_SETTING)?.map(|v| v.value()).unwrap_or(0),
                Err(redb::TableError::TableDoesNotExist(_)) => 0,
                Err(e) => return Err(e.into()),
            };
            Ok(std::time::Duration::from_millis(ms))
        })
    }

    /// Applies every replicated write that is due by the engine clock, oldest first, in one
    /// write transaction. Returns how many entries were taken from the queue.
    pub fn replicate_pending(&self) -> Result<usize> {
        let now = self.clock.now();
        self.replicate_until(now.0)
    }

    /// Applies every queued replicated write, due or not (a flush).
    pub fn replicate_all(&self) -> Result<usize> {
        self.replicate_until(i64::MAX)
    }

    /// Replicated writes waiting in the queue.
    pub fn pending_replications(&self) -> Result<usize> {
        self.read(|txn| match txn.open_table(QUEUE) {
            Ok(t) => Ok(usize::try_from(t.len()?).unwrap_or(usize::MAX)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(e.into()),
        })
    }

    fn replicate_until(&self, until: i64) -> Result<usize> {
        if self.pending_replications()? == 0 {
            return Ok(0);
        }
        self.write(|txn| {
            let due: Vec<((i64, u64), Pending)> = {
                let queue = txn.open_table(QUEUE)?;
                let mut due = Vec::new();
                for row in queue.range(..=(until, u64::MAX))? {
                    let (k, v) = row?;
                    let p: Pending = serde_json::from_str(v.value()).map_err(|e| {
                        Error::Internal(format!("replication entry is corrupt: {e}"))
                    })?;
                    due.push((k.value(), p));
                }
                due
            };
            for (k, p) in &due {
                txn.open_table(QUEUE)?.remove(*k)?;
                apply(txn, p)?;
            }
            Ok(due.len())
        })
    }
}

#[cfg(test)]
mod tests;
