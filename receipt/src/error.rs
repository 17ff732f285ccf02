//! Why a receipt, a seal or a proof does not hold: one variant per verification rule.

use alloc::string::String;

/// A failed verification rule.
///
/// Every variant has a stable [`code`](VerifyError::code) (the `code` and the last segment
/// of the `type` in the verifier's problem+json answers), the number of the rule it comes
/// from in the design's list, and a human explanation. The `String` carried by most
/// variants is a detail for the caller; it never holds a contact address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Rule 1: not three base64url segments of JSON, or a header that is not an object.
    #[error("malformed JWS: {0}")]
    MalformedJws(String),
    /// Rule 1: `alg` is not `EdDSA` (or `Ed25519`).
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlg(String),
    /// Rule 1: a header member we do not accept (`crit`, an unknown member, a wrong `typ`).
    #[error("unsupported header: {0}")]
    UnsupportedHeader(String),
    /// Rule 1: the `jwk` is not an Ed25519 public key, or is a small-order point.
    #[error("bad key: {0}")]
    BadKey(String),
    /// Rule 2: the signature does not verify under `verify_strict`.
    #[error("the signature does not verify")]
    BadSignature,
    /// Rule 3: the payload does not match the receipt schema.
    #[error("bad payload: {0}")]
    BadPayload(String),
    /// Rule 3: an e-mail address or phone number is not well-formed.
    #[error("bad contact: {0}")]
    BadContact(String),
    /// Rule 4: the nonce was not issued by this verifier for this notice and origin.
    #[error("bad nonce: {0}")]
    BadNonce(String),
    /// Rule 4: the nonce has expired.
    #[error("the nonce has expired")]
    ExpiredNonce,
    /// Rule 5: `aud` is not this verifier.
    #[error("wrong audience: {0}")]
    WrongAudience(String),
    /// Rule 5: `iss` is not an origin the notice allows, or differs from the request's origin.
    #[error("origin not allowed: {0}")]
    OriginNotAllowed(String),
    /// Rule 6: `iat` is too far from the verifier's clock or earlier than the nonce.
    #[error("clock skew: {0}")]
    ClockSkew(String),
    /// Rule 7: the notice or the notice version (digest) is not published here.
    #[error("unknown notice: {0}")]
    UnknownNotice(String),
    /// Rule 8: the decisions do not list exactly the notice's purposes.
    #[error("decisions do not match the notice: {0}")]
    DecisionsMismatch(String),
    /// Rule 8: the evidence says a box did not start unticked.
    #[error("a box started ticked: pre-ticked consent is not consent")]
    Preticked,
    /// Rule 8: a purpose was granted without a trusted user gesture.
    #[error("a grant did not come from a trusted user gesture")]
    UntrustedGesture,
    /// Rule 9: a minor's receipt without a guardian contact (or with the child's own).
    #[error("guardian required: {0}")]
    GuardianRequired(String),
    /// Rule 9: the age threshold or jurisdiction differs from the notice's.
    #[error("age rule mismatch: {0}")]
    AgeMismatch(String),
    /// Rule 10: this receipt (`jti`) was already submitted.
    #[error("this receipt was already submitted")]
    Replay,
    /// Seals and proofs: the `kid` is not in the key set.
    #[error("unknown key: {0}")]
    UnknownKey(String),
    /// Proofs: the parts of a proof bundle do not agree with each other.
    #[error("inconsistent proof: {0}")]
    BadProof(String),
}

impl VerifyError {
    /// Every code, in rule order. Documentation pages and tests iterate over this.
    pub const CODES: &'static [&'static str] = &[
        "malformed-jws",
        "unsupported-alg",
        "unsupported-header",
        "bad-key",
        "bad-signature",
        "bad-payload",
        "bad-contact",
        "bad-nonce",
        "expired-nonce",
        "wrong-audience",
        "origin-not-allowed",
        "clock-skew",
        "unknown-notice",
        "decisions-mismatch",
        "preticked",
        "untrusted-gesture",
        "guardian-required",
        "age-mismatch",
        "replay",
        "unknown-key",
        "bad-proof",
    ];

    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MalformedJws(_) => "malformed-jws",
            VerifyError::UnsupportedAlg(_) => "unsupported-alg",
            VerifyError::UnsupportedHeader(_) => "unsupported-header",
            VerifyError::BadKey(_) => "bad-key",
            VerifyError::BadSignature => "bad-signature",
            VerifyError::BadPayload(_) => "bad-payload",
            VerifyError::BadContact(_) => "bad-contact",
            VerifyError::BadNonce(_) => "bad-nonce",
            VerifyError::ExpiredNonce => "expired-nonce",
            VerifyError::WrongAudience(_) => "wrong-audience",
            VerifyError::OriginNotAllowed(_) => "origin-not-allowed",
            VerifyError::ClockSkew(_) => "clock-skew",
            VerifyError::UnknownNotice(_) => "unknown-notice",
            VerifyError::DecisionsMismatch(_) => "decisions-mismatch",
            VerifyError::Preticked => "preticked",
            VerifyError::UntrustedGesture => "untrusted-gesture",
            VerifyError::GuardianRequired(_) => "guardian-required",
            VerifyError::AgeMismatch(_) => "age-mismatch",
            VerifyError::Replay => "replay",
            VerifyError::UnknownKey(_) => "unknown-key",
            VerifyError::BadProof(_) => "bad-proof",
        }
    }

    /// The HTTP status the verifier answers with.
    pub fn status(&self) -> u16 {
        status_of(self.code()).unwrap_or(400)
    }
}

