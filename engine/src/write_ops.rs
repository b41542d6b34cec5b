//! The single-item writes: PutItem, DeleteItem and UpdateItem.
//!
//! Each request is validated outside any transaction into a plan ([`Plan`]) that owns its
//! input; the plan is then applied in a write transaction of its own (`put_item`, …) or, through
//! `put_item_grouped` and friends, with group commit (see [`crate::group_commit`]). Both give
//! the same answers.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::catalog::TableMeta;
use crate::engine::{Engine, Namespace};
use crate::error::{Error, Result};
use crate::expr::{self, Condition, ExpressionInput, Update};
use crate::group_commit::Plan;
use crate::item_ops::{
    DeleteItemInput, ExpressionParams, ItemCollectionMetrics, ItemSlot, PutItemInput,
    UpdateItemInput, WriteItemOutput, WriteUnits, check_condition, check_expression_params,
    check_item_size, collection_metrics, expected_condition,
};
use crate::keys::check_index_keys;
use crate::legacy::{self, ExpectedAttributeValue};
use crate::value::{Item, MAX_ITEM_SIZE, check_nesting, item_size};

/// What a write found and did in its transaction: the old item, the new one (or `None`), the
/// write units and the item collection metrics.
type Written<'a> = (
    Option<Item>,
    Option<Cow<'a, Item>>,
    WriteUnits,
    Option<ItemCollectionMetrics>,
);

/// [`Written`] as a plan keeps it until the commit; only UpdateItem keeps the new item.
type Applied = Written<'static>;

impl Engine {
    /// PutItem.
    pub fn put_item(&self, ns: &Namespace, input: PutItemInput) -> Result<WriteItemOutput> {
        self.run_plan(ReplacePlan::put(ns, input)?)
    }

    /// DeleteItem.
    pub fn delete_item(&self, ns: &Namespace, input: DeleteItemInput) -> Result<WriteItemOutput> {
        self.run_plan(ReplacePlan::delete(ns, input)?)
    }

    /// UpdateItem.
    pub fn update_item(&self, ns: &Namespace, input: UpdateItemInput) -> Result<WriteItemOutput> {
        self.run_plan(UpdatePlan::new(self, ns, input)?)
    }

    /// PutItem with group commit: while another grouped write runs, this one waits (without
    /// blocking the thread) and is committed together with the others waiting. The answer is
    /// the one [`Engine::put_item`] gives.
    pub async fn put_item_grouped(
        &self,
        ns: &Namespace,
        input: PutItemInput,
    ) -> Result<WriteItemOutput> {
        let plan = ReplacePlan::put(ns, input)?;
        self.writer.submit(plan).await
    }

    /// DeleteItem with group commit (see [`Engine::put_item_grouped`]).
    pub async fn delete_item_grouped(
        &self,
        ns: &Namespace,
        input: DeleteItemInput,
    ) -> Result<WriteItemOutput> {
        let plan = ReplacePlan::delete(ns, input)?;
        self.writer.submit(plan).await
    }

    /// UpdateItem with group commit (see [`Engine::put_item_grouped`]).
    pub async fn update_item_grouped(
        &self,
        ns: &Namespace,
        input: UpdateItemInput,
    ) -> Result<WriteItemOutput> {
        let plan = UpdatePlan::new(self, ns, input)?;
        self.writer.submit(plan).await
    }

    /// Applies `plan` in a write transaction of its own.
    fn run_plan<P: Plan>(&self, plan: P) -> Result<P::Output> {
        let applied = self.write(|txn| plan.apply(txn))?;
        Ok(plan.output(applied))
    }
}

/// The condition of a PutItem or DeleteItem and whether its `ReturnValues` asks for the old
/// item, validated in AWS's order; `item_checks` runs in between (PutItem's item checks).
fn condition_and_all_old(
    expected: Option<&BTreeMap<String, ExpectedAttributeValue>>,
    conditional_operator: Option<&str>,
    condition_expression: Option<&str>,
    params: &ExpressionParams,
    return_values: Option<&str>,
    item_checks: impl FnOnce() -> Result<()>,
) -> Result<(Option<Condition>, bool)> {
    check_expression_params(
        &[
            ("Expected", expected.is_some()),
            ("ConditionalOperator", conditional_operator.is_some()),
        ],
        &[("ConditionExpression", condition_expression.is_some())],
        params,
    )?;
    let all_old = match return_values.unwrap_or("NONE") {
        "NONE" => false,
        "ALL_OLD" => true,
        _ => {
            return Err(Error::validation(
                "ReturnValues can only be ALL_OLD or NONE",
            ));
        }
    };
    item_checks()?;
    let legacy_condition = expected_condition(expected, conditional_operator)?;
    let exprs = expr::parse(
        &ExpressionInput {
            condition: condition_expression,
            update: None,
            projection: None,
            filter: None,
            key_condition: None,
            names: params.expression_attribute_names.as_ref(),
            values: params.expression_attribute_values.as_ref(),
        },
        &[],
    )?;
    Ok((exprs.condition.or(legacy_condition), all_old))
}

