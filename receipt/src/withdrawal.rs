//! A visitor withdrawing consent from the browser that gave it: a compact JWS signed with
//! the same visitor key as the receipt it withdraws (`typ: consent-withdrawal+jwt`).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::VerifyError;
use crate::jws;

/// `typ` of a withdrawal's protected header.
pub const WITHDRAWAL_TYP: &str = "consent-withdrawal+jwt";

/// The withdrawal payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalClaims {
    /// This request's id (single-use).
    pub jti: String,
    /// Signing time.
    pub iat: i64,
    /// The verifier's base URL.
    pub aud: String,
    /// The `jti` of the receipt whose consent is withdrawn.
    pub receipt_jti: String,
    /// Purposes to withdraw; absent for all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purposes: Option<Vec<String>>,
}

impl WithdrawalClaims {
    /// Signs with the visitor's key (the one that signed the receipt).
    pub fn sign(&self, key: &SigningKey) -> String {
        let input = self.signing_input(key.verifying_key().as_bytes());
        let signature = ed25519_dalek::Signer::sign(key, input.as_bytes()).to_bytes();
        jws::with_signature(input, &signature)
    }

    /// What [`sign`](Self::sign) signs, for a signer that holds the key elsewhere; as
    /// [`Claims::signing_input`](crate::Claims::signing_input).
    pub fn signing_input(&self, public_key: &[u8; 32]) -> String {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        jws::signing_input_with_jwk(WITHDRAWAL_TYP, public_key, &payload)
    }
}

/// A withdrawal whose structure, signature and schema hold.
#[derive(Debug, Clone)]
pub struct VerifiedWithdrawal {
    /// The payload.
    pub claims: WithdrawalClaims,
    /// The key that signed it.
    pub key: VerifyingKey,
}

/// Checks structure, algorithm, strict signature and schema.
pub fn verify_withdrawal(compact: &str) -> Result<VerifiedWithdrawal, VerifyError> {
    let parsed = jws::parse(compact, WITHDRAWAL_TYP)?;
    let key = parsed.verify_embedded()?;
    let claims: WithdrawalClaims =
        serde_json::from_slice(&parsed.payload).map_err(|e| VerifyError::BadPayload(alloc::format!("{e}")))?;
    let id_ok = |s: &str| b64::decode(s).is_ok_and(|v| v.len() == 16);
    if !id_ok(&claims.jti) || !id_ok(&claims.receipt_jti) {
        return Err(VerifyError::BadPayload("jti and receipt_jti must be 16 bytes of base64url".to_string()));
    }
    if claims.purposes.as_ref().is_some_and(|p| p.is_empty() || p.len() > crate::receipt::MAX_PURPOSES) {
        return Err(VerifyError::BadPayload("purposes must list 1 to 32 purposes, or be absent for all".to_string()));
    }
    Ok(VerifiedWithdrawal { claims, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> WithdrawalClaims {
        WithdrawalClaims {
            jti: b64::encode(&[1; 16]),
            iat: 10,
            aud: "https://v.example".into(),
            receipt_jti: b64::encode(&[2; 16]),
            purposes: None,
        }
    }

    #[test]
    fn a_signed_withdrawal_verifies_with_its_key() {
        let k = SigningKey::from_bytes(&[4; 32]);
        let v = verify_withdrawal(&claims().sign(&k)).unwrap();
        assert_eq!(v.key, k.verifying_key());
        assert_eq!(v.claims, claims());
    }

    #[test]
    fn a_receipt_is_not_a_withdrawal() {
        let k = SigningKey::from_bytes(&[4; 32]);
        let as_receipt = jws::sign(&jws::Header::with_jwk(crate::RECEIPT_TYP, &k.verifying_key()), b"{}", &k);
        assert!(matches!(verify_withdrawal(&as_receipt), Err(VerifyError::UnsupportedHeader(_))));
    }
}
