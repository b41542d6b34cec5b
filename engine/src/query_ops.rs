//! Query and Scan: reading pages of items in key order.
//!
//! A Query reads one partition: the items of a table live in redb keyed by the
//! order-preserving encoding of (partition key, sort key), so one partition is one contiguous
//! key range, read forward or backward and narrowed by the sort-key condition. A Scan reads
//! the whole table in key order. Both stop after `Limit` items evaluated (before the filter)
//! or after 1 MB read, and hand back the key of the last item evaluated as
//! `LastEvaluatedKey`.
//!
//! Secondary indexes are answered by [`index_items`], a slow but exact fallback over the base
//! table, until index tables exist.
//!
//! Validation follows AWS's order as recorded by the dynalite suite (validated against AWS):
//! first the request alone (expression/legacy mix, legacy conditions, `AttributesToGet`,
//! values in `ExclusiveStartKey`, segments, expressions, `Select`), then against the table
//! (index, `ExclusiveStartKey` shape, key condition against the key schema, starting key
//! against the condition, key attributes in the filter). `Select` messages were taken from
//! DynamoDB Local 3.3.1, which words them as AWS does.

use std::collections::BTreeMap;
use std::ops::Bound;

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use crate::catalog::{IndexMeta, TableMeta, resolve_key};
use crate::codec::decode_item;
use crate::engine::{Engine, Namespace, items_table_name};
use crate::error::{Error, Result};
use crate::expr::{
    self, Comparator, Condition, DocPath, ExpressionInput, KeyCondition, KeyOp, Operand, Projection,
};
use crate::item_ops::{ExpressionParams, check_expression_params};
use crate::keys::{PrimaryKey, encode_component};
use crate::legacy::{self, Condition as LegacyCondition};
use crate::value::{AttributeValue, Item, ScalarType, item_size};

/// The most data one page reads (AWS: "up to 1 MB of data").
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Query request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct QueryInput {
    pub table_name: String,
    pub index_name: Option<String>,
    pub select: Option<String>,
    pub attributes_to_get: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub consistent_read: Option<bool>,
    /// Kept as raw JSON and decoded in AWS's order of checks.
    pub key_conditions: Option<BTreeMap<String, serde_json::Value>>,
    /// Kept as raw JSON and decoded in AWS's order of checks.
    pub query_filter: Option<BTreeMap<String, serde_json::Value>>,
    pub conditional_operator: Option<String>,
    pub scan_index_forward: Option<bool>,
    /// Kept as raw JSON: AWS reports bad values here with its own prefix, after other checks.
    pub exclusive_start_key: Option<BTreeMap<String, serde_json::Value>>,
    pub return_consumed_capacity: Option<String>,
    pub projection_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub key_condition_expression: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
}

/// Scan request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ScanInput {
    pub table_name: String,
    pub index_name: Option<String>,
    pub attributes_to_get: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub select: Option<String>,
    /// Kept as raw JSON and decoded in AWS's order of checks.
    pub scan_filter: Option<BTreeMap<String, serde_json::Value>>,
    pub conditional_operator: Option<String>,
    /// Kept as raw JSON: AWS reports bad values here with its own prefix, after other checks.
    pub exclusive_start_key: Option<BTreeMap<String, serde_json::Value>>,
    pub return_consumed_capacity: Option<String>,
    pub total_segments: Option<i64>,
    pub segment: Option<i64>,
    pub projection_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub consistent_read: Option<bool>,
    #[serde(flatten)]
    pub params: ExpressionParams,
}

/// Query and Scan output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryOutput {
    /// The items (absent with `Select: COUNT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Item>>,
    /// Items returned (after the filter).
    pub count: u64,
    /// Items evaluated (before the filter).
    pub scanned_count: u64,
    /// Where the next page starts; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_key: Option<Item>,
    /// Capacity consumed, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ReadCapacity>,
}

/// Scan output: the same shape as [`QueryOutput`].
pub type ScanOutput = QueryOutput;

/// `ConsumedCapacity` of a Query or Scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReadCapacity {
    /// The table read.
    pub table_name: String,
    /// Total read capacity units.
    pub capacity_units: f64,
    /// The base table's share (`INDEXES` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Units>,
    /// Per local secondary index (`INDEXES` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<BTreeMap<String, Units>>,
    /// Per global secondary index (`INDEXES` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<BTreeMap<String, Units>>,
}

/// Capacity units of one table or index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Units {
    /// Capacity units.
    pub capacity_units: f64,
}

const START_KEY_INVALID: &str = "The provided starting key is invalid";

/// Decodes `ExclusiveStartKey`. AWS prefixes the messages of some value rules with "The
/// provided starting key is invalid: " and reports others (numbers, sets' contents) bare
/// (dynalite's "invalid values in ExclusiveStartKey without provided message" tuples).
fn decode_start_key(raw: Option<&BTreeMap<String, serde_json::Value>>) -> Result<Option<Item>> {
    let Some(raw) = raw else { return Ok(None) };
    let mut out = Item::new();
    for (k, v) in raw {
        let value: AttributeValue = serde_json::from_value(v.clone()).map_err(|e| {
            let msg = e.to_string();
            let prefixed = msg.starts_with("Supplied AttributeValue")
                || msg.contains("Null attribute value types")
                || msg.contains("An string set  may not be empty")
                || msg.contains("Binary sets should not be empty");
            if prefixed {
                Error::Validation(format!("{START_KEY_INVALID}: {msg}"))
            } else {
                Error::Validation(msg)
            }
        })?;
        out.insert(k.clone(), value);
    }
    Ok(Some(out))
}

