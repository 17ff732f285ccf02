//! Objections from anywhere (rule 18): an unsubscribe at the mailing tool, a letter to the
//! DPO, a phone call, a refusal stated at the source of a lead. Each one puts the contact
//! on the suppression list for every purpose in its scope from the time it was received,
//! withdraws those purposes from every lead of that contact given before then, and is an
//! event in the chain without contact data. Recording the same objection twice changes
//! nothing.

use consent_receipt::{Channel, Email, b64};
use sha2::{Digest, Sha256};

use super::tokens::{contact_hash, phone_hash};
use super::verify::Checked;
use super::withdraw;
use crate::domain::{Ident, LeadStatus, Phone, WithdrawalSource};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::outbox::channel_str;
use crate::store::{LifeOp, LifeOutcome, Object};

/// How many times a lead that changed under a withdrawal is read again.
const ATTEMPTS: usize = 3;

/// Who objected.
#[derive(Debug, Clone)]
pub enum Objector {
    Email(Email),
    Phone(Phone),
}

/// What the objection covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every purpose of every notice.
    All,
    /// Every purpose of one notice.
    Notice(Ident),
    /// One purpose, in every notice that has it.
    Purpose(Ident),
}

impl Scope {
    fn key(&self) -> String {
        match self {
            Scope::All => "all".into(),
            Scope::Notice(n) => ["notice:", n.as_str()].concat(),
            Scope::Purpose(p) => ["purpose:", p.as_str()].concat(),
        }
    }

    fn covers(&self, notice: &str, purpose: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Notice(n) => n.as_str() == notice,
            Scope::Purpose(p) => p.as_str() == purpose,
        }
    }
}

/// Where objections come from. `collection` is an objection box ticked on the form
/// itself ([`at_collection`]).
pub const SOURCES: [&str; 8] = ["esp", "dpo", "letter", "phone", "sms-stop", "source", "collection", "other"];

/// An objection to record.
#[derive(Debug, Clone)]
pub struct Objection {
    pub who: Objector,
    pub scope: Scope,
    /// One of [`SOURCES`].
    pub source: &'static str,
    /// When it was received (Unix seconds), not after now.
    pub received_at: i64,
    pub note: Option<String>,
}

/// What recording it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: String,
    /// The same objection was recorded before: nothing changed.
    pub duplicate: bool,
    /// Notice and purpose pairs now suppressed for the contact.
    pub suppressed: usize,
    /// Leads from which purposes were withdrawn.
    pub leads_withdrawn: usize,
}

/// Records an objection: suppression first (so no receipt signed before it can get in
/// meanwhile), then the withdrawals.
pub async fn record(state: &AppState, o: &Objection) -> Result<Recorded, ApiError> {
    let (hash, channel) = match &o.who {
        Objector::Email(e) => (contact_hash(state, e), Channel::Email),
        Objector::Phone(p) => (phone_hash(state, p.as_str()), Channel::Sms),
    };
    let scope = o.scope.key();
    let id = {
        let mut d = Sha256::new();
        for part in [hash.as_str(), &scope, o.source, &o.received_at.to_string()] {
            d.update(part.as_bytes());
            d.update([0]);
        }
        b64::encode(&d.finalize()[..18])
    };
    // Every purpose on the objector's channel that the scope names, in every notice served.
    let mut suppress = Vec::new();
    for entry in state.notices.all() {
        let Some((notice, _)) = entry.langs.values().next() else { continue };
        for p in &notice.purposes {
            if o.scope.covers(&entry.id, &p.id) && p.channel() == Some(channel) {
                suppress.push((entry.id.clone(), p.id.clone()));
            }
        }
    }
    let op = Object {
        id: id.clone(),
        contact_hash: hash.clone(),
        channel: channel_str(channel).into(),
        scope,
        source: o.source.into(),
        received_at: o.received_at,
        note: o.note.clone(),
        suppress,
    };
    // A duplicate still runs the withdrawals below (they are idempotent): a first recording
    // cut short after its commit is finished by the next one.
    let (duplicate, suppressed) = match state.writer.life(LifeOp::Object(op), state.clock.now()).await? {
        LifeOutcome::Replay => (true, 0),
        LifeOutcome::Count(n) => (false, n),
        _ => (false, 0),
    };
    let mut leads_withdrawn = 0;
    for first in state.store.leads_by_hash(&hash).await? {
        // A consent given after the objection was received stands.
        if first.created_at > o.received_at {
            continue;
        }
        let mut lead = first;
        for _ in 0..ATTEMPTS {
            if matches!(lead.status, LeadStatus::Withdrawn | LeadStatus::Refused | LeadStatus::RefusedByGuardian) {
                break;
            }
            let notice = state.notices.by_digest(&lead.notice_digest).map(|n| &**n);
            let requested: Vec<String> =
                lead.granted.iter().filter(|p| o.scope.covers(&lead.notice_id, p)).cloned().collect();
            if requested.is_empty() {
                break;
            }
            let mut plan = withdraw::plan(
                &lead.id,
                lead.status,
                &lead.granted,
                Some(requested.as_slice()),
                WithdrawalSource::Objection,
                notice,
            );
            plan.objection = Some(id.clone());
            if withdraw::write(state, plan).await?.is_some() {
                leads_withdrawn += 1;
                break;
            }
            match state.store.lead(&lead.id).await? {
                Some(fresh) => lead = fresh,
                None => break,
            }
        }
    }
    tracing::info!(objection = %id, suppressed, leads_withdrawn, "objection recorded");
    Ok(Recorded { id, duplicate, suppressed, leads_withdrawn })
}

