//! An objection received anywhere: kept (without the address), the contact suppressed
//! for every purpose in its scope from the time it was received, and an event in the
//! chain. The leads it touches are withdrawn afterwards, each by its own transition.

use sqlx::AnyConnection;

use super::{Chain, LifeOutcome};
use crate::domain::EventKind;

/// Record an objection.
#[derive(Debug, Clone)]
pub struct Object {
    /// A digest of who, scope, source and time: the same objection twice is one.
    pub id: String,
    /// The contact's keyed hash (e-mail or phone).
    pub contact_hash: String,
    /// `email` or `sms`.
    pub channel: String,
    /// `all`, `notice:<id>` or `purpose:<id>`.
    pub scope: String,
    /// Where it came from (`esp`, `dpo`, `letter`, `phone`, `sms-stop`, `source`, `other`).
    pub source: String,
    /// When it was received (Unix seconds).
    pub received_at: i64,
    /// The operator's note (kept here, never in the chain).
    pub note: Option<String>,
    /// The notice and purpose pairs it suppresses.
    pub suppress: Vec<(String, String)>,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Object,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let fresh = sqlx::query(
        "INSERT INTO objections (id, contact_hash, channel, scope, source, received_at, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&t.id)
    .bind(&t.contact_hash)
    .bind(&t.channel)
    .bind(&t.scope)
    .bind(&t.source)
    .bind(t.received_at)
    .bind(&t.note)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if fresh.rows_affected() == 0 {
        return Ok(LifeOutcome::Replay);
    }
    for (notice, purpose) in &t.suppress {
        // In force from when it was received. An entry already there keeps the later
        // time; a lift by a consent newer than this objection stands.
        sqlx::query(
            "INSERT INTO suppressions (contact_hash, notice_id, purpose, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (contact_hash, notice_id, purpose) DO UPDATE SET created_at = excluded.created_at, \
             lifted_at = NULL WHERE suppressions.created_at < excluded.created_at \
             AND (suppressions.lifted_at IS NULL OR suppressions.lifted_at < excluded.created_at)",
        )
        .bind(&t.contact_hash)
        .bind(notice)
        .bind(purpose)
        .bind(t.received_at)
        .execute(&mut *conn)
        .await?;
    }
    let data = serde_json::json!({
        "objection_id": t.id, "channel": t.channel, "scope": t.scope, "source": t.source,
        "received_at": t.received_at, "suppressed": t.suppress.len(),
    });
    chain.append(None, None, EventKind::ObjectionRecorded, &data, now)?;
    // The proof bundles of the leads it withdraws carry this event.
    sqlx::query("UPDATE objections SET event_seq = $1 WHERE id = $2")
        .bind(chain.last_seq())
        .bind(&t.id)
        .execute(&mut *conn)
        .await?;
    Ok(LifeOutcome::Count(t.suppress.len()))
}
