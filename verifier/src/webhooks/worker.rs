//! The webhook worker: claims due deliveries (leases, as the mail outbox: two replicas
//! never make the same attempt), posts each one signed, and settles it: delivered on a
//! 2xx, the endpoint disabled on a 410, otherwise retried on the Standard Webhooks
//! schedule, or later if the answer's `Retry-After` asks for it.
//!
//! Delivery is at least once: a replica that dies after the receiver answered and before
//! it recorded the answer leaves the attempt to be made again when its lease ends, with
//! the same `webhook-id`, by which receivers drop the duplicate.

use std::time::Duration;

use tokio::sync::watch;

use super::sign::{endpoint_key, signature};
use crate::state::AppState;
use crate::store::webhooks::{Attempted, Claimed};

/// The delays after each failed attempt (the specification's schedule); after the last,
/// the delivery is given up: ten attempts over about four days.
pub const SCHEDULE: [u64; 9] = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400];
/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Deliveries claimed at once.
const BATCH: i64 = 32;
/// The longest `Retry-After` honoured (a day, the schedule's longest step).
const MAX_RETRY_AFTER: u64 = 86_400;

/// The delay before the attempt after `failed` failures, scaled (tests only); `None` once
/// the schedule is exhausted.
pub fn delay(failed: i64, scale: f64) -> Option<u64> {
    let step = usize::try_from(failed.checked_sub(1)?).ok()?;
    SCHEDULE.get(step).map(|s| (*s as f64 * scale).round() as u64)
}

/// `Retry-After` in seconds (delta-seconds or an HTTP date), at most a day.
fn retry_after(headers: &reqwest::header::HeaderMap, now: i64) -> Option<u64> {
    let text = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    let secs = match text.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let format = time::format_description::well_known::Rfc2822;
            let at = time::OffsetDateTime::parse(text, &format).ok()?.unix_timestamp();
            u64::try_from(at - now).ok()?
        }
    };
    Some(secs.min(MAX_RETRY_AFTER))
}

/// The delivery client: 15 s to answer, no redirects (a redirect is a failure, never a
/// way round the target check), only public addresses unless private ones are allowed.
pub fn client(allow_private: bool) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("consent-verifier/", env!("CARGO_PKG_VERSION"), " (Standard Webhooks)"));
    if !allow_private {
        b = b.dns_resolver(std::sync::Arc::new(super::target::PublicOnly));
    }
    Ok(b.build()?)
}

/// Runs until `stop` turns true, then finishes the batch in hand.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let client = match client(state.config.webhooks.allow_private) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = ?e, "the webhook client could not be built; no webhook will be sent");
            return;
        }
    };
    loop {
        match deliver_due(&state, &client).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "the webhook outbox could not be read; retrying"),
        }
        tokio::select! {
            _ = state.webhook_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// Claims and attempts one batch of due deliveries; returns how many it claimed.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> anyhow::Result<usize> {
    use futures_util::StreamExt;
    // The lease outlasts the longest attempt, so no other replica starts the same one.
    let lease = state.config.outbox_lease.max(TIMEOUT + Duration::from_secs(5)).as_secs() as i64;
    let claimed = state.store.claim_deliveries(state.clock.now(), lease, BATCH).await?;
    let n = claimed.len();
    let endpoints = if n > 0 { state.store.endpoints().await? } else { Vec::new() };
    let results: Vec<anyhow::Result<()>> = futures_util::stream::iter(claimed)
        .map(|d| {
            let endpoint = endpoints.iter().find(|e| e.id == d.endpoint_id).cloned();
            async move {
                match endpoint {
                    Some(e) => attempt(state, client, &e.url, &e.salt, d).await,
                    None => Ok(()),
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(n)
}

/// One attempt, then its settlement. Logs carry the delivery and endpoint ids and the
/// status, never the body (it may hold contact data).
async fn attempt(state: &AppState, client: &reqwest::Client, url: &str, salt: &str, d: Claimed) -> anyhow::Result<()> {
    let now = state.clock.now();
    let key = endpoint_key(&state.nonces, &d.endpoint_id, salt);
    let sig = signature(&key[..], state.keys().active(), &d.id, now, &d.body);
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", sig)
        .body(d.body.clone())
        .send()
        .await;
    let failed = d.attempts + 1;
    let scale = state.config.webhooks.retry_scale;
    let retry = |status: Option<i64>, error: String, asked: Option<u64>| match delay(failed, scale) {
        Some(wait) => {
            Attempted::Retry { status, error, next_attempt_at: now + asked.map_or(wait, |a| a.max(wait)) as i64 }
        }
        None => Attempted::GiveUp { status, error },
    };
    let how = match sent {
        Ok(res) if res.status().is_success() => Attempted::Delivered { status: i64::from(res.status().as_u16()) },
        Ok(res) if res.status() == reqwest::StatusCode::GONE => Attempted::Gone,
        Ok(res) => {
            let status = res.status();
            let asked = retry_after(res.headers(), now);
            retry(Some(i64::from(status.as_u16())), format!("the endpoint answered {status}"), asked)
        }
        Err(e) if e.is_timeout() => retry(None, "no answer within 15 s".into(), None),
        Err(e) if e.is_connect() => retry(None, "could not connect".into(), None),
        Err(_) => retry(None, "the request failed".into(), None),
    };
    state.store.settle_delivery(&d, &how, state.clock.now()).await?;
    match &how {
        Attempted::Delivered { status } => {
            tracing::info!(delivery = %d.id, endpoint = %d.endpoint_id, status, "webhook delivered")
        }
        Attempted::Retry { error, next_attempt_at, .. } => {
            tracing::warn!(delivery = %d.id, endpoint = %d.endpoint_id, attempts = failed, retry_at = next_attempt_at, %error, "webhook not delivered; will retry")
        }
        Attempted::GiveUp { error, .. } => {
            tracing::error!(delivery = %d.id, endpoint = %d.endpoint_id, attempts = failed, %error, "webhook given up")
        }
        Attempted::Gone => {
            tracing::warn!(delivery = %d.id, endpoint = %d.endpoint_id, "the endpoint answered 410 Gone; it is disabled")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_standard_webhooks_schedule_then_stop() {
        assert_eq!(delay(1, 1.0), Some(5));
        assert_eq!(delay(2, 1.0), Some(300));
        assert_eq!(delay(9, 1.0), Some(86_400));
        assert_eq!(delay(10, 1.0), None);
        assert_eq!(delay(2, 0.01), Some(3));
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date_and_capped_at_a_day() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&h, 0), Some(120));
        h.insert(reqwest::header::RETRY_AFTER, "999999".parse().unwrap());
        assert_eq!(retry_after(&h, 0), Some(86_400));
        h.insert(reqwest::header::RETRY_AFTER, "Thu, 01 Jan 1970 00:01:40 GMT".parse().unwrap());
        assert_eq!(retry_after(&h, 40), Some(60));
    }
}
