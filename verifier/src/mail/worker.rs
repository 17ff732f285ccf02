//! The outbox worker: claims due messages of one channel, sends them, marks them sent only
//! once the provider accepted them, and retries the others with exponential backoff.
//!
//! One worker runs per channel, each with its own [`Sender`] (the mail transport, the SMS
//! transport), so a slow SMS provider never holds up mail. Claims are leases on
//! PostgreSQL, so replicas sharing a database never pick the same row (see
//! [`crate::store::outbox`]). A message the provider accepted just before a crash may be
//! sent again: delivery is at least once, never zero, and the stable message id (the
//! Message-ID of a mail, the outbox id of an SMS) lets receivers drop the duplicate.

use std::future::Future;
use std::time::Duration;

use consent_receipt::Channel;
use tokio::sync::{Notify, watch};

use super::{SendError, Transport};
use crate::clock::Clock;
use crate::store::outbox::{Claimed, Retry};
use crate::store::{LifeOp, Store, Writer};

/// Mails claimed at once.
const BATCH: i64 = 64;
/// After this many failures a permanently refused mail is given up.
const MAX_PERMANENT_ATTEMPTS: i64 = 3;
/// Mails handed to the transport at once (an SMTP pool, or the outbox folder).
const IN_FLIGHT: usize = 16;

/// What a channel's worker hands its messages to: a mail transport, an SMS transport.
pub trait Sender: Send + Sync + 'static {
    /// The channel whose messages it sends.
    fn channel(&self) -> Channel;
    /// Sends one claimed message; `Ok` once the provider accepted it.
    fn send(&self, message: &Claimed) -> impl Future<Output = Result<(), SendError>> + Send;
    /// How many messages it takes at once.
    fn in_flight(&self) -> usize {
        IN_FLIGHT
    }
}

impl Sender for Transport {
    fn channel(&self) -> Channel {
        Channel::Email
    }
    fn send(&self, message: &Claimed) -> impl Future<Output = Result<(), SendError>> + Send {
        Transport::send(self, message)
    }
}

/// Seconds to wait before attempt `n + 1`: 2, 4, 8, … capped at 10 minutes.
pub fn backoff(attempts: i64) -> i64 {
    2i64.saturating_pow(attempts.clamp(1, 20) as u32).min(600)
}

/// Runs until `stop` turns true, then finishes the batch in hand.
pub async fn run<S: Sender>(
    store: Store,
    writer: Writer,
    transport: S,
    clock: Clock,
    wake: std::sync::Arc<Notify>,
    lease: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match send_due(&store, &writer, &transport, &clock, lease).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(channel = ?transport.channel(), error = ?e, "the outbox could not be read; retrying")
            }
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

/// Claims and sends one batch of due messages of the sender's channel, each claim leased
/// for `lease` (`--outbox-lease`: the time another replica waits before it sends a
/// message whose claimer died); returns how many it claimed.
pub async fn send_due<S: Sender>(
    store: &Store,
    writer: &Writer,
    transport: &S,
    clock: &Clock,
    lease: Duration,
) -> anyhow::Result<usize> {
    use futures_util::{StreamExt, TryStreamExt};
    let lease = lease.as_secs().max(1) as i64;
    let claimed = store.claim_due(transport.channel(), clock.now(), lease, BATCH).await?;
    let n = claimed.len();
    // Several at once: their "sent" marks then share one commit of the writer.
    futures_util::stream::iter(claimed)
        .map(|mail| deliver(store, writer, transport, clock, mail))
        .buffer_unordered(transport.in_flight())
        .try_collect::<Vec<()>>()
        .await?;
    Ok(n)
}

/// Sends one message, then marks it sent, or schedules its retry.
async fn deliver<S: Sender>(
    store: &Store,
    writer: &Writer,
    transport: &S,
    clock: &Clock,
    mail: Claimed,
) -> anyhow::Result<()> {
    match transport.send(&mail).await {
        Ok(()) => {
            writer.life(LifeOp::MailSent { outbox_id: mail.id.clone() }, clock.now()).await?;
            tracing::info!(channel = ?transport.channel(), kind = %mail.kind, outbox = %mail.id, "message sent");
        }
        Err(e) => {
            let attempts = mail.attempts + 1;
            let give_up = matches!(e, SendError::Permanent(_)) && attempts >= MAX_PERMANENT_ATTEMPTS;
            let now = clock.now();
            let retry = Retry {
                attempts,
                next_attempt_at: now + backoff(attempts),
                error: e.to_string(),
                failed_at: give_up.then_some(now),
            };
            store.reschedule(&mail.id, &retry).await?;
            if give_up {
                tracing::error!(channel = ?transport.channel(), kind = %mail.kind, outbox = %mail.id, error = %e, "message refused for good");
            } else {
                tracing::warn!(channel = ?transport.channel(), kind = %mail.kind, outbox = %mail.id, attempts, retry_in = backoff(attempts), error = %e, "message not sent; will retry");
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
