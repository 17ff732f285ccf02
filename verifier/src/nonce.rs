//! Stateless nonces: the verifier's challenge, issued with a notice, bound to that
//! notice version and to the page's origin.
//!
//! `nonce = base64url(payload || tag)` where `payload = 1 || issued_at (u64 BE) ||
//! expires_at (u64 BE) || 8 random bytes` and `tag = HMAC-SHA256(secret, domain ||
//! payload || digest || 0 || origin)`. Nothing is stored: any replica holding the secret
//! checks any nonce, and no sticky sessions are needed.

use consent_receipt::{VerifyError, b64};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::{NonceSecret, random};

const VERSION: u8 = 1;
const PAYLOAD_LEN: usize = 1 + 8 + 8 + 8;
const TAG_LEN: usize = 32;
const DOMAIN: &[u8] = b"consent-widget nonce v1\0";

/// Issues and checks nonces.
#[derive(Debug, Clone)]
pub struct Nonces {
    secret: NonceSecret,
    ttl_secs: i64,
}

impl Nonces {
    /// Nonces under `secret`, valid for `ttl_secs`.
    pub fn new(secret: NonceSecret, ttl_secs: i64) -> Nonces {
        Nonces { secret, ttl_secs }
    }

    fn tag(&self, payload: &[u8], digest: &str, origin: &str) -> Hmac<Sha256> {
        // A 32-byte key is always a valid HMAC key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(DOMAIN);
        mac.update(payload);
        mac.update(digest.as_bytes());
        mac.update(&[0]);
        mac.update(origin.as_bytes());
        mac
    }

    /// A key for another purpose, derived from the nonce secret (so replicas sharing the
    /// keys directory agree on it without one more file).
    pub fn derive_key(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(b"consent-widget derived key\0");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    /// A fresh nonce for `digest` (one notice version and language) shown on `origin`.
    pub fn issue(&self, digest: &str, origin: &str, now: i64) -> Result<String, getrandom::Error> {
        let mut payload = [0u8; PAYLOAD_LEN];
        payload[0] = VERSION;
        payload[1..9].copy_from_slice(&(now as u64).to_be_bytes());
        payload[9..17].copy_from_slice(&(now.saturating_add(self.ttl_secs) as u64).to_be_bytes());
        payload[17..].copy_from_slice(&random::<8>()?);
        let tag = self.tag(&payload, digest, origin).finalize().into_bytes();
        let mut out = payload.to_vec();
        out.extend_from_slice(&tag);
        Ok(b64::encode(&out))
    }

    /// Rule 4: the nonce is ours, for this digest and origin, and unexpired. Returns the
    /// time it was issued (rule 6 checks `iat` against it).
    pub fn check(&self, nonce: &str, digest: &str, origin: &str, now: i64) -> Result<i64, VerifyError> {
        let bytes = b64::decode(nonce).map_err(|_| VerifyError::BadNonce("not base64url".into()))?;
        if bytes.len() != PAYLOAD_LEN + TAG_LEN || bytes[0] != VERSION {
            return Err(VerifyError::BadNonce("not a nonce issued by this verifier".into()));
        }
        let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
        // verify_slice compares in constant time.
        self.tag(payload, digest, origin).verify_slice(tag).map_err(|_| {
            VerifyError::BadNonce("not issued by this verifier for this notice version and origin".into())
        })?;
        let read = |r: std::ops::Range<usize>| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&payload[r]);
            u64::from_be_bytes(b) as i64
        };
        let (issued, expires) = (read(1..9), read(9..17));
        if now > expires {
            return Err(VerifyError::ExpiredNonce);
        }
        Ok(issued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonces() -> Nonces {
        Nonces::new(NonceSecret::from_bytes([1; 32]), 7200)
    }

    #[test]
    fn a_nonce_checks_for_its_notice_and_origin() {
        let n = nonces();
        let nonce = n.issue("digest", "https://shop.example", 1000).unwrap();
        assert_eq!(n.check(&nonce, "digest", "https://shop.example", 1001), Ok(1000));
    }

    #[test]
    fn a_nonce_for_another_notice_or_origin_is_refused() {
        let n = nonces();
        let nonce = n.issue("digest", "https://shop.example", 1000).unwrap();
        assert!(matches!(n.check(&nonce, "other", "https://shop.example", 1001), Err(VerifyError::BadNonce(_))));
        assert!(matches!(n.check(&nonce, "digest", "https://evil.example", 1001), Err(VerifyError::BadNonce(_))));
    }

    #[test]
    fn a_nonce_expires() {
        let n = nonces();
        let nonce = n.issue("d", "o", 1000).unwrap();
        assert_eq!(n.check(&nonce, "d", "o", 1000 + 7201), Err(VerifyError::ExpiredNonce));
    }

    #[test]
    fn a_nonce_under_another_secret_is_refused() {
        let nonce = Nonces::new(NonceSecret::from_bytes([2; 32]), 7200).issue("d", "o", 1000).unwrap();
        assert!(matches!(nonces().check(&nonce, "d", "o", 1001), Err(VerifyError::BadNonce(_))));
    }

    #[test]
    fn an_extended_expiry_breaks_the_tag() {
        let n = nonces();
        let mut bytes = b64::decode(&n.issue("d", "o", 1000).unwrap()).unwrap();
        bytes[16] ^= 0xff;
        assert!(matches!(n.check(&b64::encode(&bytes), "d", "o", 1001), Err(VerifyError::BadNonce(_))));
    }
}
