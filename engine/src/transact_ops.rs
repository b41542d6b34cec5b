//! Transactions: TransactWriteItems and TransactGetItems.
//!
//! A TransactWriteItems request goes through three stages, in the order AWS reports failures
//! (captured against real DynamoDB by paritysuite/dynamodb-conformance,
//! `tests/tier3/validation-ordering/transactions.test.ts` and
//! `tests/tier3/error-messages/transactWriteItems.test.ts`):
//!
//! 1. Checks that need no table, action by action in request order: one operation per action,
//!    expression parameters and expressions, a Put item's size and nesting; then the 4 MB
//!    payload. Failures are a top-level `ValidationException`.
//! 2. Inside the write transaction: the tables (`ResourceNotFoundException`), empty key
//!    values and two actions on one item (top-level `ValidationException`).
//! 3. Each action against the items as they were before the transaction: key schema,
//!    condition, the new item's size, nesting and index keys. A failing action does not stop
//!    the others; if any failed, the transaction is cancelled with one `CancellationReason`
//!    per action (`None` for those that would have succeeded) and nothing is written.
//!
//! **Invariant:** all conditions are evaluated and all writes applied in one redb write
//! transaction, so a transaction is all or nothing, and a `TransactGetItems` reads one
//! snapshot.
//!
//! **TransactionConflictException / TransactionCanceled with `TransactionConflict`:** never
//! produced here. redb has a single writer, so write transactions (ours and every other write
//! operation's) run one after another and never interleave; a conflict is impossible. They
//! can only come from fault injection (a later issue).
//!
//! **Idempotency:** a `ClientRequestToken` and a fingerprint of `TransactItems` are stored in
//! the `transact_tokens` redb table with the engine-clock time of the successful commit. For
//! ten minutes, the same token with the same items answers again without writing (reporting
//! read capacity, as AWS does); with other items it is `IdempotentParameterMismatchException`.
//! `ReturnConsumedCapacity` and `ReturnItemCollectionMetrics` are not part of the fingerprint
//! (DynamoDB Local agrees). A cancelled transaction records nothing, so its retry runs again.

use std::collections::{BTreeMap, HashSet};

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;
use crate::codec::decode_item;
use crate::engine::{CATALOG, Engine, Namespace, items_table_name};
use crate::error::{CancellationReason, Error, Result};
use crate::expr::{self, ExpressionInput, Expressions, Projection};
use crate::item_ops::{
    Capacity, ConsumedCapacity, ExpressionParams, ItemSlot, check_item_size, read_units,
    write_units,
};
use crate::keys::{PrimaryKey, check_index_keys};
use crate::value::{AttributeValue, Item, MAX_ITEM_SIZE, check_nesting, item_size};

/// The most actions one TransactWriteItems or TransactGetItems may hold (checked by the
/// protocol layer's model validation).
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// The most item data one TransactWriteItems may carry: the sizes of its Put items and of the
/// keys of its other actions.
pub const MAX_TRANSACTION_PAYLOAD: usize = 4 * 1024 * 1024;
/// How long a `ClientRequestToken` is remembered after its transaction commits, in
/// milliseconds of engine-clock time.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 10 * 60 * 1000;

/// Namespace key + `\x1f` + token → [`TokenRecord`] as JSON.
const TOKENS: TableDefinition<&str, &str> = TableDefinition::new("transact_tokens");
/// (commit time, token key) → (): the tokens in commit order, so expired ones are found
/// without reading the whole `TOKENS` table.
const TOKEN_TIMES: TableDefinition<(i64, &str), ()> = TableDefinition::new("transact_token_times");
/// How many expired tokens one recording transaction deletes at most. Every new token removes
/// up to this many expired ones, so expired tokens never accumulate: the store holds about the
/// tokens of the last [`IDEMPOTENCY_WINDOW_MS`].
const TOKEN_PURGE_BATCH: usize = 64;

/// AWS-validated (moto `test_transact_write_items__put_and_delete_on_same_item`).
const MULTIPLE_OPERATIONS: &str =
    "Transaction request cannot include multiple operations on one item";
