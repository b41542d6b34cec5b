//! Running statements: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.
//!
//! Reads become Query (when the WHERE pins the partition key by equality or IN, one Query per
//! partition value) or Scan on the table or index; the WHERE is then evaluated on each item
//! with the engine's [`Condition`] evaluator and the projection applied. Writes become
//! PutItem (INSERT, with `attribute_not_exists` on the partition key), UpdateItem (UPDATE,
//! with `attribute_exists`) and DeleteItem, with the rest of the WHERE as the condition, so
//! every write goes through the engine's one write path. A transaction becomes one
//! TransactWriteItems or TransactGetItems.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::ast::{Expr, Returning, SelectList, Statement, UpdateClause};
use super::compile::{Ctx, PARAM_COUNT, conjuncts, doc_path, has_type, key_type_mismatch};
use super::parser::parse;
use super::render::Render;
use crate::catalog::{TableMeta, resolve_key};
use crate::engine::{Engine, Namespace};
use crate::error::{CancellationReason, Error, Result};
use crate::expr::{Comparator, Condition, DocPath, Operand, PathElem, UpdateAction, resolve};
use crate::item_ops::{
    ConsumedCapacity, DeleteItemInput, ExpressionParams, PutItemInput, UpdateItemInput,
};
use crate::keys::PrimaryKey;
use crate::query_ops::{QueryInput, ReadCapacity, ScanInput, Units};
use crate::transact_ops::{
    ConditionCheck, Delete, Get, Put, TransactGetItem, TransactGetItemsInput, TransactWriteItem,
    TransactWriteItemsInput, Update,
};
use crate::value::{AttributeValue, Item};

/// The most statements one BatchExecuteStatement may hold (checked by the model validation).
pub const MAX_BATCH_STATEMENTS: usize = 25;

/// AWS's `DuplicateItemException` text for an INSERT of an existing key (DynamoDB Local
/// 3.3.1).
const DUPLICATE_ITEM: &str = "Duplicate primary key exists in table";

/// ExecuteStatement request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExecuteStatementInput {
    pub statement: String,
    pub parameters: Option<Vec<AttributeValue>>,
    pub consistent_read: Option<bool>,
    pub next_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub limit: Option<i64>,
    pub return_values_on_condition_check_failure: Option<String>,
}

/// ExecuteStatement output.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteStatementOutput {
    /// Items read, or the item a write's `RETURNING` asked for; empty otherwise.
    pub items: Vec<Item>,
    /// Where the next page starts; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Capacity consumed, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ReadCapacity>,
}

/// One statement of a BatchExecuteStatement.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BatchStatementRequest {
    pub statement: String,
    pub parameters: Option<Vec<AttributeValue>>,
    pub consistent_read: Option<bool>,
    pub return_values_on_condition_check_failure: Option<String>,
}

/// BatchExecuteStatement request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct BatchExecuteStatementInput {
    pub statements: Vec<BatchStatementRequest>,
    pub return_consumed_capacity: Option<String>,
}

/// Why one statement of a batch failed.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchStatementError {
    /// `ValidationError`, `ConditionalCheckFailed`, `ResourceNotFound`, `DuplicateItem`, ….
    pub code: String,
    /// AWS's message.
    pub message: String,
    /// The item, for a failed condition with `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// The outcome of one statement of a batch.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchStatementResponse {
    /// The failure, if the statement failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BatchStatementError>,
    /// The statement's table, when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// The item a read found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// BatchExecuteStatement output: one response per statement, in request order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchExecuteStatementOutput {
    /// The responses.
    pub responses: Vec<BatchStatementResponse>,
    /// Capacity per table, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ReadCapacity>>,
}

/// One statement of an ExecuteTransaction.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ParameterizedStatement {
    pub statement: String,
    pub parameters: Option<Vec<AttributeValue>>,
    pub return_values_on_condition_check_failure: Option<String>,
}

/// ExecuteTransaction request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ExecuteTransactionInput {
    pub transact_statements: Vec<ParameterizedStatement>,
    pub client_request_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
}

/// What one statement of a read transaction found (`{}` when nothing).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactionItem {
    /// The item, projected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// ExecuteTransaction output.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteTransactionOutput {
    /// One entry per statement of a read transaction; empty for a write transaction.
    pub responses: Vec<TransactionItem>,
    /// Capacity per table, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// A parsed statement with its parameters.
struct Parsed<'a> {
    stmt: Statement,
    ctx: Ctx<'a>,
}

fn prepare<'a>(src: &'a str, params: Option<&'a [AttributeValue]>) -> Result<Parsed<'a>> {
    let (stmt, count) = parse(src)?;
    let params = params.unwrap_or(&[]);
    if params.len() != count {
        return Err(Error::validation(PARAM_COUNT));
    }
    Ok(Parsed {
        stmt,
        ctx: Ctx { src, params },
    })
}

