//! A suppression is lifted only by a newer consent that is complete: when a lead signed
//! after the withdrawal has the double opt-in of that address confirmed, never when it is
//! merely accepted (nor when a parent approves: that proves no address of the child's).
//! Until then the withdrawal stays in force and the permissions answer stays no.

use sqlx::{AnyConnection, Row};

use consent_receipt::Channel;

use super::Chain;
use crate::domain::EventKind;

/// Lifts, for the address of `lead_id` that the confirmation of `channel` proved (the
/// mail's link the e-mail address; the SMS's link, code or reply the phone number), the
/// suppressions of the purposes it grants by consent on that channel (`consented`,
/// decided by the caller from the notice: an objection box left unticked never lifts an
/// objection) that were in force before it was accepted, and records it in the lead's
/// chain.
pub(super) async fn on_confirmed(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    lead_id: &str,
    channel: Channel,
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
    let proved = match channel {
        Channel::Email => email,
        Channel::Sms => phone,
    };
    let mut lifted: Vec<&str> = Vec::new();
    if let Some(hash) = &proved {
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
