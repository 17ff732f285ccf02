//! The signatures of a delivery and the endpoints' secrets.
//!
//! An endpoint's `whsec_` secret is derived from the verifier's nonce secret (in the keys
//! directory, shared by replicas) and a random salt stored with the endpoint: the database
//! holds no webhook secret, so a copy of it signs nothing. The secret is shown once, at
//! registration; a lost one is replaced by registering the endpoint again.

use consent_receipt::{SigningKey, b64};
use ed25519_dalek::Signer;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::nonce::Nonces;

/// The prefix of a symmetric secret (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";
/// The prefix of a public key (Standard Webhooks).
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";

/// The HMAC key of an endpoint, from its id and salt.
pub fn endpoint_key(nonces: &Nonces, endpoint_id: &str, salt: &str) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(nonces.derive_key(format!("webhook-secret/v1/{endpoint_id}/{salt}").as_bytes()))
}

/// The key as receivers are given it: `whsec_` and its standard base64.
pub fn secret_text(key: &[u8; 32]) -> Zeroizing<String> {
    Zeroizing::new(format!("{SECRET_PREFIX}{}", b64::encode_std(key)))
}

/// The public key of `v1a` signatures: `whpk_` and its standard base64.
pub fn public_key_text(key: &SigningKey) -> String {
    format!("{PUBLIC_KEY_PREFIX}{}", b64::encode_std(key.verifying_key().as_bytes()))
}

/// The `webhook-signature` header: `v1,<HMAC-SHA256>` then `v1a,<Ed25519>`, each over
/// `<id>.<timestamp>.<body>`, in standard base64, separated by a space.
pub fn signature(key: &[u8], seal_key: &SigningKey, id: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{id}.{timestamp}.{body}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(signed.as_bytes());
    let v1 = b64::encode_std(&mac.finalize().into_bytes());
    let v1a = b64::encode_std(&seal_key.sign(signed.as_bytes()).to_bytes());
    format!("v1,{v1} v1a,{v1a}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v1_signature_is_the_specifications_example() {
        // The example of the Standard Webhooks specification, computed with Python's hmac.
        let key = b64::decode_std("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let seal = SigningKey::from_bytes(&[7; 32]);
        let header = signature(&key, &seal, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}");
        let (v1, v1a) = header.split_once(' ').unwrap();
        assert_eq!(v1, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let sig = b64::decode_std(v1a.strip_prefix("v1a,").unwrap()).unwrap();
        let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
        let signed = b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}";
        seal.verifying_key().verify_strict(signed, &sig).unwrap();
    }
}
