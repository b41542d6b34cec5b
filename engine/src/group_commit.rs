//! Write transactions, and group commit for single-item writes.
//!
//! redb runs one write transaction at a time, and beginning and committing one costs about as
//! much as the write itself (half of a PutItem in memory mode when profiled; an `fsync` in file
//! mode). So when writes arrive faster than one transaction at a time can take them, the writes
//! that queue up meanwhile are applied together in one transaction (group commit):
//!
//! - A write submitted while no other grouped write runs is applied at once on the caller's
//!   thread, in a transaction of its own, exactly as [`Writer::write`] would.
//! - A write submitted while another runs waits in a queue. When the running write ends, a
//!   writer thread (started on first need) takes the whole queue and applies it in one
//!   transaction, in arrival order, then answers each waiting caller.
//! - **Each operation stays atomic.** If write *k* of a group fails, the transaction is
//!   aborted, so that nothing of *k* (which may have written before it failed) is kept. The
//!   writes before *k* are applied again and committed together, *k* then runs first in a
//!   transaction of its own, where its error is the one it would have had alone, and the rest
//!   form the next group. A write therefore sees exactly the writes committed before it, as if
//!   the writes had run one at a time in arrival order.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use redb::{Database, WriteTransaction};

use crate::clock::Clock;
use crate::error::{Error, Result};

/// In memory, one commit in this many is a durable one: redb skips its commit bookkeeping for
/// non-durable commits (a third of a PutItem's time when measured) but reuses the pages they
/// free only after a durable commit, so memory stays bounded. A durable commit costs about
/// 200 µs more, so at one in 64 it set the p99 of PutItem (193 µs through the router, against
/// 98 µs at one in 256); RSS after loading a million items was the same (968 B per item).
const DURABLE_EVERY: u64 = 256;

/// A write prepared outside any transaction: validated, owning its input, and able to run
/// more than once (a group that fails is applied again without the failing write).
pub(crate) trait Plan: Send + 'static {
    /// What [`Plan::apply`] found and did inside the transaction.
    type Applied: Send + 'static;
    /// The operation's answer.
    type Output: Send + 'static;
    /// Applies the write inside `txn`. An error aborts the transaction.
    fn apply(&self, txn: &WriteTransaction) -> Result<Self::Applied>;
    /// The answer, once the transaction has committed.
    fn output(self, applied: Self::Applied) -> Self::Output;
}

/// Opens, runs and commits write transactions for one database.
pub(crate) struct Writer {
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
    /// Whether the database lives in memory (nothing to make durable).
    in_memory: bool,
    /// Write transactions begun, for [`DURABLE_EVERY`].
    begun: AtomicU64,
    state: Mutex<State>,
    /// Wakes the writer thread when writes are handed to it, or when the engine closes.
    wake: Condvar,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The snapshot reads share; every commit here ends it before its writes are answered.
    pub(crate) snapshots: crate::snapshot::Snapshots,
}

#[derive(Default)]
struct State {
    /// Writes waiting for the next group.
    queue: VecDeque<Box<dyn Queued>>,
    /// Whether a grouped write is running (on a caller's thread or the writer thread).
    busy: bool,
    /// Whether the queue belongs to the writer thread (set when the running caller ends and
    /// finds writes waiting).
    handed_off: bool,
    /// Whether the engine is gone: the writer thread ends once the queue is empty.
    closed: bool,
}

/// Where a queued write's caller waits for its answer.
type Answer<T> = tokio::sync::oneshot::Receiver<Result<T>>;

/// A queued write with its reply channel, its types erased.
trait Queued: Send {
    /// Applies the write inside `txn`, keeping what it found for [`Queued::finish`].
    fn apply(&mut self, txn: &WriteTransaction) -> Result<()>;
    /// Answers the caller: the output if `outcome` is `Ok` (the write committed), or the error.
    fn finish(self: Box<Self>, outcome: Result<()>);
}

struct Job<P: Plan> {
    plan: P,
    applied: Option<P::Applied>,
    reply: tokio::sync::oneshot::Sender<Result<P::Output>>,
}

impl<P: Plan> Queued for Job<P> {
    fn apply(&mut self, txn: &WriteTransaction) -> Result<()> {
        self.applied = None;
        self.applied = Some(self.plan.apply(txn)?);
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        let Job {
            plan,
            applied,
            reply,
        } = *self;
        let answer = outcome.and_then(|()| {
            applied
                .map(|a| plan.output(a))
                .ok_or_else(|| Error::Internal("a grouped write finished without running".into()))
        });
        // The caller may have stopped waiting (its connection closed); the write stands.
        let _ = reply.send(answer);
    }
}

