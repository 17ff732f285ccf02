//! A withdrawn or refused lead, after the configured delay: its contact data goes, and only
//! keyed hashes of its addresses stay. The receipt names the addresses, so it goes too
//! (along with a parent's receipt and address, the form fields and anything left in the
//! outbox); the seal, which names the receipt's SHA-256 but no address, the events and the
//! suppressions stay, and they prove the consent was given and withdrawn.

use sqlx::{AnyConnection, Row};

use super::{Chain, LifeOutcome};
use crate::domain::{EventKind, LeadStatus};

/// Erase these leads' contact data.
#[derive(Debug, Clone)]
pub struct Erase {
    /// The leads.
    pub leads: Vec<Erasure>,
    /// The delay it followed, in days (recorded in the event).
    pub after_days: i64,
}

/// One lead, with what stays of it.
#[derive(Debug, Clone)]
pub struct Erasure {
    /// The lead.
    pub lead_id: String,
    /// Its status when the decision was made (withdrawn or refused).
    pub expect_status: LeadStatus,
    /// The keyed hash of its e-mail address (kept, or filled in where it was missing).
    pub contact_hash: Option<String>,
    /// The keyed hash of its phone number.
    pub phone_hash: Option<String>,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Erase,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let mut n = 0;
    for e in &t.leads {
        let row = sqlx::query("SELECT status, contact_erased_at FROM leads WHERE id = $1")
            .bind(&e.lead_id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { continue };
        let done: Option<i64> = row.try_get("contact_erased_at")?;
        if row.try_get::<String, _>("status")? != e.expect_status.as_str() || done.is_some() {
            continue;
        }
        sqlx::query(
            "UPDATE leads SET email = NULL, phone = NULL, guardian_email = NULL, receipt = NULL, fields = '{}', \
             contact_hash = COALESCE(contact_hash, $1), phone_hash = COALESCE(phone_hash, $2), \
             contact_erased_at = $3 WHERE id = $4",
        )
        .bind(&e.contact_hash)
        .bind(&e.phone_hash)
        .bind(now)
        .bind(&e.lead_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE guardian_receipts SET receipt = NULL WHERE lead_id = $1")
            .bind(&e.lead_id)
            .execute(&mut *conn)
            .await?;
        // A message still unsent (there should be none after a withdrawal) is given up.
        sqlx::query(
            "UPDATE outbox SET recipient = NULL, message = NULL, link = NULL, \
             failed_at = CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN $1 ELSE failed_at END \
             WHERE lead_id = $2",
        )
        .bind(now)
        .bind(&e.lead_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(super::purge::WEBHOOKS_GIVEN_UP).bind(now).bind(&e.lead_id).execute(&mut *conn).await?;
        let data = serde_json::json!({"after_days": t.after_days, "status": e.expect_status});
        chain.append_for_lead(conn, &e.lead_id, EventKind::ContactErased, &data, now).await?;
        n += 1;
    }
    Ok(LifeOutcome::Count(n))
}
