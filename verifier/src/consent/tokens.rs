//! Tokens in links (only their hashes are stored), the links themselves, and the keyed
//! hash that recognises a contact on the suppression list without storing it in clear.

use consent_receipt::{Email, b64};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::domain::TokenPurpose;
use crate::error::ApiError;
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
pub fn new_token(purpose: TokenPurpose, expires_at: Option<i64>) -> Result<(String, NewToken), ApiError> {
    let token = b64::encode(&crate::keys::random::<32>().map_err(ApiError::internal)?);
    let hash = token_hash(&token);
    Ok((token, NewToken { hash, purpose, expires_at }))
}

/// HMAC-SHA256 of `parts` under the key the verifier's secret derives for `label`.
fn keyed_hash(state: &AppState, label: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&state.nonces.derive_key(label))
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for p in parts {
        mac.update(p);
    }
    b64::encode(&mac.finalize().into_bytes())
}

/// HMAC-SHA256 of the normalised address under a key derived from the verifier's secret:
/// equal addresses give equal hashes, and the hash alone does not give the address back.
pub fn contact_hash(state: &AppState, email: &Email) -> String {
    keyed_hash(state, b"suppression v1", &[email.normalized().as_bytes()])
}

/// The same for a phone number (E.164), under a key of its own: each channel has its own
/// suppression key, so a STOP suppresses the number and nothing else.
pub fn phone_hash(state: &AppState, e164: &str) -> String {
    keyed_hash(state, b"suppression sms v1", &[e164.as_bytes()])
}

/// What the database holds for an SMS code: a keyed hash bound to its lead, since a
/// 6-digit code alone would be found again from a plain hash in a moment.
pub fn code_hash(state: &AppState, lead_id: &str, code: &str) -> String {
    keyed_hash(state, b"sms code v1", &[lead_id.as_bytes(), b":", code.as_bytes()])
}

/// A fresh short token (128 bits: 22 characters in an SMS) and the row that stores its hash.
pub fn new_short_token(purpose: TokenPurpose, expires_at: Option<i64>) -> Result<(String, NewToken), ApiError> {
    let token = b64::encode(&crate::keys::random::<16>().map_err(ApiError::internal)?);
    let hash = token_hash(&token);
    Ok((token, NewToken { hash, purpose, expires_at }))
}

/// A fresh 6-digit code, uniformly drawn.
pub fn new_code() -> Result<String, ApiError> {
    loop {
        let n = u32::from_be_bytes(crate::keys::random::<4>().map_err(ApiError::internal)?);
        // Below the largest multiple of a million that fits: no digit is likelier.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// A public link: `<public url>/<path>/<token>`.
pub fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}/{path}/{token}", state.config.public_url)
}
