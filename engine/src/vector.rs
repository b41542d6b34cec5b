//! Vector indexes and `SearchVectors`.
//!
//! A vector index names one attribute holding a list of numbers (an embedding), a dimension
//! count, a distance function, an optional search schema (one `HASH` attribute that scopes a
//! search, and `INLINE_FILTER` attributes a search may filter on by equality) and a projection.
//!
//! Layout in redb:
//! - `vindex/<table_num>/<index name>`: encoded table key → entry. An entry is the vector as
//!   little-endian `f32`s (`4 × Dimensions` bytes) followed by [`crate::codec::encode_item`]
//!   of the projected attributes without the vector.
//! - `index_stats` (shared with [`crate::index`]): the same name → (item count, size), where
//!   an entry's size is its projected attributes' item size plus the vector attribute's name
//!   and four bytes per dimension.
//!
//! Which items an index holds: an item is indexed when it has the vector attribute and, if
//! the search schema has a `HASH` element, that attribute too. Writes of an item whose vector
//! attribute is not a list of numbers representable as finite 32-bit floats, or has another
//! length than `Dimensions`, are rejected (AWS developer guide, "Troubleshooting vector
//! indexes": the write is rejected when the vector has the wrong dimension or type).
//!
//! **Invariant:** for every vector index of a table, its redb table holds exactly one entry per
//! indexed item, keyed by the item's encoded primary key, so equal scores order by key. It is
//! maintained by [`maintain`], called by `Engine::store` in the write transaction of the item.
//!
//! `SearchVectors` is an exact search: every entry is scored with 32-bit float arithmetic and
//! the `TopK` best are returned (COSINE and EUCLIDEAN smallest first, DOT_PRODUCT largest
//! first), ties broken by primary-key order.
//!
//! Message sources: AWS developer guide "Troubleshooting vector indexes" for `Provided TopK value
//! is out of valid range`, `SearchConditionExpression must be provided when SearchSchema has a
//! HASH key`, `One element in SearchSchema is not defined in attribute definitions`, `Invalid
//! comparator used in SearchConditionExpression`, `Cannot search backfilling vector index` and
//! `The table does not have the specified index`; the remaining texts are written in AWS's style
//! (see the README's list of inferred messages).

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::{Projection, TableMeta};
use crate::codec::{decode_item, encode_item};
use crate::engine::{CATALOG, Engine, Namespace, items_table_name};
use crate::error::{Error, Result};
use crate::expr::{self, Comparator, Condition, ExpressionInput, Operand, PathElem};
use crate::index::INDEX_STATS;
use crate::item_ops::ExpressionParams;
use crate::keys::AttributeDefinition;
use crate::number::Number;
use crate::value::{AttributeValue, Item, item_size};

/// The most dimensions a vector index may have (CloudFormation `VectorIndex.Dimensions`).
pub const MAX_DIMENSIONS: i64 = 4096;
/// The largest `TopK` a search accepts (AWS developer guide, "Troubleshooting vector indexes").
pub const MAX_TOP_K: i64 = 100;
/// The smallest `VectorSearchRequestBytes` one search is charged.
const SEARCH_FLOOR_BYTES: f64 = 1024.0;

/// `VectorDistanceFunction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DistanceFunction {
    /// `1 − cos(a, b)`: 0 for the same direction, 2 for opposite ones; smallest first.
    Cosine,
    /// The Euclidean distance; smallest first.
    Euclidean,
    /// The dot product; largest first.
    DotProduct,
}

impl DistanceFunction {
    /// The score of `candidate` against `query`, computed with `f32` arithmetic, summing in
    /// dimension order: DOT_PRODUCT `Σ qᵢcᵢ`; EUCLIDEAN `√Σ (qᵢ−cᵢ)²`; COSINE
    /// `1 − Σ qᵢcᵢ / (√Σ qᵢ² · √Σ cᵢ²)`, and 1 when either vector is zero.
    pub fn score(self, query: &[f32], candidate: &[f32]) -> f32 {
        self.score_with_norm(query, norm(query), candidate)
    }

