//! "May we contact this person for this purpose on this channel now?": what a marketer
//! asks before each send. Yes only with an active lead that grants the purpose on the
//! channel, whose double opt-in of that channel is confirmed (a confirmed mail proves
//! nothing about the phone number), and whose retention has not ended, and never while a withdrawal or an
//! objection of that purpose is in force. On a B2B purpose only about a topic the purpose
//! declares (LAW.md rule 21). For SMS the answer also says whether a marketing SMS may go
//! out now, and from when ([`super::quiet`]).

use consent_receipt::{Channel, Email, LegalBasis, VerifiedReceipt};

use super::quiet::{self, Window};
use super::tokens::{contact_hash, phone_hash};
use crate::domain::confirmation::channel_confirmed;
use crate::domain::{Ident, Phone};
use crate::state::AppState;
use crate::store::StoreError;

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// May we.
    pub allowed: bool,
    /// Why: `consent`, `not objected`, `withdrawn`, `objected`, a B2B topic refused, or
    /// that no active lead covers it.
    pub reason: &'static str,
    /// The lead found, if any.
    pub grant: Option<Grant>,
    /// For SMS: the quiet hours of the consent's jurisdiction at this moment (`None` when
    /// no rule is known there, or for e-mail).
    pub quiet: Option<Window>,
    /// For an e-mail address: whether it is a role address (`contact@`, `info@`, `sales@`,
    /// …), the address of a company or a function rather than of a person.
    pub company_address: Option<bool>,
}

/// Whom the question is about.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// An e-mail address.
    Email(&'a Email),
    /// A phone number.
    Phone(&'a Phone),
}

/// The lead a permission rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The purpose's legal basis.
    pub basis: LegalBasis,
    /// The lead.
    pub lead_id: String,
    /// Its receipt.
    pub receipt_jti: String,
    /// The notice: id, version, digest.
    pub notice: (String, u32, String),
    /// Since when.
    pub since: i64,
    /// B2B: the topics the purpose declares.
    pub topics: Vec<String>,
    /// B2B: the person's job function, as the receipt records it.
    pub job_function: Option<String>,
}

/// The reason when nothing covers the question.
pub const NO_CONSENT: &str = "no active consent for this purpose and channel";

/// The reason when the only consent found reached the end of its retention without being
/// renewed (rule 23): it is over, and the lead is being deleted.
pub const EXPIRED: &str = "the consent expired: its retention ended without a renewal";

/// The reason when the only consent found waits for the double opt-in of this channel:
/// another channel of the lead is confirmed, but this channel's address is not proved.
pub const UNCONFIRMED: &str = "the double opt-in of this channel is not confirmed: its address is not proved yet";

/// The reason while a withdrawal is in force and a newer consent is not complete yet.
pub const WITHDRAWN_NEWER_WAITING: &str = "withdrawn; a newer consent waits for its double opt-in or parental approval and lifts the withdrawal once complete";

/// The reason on soft opt-in, B2B and non-commercial purposes: offered an objection at
/// collection, the person did not use it (nor any other way to object since).
pub const NOT_OBJECTED: &str = "not objected";

/// The reason while an objection is in force (at collection, or received anywhere).
pub const OBJECTED: &str = "objected";

/// The reason on a B2B purpose asked about without a topic.
pub const TOPIC_REQUIRED: &str =
    "b2b: a message must relate to the person's job; name its topic (topic=), one the purpose declares";

/// The reason on a B2B purpose asked about a topic it does not declare.
pub const TOPIC_UNDECLARED: &str =
    "b2b: this topic is not one the purpose declares; only a declared topic relates to the person's job";

/// Whether the objection `scope` (`all`, `notice:<id>`, `purpose:<id>`) covers `purpose`.
fn covers(state: &AppState, scope: &str, purpose: &Ident) -> bool {
    match scope.split_once(':') {
        None => scope == "all",
        Some(("purpose", p)) => p == purpose.as_str(),
        Some(("notice", n)) => state
            .notices
            .current(n)
            .is_some_and(|e| e.langs.values().any(|(notice, _)| notice.purpose(purpose.as_str()).is_some())),
        Some(_) => false,
    }
}

