//! Background upkeep while the service runs: today, purging expired login sessions.
//!
//! Expired sessions are already refused at lookup; purging only keeps the table small. With
//! several processes on one PostgreSQL each purges on its own schedule, which is harmless: the
//! delete is idempotent.

use std::time::Duration;

use crate::state::AppState;

/// How often expired sessions are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Purges once now and then every [`PURGE_EVERY`] until the returned handle is aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.store.purge_expired_sessions(state.clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged expired sessions"),
                // A failed purge is retried at the next tick; the service is unaffected.
                Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
            }
        }
    })
}
