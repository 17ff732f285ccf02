//! Retention ended: a lead's personal data is deleted. Its events (which hold no contact
//! data) and any suppression entry stay, so the chain still verifies and a withdrawal
//! still holds.

use sqlx::AnyConnection;

use super::{Chain, LifeOutcome};
use crate::domain::EventKind;
use crate::store::chain::last_event;

/// Delete these leads' data.
#[derive(Debug, Clone)]
pub struct Purge {
    /// The leads.
    pub lead_ids: Vec<String>,
    /// Why, recorded in the event.
    pub reason: &'static str,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Purge,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let mut n = 0;
    for id in &t.lead_ids {
        for sql in [
            "DELETE FROM tokens WHERE lead_id = $1",
            "DELETE FROM outbox WHERE lead_id = $1",
            "DELETE FROM guardian_receipts WHERE lead_id = $1",
            "DELETE FROM withdrawal_receipts WHERE lead_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *conn).await?;
        }
        // The purged event is the last of the lead's chain: link it before the row goes.
        let last = last_event(conn, id).await?;
        let gone = sqlx::query("DELETE FROM leads WHERE id = $1").bind(id).execute(&mut *conn).await?;
        if gone.rows_affected() == 1 {
            n += 1;
            let data = serde_json::json!({"reason": t.reason});
            chain.append(Some(id), Some(&last), EventKind::Purged, &data, now)?;
        }
    }
    Ok(LifeOutcome::Count(n))
}
