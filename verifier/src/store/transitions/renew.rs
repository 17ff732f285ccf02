//! Before retention ends: the messages asking to renew go out once, and the renewal
//! itself (the button behind their link) starts the retention period again.

use consent_receipt::Channel;
use sqlx::{AnyConnection, Row};

use super::guard::{self, TokenGuard};
use super::{Chain, LifeOutcome};
use crate::domain::{EventKind, LeadStatus, OutgoingMail, TokenPurpose};
use crate::store::outbox::channel_str;
use crate::store::{NewToken, outbox, tokens};

/// Queue the messages asking an active lead to renew.
#[derive(Debug, Clone)]
pub struct AskRenewal {
    /// The lead.
    pub lead_id: String,
    /// Its last contact when the decision was made: asked once per contact.
    pub expect_last_contact: i64,
    /// When its retention ends (recorded in the event).
    pub ends_at: i64,
    /// The tokens of the messages' links (hashes only).
    pub tokens: Vec<NewToken>,
    /// One message per channel it consented on.
    pub mails: Vec<OutgoingMail>,
}

/// The renewal: the button of the page the link opens.
#[derive(Debug, Clone)]
pub struct Renew {
    /// The lead.
    pub lead_id: String,
    /// Hash of the link's token.
    pub token_hash: String,
    /// The channel of the message the link came in (the address it proves).
    pub channel: Option<Channel>,
    /// The purposes it renews (those granted when the page was shown).
    pub purposes: Vec<String>,
}

pub(super) async fn ask(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &AskRenewal,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let row = sqlx::query("SELECT status, last_contact_at, renewal_requested_at FROM leads WHERE id = $1")
        .bind(&t.lead_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(LifeOutcome::Stale) };
    let last_contact: i64 = row.try_get("last_contact_at")?;
    let asked: Option<i64> = row.try_get("renewal_requested_at")?;
    // Under the chain lock, so of two replicas deciding at once only the first asks.
    let fits = row.try_get::<String, _>("status")? == LeadStatus::Active.as_str()
        && last_contact == t.expect_last_contact
        && asked.is_none_or(|a| a < last_contact);
    if !fits || t.mails.is_empty() {
        return Ok(LifeOutcome::Stale);
    }
    tokens::insert(conn, tokens::rows(t.tokens.iter().map(|k| (t.lead_id.as_str(), k, now)))).await?;
    outbox::insert(conn, outbox::rows(t.mails.iter().map(|m| (t.lead_id.as_str(), m, now)))).await?;
    sqlx::query("UPDATE leads SET renewal_requested_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
    let channels: Vec<&str> = t.mails.iter().map(|m| channel_str(m.channel)).collect();
    let outbox_ids: Vec<&str> = t.mails.iter().map(|m| m.id.as_str()).collect();
    let data = serde_json::json!({"channels": channels, "outbox_ids": outbox_ids, "ends_at": t.ends_at});
    chain.append_for_lead(conn, &t.lead_id, EventKind::RenewalRequested, &data, now).await?;
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: LeadStatus::Active })
}

pub(super) async fn renew(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Renew,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let token = TokenGuard { hash: &t.token_hash, purpose: TokenPurpose::Renew, expired_ok: false };
    let Some(lead) = guard::check(conn, &t.lead_id, token, LeadStatus::Active, now).await? else {
        return Ok(LifeOutcome::Stale);
    };
    if lead.granted != t.purposes {
        return Ok(LifeOutcome::Stale);
    }
    // One renewal is enough: the link of the other channel's message dies with this one.
    sqlx::query("UPDATE tokens SET used_at = $1 WHERE lead_id = $2 AND purpose = $3 AND used_at IS NULL")
        .bind(now)
        .bind(&t.lead_id)
        .bind(TokenPurpose::Renew.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE leads SET last_contact_at = $1, renewal_requested_at = NULL WHERE id = $2")
        .bind(now)
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
    let mut data = serde_json::json!({"purposes": t.purposes, "by": "link"});
    if let Some(c) = t.channel {
        data["channel"] = channel_str(c).into();
    }
    chain.append_for_lead(conn, &t.lead_id, EventKind::ConsentRenewed, &data, now).await?;
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: LeadStatus::Active })
}
