//! Table metadata as stored in the catalog, and the `TableDescription` built from it.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::keys::{AttributeDefinition, KeySchemaElement, KeyType, PrimaryKey};
use crate::value::ScalarType;

/// Everything the engine knows about one table. Stored as JSON in the catalog so that
/// fields can be added without a migration; unknown-at-the-time fields default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// Table name.
    pub name: String,
    /// Owning account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Number naming the redb tables that hold this table's items; never reused.
    pub table_num: u64,
    /// AWS's `TableId` (a UUID).
    pub table_id: String,
    /// Creation time.
    pub created: Timestamp,
    /// Attribute definitions as given.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// Key schema as given.
    pub key_schema: Vec<KeySchemaElement>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: BillingMode,
    /// When the table last switched to on-demand.
    #[serde(default)]
    pub pay_per_request_since: Option<Timestamp>,
    /// Provisioned throughput (zeros for on-demand).
    pub throughput: Throughput,
    /// Local secondary indexes.
    #[serde(default)]
    pub lsis: Vec<IndexMeta>,
    /// Global secondary indexes.
    #[serde(default)]
    pub gsis: Vec<IndexMeta>,
    /// The current stream, if one was ever enabled.
    #[serde(default)]
    pub stream: Option<StreamMeta>,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`, when set.
    #[serde(default)]
    pub table_class: Option<String>,
    /// When the table class was last changed.
    #[serde(default)]
    pub table_class_updated: Option<Timestamp>,
    /// Deletion protection.
    #[serde(default)]
    pub deletion_protection: bool,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Server-side encryption settings, when given.
    #[serde(default)]
    pub sse: Option<SseMeta>,
    /// On-demand maximum throughput, when given.
    #[serde(default)]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// The highest warm throughput ([`Warm`](crate::Warm)) the table has reached;
    /// `None` until a request, a capacity increase or a switch to on-demand raised it.
    #[serde(default)]
    pub warm: Option<crate::warm_throughput::Warm>,
    /// Point-in-time recovery settings ([`PitrSettings`](crate::PitrSettings)), while PITR is on.
    #[serde(default)]
    pub pitr: Option<crate::pitr::PitrSettings>,
    /// Where this table was restored from, when it was.
    #[serde(default)]
    pub restore_summary: Option<crate::backup_ops::RestoreSummary>,
    /// Vector indexes (see [`crate::VectorIndex`]).
    #[serde(default)]
    pub vector_indexes: Vec<crate::vector::VectorIndex>,
    /// Global tables: the replica group and auto scaling settings.
    #[serde(default)]
    pub global: crate::global_tables::GlobalMeta,
}

/// Billing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum BillingMode {
    /// Provisioned capacity.
    PROVISIONED,
    /// On-demand capacity.
    PAY_PER_REQUEST,
}

/// Provisioned throughput and its history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Read capacity units.
    pub read: i64,
    /// Write capacity units.
    pub write: i64,
    /// Last increase.
    #[serde(default)]
    pub last_increase: Option<Timestamp>,
    /// Last decrease.
    #[serde(default)]
    pub last_decrease: Option<Timestamp>,
    /// Decreases since the start of the UTC day.
    #[serde(default)]
    pub decreases_today: i64,
}

/// A secondary index definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Index name.
    pub name: String,
    /// Its key schema.
    pub key_schema: Vec<KeySchemaElement>,
    /// Its projection.
    pub projection: Projection,
    /// Provisioned throughput (GSIs only).
    #[serde(default)]
    pub throughput: Option<Throughput>,
    /// On-demand throughput (GSIs only).
    #[serde(default)]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// The highest warm throughput ([`Warm`](crate::Warm)) the GSI has reached (GSIs
    /// only).
    #[serde(default)]
    pub warm: Option<crate::warm_throughput::Warm>,
}

/// The stream of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Whether the stream is enabled now.
    pub enabled: bool,
    /// The view type.
    pub view_type: String,
    /// The stream label (creation time, ISO 8601).
    pub label: String,
}

/// Server-side encryption as described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SseMeta {
    /// `KMS` or `AES256`.
    pub sse_type: String,
    /// The KMS key ARN, for KMS.
    pub kms_key_arn: Option<String>,
}

/// `Projection` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_type: Option<String>,
    /// Attributes projected with `INCLUDE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_key_attributes: Option<Vec<String>>,
}

/// `Tag` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

/// `OnDemandThroughput` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct OnDemandThroughput {
    /// Max read request units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_read_request_units: Option<i64>,
    /// Max write request units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_write_request_units: Option<i64>,
}

