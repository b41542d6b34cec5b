//! Single-item operations: PutItem, GetItem, DeleteItem, UpdateItem.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;
use crate::codec::{decode_item, encode_item};
use crate::engine::{CATALOG, Engine, Namespace, STATS, items_table_name};
use crate::error::{Error, Result};
use crate::expr::{self, ExpressionInput};
use crate::keys::encode_component;
use crate::legacy::{self, AttributeValueUpdate, ExpectedAttributeValue};
use crate::query_ops::{ReadCapacity, Units};
use crate::value::{AttributeValue, Item, MAX_ITEM_SIZE, item_size};

/// `ConsumedCapacity` as returned when `ReturnConsumedCapacity` asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ConsumedCapacity {
    pub table_name: String,
    pub capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Capacity>,
}

/// Capacity of one table or index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Capacity {
    pub capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
}

/// Expression parameters shared by the item operations.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExpressionParams {
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    #[serde(
        default,
        deserialize_with = "crate::value::deserialize_expression_values"
    )]
    pub expression_attribute_values: Option<BTreeMap<String, AttributeValue>>,
}

/// PutItem request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct PutItemInput {
    pub table_name: String,
    pub item: Item,
    pub condition_expression: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    pub conditional_operator: Option<String>,
}

/// GetItem request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GetItemInput {
    pub table_name: String,
    pub key: Item,
    pub consistent_read: Option<bool>,
    pub projection_expression: Option<String>,
    pub attributes_to_get: Option<Vec<String>>,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_consumed_capacity: Option<String>,
}

/// DeleteItem request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct DeleteItemInput {
    pub table_name: String,
    pub key: Item,
    pub condition_expression: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    pub conditional_operator: Option<String>,
}

/// UpdateItem request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct UpdateItemInput {
    pub table_name: String,
    pub key: Item,
    pub update_expression: Option<String>,
    pub condition_expression: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub attribute_updates: Option<BTreeMap<String, AttributeValueUpdate>>,
    pub expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    pub conditional_operator: Option<String>,
}

/// Output of the write operations.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WriteItemOutput {
    /// The item as `ReturnValues` asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Item>,
    /// Write units of the table and of every index whose entry changed, when asked for. The
    /// shape is that of a Query's `ConsumedCapacity`: AWS reports only `CapacityUnits`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ReadCapacity>,
    /// The size of the item's collection, for `ReturnItemCollectionMetrics: SIZE` on a table
    /// with local secondary indexes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<ItemCollectionMetrics>,
}

/// `ItemCollectionMetrics`: the partition key of an item collection (the items of one
/// partition of a table with local secondary indexes, and their index entries) and an estimate
/// of its size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemCollectionMetrics {
    /// The partition key attribute and its value.
    #[serde(rename = "ItemCollectionKey")]
    pub item_collection_key: Item,
    /// Lower and upper bound in GB. AWS answers in whole gigabytes: `[0.0, 1.0]` for a
    /// collection under 1 GB (developer guide, "Local secondary indexes", Item collections).
    #[serde(rename = "SizeEstimateRangeGB")]
    pub size_estimate_range_gb: [f64; 2],
}

/// GetItem output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GetItemOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
}

/// Rejects requests that mix legacy and expression parameters, or give expression names or
/// values without expressions, with AWS's messages. `expressions` are in AWS's order; the
/// values check names those that take values (all but ProjectionExpression).
pub(crate) fn check_expression_params(
    legacy: &[(&str, bool)],
    expressions: &[(&str, bool)],
    params: &ExpressionParams,
) -> Result<()> {
    let used = |list: &[(&str, bool)]| -> Vec<String> {
        list.iter()
            .filter(|(_, u)| *u)
            .map(|(n, _)| n.to_string())
            .collect()
    };
    let legacy_used = used(legacy);
    let expr_used = used(expressions);
    if !legacy_used.is_empty() && !expr_used.is_empty() {
        return Err(Error::validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            legacy_used.join(", "),
            expr_used.join(", ")
        )));
    }
    if expr_used.is_empty() {
        if params.expression_attribute_names.is_some() {
            return Err(Error::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        let valued: Vec<&str> = expressions
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| *n != "ProjectionExpression")
            .collect();
        if params.expression_attribute_values.is_some() && !valued.is_empty() {
            return Err(Error::validation(format!(
                "ExpressionAttributeValues can only be specified when using expressions: {} {} null",
                valued.join(" and "),
                if valued.len() > 1 { "are" } else { "is" }
            )));
        }
    }
    Ok(())
}