/// Decodes legacy conditions (`KeyConditions`, `QueryFilter`, `ScanFilter`). They stay raw
/// JSON in the input because AWS checks their values only at their turn: a bad value in
/// `KeyConditions` is reported after a bad `ExclusiveStartKey` (dynalite's query tuples).
fn decode_conditions(
    raw: Option<&BTreeMap<String, serde_json::Value>>,
) -> Result<Option<BTreeMap<String, LegacyCondition>>> {
    let Some(raw) = raw else { return Ok(None) };
    raw.iter()
        .map(|(k, v)| {
            serde_json::from_value::<LegacyCondition>(v.clone())
                .map(|c| (k.clone(), c))
                .map_err(|e| Error::Validation(e.to_string()))
        })
        .collect::<Result<BTreeMap<_, _>>>()
        .map(Some)
}

/// What a request selects, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    All,
    AllProjected,
    Specific,
    Count,
}

/// Checks `Select` against the projection parameters (messages from DynamoDB Local 3.3.1).
fn check_select(
    select: Option<&str>,
    projection_expression: bool,
    attributes_to_get: bool,
    index: bool,
) -> Result<Option<Select>> {
    let what = if projection_expression {
        Some("ProjectionExpression")
    } else if attributes_to_get {
        Some("AttributesToGet")
    } else {
        None
    };
    let cannot = |choice: &str| -> Result<Option<Select>> {
        match what {
            Some(w) => Err(Error::Validation(format!(
                "Cannot specify the {w} when choosing to get {choice}"
            ))),
            None => Ok(None),
        }
    };
    Ok(match select {
        None => None,
        Some("ALL_ATTRIBUTES") => cannot("ALL_ATTRIBUTES")?.or(Some(Select::All)),
        Some("ALL_PROJECTED_ATTRIBUTES") => {
            cannot("ALL_PROJECTED_ATTRIBUTES")?;
            if !index {
                return Err(Error::validation(
                    "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
                ));
            }
            Some(Select::AllProjected)
        }
        Some("COUNT") => cannot("only the Count")?.or(Some(Select::Count)),
        Some("SPECIFIC_ATTRIBUTES") => {
            if what.is_none() {
                return Err(Error::validation(
                    "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
                ));
            }
            Some(Select::Specific)
        }
        // The model check rejects other values before the engine sees them.
        Some(other) => {
            return Err(Error::Validation(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )));
        }
    })
}

/// The index a request names, with its resolved key and whether it is global.
struct IndexTarget<'a> {
    meta: &'a IndexMeta,
    key: PrimaryKey,
    global: bool,
}

fn find_index<'a>(table: &'a TableMeta, name: &str) -> Option<IndexTarget<'a>> {
    let make = |meta: &'a IndexMeta, global| IndexTarget {
        key: resolve_key(&meta.key_schema, &table.attribute_definitions),
        meta,
        global,
    };
    table
        .lsis
        .iter()
        .find(|i| i.name == name)
        .map(|i| make(i, false))
        .or_else(|| {
            table
                .gsis
                .iter()
                .find(|i| i.name == name)
                .map(|i| make(i, true))
        })
}

