//! Joint consent below the age of digital consent: the parent's mail links to a page with
//! the full notice and the widget in guardian mode, where the parent signs their own
//! receipt naming the child's. It is checked by the same rules as any receipt, then lets
//! the child's lead go on (or ends it if the parent refused). Both receipts are kept.

use consent_receipt::{Email, SealClaims, VerifyError};

use super::messages::Outgoing;
use super::tokens::token_hash;
use super::verify::check_receipt;
use super::{Answer, Link, judge, labels, settle, settled};
use crate::domain::{LeadStatus, TokenPurpose};
use crate::error::{ApiError, Code};
use crate::mail::render::mask_email;
use crate::state::AppState;
use crate::store::{Guardian, LifeOp, LifeOutcome};

/// What the parent's page shows and what its widget needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianPage {
    /// The notice.
    pub notice_id: String,
    /// The child's receipt id (the parent's receipt names it).
    pub jti: String,
    /// The child's address, masked.
    pub child: String,
    /// The address the request was sent to.
    pub guardian: String,
    /// What the child asked for: ids and labels.
    pub granted: Vec<(String, String)>,
}

/// The page the parent's link opens. A used link, or a lead that no longer waits for a
/// parent, reads as "already answered" ([`Link::Used`]).
pub async fn show(state: &AppState, token: &str) -> Result<Answer<GuardianPage>, ApiError> {
    let found = state.store.token_lead(&token_hash(token)).await?;
    let Answer { lang, link } = judge(found, TokenPurpose::Guardian, None, true, true, state.clock.now());
    let t = match link.into_ok() {
        Ok(t) => t,
        Err(other) => return Ok(Answer { lang, link: other }),
    };
    let link = if t.used_at.is_some() || t.status != LeadStatus::AwaitingGuardian {
        Link::Used
    } else if t.expired(state.clock.now()) {
        Link::Expired
    } else {
        let notice = state.notices.by_digest(&t.notice_digest).map(|n| &**n);
        Link::Ok(GuardianPage {
            notice_id: t.notice_id.clone(),
            jti: t.jti.clone(),
            child: t.email.as_deref().map(mask_email).unwrap_or_default(),
            guardian: t.guardian_email.clone().unwrap_or_default(),
            granted: t.granted.iter().cloned().zip(labels(notice, &t.granted)).collect(),
        })
    };
    Ok(Answer { lang, link })
}

/// A guardian's answer accepted: the child's lead and its status now, and the seal on the
/// parent's receipt.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The child's lead.
    pub lead_id: String,
    /// Its status after the answer.
    pub status: LeadStatus,
    /// The seal on the parent's receipt.
    pub seal: String,
}

fn mismatch(why: &str) -> ApiError {
    ApiError::new(Code::GuardianMismatch, why)
}

/// `POST /v1/guardian-approvals`: the parent's receipt and the token from their mail.
pub async fn approve(state: &AppState, receipt: &str, token: &str, origin: Option<&str>) -> Result<Answered, ApiError> {
    let checked = &check_receipt(state, receipt, origin)?;
    let c = checked.receipt.claims();
    let for_jti = c.guardian_for.as_ref().ok_or_else(|| {
        VerifyError::BadPayload("a guardian's receipt names the child's receipt in guardian_for".into())
    })?;
    let hash = &token_hash(token);
    settle(|| async move {
        let found = state.store.token_lead(hash).await?;
        let expect = Some(LeadStatus::AwaitingGuardian);
        let t = match judge(found, TokenPurpose::Guardian, expect, false, false, state.clock.now()).link {
            Link::Ok(t) => t,
            Link::Unknown => return Err(ApiError::new(Code::TokenUnknown, "this guardian link is not valid")),
            Link::Used => return Err(ApiError::new(Code::TokenUsed, "this guardian link was already used")),
            Link::Expired => return Err(ApiError::new(Code::TokenExpired, "this guardian link has expired")),
            Link::WrongState(s) => {
                return Err(ApiError::new(Code::WrongState, format!("the lead is {s}, not awaiting a guardian")));
            }
        };
        if t.jti != for_jti.jti || t.notice_id != c.notice.id {
            return Err(mismatch("the receipt does not name the child's receipt this link is for"));
        }
        let asked = t.guardian_email.as_deref().and_then(|g| Email::parse(g).ok());
        if asked.zip(checked.receipt.email()).is_none_or(|(a, s)| a.normalized() != s.normalized()) {
            return Err(mismatch("the receipt must be signed with the address the request was sent to"));
        }
        // The parent agrees to what the child asked for, all of it, or the answer is a refusal.
        let approved = !t.granted.is_empty() && t.granted.iter().all(|p| c.granted().any(|g| g == p));
        let notice = state
            .notices
            .by_digest(&t.notice_digest)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("lost notice version")))?;
        let next = match (approved, notice.double_opt_in) {
            (false, _) => LeadStatus::RefusedByGuardian,
            (true, true) => LeadStatus::PendingConfirmation,
            (true, false) => LeadStatus::Active,
        };
        let now = state.clock.now();
        let mut out = Outgoing::new(state, notice);
        if next == LeadStatus::PendingConfirmation {
            // Each channel the child asked for is confirmed by its own address.
            let unsubscribe = out.unsubscribe_token()?;
            out.confirmations(&t.lead_id, &t.granted, (t.email.as_deref(), t.phone.as_deref()), &unsubscribe, now)?;
        }
        let Outgoing { mails, tokens, .. } = out;
        let queued = !mails.is_empty();
        let receipt_sha256 = checked.receipt.sha256();
        let seal = SealClaims {
            receipt_sha256: receipt_sha256.clone(),
            jti: c.jti.clone(),
            lead_id: t.lead_id.clone(),
            status: next.as_str().to_string(),
            iat: now,
        }
        .sign(state.keys().active());
        let op = Guardian {
            lead_id: t.lead_id.clone(),
            token_hash: hash.clone(),
            jti: c.jti.clone(),
            receipt: receipt.to_string(),
            receipt_sha256,
            seal: seal.clone(),
            approved,
            next,
            mails,
            tokens,
        };
        match settled(state.writer.life(LifeOp::Guardian(Box::new(op)), now).await?) {
            Some(LifeOutcome::Done { lead_id, status }) => {
                if queued {
                    state.wake_senders();
                }
                tracing::info!(lead = %lead_id, %status, "guardian answered");
                Ok(Some(Answered { lead_id, status, seal }))
            }
            Some(_) => Err(VerifyError::Replay.into()),
            None => Ok(None),
        }
    })
    .await
}