/// The legacy `Expected` condition of a request, validated; `None` without one.
pub(crate) fn expected_condition(
    expected: Option<&BTreeMap<String, ExpectedAttributeValue>>,
    conditional_operator: Option<&str>,
) -> Result<Option<expr::Condition>> {
    match expected {
        Some(e) => legacy::expected_to_condition(e, conditional_operator),
        None => Ok(None),
    }
}

pub(crate) fn check_item_size(item: &Item) -> Result<()> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(Error::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(())
}

/// Write capacity units for writing an item of `size` bytes: one per KB, at least one.
pub(crate) fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

/// Read capacity units: one per 4 KB (at least one), halved for eventually consistent reads.
pub(crate) fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

/// `ConsumedCapacity` of a single-item operation. AWS reports only `CapacityUnits` there (the
/// read/write split appears in transaction responses); compared against DynamoDB Local in
/// `conformance/scenarios/02_items.json`.
pub(crate) fn consumed(table: &str, units: f64, mode: Option<&str>) -> Option<ConsumedCapacity> {
    let (r, w) = (None, None);
    match mode {
        Some("TOTAL") => Some(ConsumedCapacity {
            table_name: table.to_string(),
            capacity_units: units,
            read_capacity_units: r,
            write_capacity_units: w,
            table: None,
        }),
        Some("INDEXES") => Some(ConsumedCapacity {
            table_name: table.to_string(),
            capacity_units: units,
            read_capacity_units: r,
            write_capacity_units: w,
            table: Some(Capacity {
                capacity_units: units,
                read_capacity_units: r,
                write_capacity_units: w,
            }),
        }),
        _ => None,
    }
}

/// Bytes an LSI entry adds to its projected item when its write is priced. Measured on
/// DynamoDB Local 2026-05-28: with `ALL` projected, an LSI entry of 924 bytes costs one unit
/// and one of 925 bytes two, while a GSI entry of 1,024 bytes costs one. The developer guide
/// ("Local secondary indexes", Storage considerations) counts "100 bytes of overhead per index
/// item" the same way.
const LSI_ENTRY_OVERHEAD: usize = 100;

/// The most an item collection may hold: "The maximum size of any item collection is 10 GB"
/// (developer guide, "Local secondary indexes", Item collection size limit).
pub(crate) const MAX_ITEM_COLLECTION_SIZE: u64 = 10 * GB;

const GB: u64 = 1 << 30;

/// Write units of one item write (or the sum of several): the table's and those of each
/// secondary index whose entry changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WriteUnits {
    /// Units of the base table.
    pub(crate) table: f64,
    /// (index name, global, units) in the order the table defines its indexes (local ones
    /// first), only for indexes written.
    pub(crate) indexes: Vec<(String, bool, f64)>,
}

impl WriteUnits {
    /// The units of writing one item of `meta`'s table from `old` to `new` (`None`: absent).
    ///
    /// The table costs one unit per KB of the larger of the two items, at least one. Each index
    /// costs what its entry costs, per the developer guide ("Provisioned throughput
    /// considerations" of LSIs and GSIs) and DynamoDB Local 2026-05-28: nothing when the entry
    /// is unchanged or absent before and after; one write of the entry when it appears or
    /// disappears; one write of the larger entry when its projected attributes change under the
    /// same index key; two writes (delete the old entry, put the new) when the index key
    /// changes. An LSI entry counts [`LSI_ENTRY_OVERHEAD`] bytes more than its attributes.
    pub(crate) fn of_write(meta: &TableMeta, old: Option<&Item>, new: Option<&Item>) -> Self {
        let size = new
            .map(item_size)
            .unwrap_or(0)
            .max(old.map(item_size).unwrap_or(0));
        let mut out = WriteUnits {
            table: write_units(size),
            indexes: Vec::new(),
        };
        let lsis = meta.lsis.iter().map(|i| (i, false));
        for (index, global) in lsis.chain(meta.gsis.iter().map(|i| (i, true))) {
            let overhead = if global { 0 } else { LSI_ENTRY_OVERHEAD };
            let entry = |item: Option<&Item>| {
                let item = item?;
                let key = crate::index::encode_index_key(meta, index, item)?;
                let projected = crate::index::project(meta, index, item);
                let size = item_size(&projected) + overhead;
                Some((key, projected, size))
            };
            let units = match (entry(old), entry(new)) {
                (None, None) => continue,
                (Some(b), Some(a)) if b.0 == a.0 && b.1 == a.1 => continue,
                (Some(b), Some(a)) if b.0 == a.0 => write_units(b.2.max(a.2)),
                (Some(b), Some(a)) => write_units(b.2) + write_units(a.2),
                (Some(e), None) | (None, Some(e)) => write_units(e.2),
            };
            out.indexes.push((index.name.clone(), global, units));
        }
        out
    }

