//! A contact the site's systems report (a click in a marketing message): the retention
//! period starts again from it.

use consent_receipt::Channel;
use sqlx::{AnyConnection, Row};

use super::{Chain, LifeOutcome};
use crate::domain::{EventKind, LeadStatus};
use crate::store::outbox::channel_str;

/// Record a contact of an active lead.
#[derive(Debug, Clone)]
pub struct RecordContact {
    /// The lead.
    pub lead_id: String,
    /// What it was (`click`).
    pub kind: &'static str,
    /// When it happened (not after now, not before the lead was accepted).
    pub at: i64,
    /// The channel of the message, when known.
    pub channel: Option<Channel>,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &RecordContact,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let row = sqlx::query("SELECT status, last_contact_at FROM leads WHERE id = $1")
        .bind(&t.lead_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(LifeOutcome::Stale) };
    if row.try_get::<String, _>("status")? != LeadStatus::Active.as_str() {
        return Ok(LifeOutcome::Stale);
    }
    // A click reported late never moves the clock back.
    let last: i64 = row.try_get("last_contact_at")?;
    sqlx::query("UPDATE leads SET last_contact_at = $1 WHERE id = $2")
        .bind(last.max(t.at))
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
    let mut data = serde_json::json!({"kind": t.kind, "at": t.at});
    if let Some(c) = t.channel {
        data["channel"] = channel_str(c).into();
    }
    chain.append_for_lead(conn, &t.lead_id, EventKind::ContactRecorded, &data, now).await?;
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: LeadStatus::Active })
}
