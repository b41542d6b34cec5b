//! Secondary-index storage: one redb table per local or global secondary index, kept in the
//! same write transaction as the base item.
//!
//! Layout in redb:
//! - `index/<table_num>/<index name>`: index key → projected item ([`crate::codec`]).
//! - `index_stats`: index table name → (item count, size in bytes of the projected items).
//!
//! An index key is the order-preserving encoding ([`encode_component`]) of the index partition
//! key, the index sort key (if any), the table partition key and the table sort key (if any).
//! So one index partition is one contiguous key range, in index sort-key order, with ties
//! broken by the table's primary key — the order in which AWS returns index Query results.
//!
//! Indexes are sparse: an item lacking one of the index key attributes, or holding one with a
//! type other than its attribute definition (possible only for items written before a GSI was
//! created), or an empty string or binary, has no entry.
//!
//! **Invariant:** for every index of a table, the index table holds exactly one entry per base
//! item that has the index key attributes, equal to [`project`] of that item, and its
//! `index_stats` row counts those entries and the sum of their [`item_size`]s. [`maintain`] is
//! called by `Engine::store`, the one place every item write goes through.

use redb::{ReadableTable, TableDefinition};

use crate::catalog::{IndexMeta, TableMeta, resolve_key};
use crate::codec::{decode_item, encode_item};
use crate::engine::{Engine, Namespace, items_table_name};
use crate::error::{Error, Result};
use crate::keys::{PrimaryKey, decode_component, encode_component};
use crate::value::{AttributeValue, Item, item_size};

/// Per-index statistics: index table name → (item count, size in bytes).
pub(crate) const INDEX_STATS: TableDefinition<&str, (u64, u64)> =
    TableDefinition::new("index_stats");

/// The name of the redb table holding the entries of `index` of the table `meta`.
///
/// Open it with `TableDefinition::<&[u8], &[u8]>::new(&name)`; keys are [`encode_index_key`]
/// bytes, values are [`crate::codec::encode_item`] of the projected item. A table created
/// before index storage existed may lack the redb table: treat `TableDoesNotExist` as empty.
pub(crate) fn index_table_name(meta: &TableMeta, index: &IndexMeta) -> String {
    format!("index/{}/{}", meta.table_num, index.name)
}

/// The resolved key schema of `index` (names and types from the table's definitions).
pub(crate) fn index_key_schema(meta: &TableMeta, index: &IndexMeta) -> PrimaryKey {
    resolve_key(&index.key_schema, &meta.attribute_definitions)
}

/// Appends the components of `key` taken from `item`; `None` when one is missing, has
/// another type than the schema's, or is an empty string or binary.
fn push_key(item: &Item, key: &PrimaryKey, out: &mut Vec<u8>) -> Option<()> {
    for (name, ty) in std::iter::once(&key.hash).chain(key.range.as_ref()) {
        let v = item.get(name)?;
        if v.scalar_type() != Some(*ty) {
            return None;
        }
        let empty = match v {
            AttributeValue::S(s) => s.is_empty(),
            AttributeValue::B(b) => b.is_empty(),
            _ => false,
        };
        if empty {
            return None;
        }
        encode_component(v, out);
    }
    Some(())
}

/// The index key of `item` in `index`: encoded (index partition key, index sort key, table
/// partition key, table sort key), or `None` when the item is not in the (sparse) index.
///
/// To range over one index partition, encode the partition value alone with
/// [`encode_component`]: every entry of that partition starts with those bytes, and sort key
/// bounds follow the same way (index partition bytes, then the sort key component).
pub(crate) fn encode_index_key(
    meta: &TableMeta,
    index: &IndexMeta,
    item: &Item,
) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    push_key(item, &index_key_schema(meta, index), &mut out)?;
    push_key(item, &meta.primary_key(), &mut out)?;
    Some(out)
}

/// Decodes an index key back into its attributes: the index key attributes and the table's
/// primary key attributes (an attribute in both appears once) — exactly AWS's
/// `LastEvaluatedKey` for a Query or Scan on an index.
///
/// Corrupt bytes are an internal error, never a panic.
#[allow(dead_code)] // For Query/Scan on indexes (LastEvaluatedKey); used by tests until then.
pub(crate) fn decode_index_key(meta: &TableMeta, index: &IndexMeta, bytes: &[u8]) -> Result<Item> {
    let corrupt = || Error::Internal("stored index key is corrupt".into());
    let mut out = Item::new();
    let mut rest = bytes;
    for key in [index_key_schema(meta, index), meta.primary_key()] {
        for (name, ty) in std::iter::once(&key.hash).chain(key.range.as_ref()) {
            let (v, used) = decode_component(*ty, rest).ok_or_else(corrupt)?;
            rest = rest.get(used..).ok_or_else(corrupt)?;
            out.insert(name.clone(), v);
        }
    }
    if !rest.is_empty() {
        return Err(corrupt());
    }
    Ok(out)
}