/// DynamoDB Local's wording; AWS's is not on record.
const NO_OPERATION: &str =
    "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request";
/// DynamoDB Local's wording; AWS's is not on record.
const SEVERAL_OPERATIONS: &str =
    "TransactItems can only contain one of Check, Put, Update or Delete";
/// Put, Update and Delete (AWS-validated, paritysuite `transactWriteItems.test.ts`).
const CONDITION_FAILED: &str = "The conditional request failed";
/// A ConditionCheck's failure ends with a period in DynamoDB Local; AWS's is not on record.
const CHECK_FAILED: &str = "The conditional request failed.";

/// TransactWriteItems request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TransactWriteItemsInput {
    pub transact_items: Vec<TransactWriteItem>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub client_request_token: Option<String>,
}

/// One action of a TransactWriteItems; exactly one member is set.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TransactWriteItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_check: Option<ConditionCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put: Option<Put>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete: Option<Delete>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
}

/// `ConditionCheck` of a [`TransactWriteItem`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ConditionCheck {
    pub table_name: String,
    pub key: Item,
    pub condition_expression: String,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_values_on_condition_check_failure: Option<String>,
}

/// `Put` of a [`TransactWriteItem`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Put {
    pub table_name: String,
    pub item: Item,
    pub condition_expression: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_values_on_condition_check_failure: Option<String>,
}

/// `Delete` of a [`TransactWriteItem`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Delete {
    pub table_name: String,
    pub key: Item,
    pub condition_expression: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_values_on_condition_check_failure: Option<String>,
}

/// `Update` of a [`TransactWriteItem`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Update {
    pub table_name: String,
    pub key: Item,
    pub update_expression: String,
    pub condition_expression: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
    pub return_values_on_condition_check_failure: Option<String>,
}

/// TransactWriteItems output. `ItemCollectionMetrics` is never returned (no table has local
/// secondary indexes yet).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TransactWriteItemsOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// TransactGetItems request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TransactGetItemsInput {
    pub transact_items: Vec<TransactGetItem>,
    pub return_consumed_capacity: Option<String>,
}

/// One read of a TransactGetItems.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TransactGetItem {
    pub get: Get,
}

/// `Get` of a [`TransactGetItem`].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Get {
    pub table_name: String,
    pub key: Item,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
}

/// TransactGetItems output: one [`ItemResponse`] per Get, in request order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TransactGetItemsOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    pub responses: Vec<ItemResponse>,
}

/// The item a Get found: `{}` when there is none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ItemResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// What a remembered `ClientRequestToken` stands for.
#[derive(Debug, Serialize, Deserialize)]
struct TokenRecord {
    /// Fingerprint of the request's `TransactItems`.
    fingerprint: String,
    /// Engine-clock milliseconds at commit.
    at: i64,
    /// Read capacity a replay reports, per table in first-use order.
    read: Vec<(String, f64)>,
}

/// Deletes up to [`TOKEN_PURGE_BATCH`] tokens whose window ended before `now`. A token recorded
/// again since (a retry after expiry) has a newer time in `TOKENS`, and stays.
fn purge_expired_tokens(txn: &redb::WriteTransaction, now: i64) -> Result<()> {
    let cutoff = now.saturating_sub(IDEMPOTENCY_WINDOW_MS);
    let mut times = txn.open_table(TOKEN_TIMES)?;
    let mut expired = Vec::new();
    for entry in times
        .range((i64::MIN, "")..(cutoff, ""))?
        .take(TOKEN_PURGE_BATCH)
    {
        let (k, _) = entry?;
        let (at, key) = k.value();
        expired.push((at, key.to_string()));
    }
    let mut tokens = txn.open_table(TOKENS)?;
    for (at, key) in expired {
        times.remove((at, key.as_str()))?;
        let current = tokens
            .get(key.as_str())?
            .and_then(|v| serde_json::from_str::<TokenRecord>(v.value()).ok())
            .map(|r| r.at);
        if current.is_none_or(|t| t == at) {
            tokens.remove(key.as_str())?;
        }
    }
    Ok(())
}