    /// Adds `other` (a write to the same table) to these units.
    pub(crate) fn add(&mut self, other: WriteUnits) {
        self.table += other.table;
        for (name, global, units) in other.indexes {
            match self.indexes.iter_mut().find(|(n, _, _)| *n == name) {
                Some(slot) => slot.2 += units,
                None => self.indexes.push((name, global, units)),
            }
        }
    }

    /// The table's and the indexes' units together.
    pub(crate) fn total(&self) -> f64 {
        self.table + self.indexes.iter().map(|(_, _, u)| u).sum::<f64>()
    }

    /// `ConsumedCapacity` of these units on `table` as `ReturnConsumedCapacity` (`mode`) asks:
    /// `TOTAL` the sum; `INDEXES` also the table's share and each written index's, under
    /// `LocalSecondaryIndexes` and `GlobalSecondaryIndexes` (absent when no index of the kind
    /// was written, as DynamoDB Local answers).
    pub(crate) fn consumed(&self, table: &str, mode: Option<&str>) -> Option<ReadCapacity> {
        let indexes = match mode {
            Some("TOTAL") => false,
            Some("INDEXES") => true,
            _ => return None,
        };
        let of_kind = |global: bool| {
            let map: BTreeMap<String, Units> = self
                .indexes
                .iter()
                .filter(|(_, g, _)| *g == global)
                .map(|(n, _, u)| (n.clone(), Units { capacity_units: *u }))
                .collect();
            (indexes && !map.is_empty()).then_some(map)
        };
        Some(ReadCapacity {
            table_name: table.to_string(),
            capacity_units: self.total(),
            table: indexes.then_some(Units {
                capacity_units: self.table,
            }),
            local_secondary_indexes: of_kind(false),
            global_secondary_indexes: of_kind(true),
        })
    }
}

/// Bytes one item adds to its item collection: its own size and, for each local secondary
/// index it is in, its projected size plus [`LSI_ENTRY_OVERHEAD`].
fn collection_share(meta: &TableMeta, item: &Item) -> u64 {
    let lsi: usize = meta
        .lsis
        .iter()
        .filter(|i| crate::index::encode_index_key(meta, i, item).is_some())
        .map(|i| item_size(&crate::index::project(meta, i, item)) + LSI_ENTRY_OVERHEAD)
        .sum();
    (item_size(item) + lsi) as u64
}

/// An upper bound of the size of every item collection of `meta`'s table: the table's size
/// and that of its local secondary indexes, from the stats kept with every write.
fn collection_bound(txn: &redb::WriteTransaction, meta: &TableMeta) -> Result<u64> {
    let table = txn
        .open_table(STATS)?
        .get(meta.catalog_key().as_str())?
        .map(|v| v.value().1)
        .unwrap_or(0);
    let lsis: u64 = crate::index::all_stats_in(txn, meta)?
        .into_iter()
        .filter(|(name, _)| meta.lsis.iter().any(|i| i.name == *name))
        .map(|(_, (count, size))| size + count * LSI_ENTRY_OVERHEAD as u64)
        .sum();
    Ok(table + lsis)
}

/// The size of the item collection of partition key value `hash` in `meta`'s table: a read of
/// the partition's items.
fn collection_size(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    hash: &AttributeValue,
) -> Result<u64> {
    let mut prefix = Vec::new();
    encode_component(hash, &mut prefix);
    let name = items_table_name(meta.table_num);
    let t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
    let mut size = 0;
    for row in t.range(prefix.as_slice()..)? {
        let (k, v) = row?;
        if !k.value().starts_with(&prefix) {
            break;
        }
        size += collection_share(meta, &decode_item(v.value())?);
    }
    Ok(size)
}

