//! Retention ended: a lead's personal data is deleted. Its events (which hold no contact
//! data) and any suppression entry stay, so the chain still verifies and a withdrawal
//! still holds.

use sqlx::{AnyConnection, Row};

use super::{Chain, LifeOutcome};
use crate::domain::{EventKind, LeadStatus};
use crate::store::chain::last_event;

/// Delete these leads' data.
#[derive(Debug, Clone)]
pub struct Purge {
    /// The leads.
    pub leads: Vec<Ending>,
    /// Why, recorded in the event.
    pub reason: &'static str,
}

/// One lead to delete, with the state the decision was made on: a lead that changed since
/// (a click, a renewal) is left alone.
#[derive(Debug, Clone)]
pub struct Ending {
    /// The lead.
    pub lead_id: String,
    /// Its status when the decision was made.
    pub expect_status: LeadStatus,
    /// Its last contact when the decision was made.
    pub expect_last_contact: i64,
    /// The event recorded: [`EventKind::Purged`], or [`EventKind::ConsentExpired`] for an
    /// active consent that ended without being renewed.
    pub event: EventKind,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Purge,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let mut n = 0;
    for e in &t.leads {
        let id = &e.lead_id;
        let row = sqlx::query("SELECT status, last_contact_at, renewal_requested_at FROM leads WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { continue };
        let status: String = row.try_get("status")?;
        let last_contact: i64 = row.try_get("last_contact_at")?;
        if status != e.expect_status.as_str() || last_contact != e.expect_last_contact {
            continue;
        }
        let asked: Option<i64> = row.try_get("renewal_requested_at")?;
        for sql in [
            "DELETE FROM tokens WHERE lead_id = $1",
            "DELETE FROM outbox WHERE lead_id = $1",
            "DELETE FROM guardian_receipts WHERE lead_id = $1",
            "DELETE FROM withdrawal_receipts WHERE lead_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *conn).await?;
        }
        // A webhook still owed carries what is now deleted: it is given up.
        sqlx::query(WEBHOOKS_GIVEN_UP).bind(now).bind(id).execute(&mut *conn).await?;
        // The last event is the last of the lead's chain: link it before the row goes.
        let last = last_event(conn, id).await?;
        let gone = sqlx::query("DELETE FROM leads WHERE id = $1").bind(id).execute(&mut *conn).await?;
        if gone.rows_affected() == 1 {
            n += 1;
            let data = match e.event {
                EventKind::ConsentExpired => serde_json::json!({
                    "reason": t.reason, "last_contact_at": last_contact, "renewal_requested_at": asked,
                }),
                _ => serde_json::json!({"reason": t.reason}),
            };
            chain.append(Some(id), Some(&last), e.event, &data, now)?;
        }
    }
    Ok(LifeOutcome::Count(n))
}

/// Erases the bodies of a lead's webhooks not yet delivered, and gives them up
/// (`$1` now, `$2` the lead): they name what its erasure or deletion removed.
pub(super) const WEBHOOKS_GIVEN_UP: &str = "UPDATE webhook_deliveries SET body = NULL, failed_at = $1, \
     last_error = 'the lead was erased before delivery' \
     WHERE lead_id = $2 AND delivered_at IS NULL AND failed_at IS NULL";
