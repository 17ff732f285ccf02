//! The decisions: one file per use case. Each reads what it needs from the store,
//! decides (the status a lead moves to, the tokens and messages that go out, what is
//! suppressed), hands the store one transition to persist, and returns a typed outcome
//! that the routes render.
//!
//! - [`verify`]: rules 1–9 on a receipt, before anything is stored;
//! - [`accept`]: a new lead (its status, seal, first message);
//! - [`confirm`]: the double opt-in link (show, confirm, new link, "no thanks");
//! - [`guardian`]: joint consent of a holder of parental responsibility;
//! - [`withdraw`]: every way out (link, one-click, page, signed by the browser) and the
//!   suppression that keeps a withdrawal in force;
//! - [`retention`]: the job that deletes leads past their retention period, asks for
//!   [`renewal`] before it ends, and erases the contact data of withdrawn leads;
//!   [`activity`]: a click reported as contact (an open is refused);
//! - [`sms`]: the SMS code, and inbound SMS (STOP withdraws, OUI confirms);
//! - [`permissions`]: "may we contact this person for this purpose now?", with the
//!   [`quiet`] hours of SMS;
//! - [`proof`]: checkpoints of the event chain and proof bundles;
//! - [`access`]: admin API keys; [`audit`]: the event chain recomputed;
//! - [`webhooks`]: registering, listing, deleting and testing webhook endpoints;
//! - [`messages`] composes what goes out; [`tokens`] makes links and keyed hashes.

pub mod accept;
pub mod access;
pub mod activity;
pub mod audit;
pub mod confirm;
pub mod guardian;
pub mod messages;
pub mod objections;
pub mod permissions;
pub mod proof;
pub mod quiet;
pub mod renewal;
pub mod retention;
pub mod sms;
pub mod tlog;
pub mod tokens;
pub mod verify;
pub mod webhooks;
pub mod withdraw;

use crate::domain::{LeadStatus, TokenPurpose};
use crate::error::{ApiError, Code};
use crate::store::{LifeOutcome, TokenLead};

/// What a link's token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link<T> {
    /// Not a token we issued for this (or its lead is gone).
    Unknown,
    /// A single-use token already used.
    Used,
    /// Past its expiry.
    Expired,
    /// Its lead is not in the state the step needs.
    WrongState(LeadStatus),
    /// Good: what the step gives.
    Ok(T),
}

impl<T> Link<T> {
    /// The value of a good link, or the same answer as a link of another type.
    fn into_ok<U>(self) -> Result<T, Link<U>> {
        match self {
            Link::Ok(t) => Ok(t),
            Link::Unknown => Err(Link::Unknown),
            Link::Used => Err(Link::Used),
            Link::Expired => Err(Link::Expired),
            Link::WrongState(s) => Err(Link::WrongState(s)),
        }
    }
}

/// A link's outcome, and the language of the notice its lead was shown (for the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<T> {
    /// Language of the lead's notice (`en` for an unknown link).
    pub lang: String,
    /// What happened.
    pub link: Link<T>,
}

impl<T> Answer<T> {
    fn new(lang: impl Into<String>, link: Link<T>) -> Answer<T> {
        Answer { lang: lang.into(), link }
    }

    fn unknown() -> Answer<T> {
        Answer::new(crate::i18n::DEFAULT, Link::Unknown)
    }
}

/// Judges a token for a step: its purpose, whether a used or expired one still does, and
/// the status its lead must have.
fn judge(
    found: Option<TokenLead>,
    purpose: TokenPurpose,
    expect: Option<LeadStatus>,
    allow_used: bool,
    allow_expired: bool,
    now: i64,
) -> Answer<TokenLead> {
    let Some(t) = found.filter(|t| t.purpose == purpose) else { return Answer::unknown() };
    let lang = t.notice_lang.clone();
    let link = if t.used_at.is_some() && !allow_used {
        Link::Used
    } else if t.expired(now) && !allow_expired {
        Link::Expired
    } else if expect.is_some_and(|s| s != t.status) {
        Link::WrongState(t.status)
    } else {
        Link::Ok(t)
    };
    Answer::new(lang, link)
}

