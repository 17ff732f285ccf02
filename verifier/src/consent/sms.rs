//! The SMS side of the life cycle: the code typed on the site, and inbound messages.
//!
//! An inbound SMS is judged by its keyword ([`crate::sms::text::keyword`]): STOP (ARRET,
//! UNSUBSCRIBE, …) withdraws every SMS purpose of every lead with that number, and the
//! withdrawal puts the number (its keyed hash) on the suppression list; OUI or YES confirms
//! the SMS channel of the number's leads that wait for it (the code and the reply prove the
//! number, never the e-mail address); anything else is recorded and ignored. Each
//! outcome is an event, so a withdrawal by SMS shows in the proof bundle like any other.

use consent_receipt::{Channel, PhoneE164};

use super::tokens::{code_hash, new_token, phone_hash};
use super::withdraw::{self, Withdrawn};
use super::{ATTEMPTS, Link, judge_confirmation, settle, settled};
use crate::domain::confirmation::awaits;
use crate::domain::{ConfirmedBy, EventKind, LeadStatus, Phone, TokenPurpose, WithdrawalSource};
use crate::error::{ApiError, Code};
use crate::sms::Inbound;
use crate::sms::text::{Keyword, keyword};
use crate::state::AppState;
use crate::store::{Confirm, LeadRecord, LifeOp};

/// Confirms a lead with the 6-digit code of its SMS.
pub async fn confirm_by_code(state: &AppState, lead_id: &str, code: &str) -> Result<Withdrawn, ApiError> {
    let hash = &code_hash(state, lead_id, code);
    let bad_code = || ApiError::new(Code::BadCode, "this is not the code that was sent, or it was tried too often");
    settle(|| async move {
        let now = state.clock.now();
        let found = state.store.token_lead(hash).await?.filter(|t| t.lead_id == lead_id);
        if found.is_none() {
            state.store.wrong_code(lead_id, now).await?;
            return Err(bad_code());
        }
        let t = match judge_confirmation(found, &[TokenPurpose::Code], false, now).link {
            Link::Ok(t) => t,
            Link::Expired => return Err(ApiError::new(Code::TokenExpired, "the code has expired")),
            Link::WrongState(s) => return Err(ApiError::new(Code::WrongState, format!("the lead is {s}"))),
            Link::Unknown | Link::Used => return Err(bad_code()),
        };
        let consented = super::consented(state, &t.notice_digest, &t.granted, Channel::Sms);
        let op = confirm_op(&t.lead_id, Some((hash.clone(), TokenPurpose::Code)), ConfirmedBy::Code, consented)?;
        Ok(settled(state.writer.life(op, now).await?).map(|_| {
            tracing::info!(lead = %t.lead_id, "double opt-in confirmed by SMS code");
            Withdrawn { lead_id: t.lead_id.clone(), status: LeadStatus::Active }
        }))
    })
    .await
}

fn confirm_op(
    lead_id: &str,
    token: Option<(String, TokenPurpose)>,
    by: ConfirmedBy,
    consented: Vec<String>,
) -> Result<LifeOp, ApiError> {
    let (_, unsubscribe) = new_token(TokenPurpose::Unsubscribe, None)?;
    Ok(LifeOp::Confirm(Confirm {
        lead_id: lead_id.to_string(),
        token,
        by,
        channel: Channel::Sms,
        unsubscribe,
        consented,
    }))
}

/// What an inbound SMS did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundOutcome {
    /// STOP: this many leads had SMS purposes withdrawn.
    Stopped(usize),
    /// OUI/YES: this many leads confirmed.
    Confirmed(usize),
    /// Nothing we act on (or nobody to act for): recorded.
    Ignored,
}

/// Acts on an inbound SMS.
pub async fn inbound(state: &AppState, sms: &Inbound) -> Result<InboundOutcome, ApiError> {
    let word = keyword(&sms.text);
    // Gateways write numbers with or without the +.
    let number = if sms.from.starts_with('+') { sms.from.clone() } else { format!("+{}", sms.from) };
    let phone = PhoneE164::parse(&number).ok().and_then(|p| Phone::check(&p, false).ok());
    let leads = match &phone {
        Some(p) => state.store.leads_by_phone(&phone_hash(state, p.as_str())).await?,
        None => Vec::new(),
    };
    let outcome = match word {
        Keyword::Stop => InboundOutcome::Stopped(stop(state, leads).await?),
        Keyword::Yes => InboundOutcome::Confirmed(confirm_by_reply(state, &leads).await?),
        Keyword::Other => InboundOutcome::Ignored,
    };
    if matches!(outcome, InboundOutcome::Ignored | InboundOutcome::Stopped(0) | InboundOutcome::Confirmed(0)) {
        let word = match word {
            Keyword::Stop => "stop",
            Keyword::Yes => "yes",
            Keyword::Other => "other",
        };
        // Recorded without the number or the text: only what kind of message it was.
        let data = serde_json::json!({"channel": "sms", "keyword": word});
        state.writer.life(LifeOp::Record { kind: EventKind::InboundIgnored, data }, state.clock.now()).await?;
        tracing::info!(keyword = word, "inbound SMS recorded and ignored");
        return Ok(InboundOutcome::Ignored);
    }
    Ok(outcome)
}

/// Withdraws every SMS purpose of these leads; returns how many leads changed.
async fn stop(state: &AppState, leads: Vec<LeadRecord>) -> Result<usize, ApiError> {
    let mut changed = 0;
    for first in leads {
        let mut lead = first;
        for _ in 0..ATTEMPTS {
            let notice = state.notices.by_digest(&lead.notice_digest).map(|n| &**n);
            let on_sms =
                |id: &String| notice.and_then(|n| n.purpose(id)).and_then(|p| p.channel()) == Some(Channel::Sms);
            let sms: Vec<String> = lead.granted.iter().filter(|p| on_sms(p)).cloned().collect();
            if sms.is_empty() {
                break;
            }
            let plan = withdraw::plan(
                &lead.id,
                lead.status,
                &lead.granted,
                Some(sms.as_slice()),
                WithdrawalSource::SmsStop,
                notice,
            );
            if withdraw::write(state, plan).await?.is_some() {
                tracing::info!(lead = %lead.id, "SMS purposes withdrawn by STOP");
                changed += 1;
                break;
            }
            match state.store.lead(&lead.id).await? {
                Some(fresh) => lead = fresh,
                None => break,
            }
        }
    }
    Ok(changed)
}

/// Confirms the SMS channel of the leads that wait for it; returns how many did.
async fn confirm_by_reply(state: &AppState, leads: &[LeadRecord]) -> Result<usize, ApiError> {
    let mut confirmed = 0;
    let on_sms = |l: &LeadRecord| {
        super::asks_on(state.notices.by_digest(&l.notice_digest).map(|n| &**n), &l.granted, Channel::Sms)
    };
    for lead in leads.iter().filter(|l| awaits(l.status, l.confirmed.as_deref(), Channel::Sms) && on_sms(l)) {
        let consented = super::consented(state, &lead.notice_digest, &lead.granted, Channel::Sms);
        let op = confirm_op(&lead.id, None, ConfirmedBy::Reply, consented)?;
        if settled(state.writer.life(op, state.clock.now()).await?).is_some() {
            tracing::info!(lead = %lead.id, "double opt-in confirmed by SMS reply");
            confirmed += 1;
        }
    }
    Ok(confirmed)
}