/// The part of `item` that `index` stores, per its `Projection`: `KEYS_ONLY` keeps the table
/// and index key attributes, `INCLUDE` those and its `NonKeyAttributes`, `ALL` everything.
pub(crate) fn project(meta: &TableMeta, index: &IndexMeta, item: &Item) -> Item {
    let ty = index.projection.projection_type.as_deref().unwrap_or("ALL");
    if ty == "ALL" {
        return item.clone();
    }
    let table_keys = meta.primary_key();
    let keep = |name: &str| {
        table_keys.names().contains(&name)
            || index.key_schema.iter().any(|k| k.attribute_name == name)
            || (ty == "INCLUDE"
                && index
                    .projection
                    .non_key_attributes
                    .iter()
                    .flatten()
                    .any(|a| a == name))
    };
    item.iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The entry `item` has in `index`, if any: key bytes and projected item.
fn entry(meta: &TableMeta, index: &IndexMeta, item: &Item) -> Option<(Vec<u8>, Item)> {
    let key = encode_index_key(meta, index, item)?;
    Some((key, project(meta, index, item)))
}

/// Updates every index of `meta`'s table for one item going from `old` to `new` (`None`:
/// absent), and the per-index stats, inside the caller's write transaction.
pub(crate) fn maintain(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Result<()> {
    if meta.lsis.is_empty() && meta.gsis.is_empty() {
        return Ok(());
    }
    let mut stats = txn.open_table(INDEX_STATS)?;
    for index in meta.lsis.iter().chain(&meta.gsis) {
        let name = index_table_name(meta, index);
        let current = stats.get(name.as_str())?.map(|v| v.value());
        let Some((mut count, mut size)) = current else {
            // An index without a stats row predates index storage (a data dir written by an
            // older build): fill it from the base table, which already holds `new`.
            let filled = backfill(txn, meta, index)?;
            stats.insert(name.as_str(), filled)?;
            continue;
        };
        let before = old.and_then(|o| entry(meta, index, o));
        let after = new.and_then(|n| entry(meta, index, n));
        if before == after {
            continue;
        }
        let mut t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
        if let Some((key, item)) = &before
            && t.remove(key.as_slice())?.is_some()
        {
            count = count.saturating_sub(1);
            size = size.saturating_sub(item_size(item) as u64);
        }
        if let Some((key, item)) = &after {
            let replaced = t
                .insert(key.as_slice(), encode_item(item).as_slice())?
                .map(|v| decode_item(v.value()))
                .transpose()?;
            debug_assert!(replaced.is_none(), "index entry of another item");
            if let Some(r) = replaced {
                size = size.saturating_sub(item_size(&r) as u64);
            } else {
                count += 1;
            }
            size += item_size(item) as u64;
        }
        stats.insert(name.as_str(), (count, size))?;
    }
    Ok(())
}

/// Creates the (empty) redb table of `index` and its stats row.
pub(crate) fn create(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    index: &IndexMeta,
) -> Result<()> {
    let name = index_table_name(meta, index);
    txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
    txn.open_table(INDEX_STATS)?.insert(name.as_str(), (0, 0))?;
    Ok(())
}

/// Creates `index` and fills it from every item of the base table (a synchronous backfill).
pub(crate) fn create_and_backfill(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    index: &IndexMeta,
) -> Result<()> {
    let filled = backfill(txn, meta, index)?;
    txn.open_table(INDEX_STATS)?
        .insert(index_table_name(meta, index).as_str(), filled)?;
    Ok(())
}

/// Fills the redb table of `index` (created if missing) from every item of the base table;
/// returns the (item count, size) its stats row must hold. The caller must not hold the base
/// table open.
fn backfill(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    index: &IndexMeta,
) -> Result<(u64, u64)> {
    let name = index_table_name(meta, index);
    let mut t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
    let items_name = items_table_name(meta.table_num);
    let items = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&items_name))?;
    let (mut count, mut size) = (0u64, 0u64);
    for row in items.iter()? {
        let (_, v) = row?;
        let item = decode_item(v.value())?;
        if let Some((key, projected)) = entry(meta, index, &item) {
            t.insert(key.as_slice(), encode_item(&projected).as_slice())?;
            count += 1;
            size += item_size(&projected) as u64;
        }
    }
    Ok((count, size))
}

/// Drops the redb table of `index` and its stats row.
pub(crate) fn drop_index(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    index: &IndexMeta,
) -> Result<()> {
    let name = index_table_name(meta, index);
    txn.delete_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
    txn.open_table(INDEX_STATS)?.remove(name.as_str())?;
    Ok(())
}

/// (item count, size in bytes) of `index`, read from a stats table of a read or write
/// transaction.
pub(crate) fn stats_of<T: ReadableTable<&'static str, (u64, u64)>>(
    stats: &T,
    meta: &TableMeta,
    index: &IndexMeta,
) -> Result<(u64, u64)> {
    Ok(stats
        .get(index_table_name(meta, index).as_str())?
        .map(|v| v.value())
        .unwrap_or((0, 0)))
}

