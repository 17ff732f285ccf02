//! Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037), and nothing else.
//!
//! Hand-written instead of using a JOSE crate because the widget signs in WebAssembly and
//! a general JOSE library would bring every algorithm along. The tests check both
//! directions against the `jsonwebtoken` crate (backed by *ring*): what we sign, it
//! verifies; what it signs, we verify.
//!
//! Verification is deliberately narrow: `alg` must be `EdDSA` (or `Ed25519`, RFC 9864),
//! the header may hold only `alg`, `typ`, `jwk` and `kid`, `crit` is refused, duplicate
//! members are refused, and the signature is checked with `verify_strict`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::VerifyError;
use crate::jwk::Jwk;

/// Upper bound on the size of any compact JWS this crate will look at.
pub const MAX_COMPACT_LEN: usize = 32 * 1024;

/// The protected header of the tokens this project signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always `EdDSA` when we sign; `Ed25519` is also accepted on verification.
    pub alg: String,
    /// The token kind, e.g. `consent-receipt+jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// The signer's public key, for self-signed tokens (receipts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Jwk>,
    /// The signer's key id in a published key set (seals, checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Present only so that its presence can be refused with a clear error.
    #[serde(default, skip_serializing)]
    crit: Option<serde_json::Value>,
}

impl Header {
    /// A header carrying the signer's public key in `jwk`.
    pub fn with_jwk(typ: &str, key: &VerifyingKey) -> Self {
        Header::with_public_key(typ, key.as_bytes())
    }

    /// As [`with_jwk`](Self::with_jwk), from the public key's 32 bytes.
    pub fn with_public_key(typ: &str, public_key: &[u8; 32]) -> Self {
        Header {
            alg: "EdDSA".to_string(),
            typ: Some(typ.to_string()),
            jwk: Some(Jwk::from_public_bytes(public_key)),
            kid: None,
            crit: None,
        }
    }

    /// A header naming the signer's key by `kid`.
    pub fn with_kid(typ: &str, kid: &str) -> Self {
        Header {
            alg: "EdDSA".to_string(),
            typ: Some(typ.to_string()),
            jwk: None,
            kid: Some(kid.to_string()),
            crit: None,
        }
    }
}

/// Signs `payload` (already serialised JSON) under `header` and returns the compact JWS.
pub fn sign(header: &Header, payload: &[u8], key: &SigningKey) -> String {
    let input = signing_input(header, payload);
    let signature = key.sign(input.as_bytes()).to_bytes();
    with_signature(input, &signature)
}

/// The JWS signing input, `base64url(header) "." base64url(payload)`: what is signed, for
/// a signer outside this crate (the widget signs through WebCrypto). [`with_signature`]
/// then makes the compact JWS, exactly as [`sign`] does.
pub fn signing_input(header: &Header, payload: &[u8]) -> String {
    // Serialising a struct of strings into a Vec cannot fail.
    let header_json = serde_json::to_vec(header).unwrap_or_default();
    let mut out = b64::encode(&header_json);
    out.push('.');
    out.push_str(&b64::encode(payload));
    out
}

/// The protected header of a self-signed token, borrowed: serialises exactly as
/// [`Header::with_public_key`] does (tested), without building a [`Header`], whose `crit`
/// member would bring `serde_json::Value` into the widget's wasm.
#[derive(Serialize)]
struct SelfSigned<'a> {
    alg: &'static str,
    typ: &'a str,
    jwk: PublicJwk<'a>,
}

#[derive(Serialize)]
struct PublicJwk<'a> {
    kty: &'static str,
    crv: &'static str,
    x: &'a str,
}

/// [`signing_input`] under `Header::with_public_key(typ, public_key)`, byte for byte.
pub fn signing_input_with_jwk(typ: &str, public_key: &[u8; 32], payload: &[u8]) -> String {
    let x = b64::encode(public_key);
    let header = SelfSigned { alg: "EdDSA", typ, jwk: PublicJwk { kty: "OKP", crv: "Ed25519", x: &x } };
    // Serialising a struct of strings into a Vec cannot fail.
    let header_json = serde_json::to_vec(&header).unwrap_or_default();
    let mut out = b64::encode(&header_json);
    out.push('.');
    out.push_str(&b64::encode(payload));
    out
}