/// The number of idempotency tokens stored, for tests of the purge.
#[cfg(test)]
pub(crate) fn stored_tokens(engine: &Engine) -> usize {
    engine
        .read(|txn| match txn.open_table(TOKENS) {
            Ok(t) => Ok(redb::ReadableTableMetadata::len(&t)? as usize),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(e.into()),
        })
        .unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    ConditionCheck,
    Put,
    Delete,
    Update,
}

/// One action after the checks that need no table.
struct Action<'a> {
    kind: Kind,
    table: &'a str,
    /// The Put item or the Key.
    key_source: &'a Item,
    input: ExpressionInput<'a>,
    exprs: Expressions,
    on_failure: Option<&'a str>,
}

/// An action's table and key, inside the transaction.
struct Resolved {
    meta: TableMeta,
    table_key: String,
    /// A key that does not match the schema cancels the action, not the request.
    key: Result<Vec<u8>>,
}

/// An action that passed, with what it writes.
struct Write {
    slot: ItemSlot,
    /// `None`: delete (a ConditionCheck writes nothing).
    new: Option<Item>,
    writes: bool,
}

/// How one action failed.
enum Failure {
    /// The transaction is cancelled with this reason.
    Reason(CancellationReason),
    /// The request fails as a whole.
    Request(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Request(e)
    }
}

enum Outcome {
    Applied { write: Vec<(String, f64)> },
    Replayed { read: Vec<(String, f64)> },
}

