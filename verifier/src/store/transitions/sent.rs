//! The provider accepted a message: it is marked sent, and its token-bearing body and
//! address leave the outbox.

use sqlx::{AnyConnection, Row};

use super::{Chain, LifeOutcome};
use crate::domain::MessageKind;

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    outbox_id: &str,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let row = sqlx::query("SELECT lead_id, kind, message_id, channel FROM outbox WHERE id = $1 AND sent_at IS NULL")
        .bind(outbox_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(LifeOutcome::Count(0)) };
    sqlx::query("UPDATE outbox SET sent_at = $1, message = NULL, recipient = NULL, link = NULL WHERE id = $2")
        .bind(now)
        .bind(outbox_id)
        .execute(&mut *conn)
        .await?;
    let lead_id: Option<String> = row.try_get("lead_id")?;
    let kind: MessageKind = row.try_get::<String, _>("kind")?.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let mut data = serde_json::json!({"outbox_id": outbox_id, "message_id": row.try_get::<String, _>("message_id")?});
    let channel: String = row.try_get("channel")?;
    if channel != "email" {
        data["channel"] = channel.into();
    }
    match lead_id.as_deref() {
        Some(lead) => chain.append_for_lead(conn, lead, kind.sent_event(), &data, now).await?,
        None => {
            chain.append(None, None, kind.sent_event(), &data, now)?;
        }
    }
    Ok(LifeOutcome::Count(1))
}