/// The compact JWS from its signing input and the Ed25519 signature of that input.
pub fn with_signature(mut input: String, signature: &[u8; 64]) -> String {
    input.push('.');
    input.push_str(&b64::encode(signature));
    input
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    /// The decoded protected header.
    pub header: Header,
    /// The decoded payload bytes, exactly as signed.
    pub payload: Vec<u8>,
    signing_input: &'a str,
    signature: Signature,
}

/// Splits a compact JWS and checks rule 1: structure, algorithm, header members and type.
pub fn parse<'a>(compact: &'a str, expected_typ: &str) -> Result<Parsed<'a>, VerifyError> {
    if compact.len() > MAX_COMPACT_LEN {
        return Err(VerifyError::MalformedJws("longer than 32 KiB".into()));
    }
    let mut parts = compact.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(VerifyError::MalformedJws("expected three dot-separated segments".into()));
    };
    let header_bytes = b64::decode(h).map_err(|e| VerifyError::MalformedJws(alloc::format!("header: {e}")))?;
    // The algorithm is judged before the signature's length, so that an HS256 or `none`
    // token is reported as what it is.
    let header = parse_header(&header_bytes)?;
    if header.alg != "EdDSA" && header.alg != "Ed25519" {
        return Err(VerifyError::UnsupportedAlg(truncate(&header.alg)));
    }
    if header.crit.is_some() {
        return Err(VerifyError::UnsupportedHeader("crit is not supported".into()));
    }
    if header.typ.as_deref() != Some(expected_typ) {
        return Err(VerifyError::UnsupportedHeader(alloc::format!("typ must be {expected_typ}")));
    }
    let payload = b64::decode(p).map_err(|e| VerifyError::MalformedJws(alloc::format!("payload: {e}")))?;
    let sig_bytes: [u8; 64] = b64::decode(s)
        .map_err(|e| VerifyError::MalformedJws(alloc::format!("signature: {e}")))?
        .try_into()
        .map_err(|_| VerifyError::MalformedJws("the signature must be 64 bytes".into()))?;
    let signing_input = &compact[..h.len() + 1 + p.len()];
    Ok(Parsed { header, payload, signing_input, signature: Signature::from_bytes(&sig_bytes) })
}