impl TableMeta {
    /// The table's ARN.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            self.region, self.account, self.name
        )
    }

    /// This table's key in the catalog and stats tables.
    pub fn catalog_key(&self) -> String {
        crate::engine::Namespace::new(self.account.clone(), self.region.clone())
            .table_key(&self.name)
    }

    /// The resolved primary key.
    pub fn primary_key(&self) -> PrimaryKey {
        resolve_key(&self.key_schema, &self.attribute_definitions)
    }

    /// (index name, attribute, type) of every secondary-index key attribute that is not a
    /// table key attribute.
    pub fn index_key_types(&self) -> Vec<(&str, &str, ScalarType)> {
        let table_keys: Vec<&str> = self
            .key_schema
            .iter()
            .map(|k| k.attribute_name.as_str())
            .collect();
        let mut out = Vec::new();
        for idx in self.lsis.iter().chain(&self.gsis) {
            for k in &idx.key_schema {
                let name = k.attribute_name.as_str();
                if table_keys.contains(&name) {
                    continue;
                }
                if let Some(d) = self
                    .attribute_definitions
                    .iter()
                    .find(|d| d.attribute_name == name)
                {
                    out.push((idx.name.as_str(), name, d.attribute_type));
                }
            }
        }
        out
    }

    /// The current stream's ARN, if a stream was ever enabled.
    pub fn stream_arn(&self) -> Option<String> {
        self.stream
            .as_ref()
            .map(|s| format!("{}/stream/{}", self.arn(), s.label))
    }

    /// Builds AWS's `TableDescription` for this table, with every index described as empty.
    pub fn describe(&self, status: &str, item_count: u64, size_bytes: u64) -> TableDescription {
        self.describe_with_indexes(status, item_count, size_bytes, &[])
    }

    /// Builds AWS's `TableDescription` for this table; `index_stats` gives (index name,
    /// (item count, size in bytes)) of the indexes (missing ones describe as empty).
    pub fn describe_with_indexes(
        &self,
        status: &str,
        item_count: u64,
        size_bytes: u64,
        index_stats: &[(String, (u64, u64))],
    ) -> TableDescription {
        let stats_of = |name: &str| {
            index_stats
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| *s)
                .unwrap_or((0, 0))
        };
        let pt = |t: &Throughput| ProvisionedThroughputDescription {
            last_increase_date_time: t.last_increase.map(Timestamp::as_epoch_seconds),
            last_decrease_date_time: t.last_decrease.map(Timestamp::as_epoch_seconds),
            number_of_decreases_today: t.decreases_today,
            read_capacity_units: t.read,
            write_capacity_units: t.write,
        };
        let arn = self.arn();
        let lsis: Vec<IndexDescription> = self
            .lsis
            .iter()
            .map(|i| IndexDescription {
                index_name: i.name.clone(),
                key_schema: i.key_schema.clone(),
                projection: i.projection.clone(),
                index_status: None,
                provisioned_throughput: None,
                on_demand_throughput: None,
                warm_throughput: None,
                backfilling: None,
                index_size_bytes: stats_of(&i.name).1,
                item_count: stats_of(&i.name).0,
                index_arn: format!("{arn}/index/{}", i.name),
            })
            .collect();
        let gsis: Vec<IndexDescription> = self
            .gsis
            .iter()
            .map(|i| IndexDescription {
                index_name: i.name.clone(),
                key_schema: i.key_schema.clone(),
                projection: i.projection.clone(),
                index_status: Some("ACTIVE".into()),
                provisioned_throughput: Some(pt(&i.throughput.clone().unwrap_or_default())),
                on_demand_throughput: i.on_demand_throughput.clone(),
                warm_throughput: Some(
                    crate::warm_throughput::effective(
                        i.warm,
                        self.billing_mode,
                        i.throughput.as_ref(),
                    )
                    .describe("ACTIVE"),
                ),
                backfilling: None,
                index_size_bytes: stats_of(&i.name).1,
                item_count: stats_of(&i.name).0,
                index_arn: format!("{arn}/index/{}", i.name),
            })
            .collect();
        let stream = self.stream.as_ref();
        TableDescription {
            attribute_definitions: self.attribute_definitions.clone(),
            table_name: self.name.clone(),
            key_schema: self.key_schema.clone(),
            table_status: status.to_string(),
            creation_date_time: self.created.as_epoch_seconds(),
            provisioned_throughput: pt(&self.throughput),
            table_size_bytes: size_bytes,
            item_count,
            table_arn: arn.clone(),
            table_id: self.table_id.clone(),
            billing_mode_summary: match self.billing_mode {
                BillingMode::PAY_PER_REQUEST => Some(BillingModeSummary {
                    billing_mode: "PAY_PER_REQUEST".into(),
                    last_update_to_pay_per_request_date_time: self
                        .pay_per_request_since
                        .map(Timestamp::as_epoch_seconds),
                }),
                BillingMode::PROVISIONED => {
                    self.pay_per_request_since.map(|_| BillingModeSummary {
                        billing_mode: "PROVISIONED".into(),
                        last_update_to_pay_per_request_date_time: self
                            .pay_per_request_since
                            .map(Timestamp::as_epoch_seconds),
                    })
                }
            },
            local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
            global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
            stream_specification: stream.filter(|s| s.enabled).map(|s| StreamSpecification {
                stream_enabled: true,
                stream_view_type: Some(s.view_type.clone()),
            }),
            latest_stream_label: stream.map(|s| s.label.clone()),
            latest_stream_arn: self.stream_arn(),
            sse_description: self.sse.as_ref().map(|s| SseDescription {
                status: "ENABLED".into(),
                sse_type: s.sse_type.clone(),
                kms_master_key_arn: s.kms_key_arn.clone(),
            }),
            table_class_summary: self.table_class.as_ref().map(|c| TableClassSummary {
                table_class: c.clone(),
                last_update_date_time: self.table_class_updated.map(Timestamp::as_epoch_seconds),
            }),
            deletion_protection_enabled: self.deletion_protection,
            on_demand_throughput: self.on_demand_throughput.clone(),
            warm_throughput: Some(
                crate::warm_throughput::effective(
                    self.warm,
                    self.billing_mode,
                    Some(&self.throughput),
                )
                .describe("ACTIVE"),
            ),
            restore_summary: self.restore_summary.clone(),
            vector_indexes: (!self.vector_indexes.is_empty())
                .then(|| crate::vector::describe(self, stats_of)),
            replicas: self.global.replicas(self),
            global_table_version: self.global.version(),
            multi_region_consistency: self.global.consistency(),
            global_table_witnesses: self.global.witnesses(),
        }
    }
}

