//! Background upkeep while the service runs: purging expired login sessions, and the bulk
//! issuance workers and automatic issuance sweep of [`crate::bulk_worker`] (stopped with it).
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
        // Aborted with this task: dropping the guard stops the workers.
        let _workers = AbortOnDrop(crate::bulk_worker::spawn(
            state.clone(),
            crate::bulk_worker::WorkerOptions::from_config(&state.config),
        ));
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
            if let Err(e) = apply_retention(&state).await {
                tracing::warn!(error = %e, "applying retention failed");
            }
        }
    })
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Applies every organisation's retention once: the store deletes the rows, then the evidence
/// files no submission uses any more are removed from disk. Idempotent (safe with several
/// processes); returns what was removed.
pub async fn apply_retention(
    state: &AppState,
) -> Result<tessera_store::learner_rights::RetentionRun, tessera_store::StoreError> {
    let run = state.store.apply_retention(state.clock.now()).await?;
    crate::routes::rights::delete_blobs(state, &run.orphaned_blobs).await;
    if run.submissions > 0 || run.access_entries > 0 {
        tracing::info!(
            submissions = run.submissions,
            files = run.orphaned_blobs.len(),
            access_entries = run.access_entries,
            "retention applied"
        );
    }
    Ok(run)
}