/// Names of the attributes a key is made of: the key schema's, then the table's not already
/// named (AWS's `LastEvaluatedKey` of an index holds both).
fn start_key_names(table: &PrimaryKey, index: Option<&PrimaryKey>) -> Vec<String> {
    let mut names: Vec<String> = table.names().into_iter().map(String::from).collect();
    if let Some(ix) = index {
        for n in ix.names() {
            if !names.iter().any(|m| m == n) {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// The sort key of an item within what is read: the read key's components, then (for an
/// index) the table key's, so equal index keys keep the table's order.
fn read_key(item: &Item, read: &PrimaryKey, table: Option<&PrimaryKey>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut push = |pk: &PrimaryKey| -> Option<()> {
        for (name, ty) in std::iter::once(&pk.hash).chain(pk.range.as_ref()) {
            let v = item.get(name)?;
            if v.scalar_type() != Some(*ty) {
                return None;
            }
            encode_component(v, &mut out);
        }
        Some(())
    };
    push(read)?;
    if let Some(t) = table {
        push(t)?;
    }
    Some(out)
}

/// Validates one key component of a starting key: present, of the schema's type, within the
/// size limits.
fn check_start_piece(esk: &Item, name: &str, ty: ScalarType, is_hash: bool) -> Result<()> {
    let Some(v) = esk.get(name) else {
        return Err(Error::validation(START_KEY_INVALID));
    };
    if v.scalar_type() != Some(ty) {
        return Err(Error::validation(
            "The provided key element does not match the schema",
        ));
    }
    let len = match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => 0,
    };
    if is_hash && len > crate::keys::MAX_HASH_KEY_SIZE {
        return Err(Error::invalid_parameter(
            "Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if !is_hash && len > crate::keys::MAX_RANGE_KEY_SIZE {
        return Err(Error::invalid_parameter(
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// The table-key part of a starting key, validated like a `Key` parameter.
fn check_table_start_key(esk: &Item, table: &PrimaryKey) -> Result<Vec<u8>> {
    let key: Item = table
        .names()
        .into_iter()
        .filter_map(|n| esk.get(n).map(|v| (n.to_string(), v.clone())))
        .collect();
    table
        .encode_key_param(&key)
        .map_err(|e| Error::Validation(format!("{START_KEY_INVALID}: {e}")))
}

/// Collects the heads of document paths with more than one element.
fn nested_heads_projection(p: &Projection, out: &mut Vec<String>) {
    for path in &p.paths {
        if path.0.len() > 1
            && let Some(h) = path.head()
        {
            out.push(h.to_string());
        }
    }
}

fn operand_paths<'a>(o: &'a Operand, out: &mut Vec<&'a DocPath>) {
    match o {
        Operand::Path(p) => out.push(p),
        Operand::Value(_) => {}
        Operand::Size(inner) => operand_paths(inner, out),
    }
}

fn condition_paths<'a>(c: &'a Condition, out: &mut Vec<&'a DocPath>) {
    match c {
        Condition::And(a, b) | Condition::Or(a, b) => {
            condition_paths(a, out);
            condition_paths(b, out);
        }
        Condition::Not(a) => condition_paths(a, out),
        Condition::Compare(_, x, y)
        | Condition::AttributeType(x, y)
        | Condition::BeginsWith(x, y)
        | Condition::Contains(x, y) => {
            operand_paths(x, out);
            operand_paths(y, out);
        }
        Condition::Between(x, y, z) => {
            operand_paths(x, out);
            operand_paths(y, out);
            operand_paths(z, out);
        }
        Condition::In(x, list) => {
            operand_paths(x, out);
            for o in list {
                operand_paths(o, out);
            }
        }
        Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => out.push(p),
    }
}

fn condition_heads(c: &Condition) -> Vec<String> {
    let mut paths = Vec::new();
    condition_paths(c, &mut paths);
    paths
        .into_iter()
        .filter_map(|p| p.head().map(String::from))
        .collect()
}

fn nested_heads_condition(c: &Condition) -> Vec<String> {
    let mut paths = Vec::new();
    condition_paths(c, &mut paths);
    paths
        .into_iter()
        .filter(|p| p.0.len() > 1)
        .filter_map(|p| p.head().map(String::from))
        .collect()
}

/// AWS's "Key attributes must be scalars" check: no nested path may start at a table key
/// (`Key:`) or at an index key (`IndexKey:`), in dynalite's order (table keys, then global
/// indexes last to first, then local indexes' sort keys last to first).
fn check_key_paths(heads: &[String], table: &TableMeta) -> Result<()> {
    if heads.is_empty() {
        return Ok(());
    }
    let msg = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed";
    for k in &table.key_schema {
        if heads.contains(&k.attribute_name) {
            return Err(Error::Validation(format!(
                "{msg}: Key: {}",
                k.attribute_name
            )));
        }
    }
    let gsi_keys = table.gsis.iter().rev().flat_map(|i| i.key_schema.iter());
    let lsi_keys = table.lsis.iter().rev().filter_map(|i| i.key_schema.get(1));
    for k in gsi_keys.chain(lsi_keys) {
        if heads.contains(&k.attribute_name) {
            return Err(Error::Validation(format!(
                "{msg}: IndexKey: {}",
                k.attribute_name
            )));
        }
    }
    Ok(())
}

/// The comparison operator of a key predicate as the legacy API names it.
fn legacy_op_name(op: &KeyOp) -> &'static str {
    match op {
        KeyOp::Compare(Comparator::Eq, _) => "EQ",
        KeyOp::Compare(Comparator::Lt, _) => "LT",
        KeyOp::Compare(Comparator::Le, _) => "LE",
        KeyOp::Compare(Comparator::Gt, _) => "GT",
        KeyOp::Compare(Comparator::Ge, _) => "GE",
        KeyOp::Compare(Comparator::Ne, _) => "NE",
        KeyOp::Between(..) => "BETWEEN",
        KeyOp::BeginsWith(_) => "BEGINS_WITH",
    }
}

fn key_op_values(op: &KeyOp) -> Vec<&AttributeValue> {
    match op {
        KeyOp::Compare(_, v) | KeyOp::BeginsWith(v) => vec![v],
        KeyOp::Between(lo, hi) => vec![lo, hi],
    }
}

/// The key condition as the request gave it, before it is matched to the schema.
enum RawKeyCondition<'a> {
    Expression(KeyCondition),
    Legacy(&'a BTreeMap<String, LegacyCondition>),
}

impl RawKeyCondition<'_> {
    fn names(&self) -> Vec<&str> {
        match self {
            RawKeyCondition::Expression(kc) => {
                kc.predicates.iter().map(|p| p.attribute.as_str()).collect()
            }
            RawKeyCondition::Legacy(m) => m.keys().map(String::as_str).collect(),
        }
    }
}

/// Byte bounds of what a read covers.
#[derive(Debug, Clone)]
struct Range {
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
}

/// The smallest byte string greater than every string starting with `prefix`, if any.
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

fn escape_prefix(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out
}

impl Range {
    fn all() -> Self {
        Range {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
        }
    }

    fn prefix(prefix: &[u8]) -> Self {
        Range {
            lower: Bound::Included(prefix.to_vec()),
            upper: match prefix_successor(prefix) {
                Some(s) => Bound::Excluded(s),
                None => Bound::Unbounded,
            },
        }
    }

    /// Narrows the range of partition `p` by a sort-key predicate.
    ///
    /// A stored key may continue past the sort key: an index key ends with the table's primary
    /// key. So the entries whose sort key equals `v` are all the keys that start with
    /// `p + encode(v)` (the encoding is self-delimiting), and an inclusive upper bound or an
    /// exclusive lower bound on `v` is the successor of that prefix.
    fn narrow(&mut self, p: &[u8], op: &KeyOp) {
        let key = |v: &AttributeValue| {
            let mut k = p.to_vec();
            encode_component(v, &mut k);
            k
        };
        let through = |v: &AttributeValue| match prefix_successor(&key(v)) {
            Some(s) => Bound::Excluded(s),
            None => Bound::Unbounded,
        };
        match op {
            KeyOp::Compare(Comparator::Eq, v) => *self = Range::prefix(&key(v)),
            KeyOp::Compare(Comparator::Lt, v) => self.upper = Bound::Excluded(key(v)),
            KeyOp::Compare(Comparator::Le, v) => self.upper = through(v),
            KeyOp::Compare(Comparator::Gt, v) => {
                self.lower = match through(v) {
                    Bound::Excluded(s) => Bound::Included(s),
                    // Nothing sorts after the largest key: an empty range.
                    _ => Bound::Excluded(key(v)),
                }
            }
            KeyOp::Compare(Comparator::Ge, v) => self.lower = Bound::Included(key(v)),
            KeyOp::Compare(Comparator::Ne, _) => {}
            KeyOp::Between(lo, hi) => {
                self.lower = Bound::Included(key(lo));
                self.upper = through(hi);
            }
            KeyOp::BeginsWith(v) => {
                let raw = match v {
                    AttributeValue::S(s) => s.as_bytes(),
                    AttributeValue::B(b) => b.as_slice(),
                    _ => &[],
                };
                let mut k = p.to_vec();
                k.extend(escape_prefix(raw));
                *self = Range::prefix(&k);
            }
        }
    }

    /// Starts after `key`, in the direction of reading.
    fn start_after(&mut self, key: Vec<u8>, forward: bool) {
        if forward {
            let later = match &self.lower {
                Bound::Unbounded => true,
                Bound::Included(l) => key >= *l,
                Bound::Excluded(l) => key >= *l,
            };
            if later {
                self.lower = Bound::Excluded(key);
            }
        } else {
            let earlier = match &self.upper {
                Bound::Unbounded => true,
                Bound::Included(u) => key <= *u,
                Bound::Excluded(u) => key <= *u,
            };
            if earlier {
                self.upper = Bound::Excluded(key);
            }
        }
    }

    fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Bound::Included(l), Bound::Included(u)) => l > u,
            (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
            | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
            _ => false,
        }
    }

    fn as_refs(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (
            self.lower.as_ref().map(Vec::as_slice),
            self.upper.as_ref().map(Vec::as_slice),
        )
    }
}

/// Segment of a parallel scan an item belongs to: FNV-1a (64 bit) of the encoded partition
/// key, modulo `TotalSegments`. AWS's assignment is internal and unknowable; this one is
/// stable across runs and puts every item of a partition in the same segment, as AWS does.
fn segment_of(partition: &[u8], total: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in partition {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % total.max(1)
}

/// Which items a page may return, and how.
struct PagePlan<'a> {
    range: Range,
    forward: bool,
    limit: Option<usize>,
    /// Key condition applied to every item read (a safety net; the range is exact).
    key_condition: Option<&'a KeyCondition>,
    filter: Option<&'a Condition>,
    projection: Option<&'a Projection>,
    count_only: bool,
    /// `(segment, total, partition key attribute)` for a parallel scan.
    segment: Option<(u64, u64, &'a str)>,
    key_names: &'a [String],
}

/// The result of reading one page.
struct Page {
    items: Vec<Item>,
    count: u64,
    scanned: u64,
    last_key: Option<Item>,
    bytes_read: usize,
    /// 4 KB blocks of items fetched from the base table for a local-index read (each fetched
    /// item is its own read, rounded up on its own).
    fetch_blocks: u64,
}

fn partition_bytes(item: &Item, attr: &str) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(v) = item.get(attr) {
        encode_component(v, &mut out);
    }
    out
}

/// Reads one page from `source`, items in key order (reversed when not forward).
fn read_page(
    plan: &PagePlan,
    source: &mut dyn Iterator<Item = Result<(Vec<u8>, Item)>>,
) -> Result<Page> {
    let mut page = Page {
        items: Vec::new(),
        count: 0,
        scanned: 0,
        last_key: None,
        bytes_read: 0,
        fetch_blocks: 0,
    };
    // The last item read unless it went whole into the page.
    let mut last: Option<Item> = None;
    let mut stopped = false;
    for entry in source {
        let (_, item) = entry?;
        if let Some((segment, total, attr)) = plan.segment
            && segment_of(&partition_bytes(&item, attr), total) != segment
        {
            continue;
        }
        if plan.key_condition.is_some_and(|kc| !kc.matches(&item)) {
            continue;
        }
        if plan.limit.is_some_and(|l| page.scanned as usize >= l)
            || page.bytes_read >= MAX_PAGE_BYTES
        {
            stopped = true;
            break;
        }
        page.scanned += 1;
        page.bytes_read += item_size(&item);
        let keep = match plan.filter {
            Some(f) => f.evaluate(&item)?,
            None => true,
        };
        if keep {
            page.count += 1;
            if !plan.count_only {
                if let Some(p) = plan.projection {
                    page.items.push(p.apply(&item));
                } else {
                    // The page's last item is now the last one read (no clone of every item).
                    page.items.push(item);
                    last = None;
                    continue;
                }
            }
        }
        last = Some(item);
    }
    // AWS hands back a LastEvaluatedKey whenever the page ended at the limit or the size
    // cap, even when nothing follows (DynamoDB Local 3.3.1 agrees; scenario 04_query_scan).
    let at_cap =
        plan.limit.is_some_and(|l| page.scanned as usize >= l) || page.bytes_read >= MAX_PAGE_BYTES;
    // The last item read: kept on its own, or else the page's last (or nothing was read).
    let last = last.as_ref().or(page.items.last());
    if stopped || at_cap {
        page.last_key = last.map(|item| {
            plan.key_names
                .iter()
                .filter_map(|n| item.get(n).map(|v| (n.clone(), v.clone())))
                .collect()
        });
    }
    Ok(page)
}

/// Read capacity units of `bytes` read: one unit per 4 KB, half for eventually consistent
/// reads. An empty read costs nothing (DynamoDB Local 3.3.1 answers 0.0).
fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096) as f64;
    if consistent { units } else { units / 2.0 }
}

fn consumed(
    mode: Option<&str>,
    table: &str,
    index: Option<(&str, bool)>,
    units: f64,
    table_fetch: f64,
) -> Option<ReadCapacity> {
    match mode {
        Some("TOTAL") => Some(ReadCapacity {
            table_name: table.to_string(),
            capacity_units: units + table_fetch,
            ..Default::default()
        }),
        Some("INDEXES") => {
            let per_index = |global: bool| {
                index.and_then(|(name, g)| {
                    (g == global).then(|| {
                        BTreeMap::from([(
                            name.to_string(),
                            Units {
                                capacity_units: units,
                            },
                        )])
                    })
                })
            };
            Some(ReadCapacity {
                table_name: table.to_string(),
                capacity_units: units + table_fetch,
                table: Some(Units {
                    capacity_units: if index.is_some() { table_fetch } else { units },
                }),
                local_secondary_indexes: per_index(false),
                global_secondary_indexes: per_index(true),
            })
        }
        _ => None,
    }
}

/// Read units of items fetched from the base table (one read each, 4 KB blocks, half for
/// eventually consistent reads).
fn fetch_units(blocks: u64, consistent: bool) -> f64 {
    let units = blocks as f64;
    if consistent { units } else { units / 2.0 }
}

/// One entry as redb's range iterator yields it.
type RawEntry<'a> = std::result::Result<
    (
        redb::AccessGuard<'a, &'static [u8]>,
        redb::AccessGuard<'a, &'static [u8]>,
    ),
    redb::StorageError,
>;

/// Reads a page of the base table within `plan.range`.
fn table_page(txn: &redb::ReadTransaction, meta: &TableMeta, plan: &PagePlan) -> Result<Page> {
    range_page(txn, &items_table_name(meta.table_num), plan)
}

/// Reads one page from the index's own redb table (see `index.rs`): its keys are (index
/// partition key, index sort key, table key), the same order the plan's range uses, and its
/// values are the projected items.
fn index_page(
    txn: &redb::ReadTransaction,
    meta: &TableMeta,
    index: &IndexMeta,
    plan: &PagePlan,
    fetch_from_table: bool,
) -> Result<Page> {
    let name = crate::index::index_table_name(meta, index);
    if !fetch_from_table {
        return range_page(txn, &name, plan);
    }
    // A local secondary index asked for attributes it does not project answers with the whole
    // item, fetched from the base table by the key the index entry carries (developer guide,
    // LSI.md: "DynamoDB automatically fetches those attributes from the base table").
    let t = match txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name)) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            return read_page(plan, &mut std::iter::empty());
        }
        Err(e) => return Err(e.into()),
    };
    if plan.range.is_empty() {
        return read_page(plan, &mut std::iter::empty());
    }
    let base = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&items_table_name(
        meta.table_num,
    )))?;
    let table_key = meta.primary_key();
    // Per entry pulled: (index entry size, 4 KB blocks of the fetched item). The page may pull
    // one entry beyond what it evaluates; only the first `scanned` are charged.
    let pulled = std::cell::RefCell::new(Vec::<(usize, u64)>::new());
    let fetch = |entry: RawEntry<'_>| -> Result<(Vec<u8>, Item)> {
        let (k, v) = entry?;
        let projected = decode_item(v.value())?;
        let index_size = crate::value::item_size(&projected);
        let key = table_key.encode_item_key(&projected)?;
        let item = match base.get(key.as_slice())? {
            Some(full) => decode_item(full.value())?,
            None => projected,
        };
        let blocks = crate::value::item_size(&item).div_ceil(4096).max(1) as u64;
        pulled.borrow_mut().push((index_size, blocks));
        Ok((k.value().to_vec(), item))
    };
    let range = t.range::<&[u8]>(plan.range.as_refs())?;
    let mut page = if plan.forward {
        read_page(plan, &mut range.map(fetch))?
    } else {
        read_page(plan, &mut range.rev().map(fetch))?
    };
    // The index read is charged by index entry size; the fetches separately.
    let evaluated = usize::try_from(page.scanned).unwrap_or(usize::MAX);
    let pulled = pulled.into_inner();
    page.bytes_read = pulled.iter().take(evaluated).map(|(b, _)| b).sum();
    page.fetch_blocks = pulled.iter().take(evaluated).map(|(_, f)| f).sum();
    Ok(page)
}