/// Resolves a validated key schema against its attribute definitions.
pub fn resolve_key(schema: &[KeySchemaElement], defs: &[AttributeDefinition]) -> PrimaryKey {
    let ty = |name: &str| {
        defs.iter()
            .find(|d| d.attribute_name == name)
            .map(|d| d.attribute_type)
            .unwrap_or(ScalarType::S)
    };
    let hash = schema
        .iter()
        .find(|k| k.key_type == KeyType::HASH)
        .map(|k| (k.attribute_name.clone(), ty(&k.attribute_name)))
        .unwrap_or_default_hash();
    let range = schema
        .iter()
        .find(|k| k.key_type == KeyType::RANGE)
        .map(|k| (k.attribute_name.clone(), ty(&k.attribute_name)));
    PrimaryKey { hash, range }
}

trait DefaultHash {
    fn unwrap_or_default_hash(self) -> (String, ScalarType);
}

impl DefaultHash for Option<(String, ScalarType)> {
    fn unwrap_or_default_hash(self) -> (String, ScalarType) {
        // Validated schemas always have a HASH key; an empty name never matches an item.
        self.unwrap_or_else(|| (String::new(), ScalarType::S))
    }
}

/// AWS's `TableDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TableDescription {
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub table_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub table_status: String,
    pub creation_date_time: f64,
    pub provisioned_throughput: ProvisionedThroughputDescription,
    pub table_size_bytes: u64,
    pub item_count: u64,
    pub table_arn: String,
    pub table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_mode_summary: Option<BillingModeSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<Vec<IndexDescription>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<Vec<IndexDescription>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_specification: Option<StreamSpecification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_stream_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_stream_arn: Option<String>,
    #[serde(rename = "SSEDescription", skip_serializing_if = "Option::is_none")]
    pub sse_description: Option<SseDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_class_summary: Option<TableClassSummary>,
    pub deletion_protection_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// `WarmThroughput` (DescribeTable always has it; CreateTable and DeleteTable answers
    /// only when the request set one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<crate::warm_throughput::WarmThroughputDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_summary: Option<crate::backup_ops::RestoreSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_indexes: Option<Vec<crate::vector::VectorIndexDescription>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Vec<crate::global_tables::ReplicaDescription>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_table_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region_consistency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_table_witnesses: Option<Vec<crate::global_tables::WitnessDescription>>,
}

/// `ProvisionedThroughputDescription` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ProvisionedThroughputDescription {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_increase_date_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_decrease_date_time: Option<f64>,
    pub number_of_decreases_today: i64,
    pub read_capacity_units: i64,
    pub write_capacity_units: i64,
}

/// `BillingModeSummary` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BillingModeSummary {
    pub billing_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_to_pay_per_request_date_time: Option<f64>,
}

/// `LocalSecondaryIndexDescription` / `GlobalSecondaryIndexDescription` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct IndexDescription {
    pub index_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_status: Option<String>,
    /// Whether a GSI being created is still being filled from the table (only while
    /// `IndexStatus` is `CREATING`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfilling: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput: Option<ProvisionedThroughputDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// `WarmThroughput` of a GSI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<crate::warm_throughput::WarmThroughputDescription>,
    pub index_size_bytes: u64,
    pub item_count: u64,
    pub index_arn: String,
}

/// `StreamSpecification` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct StreamSpecification {
    pub stream_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_view_type: Option<String>,
}

/// `SSEDescription` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct SseDescription {
    pub status: String,
    #[serde(rename = "SSEType")]
    pub sse_type: String,
    #[serde(rename = "KMSMasterKeyArn", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_arn: Option<String>,
}

/// `TableClassSummary` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TableClassSummary {
    pub table_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_date_time: Option<f64>,
}