    /// [`DistanceFunction::score`] with the query's norm `√Σ qᵢ²` computed once per search.
    fn score_with_norm(self, query: &[f32], query_norm: f32, candidate: &[f32]) -> f32 {
        match self {
            DistanceFunction::DotProduct => dot(query, candidate),
            DistanceFunction::Euclidean => query
                .iter()
                .zip(candidate)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt(),
            DistanceFunction::Cosine => {
                // One pass for both sums; each is still summed in dimension order.
                let (mut qc, mut cc) = (0.0f32, 0.0f32);
                for (q, c) in query.iter().zip(candidate) {
                    qc += q * c;
                    cc += c * c;
                }
                let denom = query_norm * cc.sqrt();
                if denom == 0.0 {
                    // A zero vector has no direction: as far as orthogonal.
                    1.0
                } else {
                    1.0 - qc / denom
                }
            }
        }
    }

    /// The key results sort by, smallest first: the score, or its negation for DOT_PRODUCT.
    pub fn rank(self, score: f32) -> f32 {
        match self {
            DistanceFunction::DotProduct => -score,
            _ => score,
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f32]) -> f32 {
    dot(a, a).sqrt()
}

/// `SearchSchemaElementType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SearchSchemaElementType {
    /// Scopes every search: its value must be given in the `SearchConditionExpression`.
    Hash,
    /// May be filtered on by equality.
    InlineFilter,
}

/// `SearchSchemaElement`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchSchemaElement {
    /// The attribute (declared in the table's `AttributeDefinitions`).
    pub attribute_name: String,
    /// Its role.
    pub search_schema_element_type: SearchSchemaElementType,
}

/// `VectorAttributeDefinition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VectorAttributeDefinition {
    /// The attribute holding the vector.
    pub attribute_name: String,
}

/// A vector index definition: the `VectorIndex` / `CreateVectorIndexAction` shape, also how the
/// catalog stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VectorIndex {
    /// Index name, unique among the table's indexes.
    pub index_name: String,
    /// The vector attribute.
    pub vector_attribute: VectorAttributeDefinition,
    /// HASH and INLINE_FILTER attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_schema: Option<Vec<SearchSchemaElement>>,
    /// What the index copies from the item.
    pub projection: Projection,
    /// Number of dimensions of every vector.
    pub dimensions: i64,
    /// How similarity is scored.
    pub distance_function: DistanceFunction,
}

impl VectorIndex {
    fn schema(&self) -> &[SearchSchemaElement] {
        self.search_schema.as_deref().unwrap_or(&[])
    }

    fn hash_attribute(&self) -> Option<&str> {
        self.schema()
            .iter()
            .find(|e| e.search_schema_element_type == SearchSchemaElementType::Hash)
            .map(|e| e.attribute_name.as_str())
    }

    fn dims(&self) -> usize {
        usize::try_from(self.dimensions).unwrap_or(0)
    }

    /// Whether attribute `name` is stored in the index (besides the vector).
    fn projects(&self, meta: &TableMeta, name: &str) -> bool {
        let ty = self.projection.projection_type.as_deref().unwrap_or("ALL");
        ty == "ALL"
            || name == self.vector_attribute.attribute_name
            || meta.key_schema.iter().any(|k| k.attribute_name == name)
            || self.schema().iter().any(|e| e.attribute_name == name)
            || (ty == "INCLUDE"
                && self
                    .projection
                    .non_key_attributes
                    .iter()
                    .flatten()
                    .any(|a| a == name))
    }
}

/// `DeleteVectorIndexAction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteVectorIndexAction {
    /// The index to delete.
    pub index_name: String,
}

/// One element of UpdateTable's `VectorIndexUpdates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VectorIndexUpdate {
    /// Add an index (backfilled from the table's items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<VectorIndex>,
    /// Remove an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<DeleteVectorIndexAction>,
}

/// `VectorIndexDescription`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct VectorIndexDescription {
    pub index_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_schema: Option<Vec<SearchSchemaElement>>,
    pub projection: Projection,
    pub vector_attribute: VectorAttributeDefinition,
    pub dimensions: i64,
    pub distance_function: DistanceFunction,
    pub index_status: String,
    /// Present (false) only while `IndexStatus` is `CREATING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfilling: Option<bool>,
    pub index_size_bytes: u64,
    pub item_count: u64,
    pub index_arn: String,
}

/// The redb table holding the entries of `index`; also its key in `index_stats`.
pub(crate) fn table_name(meta: &TableMeta, index: &VectorIndex) -> String {
    format!("vindex/{}/{}", meta.table_num, index.index_name)
}