/// The size estimate AWS reports for a collection of `size` bytes: the whole gigabytes around
/// it, `[0.0, 1.0]` below 1 GB.
fn size_estimate_gb(size: u64) -> [f64; 2] {
    let lo = (size / GB) as f64;
    [lo, lo + 1.0]
}

/// `ItemCollectionMetrics` of the collection `item` (or its key) belongs to, after a write in
/// `txn`; `None` unless `ReturnItemCollectionMetrics` is `SIZE` and the table has a local
/// secondary index. The partition is read only when the table and its indexes together reach
/// 1 GB: below that every collection's estimate is `[0.0, 1.0]`.
pub(crate) fn collection_metrics(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    item: &Item,
    mode: Option<&str>,
) -> Result<Option<ItemCollectionMetrics>> {
    if mode != Some("SIZE") || meta.lsis.is_empty() {
        return Ok(None);
    }
    let hash_name = &meta.primary_key().hash.0;
    let Some(hash) = item.get(hash_name) else {
        return Ok(None);
    };
    let size = if collection_bound(txn, meta)? < GB {
        0
    } else {
        collection_size(txn, meta, hash)?
    };
    Ok(Some(ItemCollectionMetrics {
        item_collection_key: Item::from([(hash_name.clone(), hash.clone())]),
        size_estimate_range_gb: size_estimate_gb(size),
    }))
}

/// `ItemCollectionSizeLimitExceededException`, with the message of the developer guide's
/// error table ("Error handling with DynamoDB": "Collection size exceeded.").
fn collection_size_exceeded() -> Error {
    Error::ItemCollectionSizeLimitExceeded("Collection size exceeded.".into())
}

/// Fails a write that grows an item collection past `limit` bytes. Writes that keep or shrink
/// a collection pass even above the limit, as AWS allows ("Read and write operations that
/// shrink the size of the item collection are still allowed"). The partition is read only
/// when the table and its local indexes together exceed `limit`.
fn check_collection_limit(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
    limit: u64,
) -> Result<()> {
    let Some(new) = new else { return Ok(()) };
    if meta.lsis.is_empty()
        || collection_share(meta, new) <= old.map(|o| collection_share(meta, o)).unwrap_or(0)
        || collection_bound(txn, meta)? <= limit
    {
        return Ok(());
    }
    let Some(hash) = new.get(&meta.primary_key().hash.0) else {
        return Ok(());
    };
    if collection_size(txn, meta, hash)? > limit {
        return Err(collection_size_exceeded());
    }
    Ok(())
}

fn conditional_failed(old: Option<&Item>, on_failure: Option<&str>) -> Error {
    Error::ConditionalCheckFailed {
        message: "The conditional request failed".into(),
        item: if on_failure == Some("ALL_OLD") {
            old.cloned()
        } else {
            None
        },
    }
}

/// The state of one item inside a write transaction.
pub(crate) struct ItemSlot {
    pub(crate) meta: TableMeta,
    pub(crate) table_key: String,
    pub(crate) key_bytes: Vec<u8>,
    pub(crate) old: Option<Item>,
}

impl Engine {
    /// Loads metadata for `table` inside a write transaction.
    pub(crate) fn meta_in(
        txn: &redb::WriteTransaction,
        ns: &Namespace,
        table: &str,
    ) -> Result<TableMeta> {
        let catalog = txn.open_table(CATALOG)?;
        Engine::load_meta(&catalog, &ns.table_key(table))?.ok_or_else(Error::table_not_found)
    }

    pub(crate) fn load_item(
        txn: &redb::WriteTransaction,
        meta: &TableMeta,
        key: &[u8],
    ) -> Result<Option<Item>> {
        let name = items_table_name(meta.table_num);
        let t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
        let v = t.get(key)?;
        v.map(|v| decode_item(v.value())).transpose()
    }

    /// Stores (or with `None` deletes) the item in `slot`, keeping the table stats and every
    /// secondary index (with its stats) current. A write that grows an item collection of a
    /// table with local secondary indexes past 10 GB fails with
    /// `ItemCollectionSizeLimitExceededException`.
    pub(crate) fn store(
        txn: &redb::WriteTransaction,
        slot: &ItemSlot,
        new: Option<&Item>,
    ) -> Result<()> {
        Engine::store_with_limit(txn, slot, new, MAX_ITEM_COLLECTION_SIZE)?;
        crate::pitr::record(txn, slot, new)?;
        crate::streams::record(txn, slot, new)?;
        crate::global_tables::record(txn, slot, new)
    }

