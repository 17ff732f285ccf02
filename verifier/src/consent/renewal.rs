//! Re-permission (rule 23: "at the end, ask again or delete"). Before an active lead's
//! retention ends (`--renewal-lead-time`, 30 days by default), it is asked once, on each
//! channel it consented on, whether it wants to keep its subscription: a mail (with the
//! one-click unsubscribe of every mail) and an SMS (sender named, STOP at the end), each
//! with a link. The link opens a page and changes nothing (link scanners follow links); its
//! button renews, a new confirmed consent that starts the retention period again
//! (`consent_renewed`); "no thanks" beside it withdraws as easily. Silence ends in
//! deletion when the retention ends ([`super::retention`]).
//!
//! Asked once: the request is written under the chain lock only if the lead was not asked
//! since its last contact, so neither a restart nor a second replica asks twice, and the
//! outbox sends each message once. Not asked: the leads of a notice no longer served (a
//! renewal is a new consent, and none is collected under a retired notice), a minor's
//! (their consent was joint, with a parent), and, for SMS, not during quiet hours (the job
//! comes back every hour).

use consent_receipt::Channel;

use super::messages::Outgoing;
use super::retention::{BATCH, DAY, span};
use super::tokens::token_hash;
use super::withdraw::{self, Withdrawn};
use super::{Answer, Link, judge, labels, quiet, sender, settle, settled};
use crate::domain::{LeadStatus, TokenPurpose, WithdrawalSource};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::retention::{ByLastContact, RenewalDue};
use crate::store::{AskRenewal, LifeOp, LifeOutcome, Renew, StoreError, TokenLead};

/// Asks every lead whose retention ends within the lead time and that was not asked since
/// its last contact; returns how many were asked.
pub async fn ask_once(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let lead_time = state.config.retention.renewal_lead_time.as_secs() as i64;
    let mut asked = 0;
    for days in state.store.retention_periods().await? {
        let cutoff = now - span(days) + lead_time;
        let mut after = ByLastContact::start();
        loop {
            let page = state.store.renewals_due(days, cutoff, &after, BATCH).await?;
            let Some(last) = page.last() else { break };
            after = ByLastContact { last_contact_at: last.last_contact_at, id: last.id.clone() };
            for lead in &page {
                // A message that could not be composed was logged where it failed; the
                // other leads still get theirs.
                let Some(op) = compose(state, lead, lead.last_contact_at + span(days), now).ok().flatten() else {
                    continue;
                };
                if let LifeOutcome::Done { lead_id, .. } =
                    state.writer.life(LifeOp::AskRenewal(Box::new(op)), now).await?
                {
                    tracing::info!(lead = %lead_id, "asked to renew before its retention ends");
                    asked += 1;
                }
            }
        }
    }
    if asked > 0 {
        state.wake_senders();
    }
    Ok(asked)
}

/// One lead's request, composed; `None` when it is not to be asked (now).
fn compose(state: &AppState, lead: &RenewalDue, ends_at: i64, now: i64) -> Result<Option<AskRenewal>, ApiError> {
    if lead.minor || ends_at <= now || state.notices.current(&lead.notice_id).is_none() {
        return Ok(None);
    }
    let Some(notice) = state.notices.by_digest(&lead.notice_digest) else { return Ok(None) };
    // Only to an address a confirmation proved (or on a notice without double opt-in).
    let on = |c| {
        super::asks_on(Some(notice), &lead.granted, c)
            && crate::domain::confirmation::channel_confirmed(lead.confirmed.as_deref(), c)
    };
    let mail_to = lead.email.as_deref().filter(|_| on(Channel::Email));
    let sms_to = lead.phone.as_deref().filter(|_| on(Channel::Sms));
    let quiet_now = quiet::rule(&notice.jurisdiction).and_then(|r| quiet::window(&r, now)).is_some_and(|w| !w.send_now);
    if sms_to.is_some() && quiet_now {
        // Not a message the person just asked for: it waits for the next window.
        return Ok(None);
    }
    let mut out = Outgoing::new(state, notice);
    if let Some(to) = mail_to {
        let unsubscribe = out.unsubscribe_token()?;
        out.renewal(to, &lead.granted, &unsubscribe, ends_at)?;
    }
    if let Some(to) = sms_to {
        out.sms_renewal(to, ends_at)?;
    }
    let Outgoing { mails, tokens, .. } = out;
    if mails.is_empty() {
        return Ok(None);
    }
    Ok(Some(AskRenewal { lead_id: lead.id.clone(), expect_last_contact: lead.last_contact_at, ends_at, tokens, mails }))
}

/// What the page of a renewal link shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewPage {
    /// The labels of what the person receives.
    pub labels: Vec<String>,
    /// The sender: controller name and address.
    pub sender: String,
    /// The last day to answer, as the person's language writes dates.
    pub until: String,
}

async fn judged(state: &AppState, token: &str) -> Result<Answer<TokenLead>, ApiError> {
    let found = state.store.token_lead(&token_hash(token)).await?;
    Ok(judge(found, TokenPurpose::Renew, Some(LeadStatus::Active), false, false, state.clock.now()))
}

/// The page the link opens: changes nothing.
pub async fn show(state: &AppState, token: &str) -> Result<Answer<RenewPage>, ApiError> {
    let Answer { lang, link } = judged(state, token).await?;
    let t = match link.into_ok() {
        Ok(t) => t,
        Err(other) => return Ok(Answer { lang, link: other }),
    };
    let notice = state.notices.by_digest(&t.notice_digest);
    let sender = sender(notice.map(|n| &**n));
    let until = t.expires_at.map(|e| crate::i18n::date(crate::i18n::messages(&lang), e - DAY)).unwrap_or_default();
    let page = RenewPage { labels: labels(notice.map(|n| &**n), &t.granted), sender, until };
    Ok(Answer { lang, link: Link::Ok(page) })
}

/// The button: renews what the lead grants, through the link of the message that came by
/// `channel`.
pub async fn renew(state: &AppState, token: &str, channel: Channel) -> Result<Answer<()>, ApiError> {
    let hash = &token_hash(token);
    settle(|| async move {
        let Answer { lang, link: judged } = judged(state, token).await?;
        let t = match judged.into_ok() {
            Ok(t) => t,
            Err(other) => return Ok(Some(Answer { lang, link: other })),
        };
        let op = Renew {
            lead_id: t.lead_id.clone(),
            token_hash: hash.clone(),
            channel: Some(channel),
            purposes: t.granted.clone(),
        };
        Ok(settled(state.writer.life(LifeOp::Renew(op), state.clock.now()).await?).map(|_| {
            tracing::info!(lead = %t.lead_id, "consent renewed");
            Answer { lang: lang.clone(), link: Link::Ok(()) }
        }))
    })
    .await
}

/// "No thanks" on the same page: withdraws everything, as easily.
pub async fn decline(state: &AppState, token: &str) -> Result<Answer<Withdrawn>, ApiError> {
    withdraw::by_link(state, token, TokenPurpose::Renew, None, WithdrawalSource::Declined).await
}