/// `VectorIndexDescription`s of `meta`'s vector indexes, all `ACTIVE`; `stats_of` gives an
/// index's (item count, size) by name.
pub(crate) fn describe(
    meta: &TableMeta,
    stats_of: impl Fn(&str) -> (u64, u64),
) -> Vec<VectorIndexDescription> {
    meta.vector_indexes
        .iter()
        .map(|v| {
            let (count, size) = stats_of(&v.index_name);
            VectorIndexDescription {
                index_name: v.index_name.clone(),
                search_schema: v.search_schema.clone(),
                projection: v.projection.clone(),
                vector_attribute: v.vector_attribute.clone(),
                dimensions: v.dimensions,
                distance_function: v.distance_function,
                index_status: "ACTIVE".into(),
                backfilling: None,
                index_size_bytes: size,
                item_count: count,
                index_arn: format!("{}/index/{}", meta.arn(), v.index_name),
            }
        })
        .collect()
}

/// (index name, (item count, size)) of every vector index of `meta`.
pub(crate) fn all_stats<T: ReadableTable<&'static str, (u64, u64)>>(
    stats: &T,
    meta: &TableMeta,
) -> Result<Vec<(String, (u64, u64))>> {
    meta.vector_indexes
        .iter()
        .map(|v| {
            let s = stats
                .get(table_name(meta, v).as_str())?
                .map(|g| g.value())
                .unwrap_or((0, 0));
            Ok((v.index_name.clone(), s))
        })
        .collect()
}

/// [`all_stats`] in a read transaction (a database without `index_stats` has none).
pub(crate) fn all_stats_read(
    txn: &redb::ReadTransaction,
    meta: &TableMeta,
) -> Result<Vec<(String, (u64, u64))>> {
    if meta.vector_indexes.is_empty() {
        return Ok(Vec::new());
    }
    match txn.open_table(INDEX_STATS) {
        Ok(t) => all_stats(&t, meta),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// [`all_stats`] in a write transaction.
pub(crate) fn all_stats_write(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
) -> Result<Vec<(String, (u64, u64))>> {
    if meta.vector_indexes.is_empty() {
        return Ok(Vec::new());
    }
    all_stats(&txn.open_table(INDEX_STATS)?, meta)
}

/// Attributes the search schemas of `meta`'s vector indexes use; their attribute definitions
/// must stay when another index goes.
pub(crate) fn schema_attributes(meta: &TableMeta) -> Vec<String> {
    meta.vector_indexes
        .iter()
        .flat_map(|v| v.schema().iter().map(|e| e.attribute_name.clone()))
        .collect()
}

/// The on-demand-only rule: a table with vector indexes must use `PAY_PER_REQUEST` (AWS
/// developer guide, "Creating and searching vector indexes": "Vector indexes are not
/// supported on provisioned capacity tables").
pub(crate) fn check_on_demand(meta: &TableMeta) -> Result<()> {
    if !meta.vector_indexes.is_empty()
        && meta.billing_mode != crate::catalog::BillingMode::PAY_PER_REQUEST
    {
        return Err(Error::invalid_parameter(
            "Vector indexes are not supported on tables with BillingMode PROVISIONED; use PAY_PER_REQUEST",
        ));
    }
    Ok(())
}

/// Checks new vector index definitions against the table: `defs` are the table's attribute
/// definitions (after the request's are merged in), `key_names` its key attributes, `taken`
/// the names of its other indexes, `existing` its current vector indexes.
pub(crate) fn check_definitions(
    new: &[VectorIndex],
    defs: &[AttributeDefinition],
    key_names: &[&str],
    taken: &[&str],
    existing: &[VectorIndex],
) -> Result<()> {
    let mut names: BTreeSet<&str> = taken.iter().copied().collect();
    names.extend(existing.iter().map(|v| v.index_name.as_str()));
    for (i, v) in new.iter().enumerate() {
        let name = v.index_name.as_str();
        if !names.insert(name) {
            return Err(Error::invalid_parameter(format!(
                "Duplicate index name: {name}"
            )));
        }
        if !(1..=MAX_DIMENSIONS).contains(&v.dimensions) {
            return Err(Error::invalid_parameter(format!(
                "Dimensions must be between 1 and {MAX_DIMENSIONS} for vector index: {name}"
            )));
        }
        let p = &v.projection;
        let Some(ty) = p.projection_type.as_deref() else {
            return Err(Error::invalid_parameter("Unknown ProjectionType: null"));
        };
        if p.non_key_attributes.is_some() && ty != "INCLUDE" {
            return Err(Error::invalid_parameter(format!(
                "ProjectionType is {ty}, but NonKeyAttributes is specified"
            )));
        }
        if ty == "INCLUDE" && p.non_key_attributes.as_ref().is_none_or(Vec::is_empty) {
            return Err(Error::invalid_parameter(format!(
                "NonKeyAttributes must be specified when ProjectionType is INCLUDE for vector index: {name}"
            )));
        }
        let attr = v.vector_attribute.attribute_name.as_str();
        if key_names.contains(&attr) || defs.iter().any(|d| d.attribute_name == attr) {
            return Err(Error::invalid_parameter(format!(
                "The vector attribute {attr} of vector index {name} cannot be a key attribute or be defined in AttributeDefinitions"
            )));
        }
        let schema = v.schema();
        if v.search_schema.is_some() && schema.is_empty() {
            return Err(Error::invalid_parameter(format!(
                "SearchSchema must not be empty for vector index: {name}"
            )));
        }
        let hashes = schema
            .iter()
            .filter(|e| e.search_schema_element_type == SearchSchemaElementType::Hash)
            .count();
        if hashes > 1 {
            return Err(Error::invalid_parameter(format!(
                "SearchSchema can have at most one HASH element for vector index: {name}"
            )));
        }
        let mut seen = BTreeSet::new();
        for e in schema {
            if !defs.iter().any(|d| d.attribute_name == e.attribute_name) {
                return Err(Error::validation(
                    "One element in SearchSchema is not defined in attribute definitions",
                ));
            }
            if !seen.insert(e.attribute_name.as_str()) {
                return Err(Error::invalid_parameter(format!(
                    "Duplicate attribute {} in SearchSchema of vector index: {name}",
                    e.attribute_name
                )));
            }
        }
        let same_attribute = existing
            .iter()
            .chain(&new[..i])
            .find(|o| o.vector_attribute.attribute_name == attr && o.dimensions != v.dimensions);
        if let Some(o) = same_attribute {
            return Err(Error::invalid_parameter(format!(
                "Vector indexes on the same attribute must have the same Dimensions: attribute {attr} has {} in vector index {} and {} in vector index {name}",
                o.dimensions, o.index_name, v.dimensions
            )));
        }
    }
    Ok(())
}

/// Reads `value` as a vector for `index`, or AWS's rejection of the write naming `attr`.
fn parse_vector(index: &VectorIndex, value: &AttributeValue) -> Result<Vec<f32>> {
    let attr = &index.vector_attribute.attribute_name;
    let name = &index.index_name;
    let AttributeValue::L(list) = value else {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid. Invalid type for parameter {attr}, Expected: 32-bit floating point number list IndexName: {name}"
        )));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, element) in list.iter().enumerate() {
        match element {
            AttributeValue::N(n) => match to_f32(n) {
                Some(f) => out.push(f),
                None => {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid. Invalid value for parameter {attr}[{i}], Expected: 32-bit floating point number, Actual: {n} IndexName: {name}"
                    )));
                }
            },
            other => {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid. Invalid type for parameter {attr}[{i}], Expected: 32-bit floating point number, Actual: {}. IndexName: {name}",
                    other.type_name()
                )));
            }
        }
    }
    if out.len() != index.dims() {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid. Invalid size for parameter {attr}, Expected: {}, Actual: {} IndexName: {name}",
            index.dimensions,
            out.len()
        )));
    }
    Ok(out)
}