impl Engine {
    /// TransactWriteItems: every condition checked and every write applied in one write
    /// transaction, or nothing written.
    pub fn transact_write_items(
        &self,
        ns: &Namespace,
        input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput> {
        let mut actions = Vec::with_capacity(input.transact_items.len());
        let mut payload = 0usize;
        for item in &input.transact_items {
            let action = plan_write(item)?;
            payload += item_size(action.key_source);
            actions.push(action);
        }
        if payload > MAX_TRANSACTION_PAYLOAD {
            // DynamoDB Local's wording (the sizes of the items); AWS's is not on record.
            return Err(Error::validation(format!(
                "Transaction payload size cannot exceed 4MB. Payload Size: {payload}"
            )));
        }
        let token = input
            .client_request_token
            .as_deref()
            .map(|t| format!("{}{t}", ns.prefix()));
        let fingerprint = fingerprint(&input.transact_items)?;
        let now = self.clock.now().0;
        let outcome = self.write(|txn| {
            if let Some(token) = &token {
                let tokens = txn.open_table(TOKENS)?;
                let record = tokens
                    .get(token.as_str())?
                    .map(|v| serde_json::from_str::<TokenRecord>(v.value()))
                    .transpose()
                    .map_err(|e| Error::Internal(format!("token record is corrupt: {e}")))?;
                if let Some(record) = record
                    && now.saturating_sub(record.at) < IDEMPOTENCY_WINDOW_MS
                {
                    if record.fingerprint != fingerprint {
                        // DynamoDB Local sends an empty message; AWS's is not on record.
                        return Err(Error::IdempotentParameterMismatch(String::new()));
                    }
                    return Ok(Outcome::Replayed { read: record.read });
                }
            }
            let resolved = resolve_writes(txn, ns, &actions)?;
            let mut reasons = Vec::with_capacity(actions.len());
            let mut writes = Vec::with_capacity(actions.len());
            let mut cancelled = false;
            for (action, resolved) in actions.iter().zip(resolved) {
                match evaluate(txn, action, resolved) {
                    Ok(write) => {
                        reasons.push(reason("None", None));
                        writes.push(write);
                    }
                    Err(Failure::Reason(r)) => {
                        cancelled = true;
                        reasons.push(r);
                    }
                    Err(Failure::Request(e)) => return Err(e),
                }
            }
            if cancelled {
                return Err(cancellation(reasons));
            }
            let mut write = Vec::new();
            let mut read = Vec::new();
            for (action, w) in actions.iter().zip(&writes) {
                if w.writes && (w.new.is_some() || w.slot.old.is_some()) {
                    Engine::store(txn, &w.slot, w.new.as_ref())?;
                }
                let old = w.slot.old.as_ref().map(item_size).unwrap_or(0);
                let size = old.max(w.new.as_ref().map(item_size).unwrap_or(0));
                // Transactional writes and reads cost twice: prepare and commit (developer
                // guide, "Capacity management for transactions").
                add_units(&mut write, action.table, 2.0 * write_units(size));
                add_units(&mut read, action.table, 2.0 * read_units(size, true));
            }
            if let Some(token) = &token {
                let record = TokenRecord {
                    fingerprint: fingerprint.clone(),
                    at: now,
                    read,
                };
                let json = serde_json::to_string(&record)
                    .map_err(|e| Error::Internal(format!("cannot encode token record: {e}")))?;
                purge_expired_tokens(txn, now)?;
                txn.open_table(TOKENS)?
                    .insert(token.as_str(), json.as_str())?;
                txn.open_table(TOKEN_TIMES)?
                    .insert((now, token.as_str()), ())?;
            }
            Ok(Outcome::Applied { write })
        })?;
        let mode = input.return_consumed_capacity.as_deref();
        let capacity = match outcome {
            Outcome::Applied { write } => capacity_list(&write, true, mode),
            Outcome::Replayed { read } => capacity_list(&read, false, mode),
        };
        Ok(TransactWriteItemsOutput {
            consumed_capacity: capacity,
        })
    }

    /// TransactGetItems: every Get read from one snapshot.
    pub fn transact_get_items(
        &self,
        ns: &Namespace,
        input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput> {
        let mut projections: Vec<Option<Projection>> =
            Vec::with_capacity(input.transact_items.len());
        for item in &input.transact_items {
            let get = &item.get;
            let exprs = expr::parse(
                &ExpressionInput {
                    projection: get.projection_expression.as_deref(),
                    names: get.expression_attribute_names.as_ref(),
                    ..Default::default()
                },
                &[],
            )?;
            projections.push(exprs.projection);
        }
        let mode = input.return_consumed_capacity.as_deref();
        self.read(|txn| {
            let catalog = txn.open_table(CATALOG)?;
            let mut resolved = Vec::with_capacity(input.transact_items.len());
            for item in &input.transact_items {
                let get = &item.get;
                let meta = Engine::load_meta_shared(&catalog, &ns.table_key(&get.table_name))?
                    .ok_or_else(Error::table_not_found)?;
                let pk = meta.primary_key();
                if let Some(e) = empty_key_value(&pk, &get.key) {
                    return Err(e);
                }
                let key = pk.encode_key_param(&get.key);
                resolved.push((meta, key));
            }
            let mut seen = HashSet::new();
            for (meta, key) in &resolved {
                if let Ok(key) = key
                    && !seen.insert((meta.table_num, key.clone()))
                {
                    return Err(Error::validation(MULTIPLE_OPERATIONS));
                }
            }
            if resolved.iter().any(|(_, key)| key.is_err()) {
                // paritysuite `transactGetItems.test.ts`: a Key that does not match the schema
                // cancels the read with a ValidationError reason.
                let reasons = resolved
                    .iter()
                    .map(|(_, key)| match key {
                        Ok(_) => reason("None", None),
                        Err(e) => reason("ValidationError", Some(e.to_string())),
                    })
                    .collect();
                return Err(cancellation(reasons));
            }
            let mut responses = Vec::with_capacity(resolved.len());
            let mut units = Vec::new();
            for ((item, (meta, key)), projection) in
                input.transact_items.iter().zip(resolved).zip(&projections)
            {
                let name = items_table_name(meta.table_num);
                let table = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
                let key = key?;
                let found = table
                    .get(key.as_slice())?
                    .map(|v| decode_item(v.value()))
                    .transpose()?;
                let size = found.as_ref().map(item_size).unwrap_or(0);
                // Every Get costs two strongly consistent reads, a missing item included
                // (paritysuite/dynamodb-conformance #27, measured on AWS).
                add_units(
                    &mut units,
                    &item.get.table_name,
                    2.0 * read_units(size, true),
                );
                responses.push(ItemResponse {
                    item: found.map(|found| match projection {
                        Some(p) => p.apply(&found),
                        None => found,
                    }),
                });
            }
            Ok(TransactGetItemsOutput {
                consumed_capacity: capacity_list(&units, false, mode),
                responses,
            })
        })
    }
}

/// The checks of one action that need no table.
fn plan_write(item: &TransactWriteItem) -> Result<Action<'_>> {
    let count = usize::from(item.condition_check.is_some())
        + usize::from(item.put.is_some())
        + usize::from(item.delete.is_some())
        + usize::from(item.update.is_some());
    if count == 0 {
        return Err(Error::validation(NO_OPERATION));
    }
    if count > 1 {
        return Err(Error::validation(SEVERAL_OPERATIONS));
    }
    let (kind, table, key_source, input, on_failure, valued): (_, _, _, _, _, &[&str]) =
        if let Some(c) = &item.condition_check {
            let (names, values) = names_values(&c.params);
            (
                Kind::ConditionCheck,
                &c.table_name,
                &c.key,
                ExpressionInput {
                    condition: Some(&c.condition_expression),
                    names,
                    values,
                    ..Default::default()
                },
                &c.return_values_on_condition_check_failure,
                &["ConditionExpression"],
            )
        } else if let Some(p) = &item.put {
            let (names, values) = names_values(&p.params);
            (
                Kind::Put,
                &p.table_name,
                &p.item,
                ExpressionInput {
                    condition: p.condition_expression.as_deref(),
                    names,
                    values,
                    ..Default::default()
                },
                &p.return_values_on_condition_check_failure,
                &["ConditionExpression"],
            )
        } else if let Some(d) = &item.delete {
            let (names, values) = names_values(&d.params);
            (
                Kind::Delete,
                &d.table_name,
                &d.key,
                ExpressionInput {
                    condition: d.condition_expression.as_deref(),
                    names,
                    values,
                    ..Default::default()
                },
                &d.return_values_on_condition_check_failure,
                &["ConditionExpression"],
            )
        } else if let Some(u) = &item.update {
            let (names, values) = names_values(&u.params);
            (
                Kind::Update,
                &u.table_name,
                &u.key,
                ExpressionInput {
                    condition: u.condition_expression.as_deref(),
                    update: Some(&u.update_expression),
                    names,
                    values,
                    ..Default::default()
                },
                &u.return_values_on_condition_check_failure,
                &["UpdateExpression", "ConditionExpression"],
            )
        } else {
            return Err(Error::validation(NO_OPERATION));
        };
    expr::check_parameters(&input, valued)?;
    if kind == Kind::Put {
        // A too large or too deep Put item fails the request before any table is read
        // (paritysuite `nestingDepth.test.ts`, real AWS).
        check_item_size(key_source)?;
        check_nesting(key_source)?;
    }
    let exprs = expr::parse(&input, &[])?;
    Ok(Action {
        kind,
        table,
        key_source,
        input,
        exprs,
        on_failure: on_failure.as_deref(),
    })
}

/// The names and values maps of an action.
#[allow(clippy::type_complexity)]
fn names_values(
    p: &ExpressionParams,
) -> (
    Option<&BTreeMap<String, String>>,
    Option<&BTreeMap<String, AttributeValue>>,
) {
    (
        p.expression_attribute_names.as_ref(),
        p.expression_attribute_values.as_ref(),
    )
}

/// Looks up every action's table and key, then rejects two actions on one item.
fn resolve_writes(
    txn: &redb::WriteTransaction,
    ns: &Namespace,
    actions: &[Action],
) -> Result<Vec<Resolved>> {
    let mut resolved = Vec::with_capacity(actions.len());
    for action in actions {
        let meta = Engine::meta_in(txn, ns, action.table)?;
        let pk = meta.primary_key();
        // An empty key value fails the whole request; a key of the wrong shape cancels the
        // action (paritysuite `transactWriteItems.test.ts`, real AWS).
        if let Some(e) = empty_key_value(&pk, action.key_source) {
            return Err(e);
        }
        let key = match action.kind {
            Kind::Put => pk.encode_item_key(action.key_source),
            _ => pk.encode_key_param(action.key_source),
        };
        resolved.push(Resolved {
            table_key: meta.catalog_key(),
            meta,
            key,
        });
    }
    let mut seen = HashSet::new();
    for r in &resolved {
        if let Ok(key) = &r.key
            && !seen.insert((r.table_key.as_str(), key.as_slice()))
        {
            return Err(Error::validation(MULTIPLE_OPERATIONS));
        }
    }
    Ok(resolved)
}

/// Runs one action against the item as it was before the transaction.
fn evaluate(
    txn: &redb::WriteTransaction,
    action: &Action,
    resolved: Resolved,
) -> std::result::Result<Write, Failure> {
    let key_bytes = resolved.key.map_err(validation_reason)?;
    let meta = resolved.meta;
    let old = Engine::load_item(txn, &meta, &key_bytes)?;
    let mut exprs = None;
    if action.kind == Kind::Update {
        // The check that no key attribute is updated needs the schema: a cancellation reason
        // in DynamoDB Local.
        exprs = Some(
            expr::parse(&action.input, &meta.primary_key().names()).map_err(validation_reason)?,
        );
    }
    let exprs = exprs.as_ref().unwrap_or(&action.exprs);
    if let Some(cond) = &exprs.condition {
        let empty = Item::new();
        if !cond.evaluate(old.as_ref().unwrap_or(&empty))? {
            let message = if action.kind == Kind::ConditionCheck {
                CHECK_FAILED
            } else {
                CONDITION_FAILED
            };
            return Err(Failure::Reason(CancellationReason {
                code: "ConditionalCheckFailed".into(),
                message: Some(message.into()),
                item: if action.on_failure == Some("ALL_OLD") {
                    old
                } else {
                    None
                },
            }));
        }
    }
    let new = match action.kind {
        Kind::ConditionCheck | Kind::Delete => None,
        Kind::Put => {
            check_index_keys(action.key_source, &meta.index_key_types())
                .map_err(validation_reason)?;
            Some(action.key_source.clone())
        }
        Kind::Update => {
            let mut new = old.clone().unwrap_or_else(|| action.key_source.clone());
            if let Some(update) = &exprs.update {
                // A runtime update error fails the request in DynamoDB Local.
                update.apply(&mut new)?;
            }
            if item_size(&new) > MAX_ITEM_SIZE {
                return Err(validation_reason(Error::validation(
                    "Item size to update has exceeded the maximum allowed size",
                )));
            }
            // An update that makes the item too deep cancels (paritysuite
            // `nestingDepth.test.ts`, real AWS).
            check_nesting(&new).map_err(validation_reason)?;
            check_index_keys(&new, &meta.index_key_types()).map_err(validation_reason)?;
            Some(new)
        }
    };
    Ok(Write {
        writes: action.kind != Kind::ConditionCheck,
        slot: ItemSlot {
            table_key: resolved.table_key,
            meta,
            key_bytes,
            old,
        },
        new,
    })
}

/// AWS's message for an empty string or binary key value inside a transaction: the same for
/// a Put item and for a Key (paritysuite `transactWriteItems.test.ts`, real AWS).
fn empty_key_value(pk: &PrimaryKey, source: &Item) -> Option<Error> {
    pk.names().into_iter().find_map(|name| {
        let what = match source.get(name)? {
            AttributeValue::S(s) if s.is_empty() => "string",
            AttributeValue::B(b) if b.is_empty() => "binary",
            _ => return None,
        };
        Some(Error::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {name}"
        )))
    })
}