/// Whether a read of a local secondary index needs attributes the index does not project:
/// `ALL_ATTRIBUTES`, or a requested attribute outside the projection.
fn lsi_needs_table(
    index: Option<&IndexTarget>,
    table: &TableMeta,
    select: Option<Select>,
    requested: &[String],
) -> bool {
    let Some(ix) = index.filter(|ix| !ix.global) else {
        return false;
    };
    let ty = ix
        .meta
        .projection
        .projection_type
        .as_deref()
        .unwrap_or("ALL");
    if ty == "ALL" {
        return false;
    }
    if select == Some(Select::All) {
        return true;
    }
    requested.iter().any(|name| {
        !(table.primary_key().names().contains(&name.as_str())
            || ix.key.names().contains(&name.as_str())
            || (ty == "INCLUDE"
                && ix
                    .meta
                    .projection
                    .non_key_attributes
                    .iter()
                    .flatten()
                    .any(|a| a == name)))
    })
}

/// Reads one page of `plan.range` from the redb table `name`, forward or backward.
fn range_page(txn: &redb::ReadTransaction, name: &str, plan: &PagePlan) -> Result<Page> {
    let t = match txn.open_table(TableDefinition::<&[u8], &[u8]>::new(name)) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            return read_page(plan, &mut std::iter::empty());
        }
        Err(e) => return Err(e.into()),
    };
    if plan.range.is_empty() {
        return read_page(plan, &mut std::iter::empty());
    }
    let range = t.range::<&[u8]>(plan.range.as_refs())?;
    let decode = |entry: RawEntry<'_>| -> Result<(Vec<u8>, Item)> {
        let (k, v) = entry?;
        Ok((k.value().to_vec(), decode_item(v.value())?))
    };
    if plan.forward {
        read_page(plan, &mut range.map(decode))
    } else {
        read_page(plan, &mut range.rev().map(decode))
    }
}

