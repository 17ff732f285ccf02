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

/// HMAC-SHA256 of the normalised address under a key derived from the verifier's secret:
/// equal addresses give equal hashes, and the hash alone does not give the address back.
pub fn contact_hash(state: &AppState, email: &Email) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&state.nonces.derive_key(b"suppression v1"))
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(email.normalized().as_bytes());
    b64::encode(&mac.finalize().into_bytes())
}

/// A public link: `<public url>/<path>/<token>`.
pub fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}/{path}/{token}", state.config.public_url)
}