fn reason(code: &str, message: Option<String>) -> CancellationReason {
    CancellationReason {
        code: code.into(),
        message,
        item: None,
    }
}

fn validation_reason(e: Error) -> Failure {
    Failure::Reason(reason("ValidationError", Some(e.to_string())))
}

/// `TransactionCanceledException` with AWS's message (localstack snapshot
/// `test_transaction_write_canceled`, recorded against AWS).
fn cancellation(reasons: Vec<CancellationReason>) -> Error {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    Error::TransactionCanceled {
        message: format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
        reasons,
    }
}

/// Adds `units` to `table`'s entry, keeping tables in first-use order.
fn add_units(list: &mut Vec<(String, f64)>, table: &str, units: f64) {
    match list.iter_mut().find(|(t, _)| t == table) {
        Some((_, u)) => *u += units,
        None => list.push((table.to_string(), units)),
    }
}

/// `ConsumedCapacity` of a transaction, one entry per table. Unlike the single-item
/// operations, AWS splits transactional capacity into `ReadCapacityUnits` or
/// `WriteCapacityUnits` (paritysuite/dynamodb-conformance #67 and #74, measured on AWS);
/// DynamoDB Local reports only `CapacityUnits`.
fn capacity_list(
    units: &[(String, f64)],
    write: bool,
    mode: Option<&str>,
) -> Option<Vec<ConsumedCapacity>> {
    let indexes = match mode {
        Some("TOTAL") => false,
        Some("INDEXES") => true,
        _ => return None,
    };
    Some(
        units
            .iter()
            .map(|(table, units)| {
                let (r, w) = if write {
                    (None, Some(*units))
                } else {
                    (Some(*units), None)
                };
                ConsumedCapacity {
                    table_name: table.clone(),
                    capacity_units: *units,
                    read_capacity_units: r,
                    write_capacity_units: w,
                    table: indexes.then_some(Capacity {
                        capacity_units: *units,
                        read_capacity_units: r,
                        write_capacity_units: w,
                    }),
                }
            })
            .collect(),
    )
}

