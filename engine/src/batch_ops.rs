//! Batch operations: BatchGetItem and BatchWriteItem.
//!
//! Both take `RequestItems`, a map from table name (or ARN) to that table's requests, and
//! answer per table. Request shapes (types, lengths, at most 100 keys or 25 requests per table)
//! are checked by the protocol layer; this module checks what needs the whole request or the
//! tables: totals across tables, duplicate keys, item sizes and key schemas, with AWS's texts
//! (dynalite's AWS-validated expectations).
//!
//! **Invariant:** BatchWriteItem applies all its puts and deletes in one redb write
//! transaction, and BatchGetItem reads in one read transaction, so a batch sees and leaves one
//! consistent state. AWS promises neither; it is our choice, like one request, one transaction
//! for the single-item operations.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use redb::TableDefinition;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::decode_item;
use crate::engine::{CATALOG, Engine, Namespace, items_table_name};
use crate::error::{Error, Result};
use crate::expr::{self, ExpressionInput, Projection};
use crate::item_ops::{
    ConsumedCapacity, ExpressionParams, ItemCollectionMetrics, ItemSlot, WriteUnits,
    check_expression_params, check_item_size, collection_metrics, consumed, read_units,
};
use crate::keys::{PrimaryKey, check_index_keys};
use crate::legacy;
use crate::query_ops::ReadCapacity;
use crate::value::{Item, check_nesting, item_size};

/// The most keys one BatchGetItem may ask for, across all its tables.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// The most put and delete requests one BatchWriteItem may hold, across all its tables.
pub const MAX_BATCH_WRITE_REQUESTS: usize = 25;
/// The most item data one BatchGetItem answers; the keys past it come back as
/// `UnprocessedKeys`. AWS's BatchGetItem page: "A single operation can retrieve up to 16 MB
/// of data", and its example returns 52 of 100 items of 300 KB, which is 16,000,000 bytes
/// over items of 307,200 bytes (not 16 MiB, which would fit 54).
pub const MAX_BATCH_GET_RESPONSE: usize = 16_000_000;

/// A JSON object keyed by table name whose members keep the order they came in
/// (`RequestItems`, `Responses`, `UnprocessedKeys`, `UnprocessedItems`). A name given twice
/// keeps its first position and its last value, as a JSON object parser does.
#[derive(Debug, Clone, PartialEq)]
pub struct TableMap<T>(pub Vec<(String, T)>);

impl<T> Default for TableMap<T> {
    fn default() -> Self {
        TableMap(Vec::new())
    }
}

impl<T> TableMap<T> {
    /// The value for `table`, if present.
    pub fn get(&self, table: &str) -> Option<&T> {
        self.0.iter().find(|(t, _)| t == table).map(|(_, v)| v)
    }

    /// Whether the map has no tables.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Serialize> Serialize for TableMap<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TableMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = TableMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from table name to requests")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut out: Vec<(String, T)> = Vec::new();
                while let Some((k, v)) = access.next_entry::<String, T>()? {
                    match out.iter_mut().find(|(t, _)| *t == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(TableMap(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// One table's part of a BatchGetItem: the keys and how to project the items.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct KeysAndAttributes {
    pub keys: Vec<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes_to_get: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
}

/// BatchGetItem request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BatchGetItemInput {
    pub request_items: TableMap<KeysAndAttributes>,
    pub return_consumed_capacity: Option<String>,
}

/// BatchGetItem output. `Responses` names every requested table, in request order; the
/// items of a table come in key order of the request, which AWS does not promise.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BatchGetItemOutput {
    pub responses: TableMap<Vec<Item>>,
    pub unprocessed_keys: TableMap<KeysAndAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// One put or delete of a BatchWriteItem; exactly one of the two is set.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct WriteRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put_request: Option<PutRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_request: Option<DeleteRequest>,
}

/// `PutRequest` of a [`WriteRequest`].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct PutRequest {
    pub item: Item,
}

/// `DeleteRequest` of a [`WriteRequest`].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct DeleteRequest {
    pub key: Item,
}

/// BatchWriteItem request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BatchWriteItemInput {
    pub request_items: TableMap<Vec<WriteRequest>>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
}

/// BatchWriteItem output. `UnprocessedItems` is always empty: nothing is throttled.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteItemOutput {
    /// Requests left for a retry; always empty.
    pub unprocessed_items: TableMap<Vec<WriteRequest>>,
    /// Per table, in request order: write units of the table and of each index written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ReadCapacity>>,
    /// Per table with local secondary indexes, one entry per request, for
    /// `ReturnItemCollectionMetrics: SIZE`; absent when no such table was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<TableMap<Vec<ItemCollectionMetrics>>>,
}

const DUPLICATE_KEYS: &str = "Provided list of item keys contains duplicates";
/// AWS's answer to a WriteRequest with neither (or both) of PutRequest and DeleteRequest
/// (dynalite, AWS-validated: `{"abc": [{}]}`).
const NOT_ONE_REQUEST: &str = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";

