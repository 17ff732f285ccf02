//! Signed checkpoints of the event chain, and proof bundles of one lead.

use std::time::Duration;

use consent_receipt::{
    CHECKPOINT_TYP, CheckpointClaims, Notice, ProofBundle, STATEMENT_TYP, StatementClaims, sign_statement,
};
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::StoreError;

/// A checkpoint covering every event committed so far: the latest one if the chain has not
/// moved since, else a new one (signed by the active key and published).
pub async fn checkpoint_now(state: &AppState) -> Result<(String, CheckpointClaims), StoreError> {
    let head = state.store.chain_head().await?;
    if let Some(latest) = state.store.latest_checkpoint().await?
        && latest.1.count == head.seq
    {
        return Ok(latest);
    }
    let claims = CheckpointClaims { count: head.seq, head: head.hash, iat: state.clock.now() };
    let jws = sign_statement(CHECKPOINT_TYP, &claims, state.keys().active());
    // Replicas may sign the same head at once: the first one stands.
    state.store.insert_checkpoint(&claims, &jws).await?;
    Ok(state.store.latest_checkpoint().await?.unwrap_or((jws, claims)))
}

/// Signs a checkpoint every minute the chain moved, and picks up rotated keys.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = checkpoint_now(&state).await {
            tracing::warn!(error = ?anyhow::Error::from(e), "could not sign a checkpoint; will retry");
        }
        reload_keys(&state);
        if super::pause(&mut stop, Duration::from_secs(60)).await {
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
    let Some(lead) = state.store.lead(lead_id).await? else { return Ok(None) };
    let Some(receipt) = lead.receipt else { return Ok(None) };
    let Some(body) = state.store.notice_body(&lead.notice_digest).await? else { return Ok(None) };
    let notice: Notice = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let guardian = state.store.guardian_receipts(lead_id).await?;
    let events = state.store.lead_events(lead_id).await?;
    // The objections received elsewhere that withdrew this lead: their own events.
    let named: Vec<&str> = events.iter().filter_map(|e| e.data.get("objection_id").and_then(|v| v.as_str())).collect();
    let objections = state.store.objection_events(&named).await?;
    let (checkpoint, cp) = checkpoint_now(state).await?;
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let tlog_proofs = super::tlog::inclusion(state, &seqs).await?;
    let keys = state.keys();
    let statement = StatementClaims {
        lead_id: lead_id.to_string(),
        status: lead.status.as_str().to_string(),
        events: events.len(),
        lead_head: events.last().map(|e| e.hash.clone()).unwrap_or_default(),
        checkpoint: cp.count,
        iat: state.clock.now(),
    };
    Ok(Some(ProofBundle {
        format: consent_receipt::BUNDLE_FORMAT.to_string(),
        lead_id: lead_id.to_string(),
        receipt,
        seal: lead.seal,
        guardian,
        notice,
        events,
        objections,
        checkpoint,
        statement: sign_statement(STATEMENT_TYP, &statement, keys.active()),
        jwks: keys.jwks().clone(),
        tlog_proofs,
    }))
}