/// The nearest finite `f32` of `n`, or `None` when `n` is beyond the `f32` range.
fn to_f32(n: &Number) -> Option<f32> {
    n.to_string().parse::<f32>().ok().filter(|f| f.is_finite())
}

/// The shortest decimal naming `f` exactly as an `f32`, as a DynamoDB number.
fn from_f32(f: f32) -> AttributeValue {
    let n: Number = format!("{f:e}").parse().unwrap_or_else(|_| Number::zero());
    AttributeValue::N(n)
}

/// Rejects a write of `item` that some vector index of `meta` cannot take: a malformed
/// vector, or a search-schema attribute of another type than its definition.
pub(crate) fn check_item(meta: &TableMeta, item: &Item) -> Result<()> {
    for index in &meta.vector_indexes {
        if let Some(v) = item.get(&index.vector_attribute.attribute_name) {
            parse_vector(index, v)?;
        }
        for e in index.schema() {
            let Some(v) = item.get(&e.attribute_name) else {
                continue;
            };
            let Some(def) = meta
                .attribute_definitions
                .iter()
                .find(|d| d.attribute_name == e.attribute_name)
            else {
                continue;
            };
            if v.scalar_type() != Some(def.attribute_type) {
                return Err(Error::invalid_parameter(format!(
                    "Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    e.attribute_name,
                    def.attribute_type.as_str(),
                    v.type_name(),
                    index.index_name
                )));
            }
        }
    }
    Ok(())
}