/// Where a paged SELECT resumes: which partition value (or 0 for a scan) and after which key.
#[derive(Debug, Serialize, Deserialize)]
struct Token {
    p: usize,
    k: Option<Item>,
}

fn invalid_token() -> Error {
    Error::validation("Invalid NextToken")
}

fn decode_token(t: &str) -> Result<Token> {
    let bytes = B64.decode(t).map_err(|_| invalid_token())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid_token())
}

fn encode_token(t: &Token) -> Result<String> {
    let json = serde_json::to_vec(t).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(B64.encode(json))
}

fn start_key(k: Option<&Item>) -> Result<Option<BTreeMap<String, serde_json::Value>>> {
    k.map(|item| {
        item.iter()
            .map(|(n, v)| {
                serde_json::to_value(v)
                    .map(|j| (n.clone(), j))
                    .map_err(|e| Error::Internal(e.to_string()))
            })
            .collect()
    })
    .transpose()
}

/// Adds `c` to `acc`, summing units.
fn merge(acc: &mut Option<ReadCapacity>, c: Option<ReadCapacity>) {
    let Some(c) = c else { return };
    let Some(a) = acc else {
        *acc = Some(c);
        return;
    };
    a.capacity_units += c.capacity_units;
    if let Some(t) = c.table {
        a.table.get_or_insert_with(Units::default).capacity_units += t.capacity_units;
    }
    for (mine, theirs) in [
        (&mut a.local_secondary_indexes, c.local_secondary_indexes),
        (&mut a.global_secondary_indexes, c.global_secondary_indexes),
    ] {
        for (name, u) in theirs.unwrap_or_default() {
            mine.get_or_insert_with(BTreeMap::new)
                .entry(name)
                .or_default()
                .capacity_units += u.capacity_units;
        }
    }
}

fn meta(engine: &Engine, ns: &Namespace, table: &str) -> Result<TableMeta> {
    engine
        .table_meta(ns, table)?
        .ok_or_else(Error::table_not_found)
}

/// The key schema a SELECT reads through: the table's or the named index's.
fn read_key(meta: &TableMeta, index: Option<&str>) -> Result<PrimaryKey> {
    match index {
        None => Ok(meta.primary_key()),
        Some(name) => meta
            .gsis
            .iter()
            .chain(&meta.lsis)
            .find(|i| i.name == name)
            .map(|i| resolve_key(&i.key_schema, &meta.attribute_definitions))
            .ok_or_else(|| {
                Error::Validation(format!(
                    "The table does not have the specified index: {name}"
                ))
            }),
    }
}

/// A sort-key conjunct a Query can use as its range condition, rendered.
fn sort_condition(
    ctx: &Ctx,
    filter: &Expr,
    sort: &(String, crate::value::ScalarType),
    r: &mut Render,
) -> Result<Option<String>> {
    for c in conjuncts(filter) {
        let Ok(cond) = ctx.condition(c) else { continue };
        let is_sort = |o: &Operand| matches!(o, Operand::Path(p) if *p == DocPath::attr(&sort.0));
        let typed = |o: &Operand| matches!(o, Operand::Value(v) if has_type(v, sort.1));
        match &cond {
            Condition::Compare(op, a, b) if *op != Comparator::Ne => {
                let (op, v) = if is_sort(a) && typed(b) {
                    (*op, b)
                } else if is_sort(b) && typed(a) {
                    (op.flip(), a)
                } else {
                    continue;
                };
                let text = format!("{} {} {}", r_path(r, &sort.0), op.as_str(), r_op(r, v));
                return Ok(Some(text));
            }
            Condition::Between(a, lo, hi) if is_sort(a) && typed(lo) && typed(hi) => {
                let text = format!(
                    "{} BETWEEN {} AND {}",
                    r_path(r, &sort.0),
                    r_op(r, lo),
                    r_op(r, hi)
                );
                return Ok(Some(text));
            }
            Condition::BeginsWith(a, b)
                if is_sort(a) && typed(b) && sort.1 != crate::value::ScalarType::N =>
            {
                let text = format!("begins_with({}, {})", r_path(r, &sort.0), r_op(r, b));
                return Ok(Some(text));
            }
            _ => {}
        }
    }
    Ok(None)
}

fn r_path(r: &mut Render, name: &str) -> String {
    r.path(&DocPath::attr(name))
}

fn r_op(r: &mut Render, o: &Operand) -> String {
    match o {
        Operand::Value(v) => r.value(v),
        _ => String::new(),
    }
}