/// Waits `period` between two runs of a background job, or until `stop` says to stop;
/// returns whether to stop.
async fn pause(stop: &mut tokio::sync::watch::Receiver<bool>, period: std::time::Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(period) => {}
        _ = stop.changed() => {}
    }
    *stop.borrow()
}

/// How many times a decision is made again when the state it was made on changed before
/// it could be written (two clicks at once, say).
pub(crate) const ATTEMPTS: usize = 4;

/// Runs `decide_and_write` until the store accepts the decision (its guard held), at most
/// [`ATTEMPTS`] times. `Ok(None)` from its future means "the store said stale".
async fn settle<T, F, Fut>(mut decide_and_write: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, ApiError>>,
{
    for _ in 0..ATTEMPTS {
        if let Some(done) = decide_and_write().await? {
            return Ok(done);
        }
    }
    Err(ApiError::new(Code::Unavailable, "the consent changed while this request was handled; try again"))
}

/// Turns a transition's outcome into "done" or "decide again".
fn settled(outcome: LifeOutcome) -> Option<LifeOutcome> {
    (outcome != LifeOutcome::Stale).then_some(outcome)
}

/// The labels of these purposes in the notice a lead was shown (the id where the notice
/// has no such purpose).
fn labels(notice: Option<&consent_receipt::Notice>, ids: &[String]) -> Vec<String> {
    ids.iter().map(|id| notice.and_then(|n| n.purpose(id)).map_or_else(|| id.clone(), |p| p.label.clone())).collect()
}

/// Who sends, as a confirmation or renewal page names them: the controller and its address.
fn sender(notice: Option<&consent_receipt::Notice>) -> String {
    notice.map(|n| format!("{}, {}", n.controller.name, n.controller.address)).unwrap_or_default()
}

/// Of `granted`, the purposes on `channel` granted by consent in the notice a lead was
/// shown: the only ones whose withdrawal the confirmation of that channel may lift (an
/// objection box left unticked is no new act, and a mail proves nothing about a phone).
/// Nothing when the notice is unknown: a withdrawal left in force is the safe side.
fn consented(
    state: &crate::state::AppState,
    notice_digest: &str,
    granted: &[String],
    channel: consent_receipt::Channel,
) -> Vec<String> {
    let Some(n) = state.notices.by_digest(notice_digest) else { return Vec::new() };
    let lifts = |p: &consent_receipt::Purpose| !p.legal_basis.offers_objection() && p.channel() == Some(channel);
    granted.iter().filter(|id| n.purpose(id).is_some_and(lifts)).cloned().collect()
}

/// Whether any of `granted` is a purpose on `channel` in `notice`.
fn asks_on(notice: Option<&consent_receipt::Notice>, granted: &[String], channel: consent_receipt::Channel) -> bool {
    granted.iter().any(|id| notice.and_then(|n| n.purpose(id)).and_then(|p| p.channel()) == Some(channel))
}

/// Judges a confirmation token (the mail's link, the SMS's link or code): good only while
/// the lead still waits for the double opt-in of the channel it proves.
fn judge_confirmation(
    found: Option<TokenLead>,
    purposes: &[TokenPurpose],
    allow_expired: bool,
    now: i64,
) -> Answer<TokenLead> {
    let purpose = found.as_ref().map(|t| t.purpose).filter(|p| purposes.contains(p));
    let Some(purpose) = purpose else { return Answer::unknown() };
    let Answer { lang, link } = judge(found, purpose, None, false, allow_expired, now);
    let link = match link {
        Link::Ok(t) => match crate::domain::confirmation::proved_by(t.purpose) {
            Some(c) if crate::domain::confirmation::awaits(t.status, t.confirmed.as_deref(), c) => Link::Ok(t),
            _ => Link::WrongState(t.status),
        },
        other => other,
    };
    Answer { lang, link }
}