/// The entry `item` has in `index`: its vector and projected attributes (vector excluded), or
/// `None` when the item is not indexed (no vector, no HASH attribute, or a malformed vector
/// written before the index existed).
fn entry(meta: &TableMeta, index: &VectorIndex, item: &Item) -> Option<(Vec<f32>, Item)> {
    let vector = parse_vector(index, item.get(&index.vector_attribute.attribute_name)?).ok()?;
    if let Some(h) = index.hash_attribute() {
        item.get(h)?;
    }
    let projected: Item = item
        .iter()
        .filter(|(k, _)| **k != index.vector_attribute.attribute_name && index.projects(meta, k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some((vector, projected))
}

fn encode_entry(vector: &[f32], projected: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(vector.len() * 4 + 64);
    for f in vector {
        out.extend_from_slice(&f.to_le_bytes());
    }
    out.extend_from_slice(&encode_item(projected));
    out
}

fn entry_size(index: &VectorIndex, projected: &Item) -> u64 {
    (item_size(projected) + index.vector_attribute.attribute_name.len() + 4 * index.dims()) as u64
}

/// Reads the vector part of a stored entry into `out`; false when the entry is too short.
fn read_vector(bytes: &[u8], dims: usize, out: &mut Vec<f32>) -> bool {
    out.clear();
    let Some(raw) = bytes.get(..dims * 4) else {
        return false;
    };
    out.extend(
        raw.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
    );
    true
}

fn corrupt() -> Error {
    Error::Internal("a vector index entry is corrupt".into())
}

/// Keeps every vector index of `meta`'s table in step with one item (encoded key `key`) going
/// from `old` to `new`, inside the caller's write transaction; rejects a `new` item that a
/// vector index cannot take ([`check_item`]).
pub(crate) fn maintain(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    key: &[u8],
    old: Option<&Item>,
    new: Option<&Item>,
) -> Result<()> {
    if meta.vector_indexes.is_empty() {
        return Ok(());
    }
    if let Some(n) = new {
        check_item(meta, n)?;
    }
    let mut stats = txn.open_table(INDEX_STATS)?;
    for index in &meta.vector_indexes {
        let before = old.and_then(|o| entry(meta, index, o));
        let after = new.and_then(|n| entry(meta, index, n));
        if before == after {
            continue;
        }
        let name = table_name(meta, index);
        let (mut count, mut size) = stats
            .get(name.as_str())?
            .map(|v| v.value())
            .unwrap_or((0, 0));
        let mut t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
        if let Some((_, projected)) = &before
            && t.remove(key)?.is_some()
        {
            count = count.saturating_sub(1);
            size = size.saturating_sub(entry_size(index, projected));
        }
        if let Some((vector, projected)) = &after {
            t.insert(key, encode_entry(vector, projected).as_slice())?;
            count += 1;
            size += entry_size(index, projected);
        }
        stats.insert(name.as_str(), (count, size))?;
    }
    Ok(())
}

/// Creates the storage of `index` and fills it from the table's items (synchronously, as
/// GSIs are backfilled here). The caller must not hold the items table open.
pub(crate) fn create_and_backfill(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    index: &VectorIndex,
) -> Result<()> {
    let name = table_name(meta, index);
    let mut t = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
    let items_name = items_table_name(meta.table_num);
    let items = txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&items_name))?;
    let (mut count, mut size) = (0u64, 0u64);
    for row in items.iter()? {
        let (k, v) = row?;
        let item = decode_item(v.value())?;
        if let Some((vector, projected)) = entry(meta, index, &item) {
            t.insert(k.value(), encode_entry(&vector, &projected).as_slice())?;
            count += 1;
            size += entry_size(index, &projected);
        }
    }
    txn.open_table(INDEX_STATS)?
        .insert(name.as_str(), (count, size))?;
    Ok(())
}

/// Drops the storage of `index`.
pub(crate) fn drop_storage(
    txn: &redb::WriteTransaction,
    meta: &TableMeta,
    index: &VectorIndex,
) -> Result<()> {
    let name = table_name(meta, index);
    txn.delete_table(TableDefinition::<&[u8], &[u8]>::new(&name))?;
    txn.open_table(INDEX_STATS)?.remove(name.as_str())?;
    Ok(())
}

