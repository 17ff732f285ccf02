//! Ed25519 public keys as JSON Web Keys (RFC 8037) and key sets (RFC 7517).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::b64;
use crate::error::VerifyError;

/// An OKP / Ed25519 public JWK.
///
/// Unknown members are refused: in particular a `d` member (a private key) is never
/// accepted, so a signer that leaks its private key into a header is told so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwk {
    /// Key type; must be `OKP`.
    pub kty: String,
    /// Curve; must be `Ed25519`.
    pub crv: String,
    /// The 32-byte public key, base64url.
    pub x: String,
    /// Key id (RFC 7638 thumbprint for the keys this project issues).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended algorithm, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use, when stated.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "use")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The bare public JWK of a key, without `kid`, `alg` or `use` (as receipts carry it).
    pub fn from_key(key: &VerifyingKey) -> Self {
        Jwk::from_public_bytes(key.as_bytes())
    }

    /// As [`from_key`](Self::from_key), from the 32 bytes of the public key as they are:
    /// for a signer that holds no `VerifyingKey` (the widget, whose key lives in WebCrypto).
    pub fn from_public_bytes(x: &[u8; 32]) -> Self {
        Jwk { kty: "OKP".to_string(), crv: "Ed25519".to_string(), x: b64::encode(x), kid: None, alg: None, use_: None }
    }

    /// The JWK a verifier publishes for its signing key: with `kid`, `alg` and `use`.
    pub fn published(key: &VerifyingKey) -> Self {
        Jwk {
            kid: Some(thumbprint(key)),
            alg: Some("EdDSA".to_string()),
            use_: Some("sig".to_string()),
            ..Jwk::from_key(key)
        }
    }

    /// The Ed25519 key this JWK holds, refusing other key types, malformed points and
    /// small-order ("weak") points, for which a signature proves nothing.
    pub fn verifying_key(&self) -> Result<VerifyingKey, VerifyError> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(VerifyError::BadKey("the key must be kty OKP with crv Ed25519".into()));
        }
        let bytes: [u8; 32] =
            b64::decode_array(&self.x).ok_or_else(|| VerifyError::BadKey("x must be 32 bytes of base64url".into()))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| VerifyError::BadKey("x is not a valid Ed25519 point".into()))?;
        if key.is_weak() {
            return Err(VerifyError::BadKey("x is a small-order point".into()));
        }
        Ok(key)
    }
}

/// The RFC 7638 thumbprint of an Ed25519 key, base64url: the `kid` of the keys we publish.
pub fn thumbprint(key: &VerifyingKey) -> String {
    // Members in lexicographic order, no whitespace, as RFC 7638 §3 requires.
    let canonical = alloc::format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64::encode(key.as_bytes()));
    b64::encode(&Sha256::digest(canonical.as_bytes()))
}

/// A JWK Set, as served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The key with this `kid`, if the set holds it and it is a usable Ed25519 key.
    pub fn find(&self, kid: &str) -> Result<VerifyingKey, VerifyError> {
        let jwk = self
            .keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .ok_or_else(|| VerifyError::UnknownKey(kid.to_string()))?;
        jwk.verifying_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn thumbprint_matches_rfc_8037_appendix_a3() {
        // RFC 8037 A.1 public key and A.3 thumbprint.
        let x: [u8; 32] = b64::decode_array("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        let key = VerifyingKey::from_bytes(&x).unwrap();
        assert_eq!(thumbprint(&key), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn a_small_order_key_is_refused() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let jwk = Jwk { x: b64::encode(&identity), ..Jwk::from_key(&SigningKey::from_bytes(&[7; 32]).verifying_key()) };
        assert!(matches!(jwk.verifying_key(), Err(VerifyError::BadKey(_))));
    }

    #[test]
    fn a_private_member_is_refused() {
        let json = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#;
        assert!(serde_json::from_str::<Jwk>(json).is_err());
    }
}