/// The part of a single-item write that runs in its transaction: load the table and the old
/// item, check the condition, make the new item (`None`: delete) from the old one, store it
/// with its stats, indexes and stream records, and measure the write. `key_item` is the item
/// (PutItem) or the `Key` (the others), for the collection metrics of a delete.
#[allow(clippy::too_many_arguments)]
fn apply_write<'a>(
    txn: &redb::WriteTransaction,
    ns: &Namespace,
    table_name: &str,
    encode_key: impl FnOnce(&TableMeta) -> Result<Vec<u8>>,
    condition: Option<&Condition>,
    on_condition_failure: Option<&str>,
    new_item: impl FnOnce(&TableMeta, Option<&Item>) -> Result<Option<Cow<'a, Item>>>,
    key_item: &Item,
    metrics_mode: Option<&str>,
) -> Result<Written<'a>> {
    let meta = Engine::meta_in(txn, ns, table_name)?;
    let key_bytes = encode_key(&meta)?;
    let old = Engine::load_item(txn, &meta, &key_bytes)?;
    check_condition(condition, old.as_ref(), on_condition_failure)?;
    let new = new_item(&meta, old.as_ref())?;
    let units = WriteUnits::of_write(&meta, old.as_ref(), new.as_deref());
    let slot = ItemSlot {
        table_key: meta.catalog_key(),
        meta,
        key_bytes,
        old,
    };
    if new.is_some() || slot.old.is_some() {
        Engine::store(txn, &slot, new.as_deref())?;
    }
    let metrics = collection_metrics(
        txn,
        &slot.meta,
        new.as_deref().unwrap_or(key_item),
        metrics_mode,
    )?;
    Ok((slot.old, new, units, metrics))
}

/// The answer of a write, from what it did and what the request asked for.
fn write_output(
    attributes: Option<Item>,
    units: &WriteUnits,
    table_name: &str,
    return_consumed_capacity: Option<&str>,
    metrics: Option<ItemCollectionMetrics>,
) -> WriteItemOutput {
    WriteItemOutput {
        attributes,
        consumed_capacity: units.consumed(table_name, return_consumed_capacity),
        item_collection_metrics: metrics,
    }
}

/// A validated PutItem or DeleteItem: both replace the item at a key (with nothing, for a
/// delete) and answer with the old item when `ReturnValues` is `ALL_OLD`.
struct ReplacePlan {
    ns: Namespace,
    table_name: String,
    /// The new item (PutItem), or the key of the item to delete.
    item: Item,
    delete: bool,
    condition: Option<Condition>,
    all_old: bool,
    return_values_on_condition_check_failure: Option<String>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

impl ReplacePlan {
    fn put(ns: &Namespace, input: PutItemInput) -> Result<ReplacePlan> {
        let (condition, all_old) = condition_and_all_old(
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
            input.condition_expression.as_deref(),
            &input.params,
            input.return_values.as_deref(),
            || {
                check_item_size(&input.item)?;
                check_nesting(&input.item)
            },
        )?;
        Ok(ReplacePlan {
            ns: ns.clone(),
            table_name: input.table_name,
            item: input.item,
            delete: false,
            condition,
            all_old,
            return_values_on_condition_check_failure: input
                .return_values_on_condition_check_failure,
            return_consumed_capacity: input.return_consumed_capacity,
            return_item_collection_metrics: input.return_item_collection_metrics,
        })
    }

    fn delete(ns: &Namespace, input: DeleteItemInput) -> Result<ReplacePlan> {
        let (condition, all_old) = condition_and_all_old(
            input.expected.as_ref(),
            input.conditional_operator.as_deref(),
            input.condition_expression.as_deref(),
            &input.params,
            input.return_values.as_deref(),
            || Ok(()),
        )?;
        Ok(ReplacePlan {
            ns: ns.clone(),
            table_name: input.table_name,
            item: input.key,
            delete: true,
            condition,
            all_old,
            return_values_on_condition_check_failure: input
                .return_values_on_condition_check_failure,
            return_consumed_capacity: input.return_consumed_capacity,
            return_item_collection_metrics: input.return_item_collection_metrics,
        })
    }
}

impl Plan for ReplacePlan {
    type Applied = Applied;
    type Output = WriteItemOutput;

