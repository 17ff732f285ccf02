//! Double opt-in: the link in the confirmation message, the mail's or the SMS's. Opening it
//! changes nothing (mail scanners follow links); the page's button confirms the channel the
//! link came by, and only that one; an expired link can ask for a new message; "no thanks"
//! on the same page withdraws as easily.

use consent_receipt::Channel;

use super::messages::Outgoing;
use super::tokens::{link, new_token, token_hash};
use super::withdraw::{self, Withdrawn};
use super::{Answer, Link, judge_confirmation, labels, sender, settle, settled};
use crate::domain::confirmation::proved_by;
use crate::domain::{ConfirmedBy, TokenPurpose, WithdrawalSource};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Confirm, LifeOp, ResendConfirmation, TokenLead};

/// What the confirmation page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmPage {
    /// The labels of what the person asked for.
    pub labels: Vec<String>,
    /// The sender: controller name and address.
    pub sender: String,
}

/// The links that confirm: the mail's, and the SMS's short one.
const LINKS: [TokenPurpose; 2] = [TokenPurpose::Confirm, TokenPurpose::SmsConfirm];

async fn judged(state: &AppState, token: &str, allow_expired: bool) -> Result<Answer<TokenLead>, ApiError> {
    let found = state.store.token_lead(&token_hash(token)).await?;
    Ok(judge_confirmation(found, &LINKS, allow_expired, state.clock.now()))
}

/// The page the link opens.
pub async fn show(state: &AppState, token: &str) -> Result<Answer<ConfirmPage>, ApiError> {
    let Answer { lang, link } = judged(state, token, false).await?;
    let t = match link.into_ok() {
        Ok(t) => t,
        Err(other) => return Ok(Answer { lang, link: other }),
    };
    let notice = state.notices.by_digest(&t.notice_digest);
    let sender = sender(notice.map(|n| &**n));
    Ok(Answer { lang, link: Link::Ok(ConfirmPage { labels: labels(notice.map(|n| &**n), &t.granted), sender }) })
}

/// The button: confirms, and gives the unsubscribe link that now applies.
pub async fn confirm(state: &AppState, token: &str) -> Result<Answer<String>, ApiError> {
    let hash = &token_hash(token);
    settle(|| async move {
        let Answer { lang, link: judged } = judged(state, token, false).await?;
        let t = match judged.into_ok() {
            Ok(t) => t,
            Err(other) => return Ok(Some(Answer { lang, link: other })),
        };
        let channel = proved_by(t.purpose).unwrap_or(Channel::Email);
        let (unsubscribe, row) = new_token(TokenPurpose::Unsubscribe, None)?;
        let op = Confirm {
            lead_id: t.lead_id.clone(),
            token: Some((hash.clone(), t.purpose)),
            by: ConfirmedBy::Link,
            channel,
            unsubscribe: row,
            consented: super::consented(state, &t.notice_digest, &t.granted, channel),
        };
        Ok(settled(state.writer.life(LifeOp::Confirm(op), state.clock.now()).await?).map(|_| {
            tracing::info!(lead = %t.lead_id, ?channel, "double opt-in confirmed");
            Answer { lang: lang.clone(), link: Link::Ok(link(state, "unsubscribe", &unsubscribe)) }
        }))
    })
    .await
}

/// An expired (or lost) link: a new message with a new link; the old one dies.
pub async fn resend(state: &AppState, token: &str) -> Result<Answer<()>, ApiError> {
    let hash = &token_hash(token);
    settle(|| async move {
        let Answer { lang, link: judged } = judged(state, token, true).await?;
        let t = match judged.into_ok() {
            Ok(t) => t,
            Err(other) => return Ok(Some(Answer { lang, link: other })),
        };
        let Some(notice) = state.notices.by_digest(&t.notice_digest) else {
            return Ok(Some(Answer { lang, link: Link::Unknown }));
        };
        let now = state.clock.now();
        let mut out = Outgoing::new(state, notice);
        let unsubscribe = out.unsubscribe_token()?;
        // The new message goes where the expired link went: each channel is confirmed by
        // its own address.
        match (t.purpose, t.email.as_deref(), t.phone.as_deref()) {
            (TokenPurpose::Confirm, Some(email), _) => out.confirmation(email, &t.granted, &unsubscribe, now)?,
            (TokenPurpose::SmsConfirm, _, Some(phone)) => out.sms_confirmation(&t.lead_id, phone, now)?,
            _ => return Ok(Some(Answer { lang, link: Link::Unknown })),
        }
        let Outgoing { mut mails, tokens, .. } = out;
        let Some(mail) = mails.pop() else { return Err(ApiError::internal(anyhow::anyhow!("no mail composed"))) };
        let op = ResendConfirmation {
            lead_id: t.lead_id.clone(),
            token_hash: hash.clone(),
            purpose: t.purpose,
            tokens,
            mail,
        };
        Ok(settled(state.writer.life(LifeOp::ResendConfirmation(op), now).await?).map(|_| {
            state.wake_senders();
            Answer { lang: lang.clone(), link: Link::Ok(()) }
        }))
    })
    .await
}

/// "No thanks": withdraws what the request asked for on the channel the link came by (the
/// mail's link speaks for the e-mail address, the SMS's for the number: neither declines
/// for the other).
pub async fn decline(state: &AppState, token: &str) -> Result<Answer<Withdrawn>, ApiError> {
    let found = state.store.token_lead(&token_hash(token)).await?.filter(|t| LINKS.contains(&t.purpose));
    let purpose = found.as_ref().map_or(TokenPurpose::Confirm, |t| t.purpose);
    let requested = found.and_then(|t| {
        let notice = state.notices.by_digest(&t.notice_digest)?;
        let channel = proved_by(t.purpose)?;
        let on: Vec<String> = t
            .granted
            .iter()
            .filter(|id| notice.purpose(id).and_then(|p| p.channel()) == Some(channel))
            .cloned()
            .collect();
        // Every purpose on this channel: the whole request (the withdrawal's usual shape).
        (on.len() != t.granted.len()).then_some(on)
    });
    withdraw::by_link(state, token, purpose, requested, WithdrawalSource::Declined).await
}