/// What UpdateTable's `VectorIndexUpdates` did, for its response.
#[derive(Debug, Default)]
pub(crate) struct VectorChanges {
    /// Indexes created (answered as `CREATING`).
    pub(crate) created: Vec<String>,
    /// Indexes deleted, with their stats (answered as `DELETING`).
    pub(crate) deleted: Vec<(VectorIndex, (u64, u64))>,
}

/// Applies UpdateTable's `VectorIndexUpdates` to `meta` and storage: one Create (backfilled
/// at once) or one Delete per request. `request_defs` are the request's attribute definitions.
pub(crate) fn apply_updates(
    txn: &redb::WriteTransaction,
    meta: &mut TableMeta,
    updates: &[VectorIndexUpdate],
    request_defs: &[AttributeDefinition],
) -> Result<VectorChanges> {
    let mut changes = VectorChanges::default();
    if updates.is_empty() {
        return Ok(changes);
    }
    if updates.len() > 1 {
        return Err(Error::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
        ));
    }
    for u in updates {
        match (&u.create, &u.delete) {
            (Some(c), None) => {
                for d in request_defs {
                    if meta.attribute_definitions.iter().any(|m| {
                        m.attribute_name == d.attribute_name && m.attribute_type != d.attribute_type
                    }) {
                        return Err(Error::validation(
                            "invalid attribute, SchemaElement redefined should be of same type as previously defined",
                        ));
                    }
                }
                let mut defs = meta.attribute_definitions.clone();
                for d in request_defs {
                    if !defs.iter().any(|m| m.attribute_name == d.attribute_name) {
                        defs.push(d.clone());
                    }
                }
                let keys: Vec<&str> = meta
                    .key_schema
                    .iter()
                    .map(|k| k.attribute_name.as_str())
                    .collect();
                let taken: Vec<&str> = meta
                    .lsis
                    .iter()
                    .chain(&meta.gsis)
                    .map(|i| i.name.as_str())
                    .collect();
                check_definitions(
                    std::slice::from_ref(c),
                    &defs,
                    &keys,
                    &taken,
                    &meta.vector_indexes,
                )?;
                // Only definitions the new index's search schema uses are kept.
                for e in c.schema() {
                    if !meta
                        .attribute_definitions
                        .iter()
                        .any(|m| m.attribute_name == e.attribute_name)
                        && let Some(d) = defs.iter().find(|d| d.attribute_name == e.attribute_name)
                    {
                        meta.attribute_definitions.push(d.clone());
                    }
                }
                meta.vector_indexes.push(c.clone());
                check_on_demand(meta)?;
                create_and_backfill(txn, meta, c)?;
                changes.created.push(c.index_name.clone());
            }
            (None, Some(d)) => {
                let Some(pos) = meta
                    .vector_indexes
                    .iter()
                    .position(|v| v.index_name == d.index_name)
                else {
                    return Err(Error::ResourceNotFound(format!(
                        "Requested resource not found: Index: {} not found",
                        d.index_name
                    )));
                };
                let stats = all_stats(&txn.open_table(INDEX_STATS)?, meta)?
                    .into_iter()
                    .find(|(n, _)| *n == d.index_name)
                    .map(|(_, s)| s)
                    .unwrap_or((0, 0));
                let gone = meta.vector_indexes.remove(pos);
                drop_storage(txn, meta, &gone)?;
                let used: BTreeSet<String> = meta
                    .key_schema
                    .iter()
                    .chain(
                        meta.lsis
                            .iter()
                            .chain(&meta.gsis)
                            .flat_map(|i| &i.key_schema),
                    )
                    .map(|k| k.attribute_name.clone())
                    .chain(schema_attributes(meta))
                    .collect();
                meta.attribute_definitions
                    .retain(|a| used.contains(&a.attribute_name));
                changes.deleted.push((gone, stats));
            }
            _ => {
                return Err(Error::invalid_parameter(
                    "One of Create or Delete must be specified in each VectorIndexUpdate",
                ));
            }
        }
    }
    Ok(changes)
}

