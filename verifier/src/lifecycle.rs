//! What each life-cycle step needs before it reaches the writer: tokens (only their
//! hashes are stored), mails composed in the notice's language, and the keyed hash that
//! recognises a contact without storing it in clear on the suppression list.

use consent_receipt::{Email, Notice, b64};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::mail::{OutgoingMail, compose, templates};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::NewToken;

/// A double opt-in or guardian link lives a week.
pub const LINK_TTL_SECS: i64 = 7 * 24 * 3600;
/// The same, in days, for the mails' wording.
pub const LINK_TTL_DAYS: i64 = 7;

/// SHA-256 of a token, base64url: what the database holds.
pub fn token_hash(token: &str) -> String {
    b64::encode(&Sha256::digest(token.as_bytes()))
}

/// A new random token (256 bits) and the row that stores its hash.
pub fn new_token(purpose: &'static str, expires_at: Option<i64>) -> Result<(String, NewToken), ApiError> {
    let token = b64::encode(&crate::keys::random::<32>().map_err(ApiError::internal)?);
    let hash = token_hash(&token);
    Ok((token, NewToken { hash, purpose, expires_at }))
}

/// HMAC-SHA256 of the normalised address under a key derived from the verifier's secret:
/// equal addresses give equal hashes, and the hash alone does not give the address back.
pub fn contact_hash(state: &AppState, email: &Email) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&state.nonces.derive_key(b"suppression v1"))
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(email.normalized().as_bytes());
    b64::encode(&mac.finalize().into_bytes())
}

/// Public links.
pub fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}/{path}/{token}", state.config.public_url)
}

/// The double opt-in mail and the tokens it carries (confirm, single-use, a week;
/// unsubscribe, lasting).
pub fn confirmation_mail(
    state: &AppState,
    notice: &Notice,
    to: &str,
    granted: &[String],
    unsubscribe: &str,
    now: i64,
) -> Result<(OutgoingMail, NewToken), ApiError> {
    let (token, row) = new_token("confirm", Some(now + LINK_TTL_SECS))?;
    let confirm = link(state, "confirm", &token);
    let words =
        templates::confirmation(notice, granted, &confirm, &link(state, "unsubscribe", unsubscribe), LINK_TTL_DAYS);
    let mail = compose(
        &state.config.mail,
        &notice.controller.name,
        to,
        "confirmation",
        words,
        &confirm,
        &link(state, "v1/unsubscribe", unsubscribe),
    )
    .map_err(ApiError::internal)?;
    Ok((mail, row))
}

/// The mail asking a holder of parental responsibility, and its single-use token.
pub fn guardian_mail(
    state: &AppState,
    notice: &Notice,
    to: &str,
    child: &str,
    granted: &[String],
    unsubscribe: &str,
    now: i64,
) -> Result<(OutgoingMail, NewToken), ApiError> {
    let (token, row) = new_token("guardian", Some(now + LINK_TTL_SECS))?;
    let approve = link(state, "guardian", &token);
    let words = templates::guardian_request(
        notice,
        granted,
        &templates::mask_email(child),
        &approve,
        &link(state, "unsubscribe", unsubscribe),
        LINK_TTL_DAYS,
    );
    let mail = compose(
        &state.config.mail,
        &notice.controller.name,
        to,
        "guardian_request",
        words,
        &approve,
        &link(state, "v1/unsubscribe", unsubscribe),
    )
    .map_err(ApiError::internal)?;
    Ok((mail, row))
}