/// One table's validated BatchGetItem request.
struct GetPlan<'a> {
    table: &'a str,
    request: &'a KeysAndAttributes,
    projection: Option<Projection>,
}

/// One validated put (`Some(item)`) or delete (`None`).
struct WritePlan<'a> {
    key_bytes: Vec<u8>,
    new: Option<&'a Item>,
    /// The put's item or the delete's key: where the item collection key comes from.
    key: &'a Item,
}

impl Engine {
    /// BatchGetItem.
    pub fn batch_get_item(
        &self,
        ns: &Namespace,
        input: BatchGetItemInput,
    ) -> Result<BatchGetItemOutput> {
        // The checks that need no table come first, table by table, as AWS makes them
        // (dynalite `validations/batchGetItem.js`): expression parameters, AttributesToGet,
        // the projection, duplicate keys, then the running total of keys.
        let mut plans = Vec::with_capacity(input.request_items.0.len());
        let mut total = 0usize;
        for (table, request) in &input.request_items.0 {
            let params = ExpressionParams {
                expression_attribute_names: request.expression_attribute_names.clone(),
                expression_attribute_values: None,
            };
            check_expression_params(
                &[("AttributesToGet", request.attributes_to_get.is_some())],
                &[(
                    "ProjectionExpression",
                    request.projection_expression.is_some(),
                )],
                &params,
            )?;
            let legacy_projection = request
                .attributes_to_get
                .as_deref()
                .map(legacy::attributes_to_get_projection)
                .transpose()?;
            let exprs = expr::parse(
                &ExpressionInput {
                    projection: request.projection_expression.as_deref(),
                    names: request.expression_attribute_names.as_ref(),
                    ..Default::default()
                },
                &[],
            )?;
            for (i, key) in request.keys.iter().enumerate() {
                if request.keys[..i].contains(key) {
                    return Err(Error::validation(DUPLICATE_KEYS));
                }
                total += 1;
                if total > MAX_BATCH_GET_KEYS {
                    return Err(Error::validation(
                        "Too many items requested for the BatchGetItem call",
                    ));
                }
            }
            plans.push(GetPlan {
                table,
                request,
                projection: exprs.projection.or(legacy_projection),
            });
        }
        let mode = input.return_consumed_capacity.as_deref();
        self.read(|txn| {
            let catalog = txn.open_table(CATALOG)?;
            // Every table and key is checked before any item is read.
            let mut resolved = Vec::with_capacity(plans.len());
            for plan in &plans {
                let meta = Engine::load_meta_shared(&catalog, &ns.table_key(plan.table))?
                    .ok_or_else(Error::table_not_found)?;
                let pk = meta.primary_key();
                let mut keys = Vec::with_capacity(plan.request.keys.len());
                for key in &plan.request.keys {
                    let bytes = pk.encode_key_param(key)?;
                    if keys.contains(&bytes) {
                        return Err(Error::validation(DUPLICATE_KEYS));
                    }
                    keys.push(bytes);
                }
                resolved.push((plan, meta.table_num, keys));
            }
            let mut out = BatchGetItemOutput::default();
            let mut capacity = Vec::new();
            let mut returned = 0usize;
            let mut cut = false;
            for (plan, table_num, keys) in resolved {
                let name = items_table_name(table_num);
                let items_table = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
                let consistent = plan.request.consistent_read.unwrap_or(false);
                let mut items = Vec::new();
                let mut unprocessed = Vec::new();
                let mut units = 0.0;
                for (key, bytes) in plan.request.keys.iter().zip(&keys) {
                    if cut {
                        unprocessed.push(key.clone());
                        continue;
                    }
                    let item = items_table
                        .get(bytes.as_slice())?
                        .map(|v| decode_item(v.value()))
                        .transpose()?;
                    let size = item.as_ref().map(item_size).unwrap_or(0);
                    if returned + size > MAX_BATCH_GET_RESPONSE {
                        // This item and every later key are left for the caller to retry.
                        cut = true;
                        unprocessed.push(key.clone());
                        continue;
                    }
                    returned += size;
                    if let Some(item) = item {
                        // Each item's size is rounded up to 4 KB before the sizes are added,
                        // so a key with no item reads nothing and costs nothing (AWS developer
                        // guide, "Capacity unit consumption for read operations"; DynamoDB
                        // Local agrees in `05_batch.json`), unlike a GetItem of a missing item.
                        units += read_units(size, consistent);
                        items.push(match &plan.projection {
                            Some(p) => p.apply(&item),
                            None => item,
                        });
                    }
                }
                out.responses.0.push((plan.table.to_string(), items));
                if !unprocessed.is_empty() {
                    out.unprocessed_keys.0.push((
                        plan.table.to_string(),
                        KeysAndAttributes {
                            keys: unprocessed,
                            ..plan.request.clone()
                        },
                    ));
                }
                capacity.extend(consumed(plan.table, units, mode));
            }
            out.consumed_capacity = mode_wants(mode).then_some(capacity);
            Ok(out)
        })
    }

