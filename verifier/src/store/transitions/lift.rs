//! A suppression is lifted only by a newer consent that is complete: when a lead signed
//! after the withdrawal becomes active (double opt-in confirmed, parent approved), never
//! when it is merely accepted. Until then the withdrawal stays in force and the
//! permissions answer stays no.

use sqlx::{AnyConnection, Row};

use super::Chain;
use crate::domain::{ConfirmedBy, EventKind};

/// Lifts, for the contact of `lead_id` that the confirmation proved, the suppressions of
/// the purposes it grants by consent (`consented`, decided by the caller from the notice:
/// an objection box left unticked never lifts an objection) that were in force before it
/// was accepted, and records it in the lead's chain.
///
/// Only the address the confirmation came through is proved: a code or a reply proves the
/// phone, a link proves the one address of a lead that has one. A link on a lead with both
/// an e-mail address and a phone number may have come by either, so it lifts nothing; nor
/// does a parent's approval (`by` is `None`). Leaving a withdrawal in force is the safe
/// side: the permissions answer stays no.
pub(super) async fn on_active(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    lead_id: &str,
    by: Option<ConfirmedBy>,
    consented: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    let row =
        sqlx::query("SELECT jti, notice_id, granted, contact_hash, phone_hash, created_at FROM leads WHERE id = $1")
            .bind(lead_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(()) };
    let granted: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("granted")?).unwrap_or_default();
    let notice_id: String = row.try_get("notice_id")?;
    let accepted_at: i64 = row.try_get("created_at")?;
    let email: Option<String> = row.try_get("contact_hash")?;
    let phone: Option<String> = row.try_get("phone_hash")?;
    let hashes = match (by, email, phone) {
        (Some(ConfirmedBy::Code | ConfirmedBy::Reply), _, phone) => [None, phone],
        (Some(ConfirmedBy::Link), Some(email), None) => [Some(email), None],
        (Some(ConfirmedBy::Link), None, Some(phone)) => [None, Some(phone)],
        _ => [None, None],
    };
    let mut lifted: Vec<&str> = Vec::new();
    for hash in hashes.iter().flatten() {
        for purpose in granted.iter().filter(|p| consented.contains(p)) {
            // A withdrawal made after this lead was accepted is newer than its consent: it stays.
            let done = sqlx::query(
                "UPDATE suppressions SET lifted_at = $1 WHERE contact_hash = $2 AND notice_id = $3 \
                 AND purpose = $4 AND lifted_at IS NULL AND created_at < $5",
            )
            .bind(now)
            .bind(hash)
            .bind(&notice_id)
            .bind(purpose)
            .bind(accepted_at)
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() > 0 && !lifted.contains(&purpose.as_str()) {
                lifted.push(purpose);
            }
        }
    }
    if !lifted.is_empty() {
        let jti: String = row.try_get("jti")?;
        let data = serde_json::json!({"purposes": lifted, "receipt_jti": jti});
        chain.append_for_lead(conn, lead_id, EventKind::SuppressionLifted, &data, now).await?;
    }
    Ok(())
}