/// A fingerprint of the actions: two FNV-1a 64-bit hashes of their canonical JSON (items and
/// expression maps are ordered maps, so equal requests give equal JSON).
fn fingerprint(items: &[TransactWriteItem]) -> Result<String> {
    let json = serde_json::to_vec(items)
        .map_err(|e| Error::Internal(format!("cannot encode request: {e}")))?;
    let fnv = |basis: u64| {
        json.iter().fold(basis, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    Ok(format!(
        "{:016x}{:016x}{:x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142),
        json.len()
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::{ManualClock, Timestamp};

    fn put(engine: &Engine, ns: &Namespace, token: &str, n: u32) -> Result<()> {
        let input: TransactWriteItemsInput = serde_json::from_value(json!({
            "ClientRequestToken": token,
            "TransactItems": [{"Put": {"TableName": "t",
                "Item": {"id": {"S": format!("i{n}")}}}}]
        }))
        .map_err(|e| Error::Internal(e.to_string()))?;
        engine.transact_write_items(ns, input).map(|_| ())
    }

    /// Tokens are kept for ten minutes of engine time and then deleted, a batch per new
    /// token, so a long-running server does not keep every token it ever saw.
    #[test]
    fn expired_idempotency_tokens_are_deleted() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
        let engine = Engine::builder().clock(clock.clone()).build().unwrap();
        let ns = Namespace::default();
        engine
            .create_table(
                &ns,
                serde_json::from_value(json!({"TableName": "t",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST"}))
                .unwrap(),
            )
            .unwrap();
        for n in 0..100 {
            put(&engine, &ns, &format!("token-{n}"), n).unwrap();
        }
        assert_eq!(stored_tokens(&engine), 100);
        // Within the window, nothing is deleted and a replay with other items is refused.
        clock.advance(Duration::from_secs(9 * 60));
        put(&engine, &ns, "token-100", 100).unwrap();
        assert_eq!(stored_tokens(&engine), 101);
        assert!(matches!(
            put(&engine, &ns, "token-0", 7),
            Err(Error::IdempotentParameterMismatch(_))
        ));
        // Past it, every new token deletes up to a batch of expired ones.
        clock.advance(Duration::from_secs(2 * 60));
        put(&engine, &ns, "fresh-1", 200).unwrap();
        assert_eq!(stored_tokens(&engine), 101 - TOKEN_PURGE_BATCH + 1);
        put(&engine, &ns, "fresh-2", 201).unwrap();
        // 100 expired tokens are gone; token-100 (9 minutes old at the second advance) stays.
        assert_eq!(stored_tokens(&engine), 3);
        // An expired token is free again: the same token with other items is a new request.
        put(&engine, &ns, "token-0", 8).unwrap();
    }
}
