//! Webhooks as the store keeps them: the endpoints, and one delivery per (event, endpoint)
//! queued by [`queue`] in the transaction that appends the event, so that a committed event
//! always has its deliveries and a rolled-back one never has.
//!
//! The endpoints table is read inside that transaction rather than cached: it is small
//! (one indexed scan per group commit, not per event), and every replica then sees an
//! endpoint the moment another one registers it, with no invalidation to get wrong.
//! Claims are leases, as for the mail outbox ([`super::outbox`]): on PostgreSQL one
//! `UPDATE … FOR UPDATE SKIP LOCKED`, so two replicas never make the same attempt.

mod queue;

use sqlx::Row;

use super::bulk::{self, Value};
use super::{Backend, Store, StoreError, json_list};
use crate::domain::WebhookEvent;

pub(super) use queue::{Queued, queue};

/// An endpoint as listed.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its id.
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The types it receives; empty for every type.
    pub event_types: Vec<String>,
    /// Whether its deliveries carry the e-mail address, the phone number and the receipt.
    pub include_contact: bool,
    /// The salt its signing key is derived with (not a secret by itself).
    pub salt: String,
    /// When it was registered.
    pub created_at: i64,
    /// When it was disabled (a `410 Gone`), if it was.
    pub disabled_at: Option<i64>,
    /// Why.
    pub disabled_reason: Option<String>,
}

/// A delivery claimed for an attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The `webhook-id`, the same on every attempt.
    pub id: String,
    /// Its endpoint.
    pub endpoint_id: String,
    /// The body to post.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// A delivery as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryRecord {
    /// The `webhook-id`.
    pub id: String,
    /// Its `type`.
    pub event_type: String,
    /// The lead it is about, if any.
    pub lead_id: Option<String>,
    /// Queued at.
    pub created_at: i64,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt (while pending).
    pub next_attempt_at: i64,
    /// Delivered at.
    pub delivered_at: Option<i64>,
    /// Given up at.
    pub failed_at: Option<i64>,
    /// The HTTP status of the last answer.
    pub last_status: Option<i64>,
    /// What went wrong last.
    pub last_error: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Attempted {
    /// A 2xx answer.
    Delivered { status: i64 },
    /// To try again at `next_attempt_at`.
    Retry { status: Option<i64>, error: String, next_attempt_at: i64 },
    /// The schedule is exhausted.
    GiveUp { status: Option<i64>, error: String },
    /// `410 Gone`: the endpoint is disabled, its deliveries stop.
    Gone,
}

const ENDPOINT: &str = "id, url, event_types, include_contact, secret, created_at, disabled_at, disabled_reason";

fn endpoint(r: &sqlx::any::AnyRow) -> Result<Endpoint, StoreError> {
    Ok(Endpoint {
        id: r.try_get("id")?,
        url: r.try_get("url")?,
        event_types: json_list(&r.try_get::<String, _>("event_types")?),
        include_contact: r.try_get::<i64, _>("include_contact")? != 0,
        salt: r.try_get("secret")?,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
        disabled_reason: r.try_get("disabled_reason")?,
    })
}