/// Answers for `who`, `purpose` and `channel`, and for a B2B purpose `topic`.
pub async fn may_contact(
    state: &AppState,
    who: Who<'_>,
    purpose: &Ident,
    channel: Channel,
    topic: Option<&Ident>,
) -> Result<Permission, StoreError> {
    let (hash, company_address) = match who {
        Who::Email(e) => (contact_hash(state, e), Some(e.is_role_address())),
        Who::Phone(p) => (phone_hash(state, p.as_str()), None),
    };
    // A suppression set by an objection starts when the objection was received.
    let objected = match state.store.suppressed_since(&hash, purpose).await? {
        Some(since) => Some(
            state
                .store
                .objections_of(&hash)
                .await?
                .iter()
                .any(|(scope, _, at)| *at == since && covers(state, scope, purpose)),
        ),
        None => None,
    };
    let now = state.clock.now();
    let mut expired = false;
    let mut unconfirmed = false;
    for lead in state.store.active_leads_granting(&hash, purpose).await? {
        // Past its retention the consent is over, even before the job deletes the lead.
        if super::retention::ends_at(lead.last_contact_at, lead.retention_days) <= now {
            expired = true;
            continue;
        }
        let Some(notice) = state.notices.by_digest(&lead.notice_digest) else { continue };
        let Some(p) = notice.purpose(purpose.as_str()).filter(|p| p.channels.contains(&channel)) else { continue };
        if !channel_confirmed(lead.confirmed.as_deref(), channel) {
            unconfirmed = true;
            continue;
        }
        let b2b = p.legal_basis == LegalBasis::B2b;
        let job_function = match b2b {
            true => job_function(state, &lead.id, purpose).await?,
            false => None,
        };
        let grant = Grant {
            basis: p.legal_basis,
            lead_id: lead.id,
            receipt_jti: lead.jti,
            notice: (notice.id.clone(), notice.version, lead.notice_digest),
            since: lead.created_at,
            topics: p.topics.clone(),
            job_function,
        };
        let reason = match (objected, b2b, topic) {
            (Some(true), _, _) => OBJECTED,
            (Some(false), _, _) => "withdrawn",
            (None, true, None) => TOPIC_REQUIRED,
            (None, true, Some(t)) if !p.topics.iter().any(|d| d == t.as_str()) => TOPIC_UNDECLARED,
            (None, _, _) if p.legal_basis.offers_objection() => NOT_OBJECTED,
            (None, _, _) => "consent",
        };
        let allowed = matches!(reason, NOT_OBJECTED | "consent");
        let quiet = match channel {
            Channel::Sms => quiet::rule(&notice.jurisdiction).and_then(|r| quiet::window(&r, now)),
            Channel::Email => None,
        };
        return Ok(Permission { allowed, reason, grant: Some(grant), quiet, company_address });
    }
    let reason = match objected {
        Some(true) => OBJECTED,
        Some(false) if unconfirmed || state.store.waiting_lead_granting(&hash, purpose).await? => {
            WITHDRAWN_NEWER_WAITING
        }
        Some(false) => "withdrawn",
        None if unconfirmed => UNCONFIRMED,
        None if expired => EXPIRED,
        None => NO_CONSENT,
    };
    Ok(Permission { allowed: false, reason, grant: None, quiet: None, company_address })
}

/// The job function a lead's receipt records for a B2B purpose.
async fn job_function(state: &AppState, lead_id: &str, purpose: &Ident) -> Result<Option<String>, StoreError> {
    let receipt = state.store.lead(lead_id).await?.and_then(|l| l.receipt);
    let verified = receipt.as_deref().and_then(|r| VerifiedReceipt::verify(r).ok());
    Ok(verified.and_then(|v| {
        v.claims().decisions.iter().find(|d| d.purpose == purpose.as_str()).and_then(|d| d.job_function.clone())
    }))
}