    /// [`Engine::store`] with the item collection limit given, so tests can reach it.
    fn store_with_limit(
        txn: &redb::WriteTransaction,
        slot: &ItemSlot,
        new: Option<&Item>,
        collection_limit: u64,
    ) -> Result<()> {
        {
            // Closed before the indexes are maintained: a backfill reads this table.
            let name = items_table_name(slot.meta.table_num);
            let mut t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
            match new {
                Some(item) => {
                    t.insert(slot.key_bytes.as_slice(), encode_item(item).as_slice())?;
                }
                None => {
                    t.remove(slot.key_bytes.as_slice())?;
                }
            }
        }
        let mut stats = txn.open_table(STATS)?;
        let (mut count, mut size) = stats
            .get(slot.table_key.as_str())?
            .map(|v| v.value())
            .unwrap_or((0, 0));
        if let Some(old) = &slot.old {
            count = count.saturating_sub(1);
            size = size.saturating_sub(item_size(old) as u64);
        }
        if let Some(new) = new {
            count += 1;
            size += item_size(new) as u64;
        }
        stats.insert(slot.table_key.as_str(), (count, size))?;
        drop(stats);
        crate::index::maintain(txn, &slot.meta, slot.old.as_ref(), new)?;
        crate::vector::maintain(txn, &slot.meta, &slot.key_bytes, slot.old.as_ref(), new)?;
        check_collection_limit(txn, &slot.meta, slot.old.as_ref(), new, collection_limit)
    }

    /// GetItem.
    pub fn get_item(&self, ns: &Namespace, input: GetItemInput) -> Result<GetItemOutput> {
        check_expression_params(
            &[("AttributesToGet", input.attributes_to_get.is_some())],
            &[(
                "ProjectionExpression",
                input.projection_expression.is_some(),
            )],
            &input.params,
        )?;
        let legacy_projection = input
            .attributes_to_get
            .as_deref()
            .map(legacy::attributes_to_get_projection)
            .transpose()?;
        let exprs = expr::parse(
            &ExpressionInput {
                condition: None,
                update: None,
                projection: input.projection_expression.as_deref(),
                filter: None,
                key_condition: None,
                names: input.params.expression_attribute_names.as_ref(),
                values: input.params.expression_attribute_values.as_ref(),
            },
            &[],
        )?;
        // The table's metadata and the item come from one snapshot (and one read transaction).
        let item = {
            let snapshot = self.snapshot()?;
            let meta =
                Engine::load_meta_shared(&snapshot.catalog, &ns.table_key(&input.table_name))?
                    .ok_or_else(Error::table_not_found)?;
            let key_bytes = meta.primary_key().encode_key_param(&input.key)?;
            let name = items_table_name(meta.table_num);
            let t = snapshot
                .txn
                .open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
            let v = t.get(key_bytes.as_slice())?;
            v.map(|v| decode_item(v.value())).transpose()?
        };
        let consistent = input.consistent_read.unwrap_or(false);
        let units = read_units(item.as_ref().map(item_size).unwrap_or(0), consistent);
        let item =
            item.map(
                |item| match exprs.projection.as_ref().or(legacy_projection.as_ref()) {
                    Some(p) => p.apply(&item),
                    None => item,
                },
            );
        Ok(GetItemOutput {
            item,
            consumed_capacity: consumed(
                &input.table_name,
                units,
                input.return_consumed_capacity.as_deref(),
            ),
        })
    }
}

