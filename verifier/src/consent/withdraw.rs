//! Withdrawal, as easy as consent, and the suppression that keeps it in force: the
//! unsubscribe link (page or RFC 8058 one-click) and "no thanks" on the confirmation page
//! withdraw through their token; the widget withdraws with a request signed by the
//! browser key that signed the receipt.
//!
//! Whatever the way, the decision is the same ([`plan`]): the purposes withdrawn are the
//! requested ones still granted; a lead left with nothing granted is `withdrawn` and its
//! pending links and unsent messages die; the contact goes on the suppression list (a
//! keyed hash) for every purpose withdrawn, so that a receipt signed before the
//! withdrawal can never undo it.

use consent_receipt::{Channel, Notice, VerifyError, b64, verify_withdrawal};

use super::tokens::token_hash;
use super::{Answer, Link, judge, labels, settle};
use crate::domain::{LeadStatus, TokenPurpose, WithdrawalSource};
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::store::{LifeOp, LifeOutcome, Withdraw, WithdrawTarget};

/// A withdrawal done (or found done already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    /// The lead.
    pub lead_id: String,
    /// Its status now: `withdrawn` once nothing is left granted.
    pub status: LeadStatus,
}

/// What withdrawing `requested` (every purpose when `None`) changes for a lead in
/// `status` that grants `granted` under `notice`. `withdrawn` is empty when nothing
/// requested is granted.
pub fn plan(
    lead_id: &str,
    status: LeadStatus,
    granted: &[String],
    requested: Option<&[String]>,
    source: WithdrawalSource,
    notice: Option<&Notice>,
) -> Withdraw {
    let withdrawn: Vec<String> = granted.iter().filter(|g| requested.is_none_or(|r| r.contains(g))).cloned().collect();
    let on_sms = |id: &String| notice.and_then(|n| n.purpose(id)).and_then(|p| p.channel()) == Some(Channel::Sms);
    let sms_purposes = withdrawn.iter().filter(|p| on_sms(p)).cloned().collect();
    let nothing_left = !withdrawn.is_empty() && withdrawn.len() == granted.len();
    Withdraw {
        lead_id: lead_id.to_string(),
        expect_status: status,
        expect_granted: granted.to_vec(),
        next: if nothing_left { LeadStatus::Withdrawn } else { status },
        withdrawn,
        sms_purposes,
        source,
        signed_jti: None,
        objection: None,
        target: WithdrawTarget { cancel_pending: nothing_left, suppress: true },
    }
}

/// Submits a plan; `None` when the lead changed since it was read.
pub(super) async fn write(state: &AppState, plan: Withdraw) -> Result<Option<Withdrawn>, ApiError> {
    if plan.withdrawn.is_empty() && plan.signed_jti.is_none() {
        // Already withdrawn: the same answer, no new event.
        return Ok(Some(Withdrawn { lead_id: plan.lead_id, status: plan.expect_status }));
    }
    match state.writer.life(LifeOp::Withdraw(plan), state.clock.now()).await? {
        LifeOutcome::Done { lead_id, status } => Ok(Some(Withdrawn { lead_id, status })),
        LifeOutcome::Replay => Err(VerifyError::Replay.into()),
        _ => Ok(None),
    }
}

/// Through a link's token: an unsubscribe link (it keeps working) or the confirmation
/// link's "no thanks".
pub async fn by_link(
    state: &AppState,
    token: &str,
    purpose: TokenPurpose,
    requested: Option<Vec<String>>,
    source: WithdrawalSource,
) -> Result<Answer<Withdrawn>, ApiError> {
    let hash = &token_hash(token);
    let requested = requested.as_deref();
    settle(|| async move {
        let found = state.store.token_lead(hash).await?;
        let Answer { lang, link } = judge(found, purpose, None, true, true, state.clock.now());
        let t = match link.into_ok() {
            Ok(t) => t,
            Err(other) => return Ok(Some(Answer { lang, link: other })),
        };
        let notice = state.notices.by_digest(&t.notice_digest).map(|n| &**n);
        let plan = plan(&t.lead_id, t.status, &t.granted, requested, source, notice);
        Ok(write(state, plan).await?.map(|done| {
            tracing::info!(lead = %done.lead_id, status = %done.status, %source, "withdrawn");
            Answer { lang: lang.clone(), link: Link::Ok(done) }
        }))
    })
    .await
}

