//! The double opt-in of one channel: the mail's link proves the e-mail address; the SMS's
//! link, its code or OUI/YES in reply prove the phone number. Each confirms its own
//! channel only: the first makes the lead active, and the other channel's purposes stay
//! out of reach until their own address is proved.

use consent_receipt::Channel;
use sqlx::AnyConnection;

use super::guard::{self, TokenGuard};
use super::{Chain, LifeOutcome};
use crate::domain::confirmation::{self, awaits};
use crate::domain::{ConfirmedBy, EventKind, LeadStatus, TokenPurpose};
use crate::store::{NewToken, tokens};

/// Confirm one channel of a lead.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The lead.
    pub lead_id: String,
    /// Hash and purpose of the token used (a link's or a code's); `None` for a reply,
    /// whose proof is the number it came from.
    pub token: Option<(String, TokenPurpose)>,
    /// How it was confirmed (recorded in the event, shown in the proof).
    pub by: ConfirmedBy,
    /// The channel whose address it proves.
    pub channel: Channel,
    /// A fresh unsubscribe token for the page that says "confirmed".
    pub unsubscribe: NewToken,
    /// The purposes of this channel it grants by consent, whose withdrawals it may lift
    /// (not those of an objection box left unticked).
    pub consented: Vec<String>,
}

/// The tokens that confirm a channel: they all die once it is confirmed.
fn tokens_of(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "('confirm')",
        Channel::Sms => "('confirm_sms', 'code')",
    }
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Confirm,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let lead = match &t.token {
        Some((hash, purpose)) => {
            let token = TokenGuard { hash, purpose: *purpose, expired_ok: false };
            guard::check_token(conn, &t.lead_id, token, now).await?
        }
        None => guard::snapshot(conn, &t.lead_id).await?,
    };
    let Some(lead) = lead.filter(|s| awaits(s.status, s.confirmed.as_deref(), t.channel)) else {
        return Ok(LifeOutcome::Stale);
    };
    // One confirmation of a channel is enough: its other ways to confirm die with it.
    sqlx::query(&format!(
        "UPDATE tokens SET used_at = $1 WHERE lead_id = $2 AND purpose IN {} AND used_at IS NULL",
        tokens_of(t.channel)
    ))
    .bind(now)
    .bind(&t.lead_id)
    .execute(&mut *conn)
    .await?;
    tokens::insert(conn, tokens::rows([(t.lead_id.as_str(), &t.unsubscribe, now)])).await?;
    let confirmed = confirmation::with(lead.confirmed, t.channel);
    sqlx::query("UPDATE leads SET confirmed_channels = $1 WHERE id = $2")
        .bind(confirmation::to_column(&Some(confirmed)))
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
    let to = LeadStatus::Active;
    guard::set_status(conn, &t.lead_id, to, now).await?;
    // A confirmation by link keeps the event's earlier shape and adds its channel; the
    // others also say how.
    let data = match t.by {
        ConfirmedBy::Link => serde_json::json!({"status": to, "channel": t.channel}),
        by => serde_json::json!({"status": to, "by": by, "channel": t.channel}),
    };
    chain.append_for_lead(conn, &t.lead_id, EventKind::Confirmed, &data, now).await?;
    super::lift::on_confirmed(conn, chain, &t.lead_id, t.channel, &t.consented, now).await?;
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: to })
}
