//! The outbox worker: claims due mails, sends them, marks them sent only once the server
//! accepted them, and retries the others with exponential backoff.
//!
//! On PostgreSQL, claims are leases (`claimed_until`) taken with one `UPDATE … RETURNING`
//! and `FOR UPDATE SKIP LOCKED`, so replicas sharing a database never pick the same row,
//! and a replica that dies mid-send frees its rows when the lease ends. A SQLite file
//! belongs to one process, whose single worker reads due rows without a lease. A mail
//! the server accepted just before a crash may be sent again: delivery is at least once,
//! never zero, and the Message-ID lets receivers drop the duplicate.

use std::time::Duration;

use sqlx::Row;
use tokio::sync::{Notify, watch};

use super::{SendError, Transport};
use crate::clock::Clock;
use crate::store::{Backend, LifeOp, Store, Writer};

/// Seconds a claim lasts before another worker may take the row.
const LEASE_SECS: i64 = 30;
/// Mails claimed at once.
const BATCH: i64 = 64;
/// After this many failures a permanently refused mail is given up.
const MAX_PERMANENT_ATTEMPTS: i64 = 3;

/// Seconds to wait before attempt `n + 1`: 2, 4, 8, … capped at 10 minutes.
pub fn backoff(attempts: i64) -> i64 {
    2i64.saturating_pow(attempts.clamp(1, 20) as u32).min(600)
}

struct Claimed {
    id: String,
    from: String,
    to: String,
    message: String,
    link: String,
    kind: String,
    attempts: i64,
}

/// Runs until `stop` turns true, then finishes the batch in hand.
pub async fn run(
    store: Store,
    writer: Writer,
    transport: Transport,
    clock: Clock,
    wake: std::sync::Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match send_due(&store, &writer, &transport, &clock).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "the outbox could not be read; retrying"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// Mails handed to the transport at once (an SMTP pool, or the outbox folder).
const IN_FLIGHT: usize = 16;

/// Claims and sends one batch of due mails; returns how many it claimed.
pub async fn send_due(store: &Store, writer: &Writer, transport: &Transport, clock: &Clock) -> anyhow::Result<usize> {
    use futures_util::{StreamExt, TryStreamExt};
    let now = clock.now();
    const DUE: &str = "sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 AND claimed_until <= $2";
    const FIELDS: &str = "id, envelope_from, recipient, message, link, kind, attempts";
    let rows = match store.backend() {
        // Replicas share the table: a lease taken in one statement, skipping rows another
        // replica holds.
        Backend::Postgres => {
            let sql = format!(
                "UPDATE outbox SET claimed_until = $1 WHERE id IN \
                 (SELECT id FROM outbox WHERE {DUE} ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING {FIELDS}"
            );
            sqlx::query(&sql).bind(now + LEASE_SECS).bind(now).bind(BATCH).fetch_all(store.pool()).await?
        }
        // One process owns a SQLite file and this task is its only sender: a plain read
        // (no write lock to fight the group commit for); the next read happens only after
        // this batch is marked sent or rescheduled.
        Backend::Sqlite => {
            let sql = format!(
                "SELECT {FIELDS} FROM outbox WHERE {} ORDER BY next_attempt_at LIMIT $2",
                DUE.replace("$2", "$1")
            );
            sqlx::query(&sql).bind(now).bind(BATCH).fetch_all(store.pool()).await?
        }
    };
    let claimed: Vec<Claimed> = rows
        .iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                from: r.try_get("envelope_from")?,
                to: r.try_get::<Option<String>, _>("recipient")?.unwrap_or_default(),
                message: r.try_get::<Option<String>, _>("message")?.unwrap_or_default(),
                link: r.try_get::<Option<String>, _>("link")?.unwrap_or_default(),
                kind: r.try_get("kind")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let n = claimed.len();
    // Several at once: their "sent" marks then share one commit of the writer.
    futures_util::stream::iter(claimed)
        .map(|mail| deliver(store, writer, transport, clock, mail))
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(n)
}

/// Sends one mail, then marks it sent, or schedules its retry.
async fn deliver(
    store: &Store,
    writer: &Writer,
    transport: &Transport,
    clock: &Clock,
    mail: Claimed,
) -> anyhow::Result<()> {
    match transport.send(&mail.from, &mail.to, &mail.message, &mail.link, &mail.kind).await {
        Ok(()) => {
            writer.life(LifeOp::MailSent { outbox_id: mail.id.clone() }, clock.now()).await?;
            tracing::info!(kind = %mail.kind, outbox = %mail.id, "mail sent");
        }
        Err(e) => {
            let attempts = mail.attempts + 1;
            let give_up = matches!(e, SendError::Permanent(_)) && attempts >= MAX_PERMANENT_ATTEMPTS;
            let now = clock.now();
            sqlx::query(
                "UPDATE outbox SET attempts = $1, next_attempt_at = $2, claimed_until = 0, last_error = $3, \
                 failed_at = $4 WHERE id = $5",
            )
            .bind(attempts)
            .bind(now + backoff(attempts))
            .bind(e.to_string())
            .bind(give_up.then_some(now))
            .bind(&mail.id)
            .execute(store.pool())
            .await?;
            if give_up {
                tracing::error!(kind = %mail.kind, outbox = %mail.id, error = %e, "mail refused for good");
            } else {
                tracing::warn!(kind = %mail.kind, outbox = %mail.id, attempts, retry_in = backoff(attempts), error = %e, "mail not sent; will retry");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_back_off_exponentially_up_to_ten_minutes() {
        assert_eq!(backoff(1), 2);
        assert_eq!(backoff(2), 4);
        assert_eq!(backoff(5), 32);
        assert_eq!(backoff(30), 600);
    }
}
