//! The event chain: its head, read in one place, and the events a transaction appends.
//!
//! Every event names the previous event's hash (the store's chain) and the previous event
//! of its lead (the lead's chain, kept in `leads.last_event_hash`), so that a proof bundle
//! can show that none of one lead's events is missing.

use consent_receipt::notice::canonical_json;
use consent_receipt::{GENESIS, event_hash};
use sqlx::{AnyConnection, Executor, Row};

use super::Backend;
use super::bulk::{self, Value};
use super::webhooks;
use crate::domain::EventKind;

/// The chain's head: how many events, and the last one's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Events so far.
    pub seq: i64,
    /// Hash of the last one ([`GENESIS`] before the first).
    pub hash: String,
}

/// Reads the head. With `lock`, on PostgreSQL, the row stays locked until the transaction
/// ends: that orders the batches of every replica. (SQLite's `BEGIN IMMEDIATE` already
/// holds the only write lock.)
pub(super) async fn read_head<'c, E>(conn: E, backend: Backend, lock: bool) -> Result<Head, sqlx::Error>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    let sql = match (backend, lock) {
        (Backend::Postgres, true) => "SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE",
        _ => "SELECT seq, hash FROM chain_head WHERE id = 1",
    };
    let row = sqlx::query(sql).fetch_one(conn).await?;
    Ok(Head { seq: row.try_get("seq")?, hash: row.try_get("hash")? })
}

/// The chain as one transaction extends it: the head it started from, and what it added.
pub(super) struct Chain {
    start: i64,
    head: Head,
    events: Vec<EventRow>,
}

/// An event ready to insert, its hash computed in chain order.
struct EventRow {
    seq: i64,
    lead_id: Option<String>,
    lead_prev: Option<String>,
    kind: EventKind,
    data: String,
    at: i64,
    prev: String,
    hash: String,
}

impl Chain {
    /// Starts from the locked head.
    pub(super) async fn lock(conn: &mut AnyConnection, backend: Backend) -> Result<Chain, sqlx::Error> {
        let head = read_head(&mut *conn, backend, true).await?;
        Ok(Chain { start: head.seq, head, events: Vec::new() })
    }

    /// Appends an event; `lead_prev` is the lead's previous event hash. Returns its hash.
    pub(super) fn append(
        &mut self,
        lead_id: Option<&str>,
        lead_prev: Option<&str>,
        kind: EventKind,
        data: &serde_json::Value,
        at: i64,
    ) -> Result<String, sqlx::Error> {
        let seq = self.head.seq + 1;
        let hash = event_hash(seq, lead_id, lead_prev, kind.as_str(), data, at, &self.head.hash);
        let text = canonical_json(data).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        self.events.push(EventRow {
            seq,
            lead_id: lead_id.map(str::to_string),
            lead_prev: lead_prev.map(str::to_string),
            kind,
            data: text,
            at,
            prev: std::mem::replace(&mut self.head.hash, hash.clone()),
            hash: hash.clone(),
        });
        self.head.seq = seq;
        Ok(hash)
    }

    /// The position of the last event appended (or of the head it started from).
    pub(super) fn last_seq(&self) -> i64 {
        self.head.seq
    }

    /// Appends an event of a lead, linked to the lead's previous event, and records it as
    /// the lead's last.
    pub(super) async fn append_for_lead(
        &mut self,
        conn: &mut AnyConnection,
        lead_id: &str,
        kind: EventKind,
        data: &serde_json::Value,
        at: i64,
    ) -> Result<(), sqlx::Error> {
        let last = last_event(conn, lead_id).await?;
        let hash = self.append(Some(lead_id), Some(&last), kind, data, at)?;
        sqlx::query("UPDATE leads SET last_event_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(lead_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Inserts the appended events and moves the head.
    pub(super) async fn save(self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        // Every event passes here, so every webhook is queued in its event's transaction.
        let queued: Vec<webhooks::Queued<'_>> = self
            .events
            .iter()
            .map(|e| webhooks::Queued {
                seq: e.seq,
                lead_id: e.lead_id.as_deref(),
                kind: e.kind,
                data: &e.data,
                at: e.at,
                hash: &e.hash,
            })
            .collect();
        webhooks::queue(conn, &queued).await?;
        drop(queued);
        let rows = self
            .events
            .into_iter()
            .map(|e| {
                vec![
                    Value::from(e.seq),
                    e.lead_id.into(),
                    e.lead_prev.into(),
                    e.kind.as_str().into(),
                    e.data.into(),
                    e.at.into(),
                    e.prev.into(),
                    e.hash.into(),
                ]
            })
            .collect();
        bulk::insert(conn, "events", &["seq", "lead_id", "lead_prev", "kind", "data", "at", "prev", "hash"], rows)
            .await?;
        if self.head.seq != self.start {
            sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(self.head.seq)
                .bind(&self.head.hash)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// The hash of a lead's last event ([`GENESIS`] if it has none).
pub(super) async fn last_event(conn: &mut AnyConnection, lead_id: &str) -> Result<String, sqlx::Error> {
    let last: Option<Option<String>> = sqlx::query_scalar("SELECT last_event_hash FROM leads WHERE id = $1")
        .bind(lead_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(last.flatten().unwrap_or_else(|| GENESIS.to_string()))
}