/// (index name, (item count, size in bytes)) of every index of `meta`, in a read transaction.
pub(crate) fn all_stats(
    txn: &redb::ReadTransaction,
    meta: &TableMeta,
) -> Result<Vec<(String, (u64, u64))>> {
    let stats = match txn.open_table(INDEX_STATS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    meta.lsis
        .iter()
        .chain(&meta.gsis)
        .map(|i| Ok((i.name.clone(), stats_of(&stats, meta, i)?)))
        .collect()
}

/// (index name, (item count, size in bytes)) of every index of `meta`, in a write transaction.
pub(crate) fn all_stats_in(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
) -> Result<Vec<(String, (u64, u64))>> {
    let stats = txn.open_table(INDEX_STATS)?;
    meta.lsis
        .iter()
        .chain(&meta.gsis)
        .map(|i| Ok((i.name.clone(), stats_of(&stats, meta, i)?)))
        .collect()
}

/// Every entry of `index` in index order: (index key bytes, projected item). A drop-in for a
/// full read of an index; Query should rather range over the redb table directly.
pub(crate) fn index_entries(
    txn: &redb::ReadTransaction,
    meta: &TableMeta,
    index: &IndexMeta,
) -> Result<Vec<(Vec<u8>, Item)>> {
    let name = index_table_name(meta, index);
    let t = match txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name)) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        out.push((k.value().to_vec(), decode_item(v.value())?));
    }
    Ok(out)
}

impl Engine {
    /// Every entry of the secondary index `index` of `table`, in index order (index partition
    /// key, index sort key, then table primary key), as the projected items the index stores.
    /// For tests and inspection.
    pub fn index_items(&self, ns: &Namespace, table: &str, index: &str) -> Result<Vec<Item>> {
        let meta = self
            .table_meta(ns, table)?
            .ok_or_else(Error::table_not_found)?;
        let idx = meta
            .lsis
            .iter()
            .chain(&meta.gsis)
            .find(|i| i.name == index)
            .ok_or_else(|| {
                Error::validation(format!(
                    "The table does not have the specified index: {index}"
                ))
            })?;
        self.read(|txn| {
            Ok(index_entries(txn, &meta, idx)?
                .into_iter()
                .map(|(_, item)| item)
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn engine_with_gsi() -> (Engine, Namespace) {
        let engine = Engine::builder().seed(1).build().expect("engine");
        let ns = Namespace::default();
        engine
            .create_table(
                &ns,
                serde_json::from_value(json!({
                    "TableName": "t",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "N"},
                        {"AttributeName": "g", "AttributeType": "B"}
                    ],
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"}
                    ],
                    "GlobalSecondaryIndexes": [{
                        "IndexName": "by_g",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "KEYS_ONLY"}
                    }],
                    "BillingMode": "PAY_PER_REQUEST"
                }))
                .expect("input"),
            )
            .expect("create");
        (engine, ns)
    }

    fn put(engine: &Engine, ns: &Namespace, item: serde_json::Value) {
        engine
            .put_item(
                ns,
                serde_json::from_value(json!({"TableName": "t", "Item": item})).expect("input"),
            )
            .expect("put");
    }

    #[test]
    fn index_keys_decode_to_index_and_table_key() {
        let (engine, ns) = engine_with_gsi();
        let meta = engine.table_meta(&ns, "t").expect("meta").expect("table");
        let index = &meta.gsis[0];
        let item: Item = serde_json::from_value(json!({
            "pk": {"S": "a\u{0}b"}, "sk": {"N": "-1.5"}, "g": {"B": "AAE="}, "x": {"S": "y"}
        }))
        .expect("item");
        let key = encode_index_key(&meta, index, &item).expect("in the index");
        let mut expect = item.clone();
        expect.remove("x");
        assert_eq!(
            decode_index_key(&meta, index, &key).expect("decodes"),
            expect
        );
        assert!(decode_index_key(&meta, index, &key[..key.len() - 1]).is_err());
        let mut longer = key.clone();
        longer.push(0);
        assert!(decode_index_key(&meta, index, &longer).is_err());
    }

    /// Data dirs written before index storage have indexes without tables or stats rows: the
    /// first write to such a table fills them from the base table.
    #[test]
    fn an_index_without_stats_is_backfilled_on_the_next_write() {
        let (engine, ns) = engine_with_gsi();
        put(
            &engine,
            &ns,
            json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"B": "AA=="}}),
        );
        let meta = engine.table_meta(&ns, "t").expect("meta").expect("table");
        engine
            .write(|txn| {
                let index = &meta.gsis[0];
                let name = index_table_name(&meta, index);
                txn.delete_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
                txn.open_table(INDEX_STATS)?.remove(name.as_str())?;
                Ok(())
            })
            .expect("forget the index");
        assert_eq!(engine.index_items(&ns, "t", "by_g").expect("read").len(), 0);
        put(
            &engine,
            &ns,
            json!({"pk": {"S": "b"}, "sk": {"N": "1"}, "g": {"B": "AQ=="}}),
        );
        assert_eq!(engine.index_items(&ns, "t", "by_g").expect("read").len(), 2);
        let stats = engine.read(|txn| all_stats(txn, &meta)).expect("stats");
        assert_eq!(stats[0].1.0, 2);
    }
}
