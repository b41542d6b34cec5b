//! Single-item operations: PutItem, GetItem, DeleteItem, UpdateItem.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;
use crate::codec::{decode_item, encode_item};
use crate::engine::{CATALOG, Engine, Namespace, STATS, items_table_name};
use crate::error::{Error, Result};
use crate::expr::{self, ExpressionInput};
use crate::keys::check_index_keys;
use crate::legacy::{self, AttributeValueUpdate, ExpectedAttributeValue};
use crate::value::{AttributeValue, Item, MAX_ITEM_SIZE, check_nesting, item_size};

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
#[allow(missing_docs)]
pub struct WriteItemOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
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
fn expected_condition(
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
    /// secondary index (with its stats) current.
    pub(crate) fn store(
        txn: &redb::WriteTransaction,
        slot: &ItemSlot,
        new: Option<&Item>,
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
        crate::index::maintain(txn, &slot.meta, slot.old.as_ref(), new)
    }

    /// PutItem.
    pub fn put_item(&self, ns: &Namespace, input: PutItemInput) -> Result<WriteItemOutput> {
        check_expression_params(
            &[
                ("Expected", input.expected.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            &[("ConditionExpression", input.condition_expression.is_some())],
            &input.params,
        )?;
        let return_values = input.return_values.as_deref().unwrap_or("NONE");
        if !matches!(return_values, "NONE" | "ALL_OLD") {
            return Err(Error::validation(
                "ReturnValues can only be ALL_OLD or NONE",
            ));
        }
        check_item_size(&input.item)?;
        check_nesting(&input.item)?;
        let legacy_condition = expected_condition(
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
        )?;
        let exprs = expr::parse(
            &ExpressionInput {
                condition: input.condition_expression.as_deref(),
                update: None,
                projection: None,
                filter: None,
                key_condition: None,
                names: input.params.expression_attribute_names.as_ref(),
                values: input.params.expression_attribute_values.as_ref(),
            },
            &[],
        )?;
        let old = self.write(|txn| {
            let meta = Engine::meta_in(txn, ns, &input.table_name)?;
            let key_bytes = meta.primary_key().encode_item_key(&input.item)?;
            check_index_keys(&input.item, &meta.index_key_types())?;
            let old = Engine::load_item(txn, &meta, &key_bytes)?;
            check_condition(
                exprs.condition.as_ref().or(legacy_condition.as_ref()),
                old.as_ref(),
                input.return_values_on_condition_check_failure.as_deref(),
            )?;
            let slot = ItemSlot {
                table_key: meta.catalog_key(),
                meta,
                key_bytes,
                old,
            };
            Engine::store(txn, &slot, Some(&input.item))?;
            Ok(slot.old)
        })?;
        let size = item_size(&input.item).max(old.as_ref().map(item_size).unwrap_or(0));
        Ok(WriteItemOutput {
            attributes: if return_values == "ALL_OLD" {
                old
            } else {
                None
            },
            consumed_capacity: consumed(
                &input.table_name,
                write_units(size),
                input.return_consumed_capacity.as_deref(),
            ),
        })
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
        let meta = self
            .table_meta(ns, &input.table_name)?
            .ok_or_else(Error::table_not_found)?;
        let key_bytes = meta.primary_key().encode_key_param(&input.key)?;
        let item = self.read(|txn| {
            let name = items_table_name(meta.table_num);
            let t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
            let v = t.get(key_bytes.as_slice())?;
            v.map(|v| decode_item(v.value())).transpose()
        })?;
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

    /// DeleteItem.
    pub fn delete_item(&self, ns: &Namespace, input: DeleteItemInput) -> Result<WriteItemOutput> {
        check_expression_params(
            &[
                ("Expected", input.expected.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            &[("ConditionExpression", input.condition_expression.is_some())],
            &input.params,
        )?;
        let return_values = input.return_values.as_deref().unwrap_or("NONE");
        if !matches!(return_values, "NONE" | "ALL_OLD") {
            return Err(Error::validation(
                "ReturnValues can only be ALL_OLD or NONE",
            ));
        }
        let legacy_condition = expected_condition(
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
        )?;
        let exprs = expr::parse(
            &ExpressionInput {
                condition: input.condition_expression.as_deref(),
                update: None,
                projection: None,
                filter: None,
                key_condition: None,
                names: input.params.expression_attribute_names.as_ref(),
                values: input.params.expression_attribute_values.as_ref(),
            },
            &[],
        )?;
        let old = self.write(|txn| {
            let meta = Engine::meta_in(txn, ns, &input.table_name)?;
            let key_bytes = meta.primary_key().encode_key_param(&input.key)?;
            let old = Engine::load_item(txn, &meta, &key_bytes)?;
            check_condition(
                exprs.condition.as_ref().or(legacy_condition.as_ref()),
                old.as_ref(),
                input.return_values_on_condition_check_failure.as_deref(),
            )?;
            let slot = ItemSlot {
                table_key: meta.catalog_key(),
                meta,
                key_bytes,
                old,
            };
            if slot.old.is_some() {
                Engine::store(txn, &slot, None)?;
            }
            Ok(slot.old)
        })?;
        let size = old.as_ref().map(item_size).unwrap_or(0);
        Ok(WriteItemOutput {
            attributes: if return_values == "ALL_OLD" {
                old
            } else {
                None
            },
            consumed_capacity: consumed(
                &input.table_name,
                write_units(size),
                input.return_consumed_capacity.as_deref(),
            ),
        })
    }

    /// UpdateItem.
    pub fn update_item(&self, ns: &Namespace, input: UpdateItemInput) -> Result<WriteItemOutput> {
        check_expression_params(
            &[
                ("AttributeUpdates", input.attribute_updates.is_some()),
                ("Expected", input.expected.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            &[
                ("UpdateExpression", input.update_expression.is_some()),
                ("ConditionExpression", input.condition_expression.is_some()),
            ],
            &input.params,
        )?;
        let return_values = input.return_values.as_deref().unwrap_or("NONE");
        let expression_input = ExpressionInput {
            condition: input.condition_expression.as_deref(),
            update: input.update_expression.as_deref(),
            projection: None,
            filter: None,
            key_condition: None,
            names: input.params.expression_attribute_names.as_ref(),
            values: input.params.expression_attribute_values.as_ref(),
        };
        // Legacy parameters and expressions are checked before the table is looked up, as
        // AWS does (AttributeUpdates, then Expected); the check that no key attribute is
        // updated needs the schema and runs once it is known.
        let legacy_updates = |keys: &[&str]| match &input.attribute_updates {
            Some(u) => legacy::attribute_updates_to_update(u, keys),
            None => Ok(None),
        };
        legacy_updates(&[])?;
        let legacy_condition = expected_condition(
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
        )?;
        expr::parse(&expression_input, &[])?;
        let meta = self
            .table_meta(ns, &input.table_name)?
            .ok_or_else(Error::table_not_found)?;
        let pk = meta.primary_key();
        let exprs = expr::parse(&expression_input, &pk.names())?;
        let legacy_update = legacy_updates(&pk.names())?;
        let condition = exprs.condition.as_ref().or(legacy_condition.as_ref());
        let update = exprs.update.as_ref().or(legacy_update.as_ref());
        let (old, new) = self.write(|txn| {
            let meta = Engine::meta_in(txn, ns, &input.table_name)?;
            let key_bytes = meta.primary_key().encode_key_param(&input.key)?;
            let old = Engine::load_item(txn, &meta, &key_bytes)?;
            check_condition(
                condition,
                old.as_ref(),
                input.return_values_on_condition_check_failure.as_deref(),
            )?;
            let mut new = old.clone().unwrap_or_else(|| input.key.clone());
            match (&exprs.update, &legacy_update) {
                (Some(update), _) => update.apply(&mut new)?,
                (None, Some(update)) => update.apply(&mut new).map_err(legacy::update_error)?,
                (None, None) => {}
            }
            if item_size(&new) > MAX_ITEM_SIZE {
                return Err(Error::validation(
                    "Item size to update has exceeded the maximum allowed size",
                ));
            }
            check_nesting(&new)?;
            check_index_keys(&new, &meta.index_key_types())?;
            let slot = ItemSlot {
                table_key: meta.catalog_key(),
                meta,
                key_bytes,
                old,
            };
            Engine::store(txn, &slot, Some(&new))?;
            Ok((slot.old, new))
        })?;
        let size = item_size(&new).max(old.as_ref().map(item_size).unwrap_or(0));
        let paths = update.map(|u| u.updated_paths()).unwrap_or_default();
        let attributes = match return_values {
            "ALL_OLD" => old,
            "ALL_NEW" => Some(new),
            "UPDATED_OLD" => old.map(|o| expr::project_paths(&o, &paths)),
            "UPDATED_NEW" => Some(expr::project_paths(&new, &paths)),
            _ => None,
        }
        .filter(|a| !a.is_empty());
        Ok(WriteItemOutput {
            attributes,
            consumed_capacity: consumed(
                &input.table_name,
                write_units(size),
                input.return_consumed_capacity.as_deref(),
            ),
        })
    }
}

fn check_condition(
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