/// Shows UpdateTable's vector index changes in its response: created ones `CREATING`
/// (backfilling false), deleted ones `DELETING`.
pub(crate) fn show_changes(
    meta: &TableMeta,
    changes: &VectorChanges,
    described: &mut Option<Vec<VectorIndexDescription>>,
) {
    if changes.created.is_empty() && changes.deleted.is_empty() {
        return;
    }
    let list = described.get_or_insert_with(Vec::new);
    for d in list.iter_mut() {
        if changes.created.contains(&d.index_name) {
            d.index_status = "CREATING".into();
            d.backfilling = Some(false);
        }
    }
    for (gone, (count, size)) in &changes.deleted {
        let mut shown = meta.clone();
        shown.vector_indexes = vec![gone.clone()];
        let mut d = describe(&shown, |_| (*count, *size));
        for mut x in d.drain(..) {
            x.index_status = "DELETING".into();
            list.push(x);
        }
    }
}

/// `SearchVectors` request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct SearchVectorsInput {
    pub table_name: String,
    pub index_name: String,
    pub search_vector: Vec<AttributeValue>,
    pub top_k: i64,
    pub search_condition_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub return_consumed_capacity: Option<String>,
    #[serde(flatten)]
    pub params: ExpressionParams,
}

/// One result of `SearchVectors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchResultItem {
    /// The projected attributes.
    pub item: Item,
    /// The similarity score (see [`DistanceFunction`]).
    pub score: f64,
}

/// `VectorCapacity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VectorCapacity {
    /// Bytes a search consumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_search_request_bytes: Option<f64>,
}

/// `SearchVectors` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchVectorsOutput {
    /// Most similar first.
    pub search_results: Vec<SearchResultItem>,
    /// With `ReturnConsumedCapacity` `TOTAL` or `INDEXES`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<VectorCapacity>,
}

const INVALID_COMPARATOR: &str =
    "Invalid SearchConditionExpression: Invalid comparator used in SearchConditionExpression";

/// Flattens a search condition into `attribute = value` terms: equality on top-level
/// search-schema attributes joined by AND, nothing else.
fn condition_terms(
    index: &VectorIndex,
    c: &Condition,
    out: &mut Vec<(String, AttributeValue)>,
) -> Result<()> {
    match c {
        Condition::And(a, b) => {
            condition_terms(index, a, out)?;
            condition_terms(index, b, out)
        }
        Condition::Compare(Comparator::Eq, Operand::Path(p), Operand::Value(v))
        | Condition::Compare(Comparator::Eq, Operand::Value(v), Operand::Path(p)) => {
            let attr = match p.0.as_slice() {
                [PathElem::Attr(a)] => a.clone(),
                _ => {
                    return Err(Error::Validation(format!(
                        "Invalid SearchConditionExpression: Only top-level attributes of the SearchSchema can be referenced; path: {p}"
                    )));
                }
            };
            if !index.schema().iter().any(|e| e.attribute_name == attr) {
                return Err(Error::Validation(format!(
                    "SearchConditionExpression must not contain any attributes that is not in SearchSchema. Invalid attribute: {attr}"
                )));
            }
            out.push((attr, v.clone()));
            Ok(())
        }
        _ => Err(Error::validation(INVALID_COMPARATOR)),
    }
}

/// A scored candidate; `Ord` puts the worst (largest rank, then largest key) on top of a
/// max-heap.
struct Candidate {
    rank: f32,
    score: f32,
    key: Vec<u8>,
}

impl Candidate {
    fn cmp_parts(&self, rank: f32, key: &[u8]) -> Ordering {
        self.rank
            .total_cmp(&rank)
            .then_with(|| self.key.as_slice().cmp(key))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_parts(other.rank, &other.key)
    }
}