/// The unsubscribe page: the purposes still granted, by id and label (none: already
/// unsubscribed).
pub async fn show(state: &AppState, token: &str) -> Result<Answer<Vec<(String, String)>>, ApiError> {
    let found = state.store.token_lead(&token_hash(token)).await?;
    let Answer { lang, link } = judge(found, TokenPurpose::Unsubscribe, None, true, true, state.clock.now());
    let t = match link.into_ok() {
        Ok(t) => t,
        Err(other) => return Ok(Answer { lang, link: other }),
    };
    let notice = state.notices.by_digest(&t.notice_digest).map(|n| &**n);
    let purposes = t.granted.iter().cloned().zip(labels(notice, &t.granted)).collect();
    Ok(Answer { lang, link: Link::Ok(purposes) })
}

/// A withdrawal signed by the visitor's own key, from the browser that gave the consent.
/// No account, no login: the key that signed the receipt is the proof.
pub async fn signed(state: &AppState, compact: &str) -> Result<Withdrawn, ApiError> {
    let v = verify_withdrawal(compact)?;
    let c = &v.claims;
    if c.aud.trim_end_matches('/') != state.config.public_url {
        return Err(VerifyError::WrongAudience("the withdrawal was made for another verifier".into()).into());
    }
    let skew = state.config.clock_skew.as_secs() as i64;
    if (c.iat - state.clock.now()).abs() > skew {
        return Err(VerifyError::ClockSkew("iat is too far from the verifier's clock".into()).into());
    }
    let not_found = || ApiError::not_found("no consent was recorded with this receipt");
    let key = &b64::encode(v.key.as_bytes());
    settle(|| async move {
        let lead = state.store.lead_by_jti(&c.receipt_jti).await?.ok_or_else(not_found)?;
        if lead.visitor_key != *key {
            return Err(ApiError::new(
                Code::NotYourReceipt,
                "the withdrawal must be signed by the key that signed the receipt",
            ));
        }
        let notice = state.notices.by_digest(&lead.notice_digest).map(|n| &**n);
        let mut plan =
            plan(&lead.id, lead.status, &lead.granted, c.purposes.as_deref(), WithdrawalSource::Signed, notice);
        plan.signed_jti = Some(c.jti.clone());
        write(state, plan).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn withdrawing_everything_ends_the_lead_and_its_pending_links() {
        let p = plan("l", LeadStatus::Active, &ids(&["a", "b"]), None, WithdrawalSource::Page, None);
        assert_eq!(p.withdrawn, ids(&["a", "b"]));
        assert_eq!(p.next, LeadStatus::Withdrawn);
        assert!(p.target.cancel_pending && p.target.suppress);
    }

    #[test]
    fn withdrawing_one_purpose_keeps_the_others_and_the_status() {
        let p =
            plan("l", LeadStatus::Active, &ids(&["a", "b"]), Some(&ids(&["b", "zz"])), WithdrawalSource::Page, None);
        assert_eq!(p.withdrawn, ids(&["b"]));
        assert_eq!(p.next, LeadStatus::Active);
        assert!(!p.target.cancel_pending);
    }

    #[test]
    fn withdrawing_what_is_not_granted_changes_nothing() {
        let p = plan("l", LeadStatus::Withdrawn, &[], None, WithdrawalSource::OneClick, None);
        assert!(p.withdrawn.is_empty());
        assert_eq!(p.next, LeadStatus::Withdrawn);
    }
}