pub(crate) fn check_condition(
    condition: Option<&expr::Condition>,
    old: Option<&Item>,
    on_failure: Option<&str>,
) -> Result<()> {
    if let Some(cond) = condition {
        let empty = Item::new();
        if !cond.evaluate(old.unwrap_or(&empty))? {
            return Err(conditional_failed(old, on_failure));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn engine_with_lsi() -> (Engine, Namespace) {
        let engine = Engine::builder().seed(1).build().expect("engine");
        let ns = Namespace::default();
        engine
            .create_table(
                &ns,
                serde_json::from_value(json!({
                    "TableName": "t",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                        {"AttributeName": "l", "AttributeType": "S"}
                    ],
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"}
                    ],
                    "LocalSecondaryIndexes": [{
                        "IndexName": "by_l",
                        "KeySchema": [
                            {"AttributeName": "pk", "KeyType": "HASH"},
                            {"AttributeName": "l", "KeyType": "RANGE"}
                        ],
                        "Projection": {"ProjectionType": "ALL"}
                    }],
                    "BillingMode": "PAY_PER_REQUEST"
                }))
                .expect("input"),
            )
            .expect("create");
        (engine, ns)
    }

    /// Writes `item` with the item collection limit lowered to `limit` bytes.
    fn put_with_limit(engine: &Engine, ns: &Namespace, item: Item, limit: u64) -> Result<()> {
        engine.write(|txn| {
            let meta = Engine::meta_in(txn, ns, "t")?;
            let key_bytes = meta.primary_key().encode_item_key(&item)?;
            let old = Engine::load_item(txn, &meta, &key_bytes)?;
            let slot = ItemSlot {
                table_key: meta.catalog_key(),
                meta,
                key_bytes,
                old,
            };
            Engine::store_with_limit(txn, &slot, Some(&item), limit)
        })
    }

    fn item(pk: &str, sk: &str, pad: usize) -> Item {
        serde_json::from_value(json!({
            "pk": {"S": pk}, "sk": {"S": sk}, "l": {"S": "l"}, "x": {"S": "x".repeat(pad)}
        }))
        .expect("item")
    }

    #[test]
    fn growing_a_collection_past_the_limit_fails_and_shrinking_it_passes() {
        let (engine, ns) = engine_with_lsi();
        // Each item is 1,009 bytes, and 1,109 more in the LSI: 2,118 bytes of collection.
        for sk in ["1", "2"] {
            put_with_limit(&engine, &ns, item("a", sk, 1000), 5000).expect("fits");
        }
        let err = put_with_limit(&engine, &ns, item("a", "3", 1000), 5000).expect_err("full");
        assert_eq!(err.to_string(), "Collection size exceeded.");
        assert_eq!(
            engine.items(&ns, "t").expect("items").len(),
            2,
            "rolled back"
        );
        // Another collection still takes items; a shrinking write passes above the limit.
        put_with_limit(&engine, &ns, item("b", "1", 1000), 5000).expect("other collection");
        // Collection "a" is 2,256 bytes after shrinking, 2,276 after growing again.
        put_with_limit(&engine, &ns, item("a", "2", 10), 2200).expect("shrinks");
        put_with_limit(&engine, &ns, item("a", "2", 20), 2200).expect_err("grows");
    }

    #[test]
    fn index_units_follow_the_entry_change() {
        let (engine, ns) = engine_with_lsi();
        let meta = engine.table_meta(&ns, "t").expect("meta").expect("table");
        let small = item("a", "1", 10);
        let units = |old: Option<&Item>, new: Option<&Item>| {
            let u = WriteUnits::of_write(&meta, old, new);
            (u.table, u.indexes.iter().map(|i| i.2).sum::<f64>())
        };
        assert_eq!(units(None, Some(&small)), (1.0, 1.0));
        assert_eq!(units(Some(&small), Some(&small)), (1.0, 0.0));
        // An LSI entry of 924 bytes (1,024 with the overhead) is one unit, of 925 two.
        let (a, b) = (item("a", "1", 924 - 9), item("a", "1", 925 - 9));
        assert_eq!(item_size(&a), 924);
        assert_eq!(units(None, Some(&a)), (1.0, 1.0));
        assert_eq!(units(None, Some(&b)), (1.0, 2.0));
        let mut moved = small.clone();
        moved.insert("l".into(), AttributeValue::S("m".into()));
        assert_eq!(units(Some(&small), Some(&moved)), (1.0, 2.0));
        assert_eq!(units(Some(&small), None), (1.0, 1.0));
    }

    #[test]
    fn metrics_estimate_whole_gigabytes() {
        assert_eq!(size_estimate_gb(0), [0.0, 1.0]);
        assert_eq!(size_estimate_gb(GB - 1), [0.0, 1.0]);
        assert_eq!(size_estimate_gb(3 * GB + 5), [3.0, 4.0]);
    }
}