fn key_condition_exists(pk: &PrimaryKey) -> Condition {
    Condition::AttributeExists(DocPath::attr(&pk.hash.0))
}

fn and(a: Condition, b: Option<Condition>) -> Condition {
    match b {
        Some(b) => Condition::And(Box::new(a), Box::new(b)),
        None => a,
    }
}

/// The projected paths of a SELECT, or `None` for `*`.
fn select_paths(list: &SelectList) -> Option<Vec<DocPath>> {
    match list {
        SelectList::Star => None,
        SelectList::Paths(paths) => Some(paths.iter().map(doc_path).collect()),
    }
}

/// A SELECT list applied to an item, the way PartiQL names its columns: each path's value
/// under the path's last attribute name, followed by any trailing list indexes
/// (`SELECT a.b[0]` gives `{"b[0]": …}`; DynamoDB Local 3.3.1 does the same). Absent values are
/// left out.
fn project(item: &Item, paths: &[DocPath]) -> Item {
    let mut out = Item::new();
    for path in paths {
        let Some(v) = resolve(item, path) else {
            continue;
        };
        let last_attr = path
            .0
            .iter()
            .rposition(|e| matches!(e, PathElem::Attr(_)))
            .unwrap_or(0);
        let mut name = String::new();
        for e in &path.0[last_attr..] {
            match e {
                PathElem::Attr(a) => name.push_str(a),
                PathElem::Index(i) => name.push_str(&format!("[{i}]")),
            }
        }
        out.insert(name, v.clone());
    }
    out
}

/// A write statement as the engine's single-item request.
enum WritePlan {
    Put(PutItemInput),
    Update(UpdateItemInput),
    Delete(DeleteItemInput),
    /// EXISTS: a transaction's condition check.
    Check(ConditionCheck),
}

impl WritePlan {
    fn key_of(&self, pk: &PrimaryKey) -> (String, Item) {
        match self {
            WritePlan::Put(p) => (p.table_name.clone(), pk.key_of(&p.item)),
            WritePlan::Update(u) => (u.table_name.clone(), u.key.clone()),
            WritePlan::Delete(d) => (d.table_name.clone(), d.key.clone()),
            WritePlan::Check(c) => (c.table_name.clone(), c.key.clone()),
        }
    }
}

fn params(r: &Render) -> ExpressionParams {
    ExpressionParams {
        expression_attribute_names: r.names(),
        expression_attribute_values: r.values(),
    }
}

