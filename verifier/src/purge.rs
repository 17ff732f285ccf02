//! Retention: leads with no contact for their notice's retention period (3 years by
//! default) are deleted. Their events (which hold no contact data) and any suppression
//! entry stay, so the chain still verifies and a withdrawal still holds. Opening a mail
//! never counts as contact; a click on a link does.

use std::time::Duration;

use sqlx::Row;
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::{LifeOp, StoreError};

/// Deletes every lead past its retention; returns how many.
pub async fn purge_once(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut total = 0;
    for notice in state.notices.all() {
        let cutoff = now - i64::from(notice.retention_days) * 86_400;
        loop {
            let rows = sqlx::query("SELECT id FROM leads WHERE notice_id = $1 AND last_contact_at < $2 LIMIT 100")
                .bind(&notice.id)
                .bind(cutoff)
                .fetch_all(state.store.pool())
                .await?;
            let lead_ids: Vec<String> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
            if lead_ids.is_empty() {
                break;
            }
            if let crate::store::LifeOutcome::Count(n) = state.writer.life(LifeOp::Purge { lead_ids }, now).await? {
                total += n;
                if n == 0 {
                    break;
                }
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