/// The index a Query or Scan names, or AWS's error when the table has no such index.
fn named_index<'m>(meta: &'m TableMeta, name: Option<&str>) -> Result<Option<IndexTarget<'m>>> {
    match name {
        None => Ok(None),
        Some(name) => find_index(meta, name).map(Some).ok_or_else(|| {
            Error::Validation(format!(
                "The table does not have the specified index: {name}"
            ))
        }),
    }
}

/// Checks the GSI-specific rules shared by Query and Scan.
fn check_index_read(index: Option<&IndexTarget>, consistent: bool) -> Result<()> {
    if let Some(ix) = index
        && ix.global
        && consistent
    {
        return Err(Error::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    Ok(())
}

fn check_gsi_select(index: Option<&IndexTarget>, select: Option<Select>) -> Result<()> {
    if let Some(ix) = index
        && ix.global
        && select == Some(Select::All)
        && ix
            .meta
            .projection
            .projection_type
            .as_deref()
            .unwrap_or("ALL")
            != "ALL"
    {
        return Err(Error::invalid_parameter(format!(
            "Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
            ix.meta.name
        )));
    }
    Ok(())
}

/// A global secondary index answers only with what it projects: asking a Query or Scan on it
/// for another attribute is an error (DynamoDB Local 2026-05-28; developer guide GSI.md,
/// Attribute projections: "DynamoDB does not fetch any attributes from the base table").
fn check_gsi_projection(
    index: Option<&IndexTarget>,
    table: &TableMeta,
    requested: &[String],
) -> Result<()> {
    let Some(ix) = index.filter(|ix| ix.global) else {
        return Ok(());
    };
    let ty = ix
        .meta
        .projection
        .projection_type
        .as_deref()
        .unwrap_or("ALL");
    if ty == "ALL" {
        return Ok(());
    }
    let projected = |name: &str| {
        table.primary_key().names().contains(&name)
            || ix.key.names().contains(&name)
            || (ty == "INCLUDE"
                && ix
                    .meta
                    .projection
                    .non_key_attributes
                    .iter()
                    .flatten()
                    .any(|a| a == name))
    };
    let mut missing: Vec<&str> = Vec::new();
    for name in requested {
        if !projected(name) && !missing.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::invalid_parameter(format!(
        "Global secondary index {} does not project [{}]",
        ix.meta.name,
        missing.join(", ")
    )))
}

fn check_limit(limit: Option<i64>) -> Option<usize> {
    // The model check guarantees Limit >= 1.
    limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX).max(1))
}

