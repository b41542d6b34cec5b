//! The newest committed snapshot, shared by reads until the next commit.
//!
//! Beginning a redb read transaction registers it with the database, and each read then opens
//! the catalog again. Between two commits every read would see the same data, so reads share
//! one [`Snapshot`] instead: the first read after a commit begins it, and the writer drops it
//! when it begins and when it commits the next write transaction (so no shared snapshot stays
//! open across a write and holds back the pages the write frees).
//!
//! **Invariant (read-your-writes):** a write's caller is answered only after its commit has
//! ended the shared snapshot (see `group_commit`), and a read uses the shared snapshot only
//! when it was not ended since the read began. So a read that starts after a write was
//! answered always sees that write.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use redb::{Database, ReadOnlyTable, ReadTransaction, ReadableDatabase};

use crate::engine::CATALOG;
use crate::error::Result;

/// One committed state of the database, with its catalog open.
pub(crate) struct Snapshot {
    pub(crate) txn: ReadTransaction,
    pub(crate) catalog: ReadOnlyTable<&'static str, &'static str>,
}

/// The shared snapshot and how often it was ended (see the module docs).
#[derive(Default)]
pub(crate) struct Snapshots {
    /// How often the shared snapshot was ended. Every commit ends it before its writes are
    /// answered, so a snapshot begun after reading `n` here holds every write answered before.
    ends: AtomicU64,
    current: Mutex<Option<(u64, Arc<Snapshot>)>>,
}

impl Snapshots {
    fn current(&self) -> MutexGuard<'_, Option<(u64, Arc<Snapshot>)>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The newest committed snapshot: the shared one unless it was ended since this read
    /// began, otherwise a new one that becomes shared.
    pub(crate) fn get(&self, db: &Database) -> Result<Arc<Snapshot>> {
        // Read before the transaction begins, so the snapshot holds every write answered before.
        let ends = self.ends.load(Ordering::Acquire);
        if let Some((at, snapshot)) = &*self.current()
            && *at == ends
        {
            return Ok(snapshot.clone());
        }
        let txn = db.begin_read()?;
        let catalog = txn.open_table(CATALOG)?;
        let snapshot = Arc::new(Snapshot { txn, catalog });
        let replaced = {
            let mut current = self.current();
            // A slower read that began before a commit must not replace a newer snapshot.
            if current.as_ref().is_none_or(|(at, _)| *at < ends) {
                current.replace((ends, snapshot.clone()))
            } else {
                None
            }
        };
        drop(replaced);
        Ok(snapshot)
    }

    /// Ends the shared snapshot: when a write transaction begins, after its commit (or commit
    /// attempt: a failed commit may still have changed the database) and before its writes are
    /// answered, and when the engine closes.
    pub(crate) fn end(&self) {
        self.ends.fetch_add(1, Ordering::AcqRel);
        // Dropped outside the lock: the last reference ends the read transaction.
        let ended = self.current().take();
        drop(ended);
    }
}

#[cfg(test)]
mod tests {
    use redb::TableDefinition;

    use super::*;

    const T: TableDefinition<&str, u64> = TableDefinition::new("t");

    fn db() -> Database {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(CATALOG).unwrap();
        txn.open_table(T).unwrap().insert("x", 1).unwrap();
        txn.commit().unwrap();
        db
    }

    fn read_x(s: &Snapshot) -> u64 {
        s.txn
            .open_table(T)
            .unwrap()
            .get("x")
            .unwrap()
            .unwrap()
            .value()
    }

    /// Reads between commits share one snapshot; the first read after a commit sees it.
    #[test]
    fn a_commit_ends_the_shared_snapshot() {
        let db = db();
        let snapshots = Snapshots::default();
        let a = snapshots.get(&db).unwrap();
        let b = snapshots.get(&db).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "no commit between: one snapshot");
        let txn = db.begin_write().unwrap();
        txn.open_table(T).unwrap().insert("x", 2).unwrap();
        txn.commit().unwrap();
        snapshots.end();
        let c = snapshots.get(&db).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(read_x(&a), 1, "a read in flight keeps its snapshot");
        assert_eq!(read_x(&c), 2, "a read after the commit sees it");
    }

    /// A snapshot begun before a commit is not shared after it, even when it is stored
    /// after the commit ended the shared one.
    #[test]
    fn a_snapshot_older_than_a_commit_is_not_shared() {
        let db = db();
        let snapshots = Snapshots::default();
        let ends_seen = snapshots.ends.load(Ordering::Acquire);
        let old = Arc::new(Snapshot {
            txn: db.begin_read().unwrap(),
            catalog: db.begin_read().unwrap().open_table(CATALOG).unwrap(),
        });
        let txn = db.begin_write().unwrap();
        txn.open_table(T).unwrap().insert("x", 3).unwrap();
        txn.commit().unwrap();
        snapshots.end();
        // What a slow reader would store: the snapshot labelled with the count it read.
        *snapshots.current() = Some((ends_seen, old));
        assert_eq!(read_x(&snapshots.get(&db).unwrap()), 3);
    }
}
