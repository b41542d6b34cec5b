//! Decoded catalog entries, so that an item operation does not parse its table's metadata JSON
//! on every request (it was a third of a GetItem's engine time when measured).
//!
//! The cache is keyed by catalog key but answers only when the stored JSON text is exactly the
//! text it decoded: every operation still reads the catalog entry in its own transaction, and a
//! changed entry (UpdateTable, a restore, a replica change, … whoever wrote it and however) is a
//! miss that decodes afresh. So nothing needs invalidating, and the cache can be shared by all
//! engines of the process: equal text decodes to equal metadata.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use crate::catalog::TableMeta;
use crate::error::{Error, Result};

/// The most entries kept; past it the cache starts over (tests create many short-lived tables).
const CAPACITY: usize = 4096;

/// One decoded entry: the JSON text and what it decodes to.
struct Entry {
    json: Box<str>,
    meta: Arc<TableMeta>,
}

type Map = HashMap<Box<str>, Arc<Entry>>;

fn cache() -> &'static RwLock<Map> {
    static CACHE: OnceLock<RwLock<Map>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The metadata stored as `json` under catalog key `key`, to change.
pub(crate) fn decode(key: &str, json: &str) -> Result<TableMeta> {
    decode_shared(key, json).map(Arc::unwrap_or_clone)
}

/// The metadata stored as `json` under catalog key `key`, shared with the cache: a hit copies
/// nothing (a `TableMeta` holds every index, tag and replica of the table).
pub(crate) fn decode_shared(key: &str, json: &str) -> Result<Arc<TableMeta>> {
    // A poisoned lock only means another thread panicked while holding it; the map itself is
    // always whole (entries are inserted in one call), so it is used as is.
    let hit = cache()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .filter(|e| *e.json == *json)
        .cloned();
    if let Some(e) = hit {
        return Ok(e.meta.clone());
    }
    let meta: Arc<TableMeta> = serde_json::from_str(json)
        .map(Arc::new)
        .map_err(|e| Error::Internal(format!("catalog entry is corrupt: {e}")))?;
    let entry = Arc::new(Entry {
        json: json.into(),
        meta: Arc::clone(&meta),
    });
    let mut map = cache().write().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CAPACITY && !map.contains_key(key) {
        map.clear();
    }
    map.insert(key.into(), entry);
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_json(name: &str, deletion_protection: bool) -> String {
        serde_json::json!({
            "name": name, "account": "000000000000", "region": "us-east-1", "table_num": 7,
            "table_id": "id", "created": 0,
            "attribute_definitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "key_schema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "billing_mode": "PAY_PER_REQUEST",
            "throughput": {"read": 0, "write": 0},
            "deletion_protection": deletion_protection,
        })
        .to_string()
    }

    /// A catalog entry rewritten under the same key decodes to the new metadata, not the cached.
    #[test]
    fn a_changed_entry_is_decoded_afresh() {
        let key = "meta_cache_test\x1fus-east-1\x1ft";
        let before = meta_json("t", false);
        let after = meta_json("t", true);
        let Ok(first) = decode(key, &before) else {
            // The JSON above must stay a valid TableMeta for this test to mean anything.
            panic!("test metadata does not decode: {before}");
        };
        assert!(!first.deletion_protection);
        assert!(!decode(key, &before).unwrap().deletion_protection);
        assert!(decode(key, &after).unwrap().deletion_protection);
        assert!(!decode(key, &before).unwrap().deletion_protection);
    }

    fn input<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("test input")
    }

    /// The metadata an item write uses is the table's latest: a GSI added by UpdateTable (and
    /// seen by DescribeTable) constrains the very next PutItem, and a deleted and re-created
    /// table's new schema applies at once.
    #[test]
    fn table_changes_reach_the_next_item_write() {
        let engine = crate::Engine::builder().seed(7).build().unwrap();
        let ns = crate::Namespace::default();
        let create = serde_json::json!({"TableName": "t",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"});
        engine.create_table(&ns, input(create.clone())).unwrap();
        let put = |g: serde_json::Value| {
            engine.put_item(
                &ns,
                input(serde_json::json!({"TableName": "t", "Item": {"pk": {"S": "a"}, "g": g}})),
            )
        };
        put(serde_json::json!({"N": "1"})).unwrap();
        engine
            .update_table(
                &ns,
                input(serde_json::json!({"TableName": "t",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": "g", "AttributeType": "S"}],
                    "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "gi",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"}}}]})),
            )
            .unwrap();
        let described = engine
            .describe_table(&ns, input(serde_json::json!({"TableName": "t"})))
            .unwrap();
        let described = serde_json::to_value(described).unwrap();
        assert_eq!(
            described["Table"]["GlobalSecondaryIndexes"][0]["IndexName"],
            "gi"
        );
        let err = put(serde_json::json!({"N": "2"})).unwrap_err();
        assert!(
            err.to_string()
                .contains("Type mismatch for Index Key g Expected: S Actual: N IndexName: gi"),
            "{err}"
        );
        put(serde_json::json!({"S": "ok"})).unwrap();

        engine
            .delete_table(&ns, input(serde_json::json!({"TableName": "t"})))
            .unwrap();
        engine.create_table(&ns, input(create)).unwrap();
        put(serde_json::json!({"N": "3"})).unwrap();
    }

    #[test]
    fn corrupt_entries_are_internal_errors() {
        let err = decode("meta_cache_test\x1fus-east-1\x1fbad", "{not json").unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{err:?}");
    }
}