    /// BatchWriteItem: all puts and deletes in one write transaction.
    pub fn batch_write_item(
        &self,
        ns: &Namespace,
        input: BatchWriteItemInput,
    ) -> Result<BatchWriteItemOutput> {
        let total: usize = input.request_items.0.iter().map(|(_, r)| r.len()).sum();
        if total > MAX_BATCH_WRITE_REQUESTS {
            return Err(Error::validation(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        // Checks that need no table, table by table (dynalite `validations/batchWriteItem.js`).
        for (_, requests) in &input.request_items.0 {
            if requests
                .iter()
                .any(|r| r.put_request.is_some() == r.delete_request.is_some())
            {
                return Err(Error::validation(NOT_ONE_REQUEST));
            }
            for put in requests.iter().filter_map(|r| r.put_request.as_ref()) {
                check_item_size(&put.item)?;
                check_nesting(&put.item)?;
            }
        }
        let mode = input.return_consumed_capacity.as_deref();
        let metrics_mode = input.return_item_collection_metrics.as_deref();
        let (capacity, metrics) = self.write(|txn| {
            // Every table and key is checked before anything is written.
            let mut seen: HashSet<(String, Vec<u8>)> = HashSet::new();
            let mut tables = Vec::with_capacity(input.request_items.0.len());
            for (table, requests) in &input.request_items.0 {
                let meta = Engine::meta_in(txn, ns, table)?;
                let pk = meta.primary_key();
                let index_keys = meta.index_key_types();
                let table_key = meta.catalog_key();
                let mut plans = Vec::with_capacity(requests.len());
                for request in requests {
                    let plan = match (&request.put_request, &request.delete_request) {
                        (Some(put), None) => {
                            let key_bytes = put_key(&pk, &put.item)?;
                            check_index_keys(&put.item, &index_keys)?;
                            WritePlan {
                                key_bytes,
                                new: Some(&put.item),
                                key: &put.item,
                            }
                        }
                        (None, Some(delete)) => WritePlan {
                            key_bytes: pk.encode_key_param(&delete.key)?,
                            new: None,
                            key: &delete.key,
                        },
                        _ => return Err(Error::validation(NOT_ONE_REQUEST)),
                    };
                    if !seen.insert((table_key.clone(), plan.key_bytes.clone())) {
                        return Err(Error::validation(DUPLICATE_KEYS));
                    }
                    plans.push(plan);
                }
                tables.push((table, meta, table_key, plans));
            }
            let mut capacity = Vec::new();
            let mut metrics = TableMap::default();
            for (table, meta, table_key, plans) in tables {
                let mut units = WriteUnits::default();
                let mut table_metrics = Vec::new();
                for plan in plans {
                    let old = Engine::load_item(txn, &meta, &plan.key_bytes)?;
                    units.add(WriteUnits::of_write(&meta, old.as_ref(), plan.new));
                    let slot = ItemSlot {
                        meta: meta.clone(),
                        table_key: table_key.clone(),
                        key_bytes: plan.key_bytes,
                        old,
                    };
                    if plan.new.is_some() || slot.old.is_some() {
                        Engine::store(txn, &slot, plan.new)?;
                    }
                    table_metrics.extend(collection_metrics(txn, &meta, plan.key, metrics_mode)?);
                }
                capacity.extend(units.consumed(table, mode));
                if !table_metrics.is_empty() {
                    metrics.0.push((table.clone(), table_metrics));
                }
            }
            Ok((capacity, metrics))
        })?;
        Ok(BatchWriteItemOutput {
            unprocessed_items: TableMap::default(),
            consumed_capacity: mode_wants(mode).then_some(capacity),
            item_collection_metrics: (!metrics.is_empty()).then_some(metrics),
        })
    }
}

/// Whether `ReturnConsumedCapacity` asks for capacity.
fn mode_wants(mode: Option<&str>) -> bool {
    matches!(mode, Some("TOTAL" | "INDEXES"))
}

/// The key of a PutRequest's item. A missing or mistyped key attribute is "The provided key
/// element does not match the schema" here, where PutItem names the attribute (dynalite,
/// AWS-validated); the value rules (empty, too long) are PutItem's.
fn put_key(pk: &PrimaryKey, item: &Item) -> Result<Vec<u8>> {
    for (name, ty) in std::iter::once(&pk.hash).chain(pk.range.as_ref()) {
        if item.get(name).and_then(|v| v.scalar_type()) != Some(*ty) {
            return Err(Error::validation(
                "The provided key element does not match the schema",
            ));
        }
    }
    pk.encode_item_key(item)
}