fn parse_header(bytes: &[u8]) -> Result<Header, VerifyError> {
    match serde_json::from_slice::<Header>(bytes) {
        Ok(h) => Ok(h),
        Err(e) => {
            // Tell "a member we do not accept" apart from "not JSON at all", so that a
            // third party building receipts sees which of its header members is the problem.
            if let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes) {
                if let Some(k) = map.keys().find(|k| !["alg", "typ", "jwk", "kid", "crit"].contains(&k.as_str())) {
                    return Err(VerifyError::UnsupportedHeader(alloc::format!(
                        "header member {} is not supported",
                        truncate(k)
                    )));
                }
                if let Some(jwk) = map.get("jwk") {
                    if serde_json::from_value::<Jwk>(jwk.clone()).is_err() {
                        return Err(VerifyError::BadKey(
                            "jwk must hold exactly kty, crv and x (and optionally kid, alg, use)".into(),
                        ));
                    }
                }
            }
            Err(VerifyError::MalformedJws(alloc::format!("header: {e}")))
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

impl Parsed<'_> {
    /// Rule 2: checks the signature with `verify_strict` under `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), VerifyError> {
        key.verify_strict(self.signing_input.as_bytes(), &self.signature).map_err(|_| VerifyError::BadSignature)
    }

    /// Rule 1 then 2 for self-signed tokens: the key is the header's `jwk`.
    pub fn verify_embedded(&self) -> Result<VerifyingKey, VerifyError> {
        let jwk = self.header.jwk.as_ref().ok_or_else(|| VerifyError::BadKey("the header has no jwk".into()))?;
        let key = jwk.verifying_key()?;
        self.verify(&key)?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[42; 32])
    }

    #[test]
    fn a_signed_token_verifies() {
        let k = key();
        let jws = sign(&Header::with_jwk("t+jwt", &k.verifying_key()), b"{\"a\":1}", &k);
        let parsed = parse(&jws, "t+jwt").unwrap();
        assert_eq!(parsed.payload, b"{\"a\":1}");
        assert_eq!(parsed.verify_embedded().unwrap(), k.verifying_key());
    }

    #[test]
    fn rfc_8037_appendix_a4_signature_verifies() {
        // RFC 8037 A.4: the JWS of "Example of Ed25519 signing" under the A.1 key.
        let jws = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
        let x: [u8; 32] = b64::decode_array("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        let key = VerifyingKey::from_bytes(&x).unwrap();
        // The RFC header has no typ; parse the pieces directly.
        let header = parse_header(&b64::decode("eyJhbGciOiJFZERTQSJ9").unwrap()).unwrap();
        assert_eq!(header.alg, "EdDSA");
        let (input, sig) = jws.rsplit_once('.').unwrap();
        let sig = Signature::from_bytes(&b64::decode_array(sig).unwrap());
        key.verify_strict(input.as_bytes(), &sig).unwrap();
        // And our signer produces the same deterministic signature from the A.1 seed.
        let seed: [u8; 32] = b64::decode_array("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
        let sk = SigningKey::from_bytes(&seed);
        assert_eq!(sk.verifying_key(), key);
        assert_eq!(b64::encode(&sk.sign(input.as_bytes()).to_bytes()), jws.rsplit('.').next().unwrap());
    }

    #[test]
    fn the_borrowed_self_signed_header_is_the_header_byte_for_byte() {
        for (typ, seed) in [("consent-receipt+jwt", 1u8), ("consent-withdrawal+jwt", 2), ("t+jwt", 255)] {
            let public = *SigningKey::from_bytes(&[seed; 32]).verifying_key().as_bytes();
            let payload = br#"{"a":"\u00e9\"x"}"#;
            assert_eq!(
                signing_input_with_jwk(typ, &public, payload),
                signing_input(&Header::with_public_key(typ, &public), payload)
            );
        }
    }

    #[test]
    fn duplicate_header_members_are_refused() {
        let h = b64::encode(br#"{"alg":"none","alg":"EdDSA","typ":"t+jwt"}"#);
        let jws = alloc::format!("{h}.e30.{}", b64::encode(&[0; 64]));
        assert!(matches!(parse(&jws, "t+jwt"), Err(VerifyError::MalformedJws(_))));
    }

    #[test]
    fn crit_is_refused() {
        let h = b64::encode(br#"{"alg":"EdDSA","typ":"t+jwt","crit":["b64"]}"#);
        let jws = alloc::format!("{h}.e30.{}", b64::encode(&[0; 64]));
        assert!(matches!(parse(&jws, "t+jwt"), Err(VerifyError::UnsupportedHeader(_))));
    }

    #[test]
    fn unknown_header_members_are_refused() {
        let h = b64::encode(br#"{"alg":"EdDSA","typ":"t+jwt","x5u":"https://evil.example"}"#);
        let jws = alloc::format!("{h}.e30.{}", b64::encode(&[0; 64]));
        assert!(matches!(parse(&jws, "t+jwt"), Err(VerifyError::UnsupportedHeader(_))));
    }

    #[test]
    fn the_rfc_9864_algorithm_name_is_accepted() {
        let k = key();
        let mut header = Header::with_jwk("t+jwt", &k.verifying_key());
        header.alg = "Ed25519".into();
        let jws = sign(&header, b"{}", &k);
        parse(&jws, "t+jwt").unwrap().verify_embedded().unwrap();
    }
}
