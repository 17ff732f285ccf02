//! The outbox as the sending worker sees it: claiming due messages, rescheduling failed
//! ones. (Messages enter it with their event, through the writer; "sent" is a transition.)
//!
//! On PostgreSQL, claims are leases (`claimed_until`) taken with one `UPDATE … RETURNING`
//! and `FOR UPDATE SKIP LOCKED`, so replicas sharing a database never pick the same row,
//! and a replica that dies mid-send frees its rows when the lease ends. A SQLite file
//! belongs to one process, whose single worker reads due rows without a lease.

use consent_receipt::Channel;
use sqlx::Row;

use super::bulk::Value;
use super::{Backend, Store, StoreError};
use crate::domain::{MessageKind, OutgoingMail};

/// A message claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Outbox row id.
    pub id: String,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipient.
    pub to: String,
    /// The whole message.
    pub message: String,
    /// Its main link (logged by the file transport).
    pub link: String,
    /// What it is for.
    pub kind: MessageKind,
    /// Earlier attempts.
    pub attempts: i64,
}

/// A failed attempt's consequence.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// When to try again.
    pub next_attempt_at: i64,
    /// What went wrong (never the address).
    pub error: String,
    /// Set when the message is given up.
    pub failed_at: Option<i64>,
}

/// The text stored for a channel.
pub fn channel_str(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

impl Store {
    /// Claims up to `batch` due messages of `channel` at `now`, leased for `lease` seconds.
    pub async fn claim_due(
        &self,
        channel: Channel,
        now: i64,
        lease: i64,
        batch: i64,
    ) -> Result<Vec<Claimed>, StoreError> {
        const DUE: &str =
            "channel = $4 AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 AND claimed_until <= $2";
        const FIELDS: &str = "id, envelope_from, recipient, message, link, kind, attempts";
        let channel = channel_str(channel);
        let rows = match self.backend {
            Backend::Postgres => {
                let sql = format!(
                    "UPDATE outbox SET claimed_until = $1 WHERE id IN \
                     (SELECT id FROM outbox WHERE {DUE} ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING {FIELDS}"
                );
                sqlx::query(&sql).bind(now + lease).bind(now).bind(batch).bind(channel).fetch_all(&self.pool).await?
            }
            // One process owns a SQLite file and its worker is the only sender: a plain read
            // (no write lock to fight the group commit for); the next read happens only
            // after this batch is marked sent or rescheduled.
            Backend::Sqlite => {
                let sql = format!(
                    "SELECT {FIELDS} FROM outbox WHERE {} ORDER BY next_attempt_at LIMIT $2",
                    DUE.replace("$2", "$1").replace("$4", "$3")
                );
                sqlx::query(&sql).bind(now).bind(batch).bind(channel).fetch_all(&self.pool).await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.try_get("id")?,
                    from: r.try_get("envelope_from")?,
                    to: r.try_get::<Option<String>, _>("recipient")?.unwrap_or_default(),
                    message: r.try_get::<Option<String>, _>("message")?.unwrap_or_default(),
                    link: r.try_get::<Option<String>, _>("link")?.unwrap_or_default(),
                    kind: r.try_get::<String, _>("kind")?.parse()?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records a failed attempt and releases the claim.
    pub async fn reschedule(&self, id: &str, retry: &Retry) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = $1, next_attempt_at = $2, claimed_until = 0, last_error = $3, \
             failed_at = $4 WHERE id = $5",
        )
        .bind(retry.attempts)
        .bind(retry.next_attempt_at)
        .bind(&retry.error)
        .bind(retry.failed_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// The rows that queue composed messages, due at once: `(lead id, message, created at)`.
pub(super) fn rows<'a>(mails: impl IntoIterator<Item = (&'a str, &'a OutgoingMail, i64)>) -> Vec<Vec<Value>> {
    mails
        .into_iter()
        .map(|(lead_id, m, now)| {
            vec![
                m.id.clone().into(),
                channel_str(m.channel).into(),
                lead_id.into(),
                m.kind.as_str().into(),
                m.message_id.clone().into(),
                m.from.clone().into(),
                m.to.clone().into(),
                m.message.clone().into(),
                m.link.clone().into(),
                now.into(),
                0i64.into(),
                now.into(),
                0i64.into(),
            ]
        })
        .collect()
}

/// Queues messages, many leads' in one statement.
pub(super) async fn insert(conn: &mut sqlx::AnyConnection, rows: Vec<Vec<Value>>) -> Result<(), sqlx::Error> {
    let columns = [
        "id",
        "channel",
        "lead_id",
        "kind",
        "message_id",
        "envelope_from",
        "recipient",
        "message",
        "link",
        "created_at",
        "attempts",
        "next_attempt_at",
        "claimed_until",
    ];
    super::bulk::insert(conn, "outbox", &columns, rows).await
}
