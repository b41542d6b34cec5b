//! Direct inspection for tests: every item of a table, and a deterministic dump of all state.

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::codec::decode_item;
use crate::engine::{CATALOG, Engine, Namespace, items_table_name};
use crate::error::{Error, Result};
use crate::value::Item;

impl Engine {
    /// Every item of `table` in primary-key order (partition key, then sort key).
    pub fn items(&self, ns: &Namespace, table: &str) -> Result<Vec<Item>> {
        let meta = self
            .table_meta(ns, table)?
            .ok_or_else(Error::table_not_found)?;
        let txn = self.db.begin_read()?;
        let name = items_table_name(meta.table_num);
        let t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
        let mut out = Vec::new();
        for entry in t.iter()? {
            let (_, v) = entry?;
            out.push(decode_item(v.value())?);
        }
        Ok(out)
    }

    /// All tables of all namespaces with their items, as JSON sorted by account, region, table
    /// and key: stable across runs, for snapshot tests.
    pub fn dump(&self) -> Result<serde_json::Value> {
        let txn = self.db.begin_read()?;
        let catalog = txn.open_table(CATALOG)?;
        let mut tables = serde_json::Map::new();
        for entry in catalog.iter()? {
            let (k, v) = entry?;
            let meta: crate::catalog::TableMeta = serde_json::from_str(v.value())
                .map_err(|e| Error::Internal(format!("catalog entry is corrupt: {e}")))?;
            let name = items_table_name(meta.table_num);
            let t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
            let mut items = Vec::new();
            for entry in t.iter()? {
                let (_, v) = entry?;
                items.push(
                    serde_json::to_value(decode_item(v.value())?)
                        .map_err(|e| Error::Internal(e.to_string()))?,
                );
            }
            let key = k.value().replace('\x1f', "/");
            tables.insert(
                key,
                serde_json::json!({
                    "KeySchema": meta.key_schema,
                    "AttributeDefinitions": meta.attribute_definitions,
                    "Items": items,
                }),
            );
        }
        Ok(serde_json::Value::Object(tables))
    }
}
