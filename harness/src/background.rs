//! The periodic engine jobs of a running server (`ddb-harness serve`, or a server a test binds
//! itself): stream purging, TTL expiry, replication of global tables and bulk operation steps.

use std::sync::Weak;
use std::time::Duration;

use ddb_engine::Engine;

/// Runs `job` on the blocking pool every `period` until the engine is dropped. `done` reports
/// a result; failures are logged as warnings naming `what` (e.g. "TTL sweep failed"). A tick
/// missed while a job runs is delayed, not made up.
pub async fn every<T: Send + 'static>(
    engine: Weak<Engine>,
    period: Duration,
    what: &'static str,
    job: fn(&Engine) -> ddb_engine::Result<T>,
    done: fn(T),
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        match tokio::task::spawn_blocking(move || job(&engine)).await {
            Ok(Ok(out)) => done(out),
            Ok(Err(e)) => tracing::warn!(error = %e, "{what} failed"),
            Err(e) => tracing::warn!(error = %e, "{what} task failed"),
        }
    }
}

/// Applies the replicated writes of global tables that are due, every 100 ms
/// (`Engine::replicate_pending`; `Engine::set_replication_lag` sets how long they wait).
pub async fn replicate(engine: Weak<Engine>) {
    every(
        engine,
        Duration::from_millis(100),
        "replication",
        Engine::replicate_pending,
        drop,
    )
    .await;
}
