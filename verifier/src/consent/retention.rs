//! Retention: leads with no contact for their notice's retention period (3 years by
//! default) are deleted. Their events (which hold no contact data) and any suppression
//! entry stay, so the chain still verifies and a withdrawal still holds. Opening a mail
//! never counts as contact; a click on a link does.

use std::time::Duration;

use tokio::sync::watch;

use crate::state::AppState;
use crate::store::{LifeOp, LifeOutcome, Purge, StoreError};

/// Leads purged per transaction.
const BATCH: i64 = 100;

/// Deletes every lead past its retention; returns how many.
pub async fn purge_once(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut total = 0;
    for notice in state.notices.all() {
        let cutoff = now - i64::from(notice.retention_days) * 86_400;
        loop {
            let lead_ids = state.store.leads_idle_since(&notice.id, cutoff, BATCH).await?;
            if lead_ids.is_empty() {
                break;
            }
            match state.writer.life(LifeOp::Purge(Purge { lead_ids, reason: "retention" }), now).await? {
                LifeOutcome::Count(n) if n > 0 => total += n,
                _ => break,
            }
        }
    }
    if total > 0 {
        tracing::info!(leads = total, "purged leads past their retention period");
    }
    Ok(total)
}

/// Purges once an hour (and once at start) until `stop`.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = purge_once(&state).await {
            tracing::warn!(error = ?anyhow::Error::from(e), "retention purge failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}
