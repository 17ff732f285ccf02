//! Reading the event log.

use consent_receipt::Event;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

const EVENT: &str = "seq, lead_id, lead_prev, kind, data, at, prev, hash";

impl Store {
    /// Events, in chain order, from `after` (exclusive), at most `limit`.
    pub async fn events(&self, after: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {EVENT} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event).collect()
    }

    /// Every event of one lead, in order.
    pub async fn lead_events(&self, lead_id: &str) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {EVENT} FROM events WHERE lead_id = $1 ORDER BY seq"))
            .bind(lead_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event).collect()
    }

    /// The chain event of each objection named (by id), in chain order; an objection
    /// recorded before its event was kept (or unknown) has none.
    pub async fn objection_events(&self, ids: &[&str]) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            let row = sqlx::query(&format!(
                "SELECT {EVENT} FROM events WHERE seq = (SELECT event_seq FROM objections WHERE id = $1)"
            ))
            .bind(*id)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(r) = row {
                out.push(event(&r)?);
            }
        }
        out.sort_by_key(|e| e.seq);
        out.dedup_by_key(|e| e.seq);
        Ok(out)
    }
}

fn event(r: &AnyRow) -> Result<Event, StoreError> {
    let data: String = r.try_get("data")?;
    Ok(Event {
        seq: r.try_get("seq")?,
        lead_id: r.try_get("lead_id")?,
        kind: r.try_get("kind")?,
        // A row whose data no longer parses is kept as a string: the hash check then
        // reports it as broken instead of the read failing.
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
        at: r.try_get("at")?,
        prev: r.try_get("prev")?,
        lead_prev: r.try_get("lead_prev")?,
        hash: r.try_get("hash")?,
    })
}