impl Engine {
    /// SearchVectors: the `TopK` entries of a vector index nearest to `SearchVector`.
    pub fn search_vectors(
        &self,
        ns: &Namespace,
        input: SearchVectorsInput,
    ) -> Result<SearchVectorsOutput> {
        if !(1..=MAX_TOP_K).contains(&input.top_k) {
            return Err(Error::Validation(format!(
                "Provided TopK value '{}' is out of valid range. The value must be between 1 and {MAX_TOP_K} inclusive",
                input.top_k
            )));
        }
        let query: Vec<f32> = input
            .search_vector
            .iter()
            .map(|v| match v {
                AttributeValue::N(n) => to_f32(n),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(|| {
                Error::validation(
                    "Search vector contains invalid values. All values in the search vector must be a 32-bit floating-point number attribute",
                )
            })?;
        let params = &input.params;
        let exprs = expr::parse(
            &ExpressionInput {
                condition: input.search_condition_expression.as_deref(),
                projection: input.projection_expression.as_deref(),
                names: params.expression_attribute_names.as_ref(),
                values: params.expression_attribute_values.as_ref(),
                ..ExpressionInput::default()
            },
            &[],
        )
        .map_err(|e| match e {
            Error::Validation(m) => Error::Validation(m.replace(
                "Invalid ConditionExpression",
                "Invalid SearchConditionExpression",
            )),
            other => other,
        })?;
        let txn = self.db.begin_read()?;
        let meta = Engine::load_meta(&txn.open_table(CATALOG)?, &ns.table_key(&input.table_name))?
            .ok_or_else(Error::table_not_found)?;
        let Some(index) = meta
            .vector_indexes
            .iter()
            .find(|v| v.index_name == input.index_name)
        else {
            return Err(Error::Validation(format!(
                "The table does not have the specified index: {}",
                input.index_name
            )));
        };
        if query.len() != index.dims() {
            return Err(Error::Validation(format!(
                "Input search vector dimension {} does not match vector index dimension {}",
                query.len(),
                index.dimensions
            )));
        }
        let mut terms = Vec::new();
        if let Some(c) = &exprs.condition {
            condition_terms(index, c, &mut terms)?;
        }
        if let Some(h) = index.hash_attribute()
            && !terms.iter().any(|(a, _)| a == h)
        {
            return Err(Error::validation(
                "SearchConditionExpression must be provided when SearchSchema has a HASH key",
            ));
        }
        if let Some(p) = &exprs.projection
            && let Some(head) = p
                .paths
                .iter()
                .filter_map(|p| p.head())
                .find(|h| !index.projects(&meta, h))
        {
            return Err(Error::invalid_parameter(format!(
                "ProjectionExpression can only reference attributes projected into the vector index; attribute: {head} IndexName: {}",
                index.index_name
            )));
        }

        let name = table_name(&meta, index);
        let t = match txn.open_table(TableDefinition::<&[u8], &[u8]>::new(&name)) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(Error::Internal(format!(
                    "storage of vector index {} is missing",
                    index.index_name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let k = usize::try_from(input.top_k).unwrap_or(1);
        let dims = index.dims();
        let f = index.distance_function;
        let query_norm = norm(&query);
        let mut heap: BinaryHeap<Candidate> = BinaryHeap::with_capacity(k + 1);
        let mut vector = Vec::with_capacity(dims);
        for row in t.iter()? {
            let (key, value) = row?;
            let bytes = value.value();
            if !read_vector(bytes, dims, &mut vector) {
                return Err(corrupt());
            }
            let score = f.score_with_norm(&query, query_norm, &vector);
            let rank = f.rank(score);
            let key = key.value();
            if heap.len() == k
                && heap
                    .peek()
                    .is_some_and(|worst| worst.cmp_parts(rank, key) != Ordering::Greater)
            {
                continue;
            }
            if !terms.is_empty() {
                let item = decode_item(&bytes[dims * 4..])?;
                let matches = terms.iter().all(|(a, v)| {
                    item.get(a)
                        .is_some_and(|x| x.type_name() == v.type_name() && expr::values_equal(x, v))
                });
                if !matches {
                    continue;
                }
            }
            heap.push(Candidate {
                rank,
                score,
                key: key.to_vec(),
            });
            if heap.len() > k {
                heap.pop();
            }
        }
        let winners = heap.into_sorted_vec();
        let mut results = Vec::with_capacity(winners.len());
        let mut returned_bytes = 0u64;
        for c in winners {
            let value = t.get(c.key.as_slice())?.ok_or_else(corrupt)?;
            let bytes = value.value();
            let mut item = decode_item(bytes.get(dims * 4..).ok_or_else(corrupt)?)?;
            returned_bytes += entry_size(index, &item);
            if let Some(p) = &exprs.projection {
                if read_vector(bytes, dims, &mut vector) {
                    item.insert(
                        index.vector_attribute.attribute_name.clone(),
                        AttributeValue::L(vector.iter().map(|x| from_f32(*x)).collect()),
                    );
                }
                item = p.apply(&item);
            }
            results.push(SearchResultItem {
                item,
                score: f64::from(c.score),
            });
        }
        let consumed = match input.return_consumed_capacity.as_deref() {
            Some("TOTAL") | Some("INDEXES") => Some(VectorCapacity {
                vector_search_request_bytes: Some(
                    ((4 * dims) as f64 + returned_bytes as f64).max(SEARCH_FLOOR_BYTES),
                ),
            }),
            _ => None,
        };
        Ok(SearchVectorsOutput {
            search_results: results,
            consumed_capacity: consumed,
        })
    }
}

#[cfg(test)]
mod tests;
