//! The double opt-in: the link's button, the SMS code, or OUI/YES in reply to the SMS.

use sqlx::AnyConnection;

use super::guard::{self, TokenGuard};
use super::{Chain, LifeOutcome};
use crate::domain::{ConfirmedBy, EventKind, LeadStatus, TokenPurpose};
use crate::store::{NewToken, tokens};

/// Confirm a lead.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The lead.
    pub lead_id: String,
    /// Hash and purpose of the token used (a link's or a code's); `None` for a reply,
    /// whose proof is the number it came from.
    pub token: Option<(String, TokenPurpose)>,
    /// How it was confirmed (recorded in the event, shown in the proof).
    pub by: ConfirmedBy,
    /// The status it is confirmed from.
    pub from: LeadStatus,
    /// The status it moves to.
    pub to: LeadStatus,
    /// A fresh unsubscribe token for the page that says "confirmed".
    pub unsubscribe: NewToken,
    /// The purposes it grants by consent, whose withdrawals it may lift (not those of an
    /// objection box left unticked).
    pub consented: Vec<String>,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Confirm,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let fits = match &t.token {
        Some((hash, purpose)) => {
            let token = TokenGuard { hash, purpose: *purpose, expired_ok: false };
            guard::check(conn, &t.lead_id, token, t.from, now).await?.is_some()
        }
        None => guard::snapshot(conn, &t.lead_id).await?.is_some_and(|s| s.status == t.from),
    };
    if !fits {
        return Ok(LifeOutcome::Stale);
    }
    // One confirmation is enough: the other ways to confirm (link, code) die with it.
    sqlx::query(
        "UPDATE tokens SET used_at = $1 WHERE lead_id = $2 AND purpose IN ('confirm', 'code') AND used_at IS NULL",
    )
    .bind(now)
    .bind(&t.lead_id)
    .execute(&mut *conn)
    .await?;
    tokens::insert(conn, tokens::rows([(t.lead_id.as_str(), &t.unsubscribe, now)])).await?;
    guard::set_status(conn, &t.lead_id, t.to, now).await?;
    // A confirmation by link keeps the event's earlier shape; the others say how.
    let data = match t.by {
        ConfirmedBy::Link => serde_json::json!({"status": t.to}),
        by => serde_json::json!({"status": t.to, "by": by}),
    };
    chain.append_for_lead(conn, &t.lead_id, EventKind::Confirmed, &data, now).await?;
    if t.to == LeadStatus::Active {
        super::lift::on_active(conn, chain, &t.lead_id, Some(t.by), &t.consented, now).await?;
    }
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: t.to })
}