/// HTTP status for a code: 400 for structure, 401 for authenticity and freshness, 403 for
/// the wrong party, 409 for a replay, 422 for a well-formed receipt whose consent does not
/// hold.
pub fn status_of(code: &str) -> Option<u16> {
    Some(match code {
        "malformed-jws" | "unsupported-alg" | "unsupported-header" | "bad-key" => 400,
        "bad-signature" | "bad-nonce" | "expired-nonce" | "clock-skew" | "unknown-key" => 401,
        "wrong-audience" | "origin-not-allowed" => 403,
        "replay" => 409,
        "bad-payload" | "bad-contact" | "unknown-notice" | "decisions-mismatch" | "preticked" | "untrusted-gesture"
        | "guardian-required" | "age-mismatch" | "bad-proof" => 422,
        _ => return None,
    })
}

/// The rule number (as listed in the design) and a title and explanation for a code.
pub fn explain(code: &str) -> Option<(u8, &'static str, &'static str)> {
    Some(match code {
        "malformed-jws" => (
            1,
            "Malformed receipt",
            "The receipt must be a compact JWS: three base64url segments (header, payload, signature) separated by dots, without padding, whose header and payload are JSON objects.",
        ),
        "unsupported-alg" => (
            1,
            "Unsupported algorithm",
            "Only EdDSA with Ed25519 is accepted (`alg` `EdDSA`, or its RFC 9864 name `Ed25519`). `none`, HMAC and every other algorithm are refused so that no one can choose a weaker check.",
        ),
        "unsupported-header" => (
            1,
            "Unsupported header",
            "The protected header may hold only `alg`, `typ` and `jwk` (`kid` for seals). `crit` is refused, and `typ` must name the kind of token (`consent-receipt+jwt`).",
        ),
        "bad-key" => (
            1,
            "Bad key",
            "The `jwk` in the header must be an OKP public key on Ed25519 whose `x` is a valid point of large order. Private members (`d`) are refused.",
        ),
        "bad-signature" => (
            2,
            "Bad signature",
            "The signature does not verify under the key in the header, with strict Ed25519 verification (non-canonical and small-order forms are refused). The receipt was altered or not signed by that key.",
        ),
        "bad-payload" => (
            3,
            "Payload does not match the schema",
            "The payload must be a JSON object with exactly the fields of receipt format v1, of the right types and within size limits. Unknown fields are refused: a single \"all\" flag cannot stand for per-purpose decisions.",
        ),
        "bad-contact" => (
            3,
            "Bad contact",
            "The e-mail address must be a single well-formed address, and a phone number must be in E.164 form (+ then 8 to 15 digits).",
        ),
        "bad-nonce" => (
            4,
            "Bad nonce",
            "The nonce must be one this verifier issued with the notice, for the same notice version and the same origin. Fetch the notice again to get a fresh one.",
        ),
        "expired-nonce" => (
            4,
            "Expired nonce",
            "The nonce issued with the notice has expired. Reload the page so the widget fetches the notice and a fresh nonce.",
        ),
        "wrong-audience" => (
            5,
            "Wrong audience",
            "`aud` must be this verifier's public URL: a receipt made for another verifier is not accepted here.",
        ),
        "origin-not-allowed" => (
            5,
            "Origin not allowed",
            "`iss` must be an origin that the notice allows, equal to the request's Origin header when the browser sends one, and the page in the evidence must be on that origin.",
        ),
        "clock-skew" => (
            6,
            "Clock skew",
            "`iat` must be within the allowed skew of the verifier's clock and not earlier than the moment the nonce was issued.",
        ),
        "unknown-notice" => (
            7,
            "Unknown notice",
            "The notice id, version, language and digest must name a notice version this verifier publishes.",
        ),
        "decisions-mismatch" => (
            8,
            "Decisions do not match the notice",
            "There must be exactly one decision for each purpose of the notice, no more, no fewer and no duplicates, each timed no later than the receipt: consent is given purpose by purpose.",
        ),
        "preticked" => (
            8,
            "Pre-ticked box",
            "The evidence says a box did not start unticked. A pre-ticked box is not consent (GDPR Art. 4(11), CJEU Planet49), so the whole receipt is refused.",
        ),
        "untrusted-gesture" => (
            8,
            "Grant without a user gesture",
            "A purpose was granted but not every grant came from a trusted user gesture (a real click, tap or key press). Consent needs a clear affirmative act; a box ticked by script is not one.",
        ),
        "guardian-required" => (
            9,
            "Guardian required",
            "The visitor declared being under the age of digital consent: the receipt must name a holder of parental responsibility (a guardian e-mail different from the child's contact), who will be asked to consent too.",
        ),
        "age-mismatch" => {
            (9, "Age rule mismatch", "The age threshold and jurisdiction in the receipt must be those of the notice.")
        }
        "replay" => (
            10,
            "Receipt already submitted",
            "A receipt is accepted once. Its `jti` was already recorded; the earlier submission stands.",
        ),
        "unknown-key" => {
            (0, "Unknown key", "The seal or proof names a `kid` that is not in the key set it is checked against.")
        }
        "bad-proof" => (
            0,
            "Inconsistent proof",
            "The parts of the proof of consent (receipt, seal, notice, events, checkpoint) do not agree with each other.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_status_and_an_explanation() {
        for code in VerifyError::CODES {
            assert!(status_of(code).is_some(), "{code} has no status");
            assert!(explain(code).is_some(), "{code} has no explanation");
        }
    }

    #[test]
    fn codes_are_distinct() {
        let mut codes = VerifyError::CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), VerifyError::CODES.len());
    }
}
