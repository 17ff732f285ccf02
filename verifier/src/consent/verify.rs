//! The verification pipeline: rules 1 to 9 of the design, in order, before anything is
//! stored. Rule 10 (replay) is the store's unique index.

use std::sync::Arc;

use consent_receipt::{Channel, Notice, VerifiedReceipt, VerifyError, VerifyStep};

use crate::domain::Phone;
use crate::stages::{Laps, Stage};
use crate::state::AppState;

/// A receipt that passed rules 1–9.
#[derive(Debug)]
pub struct Checked {
    /// The verified receipt.
    pub receipt: VerifiedReceipt,
    /// The notice version it names.
    pub notice: Arc<Notice>,
    /// When its nonce was issued.
    pub nonce_issued_at: i64,
    /// The contact's phone number, checked against the numbering plan, in E.164.
    pub phone: Option<Phone>,
}

/// Applies rules 1–9 to a compact receipt. `request_origin` is the request's `Origin`
/// header, when the browser sent one.
pub fn check_receipt(state: &AppState, compact: &str, request_origin: Option<&str>) -> Result<Checked, VerifyError> {
    let now = state.clock.now();
    let skew = state.config.clock_skew.as_secs() as i64;
    // Rules 1-3: structure and algorithm, strict signature, schema.
    let mut laps = Laps::start();
    let receipt = VerifiedReceipt::verify_observed(compact, &mut |step| {
        laps.lap(match step {
            VerifyStep::SignatureChecked => Stage::Signature,
            VerifyStep::Parsed | VerifyStep::SchemaChecked => Stage::Parse,
        })
    })?;
    let c = receipt.claims();
    // Rule 4: our nonce, for this notice version and origin, unexpired.
    let nonce_issued_at = state.nonces.check(&c.nonce, &c.notice.digest, &c.iss, now)?;
    // Rule 5: our audience; an allowed origin, the one the browser reports.
    receipt.check_audience(&state.config.public_url)?;
    receipt.check_origin(|o| state.origin_allowed(&c.notice.id, o), request_origin)?;
    // Rule 6: signed now, after the nonce.
    receipt.check_time(now, skew, Some(nonce_issued_at))?;
    // Rule 7: a published version of a notice still served.
    let notice = state
        .notices
        .published(&c.notice.id, &c.notice.digest)
        .ok_or_else(|| VerifyError::UnknownNotice("no published version of this notice has this digest".into()))?
        .clone();
    // The registry is keyed by digest: the notice found is the one the digest names.
    receipt.check_notice_digest(&notice, &c.notice.digest)?;
    // Rule 8: one decision per purpose, unticked at first, grants from real gestures.
    receipt.check_decisions(&notice)?;
    // Rule 9: the notice's age rule; a minor names a guardian.
    receipt.check_age(&notice)?;
    // Rule 3 (contact) against the numbering plan: a number in use, a mobile one when an
    // SMS purpose is granted. Only its E.164 form is kept.
    let sms = c.granted().any(|id| notice.purpose(id).and_then(|p| p.channel()) == Some(Channel::Sms));
    let phone = receipt.phone().map(|p| Phone::check(p, sms)).transpose()?;
    Ok(Checked { receipt, notice, nonce_issued_at, phone })
}
