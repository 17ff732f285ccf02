//! The double opt-in click.

use sqlx::AnyConnection;

use super::guard::{self, TokenGuard};
use super::{Chain, LifeOutcome};
use crate::domain::{EventKind, LeadStatus, TokenPurpose};
use crate::store::{NewToken, tokens};

/// Confirm a lead through its confirmation token.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The lead.
    pub lead_id: String,
    /// Hash of the confirmation token (consumed).
    pub token_hash: String,
    /// The status it is confirmed from.
    pub from: LeadStatus,
    /// The status it moves to.
    pub to: LeadStatus,
    /// A fresh unsubscribe token for the page that says "confirmed".
    pub unsubscribe: NewToken,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Confirm,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let token = TokenGuard { hash: &t.token_hash, purpose: TokenPurpose::Confirm, expired_ok: false };
    if guard::check(conn, &t.lead_id, token, t.from, now).await?.is_none() {
        return Ok(LifeOutcome::Stale);
    }
    tokens::use_token(conn, &t.token_hash, now).await?;
    tokens::insert(conn, tokens::rows([(t.lead_id.as_str(), &t.unsubscribe, now)])).await?;
    guard::set_status(conn, &t.lead_id, t.to, now).await?;
    let data = serde_json::json!({"status": t.to});
    chain.append_for_lead(conn, &t.lead_id, EventKind::Confirmed, &data, now).await?;
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: t.to })
}
