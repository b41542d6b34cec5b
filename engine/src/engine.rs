//! The engine: one redb database holding the catalog and every table's items.
//!
//! Layout in redb:
//! - `catalog`: namespace key → table metadata as JSON ([`TableMeta`]).
//! - `stats`: namespace key → (item count, size in bytes), updated in each write transaction.
//! - `counters`: named counters, e.g. the next table number.
//! - `items/<table_num>`: encoded primary key → encoded item ([`crate::codec`]).
//!
//! A namespace key is `account \x1f region \x1f table name`.
//! **Invariant:** every operation that changes items or metadata runs in exactly one redb write
//! transaction, so a crash never leaves half an operation behind.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableTable, TableDefinition};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::ids::IdSource;

pub(crate) const CATALOG: TableDefinition<&str, &str> = TableDefinition::new("catalog");
pub(crate) const STATS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("stats");
pub(crate) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const FORMAT: TableDefinition<&str, &str> = TableDefinition::new("format");
/// redb's page cache in memory mode, where it would otherwise duplicate the backend's pages.
const MEMORY_MODE_CACHE_BYTES: usize = 16 << 20;
/// redb's page cache in file mode (redb's default is 1 GiB).
const FILE_MODE_CACHE_BYTES: usize = 64 << 20;
const FORMAT_VERSION: &str = "ddb-harness/1";

/// Who is asking: AWS partitions all state by account and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// The 12-digit account id.
    pub account: String,
    /// The region, e.g. `us-east-1`.
    pub region: String,
}

impl Namespace {
    /// A namespace for `account` in `region`.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Namespace {
            account: account.into(),
            region: region.into(),
        }
    }

    /// The catalog key of a table in this namespace. `table` may also be a table ARN
    /// (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`), which AWS accepts wherever a table name
    /// goes; the ARN's account and region then name the namespace.
    pub(crate) fn table_key(&self, table: &str) -> String {
        if let Some((account, region, name)) = parse_table_arn(table) {
            return format!("{account}\x1f{region}\x1f{name}");
        }
        format!("{}\x1f{}\x1f{}", self.account, self.region, table)
    }

    /// The catalog key prefix of this namespace.
    pub(crate) fn prefix(&self) -> String {
        format!("{}\x1f{}\x1f", self.account, self.region)
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace::new("000000000000", "us-east-1")
    }
}

/// Splits `arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME` into (account, region, name).
pub(crate) fn parse_table_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (
        Some("arn"),
        Some(_partition),
        Some("dynamodb"),
        Some(region),
        Some(account),
        Some(resource),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return None;
    };
    let name = resource.strip_prefix("table/")?;
    (!name.is_empty() && !name.contains('/')).then_some((account, region, name))
}

/// Name of the redb table holding the items of table number `n`.
pub(crate) fn items_table_name(n: u64) -> String {
    format!("items/{n}")
}

/// A DynamoDB engine. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Engine {
    pub(crate) db: Arc<Database>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: IdSource,
    /// The local directory standing in for S3, if configured.
    pub(crate) s3_dir: Option<crate::s3dir::S3Dir>,
    /// Runs write transactions, and groups concurrent single-item writes into one.
    pub(crate) writer: Arc<crate::group_commit::Writer>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.writer.close();
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_arns_name_their_namespace() {
        let ns = Namespace::new("111111111111", "us-east-1");
        assert_eq!(ns.table_key("users"), "111111111111\x1fus-east-1\x1fusers");
        assert_eq!(
            ns.table_key("arn:aws:dynamodb:eu-west-1:222222222222:table/users"),
            "222222222222\x1feu-west-1\x1fusers"
        );
        assert_eq!(
            parse_table_arn("arn:aws:dynamodb:eu-west-1:2:table/users/stream/x"),
            None
        );
        assert_eq!(parse_table_arn("arn:aws:s3:eu-west-1:2:table/users"), None);
    }
}

/// How to build an [`Engine`].
#[derive(Debug, Default)]
pub struct EngineBuilder {
    path: Option<std::path::PathBuf>,
    clock: Option<Arc<dyn Clock>>,
    seed: Option<u64>,
    s3_dir: Option<std::path::PathBuf>,
}

