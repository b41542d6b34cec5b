//! The engine clock: every timestamp the engine produces or compares comes from here.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Seconds since the epoch as AWS's JSON timestamps carry them (`1700000000.123`).
    pub fn as_epoch_seconds(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

/// A source of time for the engine.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

thread_local! {
    /// The engine-clock time of the write transaction running on this thread.
    static WRITE_NOW: std::cell::Cell<Option<Timestamp>> = const { std::cell::Cell::new(None) };
}

/// Makes the engine-clock time of a write transaction visible to the code it runs while alive.
///
/// `Engine::store` takes no engine, so `Engine::write` enters this scope with the clock's time;
/// stream records, PITR log entries and replication stamps written in the transaction read it
/// through [`write_now`].
pub(crate) struct WriteTime(Option<Timestamp>);

impl WriteTime {
    /// Enters the scope of a write transaction that runs at `now`.
    pub(crate) fn enter(now: Timestamp) -> WriteTime {
        WriteTime(WRITE_NOW.with(|c| c.replace(Some(now))))
    }
}

impl Drop for WriteTime {
    fn drop(&mut self) {
        let previous = self.0;
        WRITE_NOW.with(|c| c.set(previous));
    }
}

/// The time of the write transaction running on this thread; the system clock outside one.
pub(crate) fn write_now() -> Timestamp {
    WRITE_NOW
        .with(std::cell::Cell::get)
        .unwrap_or_else(|| SystemClock.now())
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
    /// Run after every change of the time, in registration order (e.g. TTL expiry of the
    /// engine this clock drives), so that what a new time makes due happens synchronously.
    hooks: Arc<std::sync::Mutex<Vec<TimeHook>>>,
}

/// A callback run after a [`ManualClock`] moves.
type TimeHook = Box<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualClock")
            .field("millis", &self.millis)
            .finish_non_exhaustive()
    }
}

impl ManualClock {
    /// A manual clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            millis: Arc::new(AtomicI64::new(start.0)),
            hooks: Arc::new(std::sync::Mutex::new(Vec::new())),
        }
    }

    /// Sets the time, then runs the hooks.
    pub fn set(&self, t: Timestamp) {
        self.millis.store(t.0, Ordering::SeqCst);
        self.run_hooks();
    }

    /// Moves the time forward, then runs the hooks.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(ms, Ordering::SeqCst);
        self.run_hooks();
    }

    /// Registers `hook` to run after every `set` and `advance` (shared by all clones).
    pub fn on_change(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.hooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(hook));
    }

    fn run_hooks(&self) {
        let hooks = self.hooks.lock().unwrap_or_else(|p| p.into_inner());
        for hook in hooks.iter() {
            hook();
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.millis.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp(1_000));
        let c2 = c.clone();
        assert_eq!(c.now(), Timestamp(1_000));
        c2.advance(Duration::from_secs(2));
        assert_eq!(c.now(), Timestamp(3_000));
        c.set(Timestamp(5));
        assert_eq!(c2.now(), Timestamp(5));
    }
}