    fn apply(&self, txn: &redb::WriteTransaction) -> Result<Applied> {
        let item = &self.item;
        let (old, _, units, metrics) = apply_write(
            txn,
            &self.ns,
            &self.table_name,
            |meta| {
                if self.delete {
                    return meta.primary_key().encode_key_param(item);
                }
                let key = meta.primary_key().encode_item_key(item)?;
                check_index_keys(item, &meta.index_key_types())?;
                Ok(key)
            },
            self.condition.as_ref(),
            self.return_values_on_condition_check_failure.as_deref(),
            |_, _| Ok((!self.delete).then_some(Cow::Borrowed(item))),
            item,
            self.return_item_collection_metrics.as_deref(),
        )?;
        Ok((old, None, units, metrics))
    }

    fn output(self, (old, _, units, metrics): Applied) -> WriteItemOutput {
        write_output(
            old.filter(|_| self.all_old),
            &units,
            &self.table_name,
            self.return_consumed_capacity.as_deref(),
            metrics,
        )
    }
}

/// A validated UpdateItem.
struct UpdatePlan {
    ns: Namespace,
    input: UpdateItemInput,
    condition: Option<Condition>,
    /// The UpdateExpression, or the legacy `AttributeUpdates` as one.
    update: Option<Update>,
    /// Whether `update` came from `AttributeUpdates` (its errors read differently).
    legacy_update: bool,
}

impl UpdatePlan {
    fn new(engine: &Engine, ns: &Namespace, input: UpdateItemInput) -> Result<UpdatePlan> {
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
        let exprs = expr::parse(&expression_input, &[])?;
        let meta = engine
            .table_meta(ns, &input.table_name)?
            .ok_or_else(Error::table_not_found)?;
        let pk = meta.primary_key();
        if let Some(update) = &exprs.update {
            update.check_key_attributes(&pk.names())?;
        }
        let legacy_update = legacy_updates(&pk.names())?;
        let (update, legacy_update) = match (exprs.update, legacy_update) {
            (Some(update), _) => (Some(update), false),
            (None, Some(update)) => (Some(update), true),
            (None, None) => (None, false),
        };
        Ok(UpdatePlan {
            ns: ns.clone(),
            condition: exprs.condition.or(legacy_condition),
            update,
            legacy_update,
            input,
        })
    }
}

impl Plan for UpdatePlan {
    type Applied = Applied;
    type Output = WriteItemOutput;

    fn apply(&self, txn: &redb::WriteTransaction) -> Result<Applied> {
        let input = &self.input;
        let (old, new, units, metrics) = apply_write(
            txn,
            &self.ns,
            &input.table_name,
            |meta| meta.primary_key().encode_key_param(&input.key),
            self.condition.as_ref(),
            input.return_values_on_condition_check_failure.as_deref(),
            |meta, old| {
                let mut new = old.cloned().unwrap_or_else(|| input.key.clone());
                match &self.update {
                    Some(update) if self.legacy_update => {
                        update.apply(&mut new).map_err(legacy::update_error)?
                    }
                    Some(update) => update.apply(&mut new)?,
                    None => {}
                }
                if item_size(&new) > MAX_ITEM_SIZE {
                    return Err(Error::validation(
                        "Item size to update has exceeded the maximum allowed size",
                    ));
                }
                check_nesting(&new)?;
                check_index_keys(&new, &meta.index_key_types())?;
                Ok(Some(Cow::Owned(new)))
            },
            &input.key,
            input.return_item_collection_metrics.as_deref(),
        )?;
        Ok((old, new.map(|n| Cow::Owned(n.into_owned())), units, metrics))
    }

    fn output(self, (old, new, units, metrics): Applied) -> WriteItemOutput {
        let new = new.map(Cow::into_owned);
        let paths = self
            .update
            .as_ref()
            .map(|u| u.updated_paths())
            .unwrap_or_default();
        let attributes = match self.input.return_values.as_deref().unwrap_or("NONE") {
            "ALL_OLD" => old,
            "ALL_NEW" => new,
            "UPDATED_OLD" => old.map(|o| expr::project_paths(&o, &paths)),
            "UPDATED_NEW" => new.map(|n| expr::project_paths(&n, &paths)),
            _ => None,
        }
        .filter(|a| !a.is_empty());
        write_output(
            attributes,
            &units,
            &self.input.table_name,
            self.input.return_consumed_capacity.as_deref(),
            metrics,
        )
    }
}