impl Engine {
    /// Query: the items of one partition of a table or index, in sort-key order.
    pub fn query(&self, ns: &Namespace, input: QueryInput) -> Result<QueryOutput> {
        check_expression_params(
            &[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("QueryFilter", input.query_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
                // AWS names KeyConditions here only beside a KeyConditionExpression
                // (dynalite's "all expressions and non-expression" tuples).
                (
                    "KeyConditions",
                    input.key_conditions.is_some() && input.key_condition_expression.is_some(),
                ),
            ],
            &[
                (
                    "ProjectionExpression",
                    input.projection_expression.is_some(),
                ),
                ("FilterExpression", input.filter_expression.is_some()),
                (
                    "KeyConditionExpression",
                    input.key_condition_expression.is_some(),
                ),
            ],
            &input.params,
        )?;
        let query_filter = decode_conditions(input.query_filter.as_ref())?;
        let legacy_filter = match &query_filter {
            Some(f) => legacy::conditions_to_filter(f, input.conditional_operator.as_deref())?,
            None => None,
        };
        let legacy_projection = input
            .attributes_to_get
            .as_deref()
            .map(legacy::attributes_to_get_projection)
            .transpose()?;
        let esk = decode_start_key(input.exclusive_start_key.as_ref())?;
        if input.key_conditions.is_none() && input.key_condition_expression.is_none() {
            return Err(Error::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        }
        let expression_input = ExpressionInput {
            condition: None,
            update: None,
            projection: input.projection_expression.as_deref(),
            filter: input.filter_expression.as_deref(),
            key_condition: input.key_condition_expression.as_deref(),
            names: input.params.expression_attribute_names.as_ref(),
            values: input.params.expression_attribute_values.as_ref(),
        };
        let exprs = expr::parse(&expression_input, &[])?;
        let key_conditions = decode_conditions(input.key_conditions.as_ref())?;
        let raw_kc = match (&key_conditions, exprs.key_condition.clone()) {
            (_, Some(kc)) => RawKeyCondition::Expression(kc),
            (Some(m), None) => {
                // Arguments first (before the table is looked up), as AWS does; the
                // operators are judged once the schema is known.
                legacy::conditions_to_filter(m, None)?;
                if !(1..=2).contains(&m.len()) {
                    return Err(Error::validation("Conditions can be of length 1 or 2 only"));
                }
                RawKeyCondition::Legacy(m)
            }
            (None, None) => {
                return Err(Error::validation(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
                ));
            }
        };
        let select = check_select(
            input.select.as_deref(),
            input.projection_expression.is_some(),
            input.attributes_to_get.is_some(),
            input.index_name.is_some(),
        )?;

        let meta = self
            .table_meta(ns, &input.table_name)?
            .ok_or_else(Error::table_not_found)?;
        let table_key = meta.primary_key();
        let index = named_index(&meta, input.index_name.as_deref())?;
        let consistent = input.consistent_read.unwrap_or(false);
        check_index_read(index.as_ref(), consistent)?;
        let read_key_schema = index.as_ref().map(|i| &i.key).unwrap_or(&table_key);
        let key_names = start_key_names(&table_key, index.as_ref().map(|i| &i.key));
        if let Some(esk) = &esk
            && esk.len() != key_names.len()
        {
            return Err(Error::validation(START_KEY_INVALID));
        }

        // Match the key condition to the key schema, attribute by attribute.
        let names = raw_kc.names();
        let n = names.len();
        let schema: Vec<(&str, ScalarType)> = std::iter::once(&read_key_schema.hash)
            .chain(read_key_schema.range.as_ref())
            .map(|(n, t)| (n.as_str(), *t))
            .collect();
        for (i, (attr, ty)) in schema.iter().enumerate() {
            let is_hash = i == 0;
            if let Some(esk) = &esk {
                check_start_piece(esk, attr, *ty, is_hash)?;
            }
            if is_hash && schema.len() == 1 && n > 1 {
                return Err(Error::validation("Query key condition not supported"));
            }
            if !names.contains(attr) {
                if is_hash || n > 1 {
                    return Err(Error::Validation(format!(
                        "Query condition missed key schema element: {attr}"
                    )));
                }
                continue;
            }
            let (op_name, values): (String, Vec<AttributeValue>) = match &raw_kc {
                RawKeyCondition::Expression(kc) => match kc.predicate(attr) {
                    Some(p) => (
                        legacy_op_name(&p.op).to_string(),
                        key_op_values(&p.op).into_iter().cloned().collect(),
                    ),
                    None => continue,
                },
                RawKeyCondition::Legacy(m) => match m.get(*attr) {
                    Some(c) => (
                        c.comparison_operator.clone(),
                        c.attribute_value_list.clone().unwrap_or_default(),
                    ),
                    None => continue,
                },
            };
            if matches!(
                op_name.as_str(),
                "NULL" | "NOT_NULL" | "NE" | "CONTAINS" | "NOT_CONTAINS" | "IN"
            ) {
                return Err(Error::validation(
                    "Attempted conditional constraint is not an indexable operation",
                ));
            }
            if values.iter().any(|v| v.scalar_type() != Some(*ty)) {
                return Err(Error::invalid_parameter(
                    "Condition parameter type does not match schema type",
                ));
            }
            if is_hash && op_name != "EQ" {
                return Err(Error::validation("Query key condition not supported"));
            }
        }
        let key_condition = match &raw_kc {
            RawKeyCondition::Expression(kc) => kc.clone(),
            RawKeyCondition::Legacy(m) => legacy::key_conditions(m)?,
        };
        let hash_value = key_condition
            .predicate(&read_key_schema.hash.0)
            .and_then(|p| match &p.op {
                KeyOp::Compare(Comparator::Eq, v) => Some(v.clone()),
                _ => None,
            })
            .ok_or_else(|| Error::validation("Query key condition not supported"))?;
        let range_predicate = read_key_schema
            .range
            .as_ref()
            .and_then(|(r, _)| key_condition.predicate(r));

        // The starting key against the table's key and the condition.
        let mut start_bytes = None;
        if let Some(esk) = &esk {
            let table_bytes = check_table_start_key(esk, &table_key)?;
            let same_hash = esk
                .get(&read_key_schema.hash.0)
                .is_some_and(|v| expr::values_equal(v, &hash_value));
            match range_predicate {
                None => {
                    if !same_hash {
                        return Err(Error::validation(
                            "The provided starting key is outside query boundaries based on provided conditions",
                        ));
                    }
                }
                Some(p) => {
                    if !p.matches(esk) {
                        return Err(Error::validation(
                            "The provided starting key does not match the range key predicate",
                        ));
                    }
                    if !same_hash {
                        return Err(Error::validation(
                            "The query can return at most one row and cannot be restarted",
                        ));
                    }
                }
            }
            start_bytes = Some(match &index {
                Some(_) => read_key(esk, read_key_schema, Some(&table_key))
                    .ok_or_else(|| Error::validation(START_KEY_INVALID))?,
                None => table_bytes,
            });
        }

        let projection = exprs.projection.as_ref().or(legacy_projection.as_ref());
        let mut heads = Vec::new();
        if let Some(p) = &exprs.projection {
            nested_heads_projection(p, &mut heads);
        }
        check_key_paths(&heads, &meta)?;
        let key_attrs: Vec<&str> = read_key_schema.names();
        if let Some(f) = &exprs.filter {
            let used = condition_heads(f);
            if let Some(k) = key_attrs.iter().find(|k| used.iter().any(|u| u == *k)) {
                return Err(Error::Validation(format!(
                    "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
                )));
            }
        }
        if let Some(f) = &query_filter
            && let Some(k) = key_attrs.iter().find(|k| f.contains_key(**k))
        {
            return Err(Error::Validation(format!(
                "QueryFilter can only contain non-primary key attributes: Primary key attribute: {k}"
            )));
        }
        check_gsi_select(index.as_ref(), select)?;
        let requested: Vec<String> = exprs
            .projection
            .iter()
            .chain(&legacy_projection)
            .flat_map(|p| p.paths.iter().filter_map(|d| d.head().map(str::to_string)))
            .collect();
        check_gsi_projection(index.as_ref(), &meta, &requested)?;
        let fetch_from_table = lsi_needs_table(index.as_ref(), &meta, select, &requested);
        if let Some(f) = &exprs.filter {
            check_key_paths(&nested_heads_condition(f), &meta)?;
        }

        let forward = input.scan_index_forward.unwrap_or(true);
        let mut prefix = Vec::new();
        encode_component(&hash_value, &mut prefix);
        let mut range = Range::prefix(&prefix);
        if let Some(p) = range_predicate {
            range.narrow(&prefix, &p.op);
        }
        if let Some(start) = start_bytes {
            range.start_after(start, forward);
        }
        let filter = exprs.filter.as_ref().or(legacy_filter.as_ref());
        let plan = PagePlan {
            range,
            forward,
            limit: check_limit(input.limit),
            key_condition: Some(&key_condition),
            filter,
            projection,
            count_only: select == Some(Select::Count),
            segment: None,
            key_names: &key_names,
        };
        let page = self.read(|txn| match &index {
            None => table_page(txn, &meta, &plan),
            Some(ix) => index_page(txn, &meta, ix.meta, &plan, fetch_from_table),
        })?;
        Ok(QueryOutput {
            items: (!plan.count_only).then_some(page.items),
            count: page.count,
            scanned_count: page.scanned,
            last_evaluated_key: page.last_key,
            consumed_capacity: consumed(
                input.return_consumed_capacity.as_deref(),
                &input.table_name,
                index.as_ref().map(|i| (i.meta.name.as_str(), i.global)),
                read_units(page.bytes_read, consistent),
                fetch_units(page.fetch_blocks, consistent),
            ),
        })
    }

    /// Scan: every item of a table or index (or of one segment of it), in key order.
    pub fn scan(&self, ns: &Namespace, input: ScanInput) -> Result<ScanOutput> {
        check_expression_params(
            &[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("ScanFilter", input.scan_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            &[
                (
                    "ProjectionExpression",
                    input.projection_expression.is_some(),
                ),
                ("FilterExpression", input.filter_expression.is_some()),
            ],
            &input.params,
        )?;
        let legacy_projection = input
            .attributes_to_get
            .as_deref()
            .map(legacy::attributes_to_get_projection)
            .transpose()?;
        let scan_filter = decode_conditions(input.scan_filter.as_ref())?;
        let legacy_filter = match &scan_filter {
            Some(f) => legacy::conditions_to_filter(f, input.conditional_operator.as_deref())?,
            None => None,
        };
        let esk = decode_start_key(input.exclusive_start_key.as_ref())?;
        let segment = match (input.segment, input.total_segments) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
            (Some(s), Some(t)) => {
                if s >= t {
                    return Err(Error::Validation(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                    )));
                }
                // The model check guarantees 0 <= Segment and 1 <= TotalSegments.
                Some((u64::try_from(s).unwrap_or(0), u64::try_from(t).unwrap_or(1)))
            }
        };
        let expression_input = ExpressionInput {
            condition: None,
            update: None,
            projection: input.projection_expression.as_deref(),
            filter: input.filter_expression.as_deref(),
            key_condition: None,
            names: input.params.expression_attribute_names.as_ref(),
            values: input.params.expression_attribute_values.as_ref(),
        };
        let exprs = expr::parse(&expression_input, &[])?;
        let select = check_select(
            input.select.as_deref(),
            input.projection_expression.is_some(),
            input.attributes_to_get.is_some(),
            input.index_name.is_some(),
        )?;

        let meta = self
            .table_meta(ns, &input.table_name)?
            .ok_or_else(Error::table_not_found)?;
        let table_key = meta.primary_key();
        let index = named_index(&meta, input.index_name.as_deref())?;
        let consistent = input.consistent_read.unwrap_or(false);
        check_index_read(index.as_ref(), consistent)?;
        let read_key_schema = index.as_ref().map(|i| &i.key).unwrap_or(&table_key);
        let key_names = start_key_names(&table_key, index.as_ref().map(|i| &i.key));
        if let Some(esk) = &esk
            && esk.len() != key_names.len()
        {
            return Err(if index.is_some() {
                Error::validation(START_KEY_INVALID)
            } else {
                Error::Validation(format!(
                    "{START_KEY_INVALID}: The provided key element does not match the schema"
                ))
            });
        }
        if let (Some(esk), Some(_)) = (&esk, &index) {
            let schema =
                std::iter::once(&read_key_schema.hash).chain(read_key_schema.range.as_ref());
            for (i, (attr, ty)) in schema.enumerate() {
                check_start_piece(esk, attr, *ty, i == 0)?;
            }
        }
        check_gsi_select(index.as_ref(), select)?;
        let requested: Vec<String> = exprs
            .projection
            .iter()
            .chain(&legacy_projection)
            .flat_map(|p| p.paths.iter().filter_map(|d| d.head().map(str::to_string)))
            .collect();
        check_gsi_projection(index.as_ref(), &meta, &requested)?;
        let fetch_from_table = lsi_needs_table(index.as_ref(), &meta, select, &requested);
        let mut start_bytes = None;
        if let Some(esk) = &esk {
            let table_bytes = check_table_start_key(esk, &table_key)?;
            if let Some((s, t)) = segment
                && segment_of(&partition_bytes(esk, &read_key_schema.hash.0), t) != s
            {
                return Err(Error::Validation(format!(
                    "{START_KEY_INVALID}: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {t} Segment: {s}"
                )));
            }
            start_bytes = Some(match &index {
                Some(_) => read_key(esk, read_key_schema, Some(&table_key))
                    .ok_or_else(|| Error::validation(START_KEY_INVALID))?,
                None => table_bytes,
            });
        }
        let mut heads = Vec::new();
        if let Some(p) = &exprs.projection {
            nested_heads_projection(p, &mut heads);
        }
        check_key_paths(&heads, &meta)?;
        if let Some(f) = &exprs.filter {
            check_key_paths(&nested_heads_condition(f), &meta)?;
        }

        let mut range = Range::all();
        if let Some(start) = start_bytes {
            range.start_after(start, true);
        }
        let plan = PagePlan {
            range,
            forward: true,
            limit: check_limit(input.limit),
            key_condition: None,
            filter: exprs.filter.as_ref().or(legacy_filter.as_ref()),
            projection: exprs.projection.as_ref().or(legacy_projection.as_ref()),
            count_only: select == Some(Select::Count),
            segment: segment.map(|(s, t)| (s, t, read_key_schema.hash.0.as_str())),
            key_names: &key_names,
        };
        let page = self.read(|txn| match &index {
            None => table_page(txn, &meta, &plan),
            Some(ix) => index_page(txn, &meta, ix.meta, &plan, fetch_from_table),
        })?;
        Ok(ScanOutput {
            items: (!plan.count_only).then_some(page.items),
            count: page.count,
            scanned_count: page.scanned,
            last_evaluated_key: page.last_key,
            consumed_capacity: consumed(
                input.return_consumed_capacity.as_deref(),
                &input.table_name,
                index.as_ref().map(|i| (i.meta.name.as_str(), i.global)),
                read_units(page.bytes_read, consistent),
                fetch_units(page.fetch_blocks, consistent),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_successor_skips_trailing_ff() {
        assert_eq!(prefix_successor(&[1, 2, 0xFF]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn segments_cover_every_partition_once() {
        for p in 0u8..50 {
            let s = segment_of(&[p], 7);
            assert!(s < 7);
        }
    }

    #[test]
    fn ordering_of_bounds_is_checked() {
        let mut r = Range::prefix(b"a");
        r.start_after(b"b".to_vec(), true);
        assert!(r.is_empty());
    }
}
