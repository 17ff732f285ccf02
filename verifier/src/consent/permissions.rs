//! "May we contact this person for this purpose on this channel now?": what a marketer
//! asks before each send. Yes only with an active consent that names the purpose and the
//! channel and whose retention has not ended, and never while a withdrawal of that purpose
//! is in force. For SMS the answer also says whether a marketing SMS may go out now, and
//! from when ([`super::quiet`]).

use consent_receipt::{Channel, Email, LegalBasis};

use super::quiet::{self, Window};
use super::tokens::{contact_hash, phone_hash};
use crate::domain::{Ident, Phone};
use crate::state::AppState;
use crate::store::StoreError;

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// May we.
    pub allowed: bool,
    /// Why: `consent`, `withdrawn`, or that no active consent covers it.
    pub reason: &'static str,
    /// The consent found, if any.
    pub grant: Option<Grant>,
    /// For SMS: the quiet hours of the consent's jurisdiction at this moment (`None` when
    /// no rule is known there, or for e-mail).
    pub quiet: Option<Window>,
}

/// Whom the question is about.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// An e-mail address.
    Email(&'a Email),
    /// A phone number.
    Phone(&'a Phone),
}

/// The consent a permission rests on.
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
}

/// The reason when nothing covers the question.
pub const NO_CONSENT: &str = "no active consent for this purpose and channel";

/// The reason when the only consent found reached the end of its retention without being
/// renewed (rule 23): it is over, and the lead is being deleted.
pub const EXPIRED: &str = "the consent expired: its retention ended without a renewal";

/// The reason while a withdrawal is in force and a newer consent is not complete yet.
pub const WITHDRAWN_NEWER_WAITING: &str = "withdrawn; a newer consent waits for its double opt-in or parental approval and lifts the withdrawal once complete";

/// Answers for `who`, `purpose` and `channel`.
pub async fn may_contact(
    state: &AppState,
    who: Who<'_>,
    purpose: &Ident,
    channel: Channel,
) -> Result<Permission, StoreError> {
    let hash = match who {
        Who::Email(e) => contact_hash(state, e),
        Who::Phone(p) => phone_hash(state, p.as_str()),
    };
    let withdrawn = state.store.suppressed_since(&hash, purpose).await?.is_some();
    let now = state.clock.now();
    let mut expired = false;
    for lead in state.store.active_leads_granting(&hash, purpose).await? {
        // Past its retention the consent is over, even before the job deletes the lead.
        if super::retention::ends_at(lead.last_contact_at, lead.retention_days) <= now {
            expired = true;
            continue;
        }
        let Some(notice) = state.notices.by_digest(&lead.notice_digest) else { continue };
        let Some(p) = notice.purpose(purpose.as_str()).filter(|p| p.channels.contains(&channel)) else { continue };
        let grant = Grant {
            basis: p.legal_basis,
            lead_id: lead.id,
            receipt_jti: lead.jti,
            notice: (notice.id.clone(), notice.version, lead.notice_digest),
            since: lead.created_at,
        };
        let reason = if withdrawn { "withdrawn" } else { "consent" };
        let quiet = match channel {
            Channel::Sms => quiet::rule(&notice.jurisdiction).and_then(|r| quiet::window(&r, now)),
            Channel::Email => None,
        };
        return Ok(Permission { allowed: !withdrawn, reason, grant: Some(grant), quiet });
    }
    let reason = match withdrawn {
        true if state.store.waiting_lead_granting(&hash, purpose).await? => WITHDRAWN_NEWER_WAITING,
        true => "withdrawn",
        false if expired => EXPIRED,
        false => NO_CONSENT,
    };
    Ok(Permission { allowed: false, reason, grant: None, quiet: None })
}