impl Engine {
    /// ExecuteStatement: one PartiQL statement.
    pub fn execute_statement(
        &self,
        ns: &Namespace,
        input: ExecuteStatementInput,
    ) -> Result<ExecuteStatementOutput> {
        let parsed = prepare(&input.statement, input.parameters.as_deref())?;
        if let Some(l) = input.limit
            && l < 1
        {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
        match &parsed.stmt {
            Statement::Select { .. } => self.run_select(ns, &parsed, &input),
            Statement::Exists { .. } => Err(Error::validation(
                "EXISTS can only be used in ExecuteTransaction write requests.",
            )),
            _ => {
                let plan = self.plan_write(
                    ns,
                    &parsed,
                    input.return_consumed_capacity.as_deref(),
                    input.return_values_on_condition_check_failure.as_deref(),
                )?;
                let (items, consumed) = self.run_write(ns, plan)?;
                Ok(ExecuteStatementOutput {
                    items,
                    next_token: None,
                    consumed_capacity: consumed,
                })
            }
        }
    }

    fn run_select(
        &self,
        ns: &Namespace,
        parsed: &Parsed,
        input: &ExecuteStatementInput,
    ) -> Result<ExecuteStatementOutput> {
        let Statement::Select {
            list,
            table,
            index,
            filter,
            order_by,
        } = &parsed.stmt
        else {
            return Err(Error::Internal("not a SELECT".into()));
        };
        let ctx = &parsed.ctx;
        let meta = meta(self, ns, table)?;
        let pk = read_key(&meta, index.as_deref())?;
        let condition = filter.as_ref().map(|f| ctx.condition(f)).transpose()?;
        let projection = select_paths(list);
        let mut partitions = match filter {
            Some(f) => ctx.partition_values(f, &pk.hash.0)?,
            None => None,
        };
        if let Some(values) = &partitions
            && values.iter().any(|v| !has_type(v, pk.hash.1))
        {
            return Err(key_type_mismatch(&pk.hash.0));
        }
        // ORDER BY: AWS's rules and texts as DynamoDB Local 3.3.1 words them.
        let mut forward = true;
        if !order_by.is_empty() {
            if filter.is_none() {
                return Err(Error::validation(
                    "Must have WHERE clause in the statement when using ORDER BY clause.",
                ));
            }
            for (path, _) in order_by {
                let name = match path.elems.as_slice() {
                    [crate::expr::PathElem::Attr(a)] => a.as_str(),
                    _ => "",
                };
                if !pk.names().contains(&name) {
                    return Err(Error::Validation(format!(
                        "Variable reference {} in ORDER BY clause must be part of the primary key",
                        doc_path(path)
                    )));
                }
            }
            let Some(values) = partitions.as_mut() else {
                return Err(Error::validation(
                    "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.",
                ));
            };
            for (path, desc) in order_by {
                if doc_path(path) == DocPath::attr(&pk.hash.0) {
                    values.sort_by(|a, b| {
                        crate::expr::compare_values(a, b).unwrap_or(std::cmp::Ordering::Equal)
                    });
                    if *desc {
                        values.reverse();
                    }
                } else {
                    forward = !desc;
                }
            }
        }
        let token = input.next_token.as_deref().map(decode_token).transpose()?;
        let (start_part, mut start) = match token {
            Some(t) => (t.p, t.k),
            None => (0, None),
        };
        let mut remaining = input.limit.map(|l| l.max(1) as u64);
        let mut items = Vec::new();
        let mut consumed = None;
        let mut next = None;
        let keep = |item: Item, items: &mut Vec<Item>| -> Result<()> {
            if let Some(c) = &condition
                && !c.evaluate(&item)?
            {
                return Ok(());
            }
            items.push(match &projection {
                Some(paths) => project(&item, paths),
                None => item,
            });
            Ok(())
        };
        match &partitions {
            None => {
                if start_part != 0 {
                    return Err(invalid_token());
                }
                let out = self.scan(
                    ns,
                    ScanInput {
                        table_name: table.clone(),
                        index_name: index.clone(),
                        limit: remaining.map(|r| r as i64),
                        consistent_read: input.consistent_read,
                        exclusive_start_key: start_key(start.as_ref())?,
                        return_consumed_capacity: input.return_consumed_capacity.clone(),
                        ..Default::default()
                    },
                )?;
                for item in out.items.unwrap_or_default() {
                    keep(item, &mut items)?;
                }
                merge(&mut consumed, out.consumed_capacity);
                if let Some(k) = out.last_evaluated_key {
                    next = Some(Token { p: 0, k: Some(k) });
                }
            }
            Some(values) => {
                if start_part > values.len() {
                    return Err(invalid_token());
                }
                for (i, value) in values.iter().enumerate().skip(start_part) {
                    let mut r = Render::default();
                    let mut kc = format!("{} = {}", r_path(&mut r, &pk.hash.0), r.value(value));
                    if let (Some(sort), Some(f)) = (&pk.range, filter)
                        && let Some(sc) = sort_condition(ctx, f, sort, &mut r)?
                    {
                        kc = format!("{kc} AND {sc}");
                    }
                    let out = self.query(
                        ns,
                        QueryInput {
                            table_name: table.clone(),
                            index_name: index.clone(),
                            limit: remaining.map(|r| r as i64),
                            consistent_read: input.consistent_read,
                            scan_index_forward: Some(forward),
                            exclusive_start_key: start_key(start.take().as_ref())?,
                            return_consumed_capacity: input.return_consumed_capacity.clone(),
                            key_condition_expression: Some(kc),
                            params: params(&r),
                            ..Default::default()
                        },
                    )?;
                    if let Some(rem) = remaining.as_mut() {
                        *rem = rem.saturating_sub(out.scanned_count);
                    }
                    for item in out.items.unwrap_or_default() {
                        keep(item, &mut items)?;
                    }
                    merge(&mut consumed, out.consumed_capacity);
                    if let Some(k) = out.last_evaluated_key {
                        next = Some(Token { p: i, k: Some(k) });
                        break;
                    }
                    if remaining == Some(0) {
                        if i + 1 < values.len() {
                            next = Some(Token { p: i + 1, k: None });
                        }
                        break;
                    }
                }
            }
        }
        Ok(ExecuteStatementOutput {
            items,
            next_token: next.as_ref().map(encode_token).transpose()?,
            consumed_capacity: consumed,
        })
    }

    /// Turns INSERT, UPDATE, DELETE or EXISTS into the engine request that runs it.
    fn plan_write(
        &self,
        ns: &Namespace,
        parsed: &Parsed,
        capacity: Option<&str>,
        on_failure: Option<&str>,
    ) -> Result<WritePlan> {
        let ctx = &parsed.ctx;
        let meta = meta(self, ns, parsed.stmt.table())?;
        let pk = meta.primary_key();
        let mut r = Render::default();
        Ok(match &parsed.stmt {
            Statement::Insert { table, value } => {
                let item = match value {
                    Expr::Lit(l @ super::ast::Lit::Tuple(_), span) => match ctx.value(l, span)? {
                        AttributeValue::M(m) => m,
                        _ => return Err(super::parser::not_well_formed(ctx.src)),
                    },
                    _ => return Err(super::parser::not_well_formed(ctx.src)),
                };
                for (name, ty) in std::iter::once(&pk.hash).chain(pk.range.as_ref()) {
                    match item.get(name) {
                        None => {
                            return Err(Error::Validation(format!(
                                "Key attribute should be present in the item: Key {name}"
                            )));
                        }
                        Some(v) if !has_type(v, *ty) => return Err(key_type_mismatch(name)),
                        Some(_) => {}
                    }
                }
                let cond = r.condition(&Condition::AttributeNotExists(DocPath::attr(&pk.hash.0)));
                WritePlan::Put(PutItemInput {
                    table_name: table.clone(),
                    item,
                    condition_expression: Some(cond),
                    params: params(&r),
                    return_values: None,
                    return_consumed_capacity: capacity.map(str::to_string),
                    return_item_collection_metrics: None,
                    return_values_on_condition_check_failure: None,
                    expected: None,
                    conditional_operator: None,
                })
            }
            Statement::Update {
                table,
                clauses,
                filter,
                returning,
            } => {
                let (key, rest) = ctx.split_key(filter, &pk)?;
                let actions = clauses
                    .iter()
                    .map(|c| match c {
                        UpdateClause::Set(p, v) => ctx.set_action(p, v),
                        UpdateClause::Remove(p) => Ok(UpdateAction::Remove(doc_path(p))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let update = r.update(&actions);
                let cond = and(key_condition_exists(&pk), ctx.conjunction(&rest)?);
                let cond = r.condition(&cond);
                WritePlan::Update(UpdateItemInput {
                    table_name: table.clone(),
                    key,
                    update_expression: Some(update),
                    condition_expression: Some(cond),
                    params: params(&r),
                    return_values: returning.map(|r| r.return_values().to_string()),
                    return_consumed_capacity: capacity.map(str::to_string),
                    return_item_collection_metrics: None,
                    return_values_on_condition_check_failure: on_failure.map(str::to_string),
                    attribute_updates: None,
                    expected: None,
                    conditional_operator: None,
                })
            }
            Statement::Delete {
                table,
                filter,
                returning,
            } => {
                if let Some(ret) = returning
                    && *ret != Returning::AllOld
                {
                    return Err(Error::Validation(format!(
                        "Invalid returning clause: {}. Only RETURNING ALL OLD * is allowed in DELETE statements.",
                        ret.text()
                    )));
                }
                let (key, rest) = ctx.split_key(filter, &pk)?;
                // A missing item is deleted quietly whatever the rest of the WHERE says
                // (developer guide, "PartiQL delete statements"; DynamoDB Local agrees).
                let cond = ctx.conjunction(&rest)?.map(|c| {
                    r.condition(&Condition::Or(
                        Box::new(Condition::AttributeNotExists(DocPath::attr(&pk.hash.0))),
                        Box::new(c),
                    ))
                });
                WritePlan::Delete(DeleteItemInput {
                    table_name: table.clone(),
                    key,
                    condition_expression: cond,
                    params: params(&r),
                    return_values: returning.map(|r| r.return_values().to_string()),
                    return_consumed_capacity: capacity.map(str::to_string),
                    return_item_collection_metrics: None,
                    return_values_on_condition_check_failure: on_failure.map(str::to_string),
                    expected: None,
                    conditional_operator: None,
                })
            }
            Statement::Exists { table, filter } => {
                let (key, rest) = ctx.split_key(filter, &pk)?;
                let Some(extra) = ctx.conjunction(&rest)? else {
                    return Err(Error::validation(
                        "EXISTS() must contain a single item read with additional condition",
                    ));
                };
                let cond = r.condition(&and(key_condition_exists(&pk), Some(extra)));
                WritePlan::Check(ConditionCheck {
                    table_name: table.clone(),
                    key,
                    condition_expression: cond,
                    params: params(&r),
                    return_values_on_condition_check_failure: on_failure.map(str::to_string),
                })
            }
            Statement::Select { .. } => return Err(Error::Internal("not a write".into())),
        })
    }

    fn run_write(
        &self,
        ns: &Namespace,
        plan: WritePlan,
    ) -> Result<(Vec<Item>, Option<ReadCapacity>)> {
        let out = match plan {
            WritePlan::Put(p) => self.put_item(ns, p).map_err(|e| match e {
                Error::ConditionalCheckFailed { .. } => Error::DuplicateItem(DUPLICATE_ITEM.into()),
                other => other,
            })?,
            WritePlan::Update(u) => self.update_item(ns, u)?,
            WritePlan::Delete(d) => self.delete_item(ns, d)?,
            WritePlan::Check(_) => {
                return Err(Error::validation(
                    "EXISTS can only be used in ExecuteTransaction write requests.",
                ));
            }
        };
        Ok((out.attributes.into_iter().collect(), out.consumed_capacity))
    }

    /// BatchExecuteStatement: up to 25 statements, all reads or all writes, each succeeding or
    /// failing on its own.
    pub fn batch_execute_statement(
        &self,
        ns: &Namespace,
        input: BatchExecuteStatementInput,
    ) -> Result<BatchExecuteStatementOutput> {
        let mode = input.return_consumed_capacity.as_deref();
        let parsed: Vec<Result<Parsed>> = input
            .statements
            .iter()
            .map(|s| prepare(&s.statement, s.parameters.as_deref()))
            .collect();
        let reads = parsed
            .iter()
            .any(|p| matches!(p, Ok(p) if p.stmt.is_read()));
        let writes = parsed
            .iter()
            .any(|p| matches!(p, Ok(p) if !p.stmt.is_read()));
        if reads && writes {
            // DynamoDB Local 3.3.1's text.
            return Err(Error::validation(
                "Read and write requests together in the same batch is not supported.",
            ));
        }
        let mut responses = Vec::with_capacity(parsed.len());
        let mut capacity: Vec<ReadCapacity> = Vec::new();
        let mut add = |c: Option<ReadCapacity>| {
            if let Some(c) = c {
                match capacity.iter_mut().find(|x| x.table_name == c.table_name) {
                    Some(x) => {
                        let mut acc = Some(x.clone());
                        merge(&mut acc, Some(c));
                        if let Some(a) = acc {
                            *x = a;
                        }
                    }
                    None => capacity.push(c),
                }
            }
        };
        if writes {
            let mut plans = Vec::with_capacity(parsed.len());
            let mut seen: Vec<(String, Item)> = Vec::new();
            for (p, req) in parsed.into_iter().zip(&input.statements) {
                let plan = p.and_then(|p| {
                    if matches!(p.stmt, Statement::Exists { .. }) {
                        return Err(Error::validation(
                            "EXISTS can only be used in ExecuteTransaction write requests.",
                        ));
                    }
                    let plan = self.plan_write(
                        ns,
                        &p,
                        mode,
                        req.return_values_on_condition_check_failure.as_deref(),
                    )?;
                    let pk = meta(self, ns, p.stmt.table())?.primary_key();
                    Ok((plan, pk))
                });
                if let Ok((plan, pk)) = &plan {
                    let key = plan.key_of(pk);
                    if seen.contains(&key) {
                        return Err(Error::validation(
                            "Provided list of item keys contains duplicates",
                        ));
                    }
                    seen.push(key);
                }
                plans.push(plan);
            }
            for plan in plans {
                let table = match &plan {
                    Ok((p, pk)) => Some(p.key_of(pk).0),
                    Err(_) => None,
                };
                let response = match plan {
                    Ok((p, _)) => match self.run_write(ns, p) {
                        Ok((_, c)) => {
                            add(c);
                            BatchStatementResponse {
                                table_name: table,
                                ..Default::default()
                            }
                        }
                        // A statement that failed while running names its table (DynamoDB
                        // Local 3.3.1); one that failed validation does not.
                        Err(e) => failed(e, table),
                    },
                    Err(e) => failed(e, None),
                };
                responses.push(response);
            }
        } else {
            for (p, req) in parsed.into_iter().zip(&input.statements) {
                let response = match p.and_then(|p| self.batch_read(ns, &p, req, mode)) {
                    Ok((table, item, c)) => {
                        add(c);
                        BatchStatementResponse {
                            error: None,
                            table_name: Some(table),
                            item,
                        }
                    }
                    Err(e) => failed(e, None),
                };
                responses.push(response);
            }
        }
        Ok(BatchExecuteStatementOutput {
            responses,
            consumed_capacity: mode
                .is_some_and(|m| m == "TOTAL" || m == "INDEXES")
                .then_some(capacity),
        })
    }

    /// One SELECT of a batch: it must name the whole primary key.
    fn batch_read(
        &self,
        ns: &Namespace,
        p: &Parsed,
        req: &BatchStatementRequest,
        mode: Option<&str>,
    ) -> Result<(String, Option<Item>, Option<ReadCapacity>)> {
        let Statement::Select {
            table,
            index: None,
            filter: Some(filter),
            order_by,
            ..
        } = &p.stmt
        else {
            return Err(Error::validation(BATCH_SELECT_KEY));
        };
        if !order_by.is_empty() {
            return Err(Error::validation(BATCH_SELECT_KEY));
        }
        let pk = meta(self, ns, table)?.primary_key();
        p.ctx.split_key(filter, &pk).map_err(|e| match e {
            Error::Validation(m) if m == super::compile::MISSING_KEY_EQUALITY => {
                Error::validation(BATCH_SELECT_KEY)
            }
            other => other,
        })?;
        let out = self.run_select(
            ns,
            p,
            &ExecuteStatementInput {
                statement: p.ctx.src.to_string(),
                consistent_read: req.consistent_read,
                return_consumed_capacity: mode.map(str::to_string),
                ..Default::default()
            },
        )?;
        Ok((
            table.clone(),
            out.items.into_iter().next(),
            out.consumed_capacity,
        ))
    }

    /// ExecuteTransaction: up to 100 statements, all reads (one TransactGetItems) or all
    /// writes (one TransactWriteItems, with its idempotency and cancellation reasons).
    pub fn execute_transaction(
        &self,
        ns: &Namespace,
        input: ExecuteTransactionInput,
    ) -> Result<ExecuteTransactionOutput> {
        let at = |i: usize, e: Error| match e {
            Error::Validation(m) => {
                Error::Validation(format!("Validation failed in TransactStatements[{i}]: {m}"))
            }
            other => other,
        };
        let mut parsed = Vec::with_capacity(input.transact_statements.len());
        for (i, s) in input.transact_statements.iter().enumerate() {
            parsed.push(prepare(&s.statement, s.parameters.as_deref()).map_err(|e| at(i, e))?);
        }
        let reads = parsed.iter().filter(|p| p.stmt.is_read()).count();
        if reads > 0 && reads < parsed.len() {
            // DynamoDB Local 3.3.1's text.
            return Err(Error::validation(
                "ExecuteTransaction API does not support both read and write operations in the same request.",
            ));
        }
        let mode = input.return_consumed_capacity.as_deref();
        if reads > 0 {
            return self
                .read_transaction(ns, &parsed, mode)
                .map_err(|(i, e)| match i {
                    Some(i) => at(i, e),
                    None => e,
                });
        }
        let mut items = Vec::with_capacity(parsed.len());
        let mut inserts = Vec::with_capacity(parsed.len());
        for (i, (p, s)) in parsed.iter().zip(&input.transact_statements).enumerate() {
            if let Statement::Update {
                returning: Some(_), ..
            }
            | Statement::Delete {
                returning: Some(_), ..
            } = &p.stmt
            {
                return Err(at(
                    i,
                    Error::validation("RETURNING clause is not supported in ExecuteTransaction."),
                ));
            }
            let plan = self
                .plan_write(
                    ns,
                    p,
                    None,
                    s.return_values_on_condition_check_failure.as_deref(),
                )
                .map_err(|e| at(i, e))?;
            inserts.push(matches!(plan, WritePlan::Put(_)));
            items.push(match plan {
                WritePlan::Put(p) => TransactWriteItem {
                    condition_check: None,
                    put: Some(Put {
                        table_name: p.table_name,
                        item: p.item,
                        condition_expression: p.condition_expression,
                        params: p.params,
                        return_values_on_condition_check_failure: None,
                    }),
                    delete: None,
                    update: None,
                },
                WritePlan::Update(u) => TransactWriteItem {
                    condition_check: None,
                    put: None,
                    delete: None,
                    update: Some(Update {
                        table_name: u.table_name,
                        key: u.key,
                        update_expression: u.update_expression.unwrap_or_default(),
                        condition_expression: u.condition_expression,
                        params: u.params,
                        return_values_on_condition_check_failure: u
                            .return_values_on_condition_check_failure,
                    }),
                },
                WritePlan::Delete(d) => TransactWriteItem {
                    condition_check: None,
                    put: None,
                    delete: Some(Delete {
                        table_name: d.table_name,
                        key: d.key,
                        condition_expression: d.condition_expression,
                        params: d.params,
                        return_values_on_condition_check_failure: d
                            .return_values_on_condition_check_failure,
                    }),
                    update: None,
                },
                WritePlan::Check(c) => TransactWriteItem {
                    condition_check: Some(c),
                    put: None,
                    delete: None,
                    update: None,
                },
            });
        }
        let out = self
            .transact_write_items(
                ns,
                TransactWriteItemsInput {
                    transact_items: items,
                    return_consumed_capacity: input.return_consumed_capacity.clone(),
                    return_item_collection_metrics: None,
                    client_request_token: input.client_request_token.clone(),
                },
            )
            .map_err(|e| duplicate_reasons(e, &inserts))?;
        Ok(ExecuteTransactionOutput {
            responses: Vec::new(),
            consumed_capacity: out.consumed_capacity,
        })
    }

    fn read_transaction(
        &self,
        ns: &Namespace,
        parsed: &[Parsed],
        mode: Option<&str>,
    ) -> std::result::Result<ExecuteTransactionOutput, (Option<usize>, Error)> {
        let mut gets = Vec::with_capacity(parsed.len());
        let mut post = Vec::with_capacity(parsed.len());
        for (i, p) in parsed.iter().enumerate() {
            let Statement::Select {
                list,
                table,
                index: None,
                filter: Some(filter),
                ..
            } = &p.stmt
            else {
                return Err((Some(i), Error::validation(TRANSACTION_SELECT_KEY)));
            };
            let pk = meta(self, ns, table).map_err(|e| (None, e))?.primary_key();
            let (key, rest) = p.ctx.split_key(filter, &pk).map_err(|e| {
                (
                    Some(i),
                    match e {
                        Error::Validation(m) if m == super::compile::MISSING_KEY_EQUALITY => {
                            Error::validation(TRANSACTION_SELECT_KEY)
                        }
                        other => other,
                    },
                )
            })?;
            let cond = p.ctx.conjunction(&rest).map_err(|e| (Some(i), e))?;
            let projection = select_paths(list);
            post.push((cond, projection));
            gets.push(TransactGetItem {
                get: Get {
                    table_name: table.clone(),
                    key,
                    projection_expression: None,
                    expression_attribute_names: None,
                },
            });
        }
        let out = self
            .transact_get_items(
                ns,
                TransactGetItemsInput {
                    transact_items: gets,
                    return_consumed_capacity: mode.map(str::to_string),
                },
            )
            .map_err(|e| (None, e))?;
        let mut responses = Vec::with_capacity(out.responses.len());
        for (r, (cond, projection)) in out.responses.into_iter().zip(post) {
            let item = match r.item {
                Some(item) => match &cond {
                    Some(c) if !c.evaluate(&item).map_err(|e| (None, e))? => None,
                    _ => Some(match &projection {
                        Some(paths) => project(&item, paths),
                        None => item,
                    }),
                },
                None => None,
            };
            responses.push(TransactionItem { item });
        }
        Ok(ExecuteTransactionOutput {
            responses,
            consumed_capacity: out.consumed_capacity,
        })
    }
}

/// moto's text (`test_dynamodb_statements.py`); DynamoDB Local says "Only single item select
/// is supported".
const BATCH_SELECT_KEY: &str = "Select statements within BatchExecuteStatement must specify the primary key in the where clause.";
/// DynamoDB Local 3.3.1's text.
const TRANSACTION_SELECT_KEY: &str =
    "Select statements within ExecuteTransaction must specify the primary key in the where clause.";

/// A batch statement's failure as AWS reports it.
fn failed(e: Error, table_name: Option<String>) -> BatchStatementResponse {
    let (code, item) = match &e {
        Error::ConditionalCheckFailed { item, .. } => ("ConditionalCheckFailed", item.clone()),
        Error::ResourceNotFound(_) => ("ResourceNotFound", None),
        Error::DuplicateItem(_) => ("DuplicateItem", None),
        Error::ItemCollectionSizeLimitExceeded(_) => ("ItemCollectionSizeLimitExceeded", None),
        Error::Internal(_) => ("InternalServerError", None),
        _ => ("ValidationError", None),
    };
    BatchStatementResponse {
        error: Some(BatchStatementError {
            code: code.into(),
            message: e.to_string(),
            item,
        }),
        table_name,
        item: None,
    }
}

/// An INSERT whose key exists cancels a transaction with a `ValidationError` reason saying
/// so (DynamoDB Local 3.3.1), not a failed condition.
fn duplicate_reasons(e: Error, inserts: &[bool]) -> Error {
    match e {
        Error::TransactionCanceled { reasons, .. } => {
            let reasons: Vec<CancellationReason> = reasons
                .into_iter()
                .zip(inserts.iter().copied().chain(std::iter::repeat(false)))
                .map(|(r, insert)| {
                    if insert && r.code == "ConditionalCheckFailed" {
                        CancellationReason {
                            code: "ValidationError".into(),
                            message: Some(DUPLICATE_ITEM.into()),
                            item: None,
                        }
                    } else {
                        r
                    }
                })
                .collect();
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            Error::TransactionCanceled {
                message: format!(
                    "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                    codes.join(", ")
                ),
                reasons,
            }
        }
        other => other,
    }
}