impl EngineBuilder {
    /// Store data in a file inside `dir` (created if missing) instead of memory.
    pub fn data_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.path = Some(dir.as_ref().join("ddb-harness.redb"));
        self
    }

    /// Use this clock instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Use `dir` as the local S3 stand-in: bucket `b` is `dir/b/` (see [`crate::S3Dir`]).
    /// Without it, the engine uses a directory of its own under the system temp dir
    /// ([`crate::S3Dir::default_root`]), created when an object is first written.
    pub fn s3_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.s3_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Generate ids deterministically from this seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Opens or creates the database.
    pub fn build(self) -> Result<Engine> {
        let db = match &self.path {
            // The in-memory backend holds every page already, so redb's page cache (1 GiB by
            // default) would be a second copy of the data: 987 instead of 588 bytes of RSS per
            // 200-byte item at a million items. A page the small cache misses costs a 4 KiB copy
            // out of the backend; a Scan of a million items still runs at 310k items/s through
            // the router (353k with the full cache).
            None => Database::builder()
                .set_cache_size(MEMORY_MODE_CACHE_BYTES)
                .create_with_backend(redb::backends::InMemoryBackend::new())
                .map_err(|e| Error::Internal(format!("cannot create in-memory database: {e}")))?,
            Some(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        Error::Internal(format!("cannot create data dir {}: {e}", dir.display()))
                    })?;
                }
                // The operating system caches the file's pages; redb's own cache only saves
                // the copy out of them. Bounding it bounds the server's memory, whatever the
                // size of the data.
                Database::builder()
                    .set_cache_size(FILE_MODE_CACHE_BYTES)
                    .create(path)
                    .map_err(|e| {
                        Error::Internal(format!(
                            "cannot open data file {}: {e} (is it a ddb-harness data dir?)",
                            path.display()
                        ))
                    })?
            }
        };
        let db = Arc::new(db);
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let engine = Engine {
            writer: Arc::new(crate::group_commit::Writer::new(
                Arc::clone(&db),
                Arc::clone(&clock),
                self.path.is_none(),
            )),
            db,
            clock,
            ids: self
                .seed
                .map(IdSource::seeded)
                .unwrap_or_else(IdSource::random),
            s3_dir: Some(crate::s3dir::S3Dir::new(
                self.s3_dir.unwrap_or_else(crate::s3dir::default_root),
            )),
        };
        engine.init()?;
        Ok(engine)
    }
}

impl Engine {
    /// A builder for an engine.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// An in-memory engine with the system clock.
    pub fn in_memory() -> Result<Engine> {
        Engine::builder().build()
    }

    /// The engine's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The local S3 directory, if the engine has one.
    pub fn s3_dir(&self) -> Option<&crate::s3dir::S3Dir> {
        self.s3_dir.as_ref()
    }

    /// The engine's id source.
    pub fn ids(&self) -> &IdSource {
        &self.ids
    }

    fn init(&self) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut format = txn.open_table(FORMAT)?;
            let existing = format.get("version")?.map(|v| v.value().to_string());
            match existing {
                None => {
                    format.insert("version", FORMAT_VERSION)?;
                }
                Some(v) if v == FORMAT_VERSION => {}
                Some(v) => {
                    return Err(Error::Internal(format!(
                        "data dir has format {v:?}, this build reads {FORMAT_VERSION:?}"
                    )));
                }
            }
            txn.open_table(CATALOG)?;
            txn.open_table(STATS)?;
            txn.open_table(COUNTERS)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Takes the next value of a named counter inside a write transaction.
    pub(crate) fn next_counter(txn: &redb::WriteTransaction, name: &str) -> Result<u64> {
        let mut t = txn.open_table(COUNTERS)?;
        let next = t.get(name)?.map(|v| v.value()).unwrap_or(0) + 1;
        t.insert(name, next)?;
        Ok(next)
    }

    /// Reads one table's metadata within a read or write context.
    pub(crate) fn load_meta<T: ReadableTable<&'static str, &'static str>>(
        catalog: &T,
        key: &str,
    ) -> Result<Option<crate::catalog::TableMeta>> {
        match catalog.get(key)? {
            None => Ok(None),
            // Decoded once per entry text (see `meta_cache`), not once per request.
            Some(v) => crate::meta_cache::decode(key, v.value()).map(Some),
        }
    }

    /// [`Engine::load_meta`] for a caller that only reads the metadata: no copy of it is made.
    pub(crate) fn load_meta_shared<T: ReadableTable<&'static str, &'static str>>(
        catalog: &T,
        key: &str,
    ) -> Result<Option<Arc<crate::catalog::TableMeta>>> {
        match catalog.get(key)? {
            None => Ok(None),
            Some(v) => crate::meta_cache::decode_shared(key, v.value()).map(Some),
        }
    }

    /// The newest committed snapshot, with its catalog open (shared between commits, see
    /// [`crate::snapshot`]).
    pub(crate) fn snapshot(&self) -> Result<Arc<crate::snapshot::Snapshot>> {
        self.writer.snapshots.get(&self.db)
    }

    /// Runs `f` in a read transaction (the newest committed snapshot).
    pub(crate) fn read<R>(&self, f: impl FnOnce(&redb::ReadTransaction) -> Result<R>) -> Result<R> {
        f(&self.snapshot()?.txn)
    }

    /// Runs `f` in a write transaction and commits it when `f` succeeds.
    pub(crate) fn write<R>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<R>,
    ) -> Result<R> {
        self.writer.write(f)
    }
}