/// Rule 19: a lead forwarded with a refusal stated at its source (`no_solicitation`) is
/// an objection to the receipt's notice, never a consent. The receipt is checked as any
/// other (it names who refused); nothing of it is stored as a lead.
pub async fn refused_at_source(
    state: &AppState,
    receipt: &str,
    origin: Option<&str>,
) -> Result<Vec<Recorded>, ApiError> {
    let checked = super::verify::check_receipt(state, receipt, origin)?;
    let notice =
        Ident::parse(&checked.receipt.claims().notice.id, "notice").map_err(|e| ApiError::malformed(e.to_string()))?;
    let mut who = Vec::new();
    if let Some(e) = checked.receipt.email() {
        who.push(Objector::Email(e.clone()));
    }
    if let Some(p) = &checked.phone {
        who.push(Objector::Phone(p.clone()));
    }
    let mut done = Vec::new();
    for who in who {
        let o = Objection {
            who,
            scope: Scope::Notice(notice.clone()),
            source: "source",
            // The receipt's own time: the same receipt sent twice is the same objection.
            received_at: checked.receipt.claims().iat.min(state.clock.now()),
            note: None,
        };
        done.push(record(state, &o).await?);
    }
    Ok(done)
}

/// Objection boxes ticked on the form (LAW.md rules 20–22: soft opt-in, B2B and
/// non-commercial prospection offer an objection at collection): each is an objection to
/// its purpose, from the receipt's contact on that purpose's channel, recorded like any
/// other (source `collection`): permanent, in force from the receipt's time, an event in
/// the chain. The receipt's time keys it, so the same receipt sent twice is one objection.
pub async fn at_collection(state: &AppState, checked: &Checked) -> Result<Vec<Recorded>, ApiError> {
    let c = checked.receipt.claims();
    let mut done = Vec::new();
    for id in c.objected() {
        let Some(p) = checked.notice.purpose(id) else { continue };
        // No address on its channel: nothing could be sent there, nothing to suppress.
        let who = match p.channel() {
            Some(Channel::Email) => checked.receipt.email().cloned().map(Objector::Email),
            Some(Channel::Sms) => checked.phone.clone().map(Objector::Phone),
            None => None,
        };
        let Some(who) = who else { continue };
        let purpose = Ident::parse(id, "purpose").map_err(|e| ApiError::malformed(e.to_string()))?;
        let o = Objection {
            who,
            scope: Scope::Purpose(purpose),
            source: "collection",
            received_at: c.iat.min(state.clock.now()),
            note: None,
        };
        done.push(record(state, &o).await?);
    }
    Ok(done)
}
