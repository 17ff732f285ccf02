//! Joint consent: a holder of parental responsibility answered with their own receipt.

use sqlx::AnyConnection;

use super::guard::{self, TokenGuard};
use super::{Chain, LifeOutcome};
use crate::domain::{EventKind, LeadStatus, OutgoingMail, TokenPurpose};
use crate::store::{NewToken, outbox, tokens};

/// The guardian's answer: their sealed receipt, kept beside the child's.
#[derive(Debug, Clone)]
pub struct Guardian {
    /// The child's lead.
    pub lead_id: String,
    /// Hash of the guardian token from the mail (consumed).
    pub token_hash: String,
    /// The guardian receipt's `jti` (a receipt is accepted once).
    pub jti: String,
    /// The guardian receipt, as received.
    pub receipt: String,
    /// Its SHA-256.
    pub receipt_sha256: String,
    /// The verifier's seal on it.
    pub seal: String,
    /// Whether the guardian agreed.
    pub approved: bool,
    /// The lead's status after the answer.
    pub next: LeadStatus,
    /// Messages the answer brings (the child's confirmation), with their tokens.
    pub mails: Vec<OutgoingMail>,
    /// Tokens those messages carry.
    pub tokens: Vec<NewToken>,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Guardian,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let token = TokenGuard { hash: &t.token_hash, purpose: TokenPurpose::Guardian, expired_ok: false };
    if guard::check(conn, &t.lead_id, token, LeadStatus::AwaitingGuardian, now).await?.is_none() {
        return Ok(LifeOutcome::Stale);
    }
    let stored = sqlx::query(
        "INSERT INTO guardian_receipts (jti, lead_id, receipt, receipt_sha256, seal, approved, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (jti) DO NOTHING",
    )
    .bind(&t.jti)
    .bind(&t.lead_id)
    .bind(&t.receipt)
    .bind(&t.receipt_sha256)
    .bind(&t.seal)
    .bind(i64::from(t.approved))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if stored.rows_affected() == 0 {
        return Ok(LifeOutcome::Replay);
    }
    tokens::use_token(conn, &t.token_hash, now).await?;
    guard::set_status(conn, &t.lead_id, t.next, now).await?;
    tokens::insert(conn, tokens::rows(t.tokens.iter().map(|k| (t.lead_id.as_str(), k, now)))).await?;
    outbox::insert(conn, outbox::rows(t.mails.iter().map(|m| (t.lead_id.as_str(), m, now)))).await?;
    let kind = if t.approved { EventKind::GuardianApproved } else { EventKind::GuardianRefused };
    let data = serde_json::json!({"receipt_sha256": t.receipt_sha256, "jti": t.jti, "status": t.next});
    chain.append_for_lead(conn, &t.lead_id, kind, &data, now).await?;
    // A parent's approval proves no address of the child's: it lifts no withdrawal
    // (the double opt-in of each channel does, [`super::lift`]).
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: t.next })
}
