//! The verifier's countersignature on an accepted receipt.
//!
//! A seal is a compact JWS signed with the verifier's own Ed25519 key, named by `kid` in
//! its published key set (`/.well-known/jwks.json`). Its payload binds the receipt's
//! SHA-256 to the lead id, the status at acceptance and the time.

use alloc::string::{String, ToString};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::error::VerifyError;
use crate::jwk::{Jwks, thumbprint};
use crate::jws::{self, Header};
use crate::receipt::sha256_b64;

/// `typ` of a seal's protected header.
pub const SEAL_TYP: &str = "consent-seal+jwt";

/// The seal payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealClaims {
    /// base64url SHA-256 of the receipt's compact serialisation.
    pub receipt_sha256: String,
    /// The receipt's `jti`.
    pub jti: String,
    /// The lead the verifier created.
    pub lead_id: String,
    /// Status at acceptance (`pending_confirmation`, `awaiting_guardian`, `active`).
    pub status: String,
    /// Acceptance time.
    pub iat: i64,
}

impl SealClaims {
    /// Signs the seal with the verifier's key; `kid` is the key's RFC 7638 thumbprint.
    pub fn sign(&self, key: &SigningKey) -> String {
        let kid = thumbprint(&key.verifying_key());
        let payload = serde_json::to_vec(self).unwrap_or_default();
        jws::sign(&Header::with_kid(SEAL_TYP, &kid), &payload, key)
    }
}

/// A seal whose signature verified under a key of the given set.
#[derive(Debug, Clone)]
pub struct VerifiedSeal {
    /// The payload.
    pub claims: SealClaims,
    /// The signing key's id.
    pub kid: String,
}

/// Verifies a seal against a key set: structure, `kid` in the set, strict signature, schema.
pub fn verify_seal(seal: &str, jwks: &Jwks) -> Result<VerifiedSeal, VerifyError> {
    let parsed = jws::parse(seal, SEAL_TYP)?;
    if parsed.header.jwk.is_some() {
        return Err(VerifyError::UnsupportedHeader("a seal names its key by kid, not jwk".into()));
    }
    let kid = parsed.header.kid.clone().ok_or_else(|| VerifyError::UnsupportedHeader("a seal needs a kid".into()))?;
    let key = jwks.find(&kid)?;
    parsed.verify(&key)?;
    let claims: SealClaims =
        serde_json::from_slice(&parsed.payload).map_err(|e| VerifyError::BadPayload(alloc::format!("seal: {e}")))?;
    Ok(VerifiedSeal { claims, kid })
}

/// Verifies a seal and checks that it seals this exact receipt.
pub fn verify_seal_of(seal: &str, receipt: &str, jwks: &Jwks) -> Result<VerifiedSeal, VerifyError> {
    let verified = verify_seal(seal, jwks)?;
    if verified.claims.receipt_sha256 != sha256_b64(receipt) {
        return Err(VerifyError::BadProof("the seal is for another receipt".to_string()));
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwk::Jwk;

    fn setup() -> (SigningKey, Jwks, String) {
        let k = SigningKey::from_bytes(&[5; 32]);
        let jwks = Jwks { keys: alloc::vec![Jwk::published(&k.verifying_key())] };
        let seal = SealClaims {
            receipt_sha256: sha256_b64("r.e.c"),
            jti: "j".into(),
            lead_id: "l".into(),
            status: "active".into(),
            iat: 1,
        }
        .sign(&k);
        (k, jwks, seal)
    }

    #[test]
    fn a_seal_verifies_against_the_published_key_set() {
        let (_, jwks, seal) = setup();
        assert_eq!(verify_seal_of(&seal, "r.e.c", &jwks).unwrap().claims.lead_id, "l");
    }

    #[test]
    fn a_seal_of_another_receipt_is_refused() {
        let (_, jwks, seal) = setup();
        assert!(matches!(verify_seal_of(&seal, "other", &jwks), Err(VerifyError::BadProof(_))));
    }

    #[test]
    fn a_seal_from_an_unknown_key_is_refused() {
        let (_, _, seal) = setup();
        let other = Jwks { keys: alloc::vec![Jwk::published(&SigningKey::from_bytes(&[6; 32]).verifying_key())] };
        assert!(matches!(verify_seal(&seal, &other), Err(VerifyError::UnknownKey(_))));
    }
}