impl Writer {
    pub(crate) fn new(db: Arc<Database>, clock: Arc<dyn Clock>, in_memory: bool) -> Writer {
        Writer {
            db,
            clock,
            in_memory,
            begun: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            thread: Mutex::new(None),
            snapshots: crate::snapshot::Snapshots::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Begins a write transaction; in memory, most commits skip redb's durability work.
    fn begin(&self) -> Result<WriteTransaction> {
        // The shared read snapshot ends here rather than only at the commit, so that it does
        // not stay open across the write: pages the commit frees can then be reused at once.
        self.snapshots.end();
        let mut txn = self.db.begin_write()?;
        if self.in_memory {
            let n = self.begun.fetch_add(1, Ordering::Relaxed);
            if !(n + 1).is_multiple_of(DURABLE_EVERY) {
                txn.set_durability(redb::Durability::None)
                    .map_err(|e| Error::Internal(e.to_string()))?;
            }
        }
        Ok(txn)
    }

    /// Runs one operation's part of a transaction, with the scopes every write runs in.
    fn apply<R>(
        &self,
        txn: &WriteTransaction,
        f: impl FnOnce(&WriteTransaction) -> Result<R>,
    ) -> Result<R> {
        // Stream records, PITR log entries and replication stamps written by the operation
        // take their time from the engine clock.
        let _time = crate::clock::WriteTime::enter(self.clock.now());
        // Writes to strongly consistent global tables reach the other replicas before the commit.
        let _replication = crate::global_tables::WriteScope::enter();
        let r = f(txn)?;
        crate::global_tables::apply_strong(txn)?;
        Ok(r)
    }

    /// Runs `f` in a write transaction of its own and commits it when `f` succeeds.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&WriteTransaction) -> Result<R>) -> Result<R> {
        let txn = self.begin()?;
        match self.apply(&txn, f) {
            Ok(r) => {
                let committed = txn.commit();
                self.snapshots.end();
                committed?;
                Ok(r)
            }
            Err(e) => {
                txn.abort()?;
                Err(e)
            }
        }
    }

    /// Applies `plan` with group commit (see the module docs) and returns its output once
    /// committed. The caller's thread runs the write itself when no other grouped write is
    /// running; otherwise the future waits, without blocking the thread, for the writer thread.
    pub(crate) async fn submit<P: Plan>(self: &Arc<Self>, plan: P) -> Result<P::Output> {
        match self.enqueue(plan) {
            Ok(waiting) => waiting.await.unwrap_or_else(|_| {
                Err(Error::Internal(
                    "the engine closed before the write ran".into(),
                ))
            }),
            Err(plan) => {
                let _release = Release(self);
                let applied = self.write(|txn| plan.apply(txn))?;
                Ok(plan.output(applied))
            }
        }
    }

    /// Queues `plan` behind the grouped write that is running, or, when none is, hands it back
    /// (`Err`) for the caller to run, marking the caller's write as the one running.
    fn enqueue<P: Plan>(&self, plan: P) -> std::result::Result<Answer<P::Output>, P> {
        let mut state = self.state();
        if !state.busy {
            state.busy = true;
            return Err(plan);
        }
        let (reply, waiting) = tokio::sync::oneshot::channel();
        state.queue.push_back(Box::new(Job {
            plan,
            applied: None,
            reply,
        }));
        Ok(waiting)
    }

    /// Ends a caller's turn: hands waiting writes to the writer thread, or marks the writer idle.
    fn release(self: &Arc<Self>) {
        let mut state = self.state();
        if state.queue.is_empty() {
            state.busy = false;
            return;
        }
        state.handed_off = true;
        drop(state);
        if self.ensure_thread() {
            self.wake.notify_all();
        } else {
            // No thread could be started: this caller applies the waiting writes itself.
            self.drain();
        }
    }

    /// Starts the writer thread unless it runs; `false` if it cannot be started.
    fn ensure_thread(self: &Arc<Self>) -> bool {
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        if thread.is_some() {
            return true;
        }
        let writer = Arc::clone(self);
        match std::thread::Builder::new()
            .name("ddb-group-commit".into())
            .spawn(move || writer.run_thread())
        {
            Ok(handle) => {
                *thread = Some(handle);
                true
            }
            Err(_) => false,
        }
    }

    /// The writer thread: waits for handed-off writes and applies them until the engine closes.
    fn run_thread(&self) {
        loop {
            {
                let mut state = self.state();
                while !state.handed_off && !state.closed {
                    state = self
                        .wake
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if !state.handed_off {
                    return;
                }
            }
            self.drain();
        }
    }

    /// Applies queued writes, one group per round, until the queue is empty; then the writer
    /// is idle again.
    fn drain(&self) {
        loop {
            let group: Vec<Box<dyn Queued>> = {
                let mut state = self.state();
                if state.queue.is_empty() {
                    state.busy = false;
                    state.handed_off = false;
                    return;
                }
                state.queue.drain(..).collect()
            };
            self.commit_group(group);
        }
    }

    /// Applies `group` in as few transactions as its failures allow (see the module docs) and
    /// answers every write in it.
    fn commit_group(&self, group: Vec<Box<dyn Queued>>) {
        let mut rest = group;
        while !rest.is_empty() {
            let mut end = rest.len();
            loop {
                match self.try_commit(&mut rest[..end]) {
                    Ok(()) => {
                        let tail = rest.split_off(end);
                        for job in rest {
                            job.finish(Ok(()));
                        }
                        rest = tail;
                        break;
                    }
                    Err((0, e)) => {
                        // The first write of a fresh transaction failed: that is its answer.
                        let tail = rest.split_off(1);
                        for job in rest {
                            job.finish(Err(e.clone()));
                        }
                        rest = tail;
                        break;
                    }
                    // A commit failure fails every write of the transaction.
                    Err((failed, e)) if failed == end => {
                        let tail = rest.split_off(end);
                        for job in rest {
                            job.finish(Err(e.clone()));
                        }
                        rest = tail;
                        break;
                    }
                    // Write `failed` broke the transaction: commit the writes before it first.
                    Err((failed, _)) => end = failed,
                }
            }
        }
    }

    /// Applies `jobs` in one transaction and commits it. On failure, the index of the write
    /// that failed (`jobs.len()` when the commit itself failed) and its error; the transaction
    /// is then aborted.
    fn try_commit(&self, jobs: &mut [Box<dyn Queued>]) -> std::result::Result<(), (usize, Error)> {
        let n = jobs.len();
        let txn = self.begin().map_err(|e| (n, e))?;
        for (i, job) in jobs.iter_mut().enumerate() {
            let applied = catch_unwind(AssertUnwindSafe(|| self.apply(&txn, |t| job.apply(t))))
                .unwrap_or_else(|_| Err(Error::Internal("a write failed unexpectedly".into())));
            if let Err(e) = applied {
                // Dropping an uncommitted transaction aborts it; an abort error changes nothing.
                let _ = txn.abort();
                return Err((i, e));
            }
        }
        let committed = txn.commit();
        self.snapshots.end();
        committed.map_err(|e| (n, Error::from(e)))
    }

    /// Stops the writer thread once it has applied what is queued, and waits for it, and
    /// ends the shared read snapshot.
    pub(crate) fn close(&self) {
        self.state().closed = true;
        self.wake.notify_all();
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            // A thread that panicked has nothing left to clean up.
            let _ = handle.join();
        }
        // No read transaction outlives the engine's database.
        self.snapshots.end();
    }
}

/// Ends a caller's turn when its write returns (or unwinds).
struct Release<'a>(&'a Arc<Writer>);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

    use super::*;
    use crate::clock::SystemClock;

    const T: TableDefinition<&str, u64> = TableDefinition::new("t");

    /// Inserts `key` into table `t`, then fails if `fail` says so (after having written).
    struct Insert {
        key: &'static str,
        fail: bool,
    }

    impl Plan for Insert {
        type Applied = u64;
        type Output = (&'static str, u64);

        fn apply(&self, txn: &WriteTransaction) -> Result<u64> {
            let mut t = txn.open_table(T)?;
            let before = t.len()?;
            t.insert(self.key, before)?;
            if self.fail {
                return Err(Error::validation(format!("{} failed", self.key)));
            }
            Ok(before)
        }

        fn output(self, applied: u64) -> (&'static str, u64) {
            (self.key, applied)
        }
    }

    fn writer() -> Arc<Writer> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("db");
        Arc::new(Writer::new(Arc::new(db), Arc::new(SystemClock), true))
    }

    fn keys(writer: &Writer) -> Vec<String> {
        let txn = writer.db.begin_read().expect("read");
        let Ok(t) = txn.open_table(T) else {
            return Vec::new();
        };
        let mut keys: Vec<String> = t
            .iter()
            .expect("iter")
            .map(|r| r.expect("row").0.value().to_string())
            .collect();
        keys.sort();
        keys
    }

    /// Waits (bounded) until the writer thread, which answers a group before it looks at the
    /// queue again, has gone idle.
    fn wait_idle(writer: &Writer) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while writer.state().busy && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!writer.state().busy, "the writer went idle");
    }

    /// Queues `plans` behind a write that is still running, then lets that write end, so that
    /// they are applied as one group by the writer thread.
    fn run_as_group(writer: &Arc<Writer>, plans: Vec<Insert>) -> Vec<Result<(&'static str, u64)>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        writer.state().busy = true;
        let n = plans.len();
        let tasks: Vec<_> = plans
            .into_iter()
            .map(|p| {
                let w = Arc::clone(writer);
                rt.spawn(async move { w.submit(p).await })
            })
            .collect();
        rt.block_on(async {
            while writer.state().queue.len() < n {
                tokio::task::yield_now().await;
            }
        });
        writer.release();
        rt.block_on(async {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.expect("task"));
            }
            out
        })
    }

    #[test]
    fn a_write_with_nobody_else_running_commits_on_its_own_thread() {
        let w = writer();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let out = rt.block_on(w.submit(Insert {
            key: "a",
            fail: false,
        }));
        assert_eq!(out, Ok(("a", 0)));
        assert_eq!(keys(&w), ["a"]);
        assert!(!w.state().busy);
        assert!(w.thread.lock().expect("lock").is_none(), "no thread needed");
    }

    #[test]
    fn queued_writes_commit_together_in_arrival_order() {
        let w = writer();
        let before = w.begun.load(Ordering::Relaxed);
        let plans = ["a", "b", "c", "d"].map(|key| Insert { key, fail: false });
        let out = run_as_group(&w, plans.into_iter().collect());
        // Each saw the writes queued before it: one transaction, in order.
        assert_eq!(
            out,
            [Ok(("a", 0)), Ok(("b", 1)), Ok(("c", 2)), Ok(("d", 3))]
        );
        assert_eq!(w.begun.load(Ordering::Relaxed) - before, 1);
        assert_eq!(keys(&w), ["a", "b", "c", "d"]);
        wait_idle(&w);
    }

    #[test]
    fn a_failing_write_leaves_nothing_and_the_others_commit() {
        let w = writer();
        let before = w.begun.load(Ordering::Relaxed);
        let plans = vec![
            Insert {
                key: "a",
                fail: false,
            },
            Insert {
                key: "b",
                fail: false,
            },
            // Writes, then fails: its insert must not survive.
            Insert {
                key: "x",
                fail: true,
            },
            Insert {
                key: "c",
                fail: false,
            },
        ];
        let out = run_as_group(&w, plans);
        assert_eq!(out[0], Ok(("a", 0)));
        assert_eq!(out[1], Ok(("b", 1)));
        assert_eq!(out[2], Err(Error::validation("x failed")));
        // "c" saw "a" and "b", not "x".
        assert_eq!(out[3], Ok(("c", 2)));
        assert_eq!(keys(&w), ["a", "b", "c"]);
        // The whole group, then a and b again, then x alone, then c.
        assert_eq!(w.begun.load(Ordering::Relaxed) - before, 4);
    }

    #[test]
    fn every_write_of_many_concurrent_callers_is_answered_and_kept() {
        let w = writer();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .expect("runtime");
        const KEYS: [&str; 8] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
        let tasks: Vec<_> = (0..400)
            .map(|i| {
                let w = Arc::clone(&w);
                rt.spawn(async move {
                    w.submit(Insert {
                        key: KEYS[i % KEYS.len()],
                        fail: i % 7 == 3,
                    })
                    .await
                })
            })
            .collect();
        let out: Vec<_> = rt.block_on(async {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.expect("task"));
            }
            out
        });
        for (i, r) in out.iter().enumerate() {
            assert_eq!(r.is_err(), i % 7 == 3, "write {i}: {r:?}");
        }
        assert_eq!(keys(&w).len(), KEYS.len());
        wait_idle(&w);
        w.close();
    }
}
