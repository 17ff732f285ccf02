//! Signed checkpoints of the event chain, and proof bundles of one lead.

use std::time::Duration;

use consent_receipt::{
    CHECKPOINT_TYP, CheckpointClaims, Notice, ProofBundle, STATEMENT_TYP, SealedReceipt, StatementClaims,
    sign_statement,
};
use sqlx::Row;
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::StoreError;

/// A checkpoint covering every event committed so far: the latest one if the chain has not
/// moved since, else a new one (signed by the active key and published).
pub async fn checkpoint_now(state: &AppState) -> Result<(String, CheckpointClaims), StoreError> {
    let head = sqlx::query("SELECT seq, hash FROM chain_head WHERE id = 1").fetch_one(state.store.pool()).await?;
    let (count, hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
    if let Some(latest) = latest(state).await? {
        if latest.1.count == count {
            return Ok(latest);
        }
    }
    let claims = CheckpointClaims { count, head: hash, iat: state.clock.now() };
    let jws = sign_statement(CHECKPOINT_TYP, &claims, state.keys().active());
    // Replicas may sign the same head at once: the first one stands.
    sqlx::query(
        "INSERT INTO checkpoints (count, head, at, jws) VALUES ($1, $2, $3, $4) ON CONFLICT (count) DO NOTHING",
    )
    .bind(claims.count)
    .bind(&claims.head)
    .bind(claims.iat)
    .bind(&jws)
    .execute(state.store.pool())
    .await?;
    Ok(latest(state).await?.unwrap_or((jws, claims)))
}

/// The latest published checkpoint.
pub async fn latest(state: &AppState) -> Result<Option<(String, CheckpointClaims)>, StoreError> {
    let row = sqlx::query("SELECT count, head, at, jws FROM checkpoints ORDER BY count DESC LIMIT 1")
        .fetch_optional(state.store.pool())
        .await?;
    Ok(row
        .map(|r| {
            Ok::<_, sqlx::Error>((
                r.try_get("jws")?,
                CheckpointClaims { count: r.try_get("count")?, head: r.try_get("head")?, iat: r.try_get("at")? },
            ))
        })
        .transpose()?)
}

/// Signs a checkpoint every minute the chain moved, and picks up rotated keys.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = checkpoint_now(&state).await {
            tracing::warn!(error = ?anyhow::Error::from(e), "could not sign a checkpoint; will retry");
        }
        reload_keys(&state);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// A key added by `consent-verifier keys rotate` (on this machine or, through a shared
/// keys directory, another) signs from here on; older keys stay published.
pub fn reload_keys(state: &AppState) {
    match crate::keys::KeyRing::load(&state.config.keys_dir) {
        Ok(ring) if ring.jwks() != state.keys().jwks() => {
            tracing::info!(kid = ring.active_kid(), keys = ring.jwks().keys.len(), "signing keys reloaded");
            if let Ok(mut k) = state.keys.write() {
                *k = std::sync::Arc::new(ring);
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not reload the signing keys"),
    }
}

/// Everything that proves one lead's consent, or `None` if there is no such lead (or its
/// data was purged).
pub async fn bundle(state: &AppState, lead_id: &str) -> Result<Option<ProofBundle>, StoreError> {
    let Some(row) = sqlx::query("SELECT receipt, seal, notice_digest, status FROM leads WHERE id = $1")
        .bind(lead_id)
        .fetch_optional(state.store.pool())
        .await?
    else {
        return Ok(None);
    };
    let Some(receipt): Option<String> = row.try_get("receipt")? else { return Ok(None) };
    let digest: String = row.try_get("notice_digest")?;
    let Some(body) = state.store.notice_body(&digest).await? else { return Ok(None) };
    let notice: Notice = serde_json::from_str(&body).map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    let guardian = sqlx::query("SELECT receipt, seal FROM guardian_receipts WHERE lead_id = $1 ORDER BY created_at")
        .bind(lead_id)
        .fetch_all(state.store.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(SealedReceipt {
                receipt: r.try_get::<Option<String>, _>("receipt")?.unwrap_or_default(),
                seal: r.try_get("seal")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let events = state.store.lead_events(lead_id).await?;
    let (checkpoint, cp) = checkpoint_now(state).await?;
    let keys = state.keys();
    let statement = StatementClaims {
        lead_id: lead_id.to_string(),
        status: row.try_get("status")?,
        events: events.len(),
        lead_head: events.last().map(|e| e.hash.clone()).unwrap_or_default(),
        checkpoint: cp.count,
        iat: state.clock.now(),
    };
    Ok(Some(ProofBundle {
        format: consent_receipt::BUNDLE_FORMAT.to_string(),
        lead_id: lead_id.to_string(),
        receipt,
        seal: row.try_get("seal")?,
        guardian,
        notice,
        events,
        checkpoint,
        statement: sign_statement(STATEMENT_TYP, &statement, keys.active()),
        jwks: keys.jwks().clone(),
    }))
}
