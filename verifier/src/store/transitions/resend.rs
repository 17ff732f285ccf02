//! A new confirmation message replacing an expired (or lost) link.

use sqlx::AnyConnection;

use super::guard::{self, TokenGuard};
use super::{Chain, LifeOutcome};
use crate::domain::confirmation::{awaits, proved_by};
use crate::domain::{EventKind, OutgoingMail, TokenPurpose};
use crate::store::{NewToken, outbox, tokens};

/// Replace a confirmation link with a new message.
#[derive(Debug, Clone)]
pub struct ResendConfirmation {
    /// The lead.
    pub lead_id: String,
    /// Hash of the old confirmation token (it dies: one live link at a time).
    pub token_hash: String,
    /// What the old token was: the mail's link or the SMS's (the channel still waiting).
    pub purpose: TokenPurpose,
    /// The new tokens (confirm, unsubscribe).
    pub tokens: Vec<NewToken>,
    /// The new message.
    pub mail: OutgoingMail,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &ResendConfirmation,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let token = TokenGuard { hash: &t.token_hash, purpose: t.purpose, expired_ok: true };
    let waiting =
        |s: &guard::Snapshot| proved_by(t.purpose).is_some_and(|c| awaits(s.status, s.confirmed.as_deref(), c));
    let Some(lead) = guard::check_token(conn, &t.lead_id, token, now).await?.filter(waiting) else {
        return Ok(LifeOutcome::Stale);
    };
    tokens::use_token(conn, &t.token_hash, now).await?;
    // Asking for a new link is a step the person took: the unconfirmed lead's clock restarts.
    sqlx::query("UPDATE leads SET last_contact_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
    tokens::insert(conn, tokens::rows(t.tokens.iter().map(|k| (t.lead_id.as_str(), k, now)))).await?;
    outbox::insert(conn, outbox::rows([(t.lead_id.as_str(), &t.mail, now)])).await?;
    let data = serde_json::json!({"outbox_id": t.mail.id});
    chain.append_for_lead(conn, &t.lead_id, EventKind::ConfirmationRequeued, &data, now).await?;
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: lead.status })
}