impl Store {
    /// Registers an endpoint.
    pub async fn create_endpoint(&self, e: &Endpoint) -> Result<(), StoreError> {
        sqlx::query(&format!("INSERT INTO webhook_endpoints ({ENDPOINT}) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)"))
            .bind(&e.id)
            .bind(&e.url)
            .bind(serde_json::to_string(&e.event_types).unwrap_or_else(|_| "[]".into()))
            .bind(i64::from(e.include_contact))
            .bind(&e.salt)
            .bind(e.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every endpoint, oldest first.
    pub async fn endpoints(&self) -> Result<Vec<Endpoint>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {ENDPOINT} FROM webhook_endpoints ORDER BY created_at, id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(endpoint).collect()
    }

    /// One endpoint.
    pub async fn endpoint(&self, id: &str) -> Result<Option<Endpoint>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ENDPOINT} FROM webhook_endpoints WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(endpoint).transpose()
    }

    /// Deletes an endpoint and its deliveries; false if there was none.
    pub async fn delete_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1").bind(id).execute(&mut *tx).await?;
        let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(gone.rows_affected() == 1)
    }

    /// Queues one delivery outside the chain (the test event).
    pub async fn queue_delivery(
        &self,
        id: &str,
        endpoint_id: &str,
        kind: WebhookEvent,
        body: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = vec![
            id.into(),
            endpoint_id.into(),
            Value::Int(None),
            kind.as_str().into(),
            Value::Text(None),
            body.into(),
            now.into(),
            0i64.into(),
            now.into(),
            0i64.into(),
        ];
        bulk::insert(&mut conn, "webhook_deliveries", &COLUMNS, vec![row]).await?;
        Ok(())
    }

    /// The latest deliveries of an endpoint, newest first.
    pub async fn deliveries(&self, endpoint_id: &str, limit: i64) -> Result<Vec<DeliveryRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event_type, lead_id, created_at, attempts, next_attempt_at, delivered_at, failed_at, \
             last_status, last_error FROM webhook_deliveries WHERE endpoint_id = $1 \
             ORDER BY created_at DESC, event_seq DESC LIMIT $2",
        )
        .bind(endpoint_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryRecord {
                    id: r.try_get("id")?,
                    event_type: r.try_get("event_type")?,
                    lead_id: r.try_get("lead_id")?,
                    created_at: r.try_get("created_at")?,
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    delivered_at: r.try_get("delivered_at")?,
                    failed_at: r.try_get("failed_at")?,
                    last_status: r.try_get("last_status")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Claims up to `batch` due deliveries of live endpoints, leased for `lease` seconds.
    pub async fn claim_deliveries(&self, now: i64, lease: i64, batch: i64) -> Result<Vec<Claimed>, StoreError> {
        const DUE: &str = "d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= $2 \
             AND d.claimed_until <= $2 AND d.body IS NOT NULL AND e.disabled_at IS NULL";
        let rows = match self.backend {
            Backend::Postgres => {
                let sql = format!(
                    "UPDATE webhook_deliveries SET claimed_until = $1 WHERE id IN \
                     (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                     WHERE {DUE} ORDER BY d.next_attempt_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED) \
                     RETURNING id, endpoint_id, body, attempts"
                );
                sqlx::query(&sql).bind(now + lease).bind(now).bind(batch).fetch_all(&self.pool).await?
            }
            // One process owns a SQLite file, and its one worker reads again only after
            // this batch is settled (as the mail worker does).
            Backend::Sqlite => {
                let sql = format!(
                    "SELECT d.id, d.endpoint_id, d.body, d.attempts FROM webhook_deliveries d \
                     JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE {} ORDER BY d.next_attempt_at LIMIT $3",
                    DUE.replace("$2", "$1")
                );
                sqlx::query(&sql.replace("$3", "$2")).bind(now).bind(batch).fetch_all(&self.pool).await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.try_get("id")?,
                    endpoint_id: r.try_get("endpoint_id")?,
                    body: r.try_get::<Option<String>, _>("body")?.unwrap_or_default(),
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records an attempt. A settled delivery (delivered, given up) loses its body. A
    /// failure never overwrites a delivery given up meanwhile (its lead erased while the
    /// attempt was in flight); a success is recorded all the same: it did arrive.
    pub async fn settle_delivery(&self, d: &Claimed, how: &Attempted, now: i64) -> Result<(), StoreError> {
        let attempts = d.attempts + 1;
        let q = match how {
            Attempted::Delivered { status } => sqlx::query(
                "UPDATE webhook_deliveries SET delivered_at = $1, body = NULL, attempts = $2, last_status = $3, \
                 last_error = NULL, claimed_until = 0 WHERE id = $4",
            )
            .bind(now)
            .bind(attempts)
            .bind(*status),
            Attempted::Retry { status, error, next_attempt_at } => sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1, attempts = $2, last_status = $3, \
                 last_error = $4, claimed_until = 0 WHERE id = $5 AND failed_at IS NULL",
            )
            .bind(*next_attempt_at)
            .bind(attempts)
            .bind(*status)
            .bind(error.clone()),
            Attempted::GiveUp { status, error } => sqlx::query(
                "UPDATE webhook_deliveries SET failed_at = $1, body = NULL, attempts = $2, last_status = $3, \
                 last_error = $4, claimed_until = 0 WHERE id = $5 AND failed_at IS NULL",
            )
            .bind(now)
            .bind(attempts)
            .bind(*status)
            .bind(error.clone()),
            Attempted::Gone => {
                sqlx::query(
                    "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2 WHERE id = $3 \
                     AND disabled_at IS NULL",
                )
                .bind(now)
                .bind("410 Gone")
                .bind(&d.endpoint_id)
                .execute(&self.pool)
                .await?;
                sqlx::query(
                    "UPDATE webhook_deliveries SET failed_at = $1, body = NULL, attempts = $2, last_status = 410, \
                     last_error = $3, claimed_until = 0 WHERE id = $4",
                )
                .bind(now)
                .bind(attempts)
                .bind("410 Gone: the endpoint was disabled")
            }
        };
        q.bind(&d.id).execute(&self.pool).await?;
        Ok(())
    }
}

pub(super) const COLUMNS: [&str; 10] = [
    "id",
    "endpoint_id",
    "event_seq",
    "event_type",
    "lead_id",
    "body",
    "created_at",
    "attempts",
    "next_attempt_at",
    "claimed_until",
];
