//! Why a receipt, a seal or a proof does not hold: one variant per verification rule.
//!
//! Everything about a failure lives in one table, below: the variant, its stable code, the
//! HTTP status a verifier answers with, the rule it comes from, the message of its
//! `Display`, and a title and explanation for people. [`ErrorKind::ALL`] walks the table,
//! so the verifier's `/errors` pages, its problem+json titles and the tests that check
//! them cannot disagree.

use alloc::string::String;

/// What a client, a page or a test needs to know about one error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// The stable, machine-readable code (the last segment of the problem `type`).
    pub code: &'static str,
    /// The HTTP status a verifier answers with.
    pub status: u16,
    /// The verification rule (1 to 10 of the design) it comes from, if it comes from one.
    pub rule: Option<u8>,
    /// A short title.
    pub title: &'static str,
    /// What it means and what to do about it, for a person.
    pub text: &'static str,
}

/// Declares [`VerifyError`] and [`ErrorKind`] from one table.
///
/// Each row: doc comment, variant (with its detail field, if any), then `code`, `status`,
/// `rule` (0 for none), the `Display` message, the title and the explanation.
macro_rules! error_table {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $(($field:ty))? = $code:literal, $status:literal, $rule:literal,
            $message:literal, $title:literal, $text:literal;
    )*) => {
        /// A failed verification rule.
        ///
        /// Every variant has a stable [`code`](VerifyError::code) (the `code` and the last
        /// segment of the `type` in the verifier's problem+json answers), the number of the
        /// rule it comes from, and a human explanation ([`ErrorKind::info`]). The `String`
        /// carried by most variants is a detail for the caller; it never holds a contact
        /// address.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum VerifyError {
            $($(#[doc = $doc])* #[error($message)] $variant $(($field))?,)*
        }

        /// The kind of a [`VerifyError`], without its detail: one per row of the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorKind {
            /// Every kind, in rule order. Documentation pages and tests walk this.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant,)*];

            /// Code, status, rule, title and explanation.
            pub const fn info(self) -> &'static ErrorInfo {
                match self {
                    $(ErrorKind::$variant => {
                        const INFO: ErrorInfo = ErrorInfo {
                            code: $code,
                            status: $status,
                            rule: if $rule == 0 { None } else { Some($rule) },
                            title: $title,
                            text: $text,
                        };
                        &INFO
                    })*
                }
            }
        }

        impl VerifyError {
            /// Which row of the table this error is.
            pub const fn kind(&self) -> ErrorKind {
                match self {
                    $(VerifyError::$variant { .. } => ErrorKind::$variant,)*
                }
            }
        }
    };
}

error_table! {
    /// Rule 1: not three base64url segments of JSON, or a header that is not an object.
    MalformedJws(String) = "malformed-jws", 400, 1, "malformed JWS: {0}", "Malformed receipt",
        "The receipt must be a compact JWS: three base64url segments (header, payload, signature) separated by dots, without padding, whose header and payload are JSON objects.";
    /// Rule 1: `alg` is not `EdDSA` (or `Ed25519`).
    UnsupportedAlg(String) = "unsupported-alg", 400, 1, "unsupported algorithm: {0}", "Unsupported algorithm",
        "Only EdDSA with Ed25519 is accepted (`alg` `EdDSA`, or its RFC 9864 name `Ed25519`). `none`, HMAC and every other algorithm are refused so that no one can choose a weaker check.";
    /// Rule 1: a header member we do not accept (`crit`, an unknown member, a wrong `typ`).
    UnsupportedHeader(String) = "unsupported-header", 400, 1, "unsupported header: {0}", "Unsupported header",
        "The protected header may hold only `alg`, `typ` and `jwk` (`kid` for seals). `crit` is refused, and `typ` must name the kind of token (`consent-receipt+jwt`).";
    /// Rule 1: the `jwk` is not an Ed25519 public key, or is a small-order point.
    BadKey(String) = "bad-key", 400, 1, "bad key: {0}", "Bad key",
        "The `jwk` in the header must be an OKP public key on Ed25519 whose `x` is a valid point of large order. Private members (`d`) are refused.";
    /// Rule 2: the signature does not verify under `verify_strict`.
    BadSignature = "bad-signature", 401, 2, "the signature does not verify", "Bad signature",
        "The signature does not verify under the key in the header, with strict Ed25519 verification (non-canonical and small-order forms are refused). The receipt was altered or not signed by that key.";
    /// Rule 3: the payload does not match the receipt schema.
    BadPayload(String) = "bad-payload", 422, 3, "bad payload: {0}", "Payload does not match the schema",
        "The payload must be a JSON object with exactly the fields of receipt format v1, of the right types and within size limits. Unknown fields are refused: a single \"all\" flag cannot stand for per-purpose decisions.";
    /// Rule 3: an e-mail address or phone number is not well-formed.
    BadContact(String) = "bad-contact", 422, 3, "bad contact: {0}", "Bad contact",
        "The e-mail address must be a single well-formed address, and a phone number must be in E.164 form (+ then 8 to 15 digits).";
    /// Rule 4: the nonce was not issued by this verifier for this notice and origin.
    BadNonce(String) = "bad-nonce", 401, 4, "bad nonce: {0}", "Bad nonce",
        "The nonce must be one this verifier issued with the notice, for the same notice version and the same origin. Fetch the notice again to get a fresh one.";
    /// Rule 4: the nonce has expired.
    ExpiredNonce = "expired-nonce", 401, 4, "the nonce has expired", "Expired nonce",
        "The nonce issued with the notice has expired. Reload the page so the widget fetches the notice and a fresh nonce.";
    /// Rule 5: `aud` is not this verifier.
    WrongAudience(String) = "wrong-audience", 403, 5, "wrong audience: {0}", "Wrong audience",
        "`aud` must be this verifier's public URL: a receipt made for another verifier is not accepted here.";
    /// Rule 5: `iss` is not an origin the notice allows, or differs from the request's origin.
    OriginNotAllowed(String) = "origin-not-allowed", 403, 5, "origin not allowed: {0}", "Origin not allowed",
        "`iss` must be an origin that the notice allows, equal to the request's Origin header when the browser sends one, and the page in the evidence must be on that origin.";
    /// Rule 6: `iat` is too far from the verifier's clock or earlier than the nonce.
    ClockSkew(String) = "clock-skew", 401, 6, "clock skew: {0}", "Clock skew",
        "`iat` must be within the allowed skew of the verifier's clock and not earlier than the moment the nonce was issued.";
    /// Rule 7: the notice or the notice version (digest) is not published here.
    UnknownNotice(String) = "unknown-notice", 422, 7, "unknown notice: {0}", "Unknown notice",
        "The notice id, version, language and digest must name a notice version this verifier publishes. (Asking for a notice id that does not exist at all answers 404 with this code.)";
    /// Rule 8: the decisions do not list exactly the notice's purposes.
    DecisionsMismatch(String) = "decisions-mismatch", 422, 8, "decisions do not match the notice: {0}",
        "Decisions do not match the notice",
        "There must be exactly one decision for each purpose of the notice, no more, no fewer and no duplicates, each timed no later than the receipt: consent is given purpose by purpose.";
    /// Rule 8: the evidence says a box did not start unticked.
    Preticked = "preticked", 422, 8, "a box started ticked: pre-ticked consent is not consent", "Pre-ticked box",
        "The evidence says a box did not start unticked. A pre-ticked box is not consent (GDPR Art. 4(11), CJEU Planet49), so the whole receipt is refused.";
    /// Rule 8: a purpose was granted without a trusted user gesture.
    UntrustedGesture = "untrusted-gesture", 422, 8, "a grant did not come from a trusted user gesture",
        "Grant without a user gesture",
        "A purpose was granted but not every grant came from a trusted user gesture (a real click, tap or key press). Consent needs a clear affirmative act; a box ticked by script is not one.";
    /// Rule 8: a purpose is granted on a channel for which the contact has no address.
    MissingAddress(String) = "missing-address", 422, 8, "missing address: {0}", "No address for the channel",
        "Each purpose has one channel, and a grant needs an address for it in `contact`: an e-mail address for an e-mail purpose, a mobile phone number (E.164) for an SMS purpose. A consent to be written to at an address nobody gave cannot be acted on, so the receipt is refused.";
    /// Rule 8: a purpose on an objection basis without the objection box.
    ObjectionNotOffered(String) = "objection-not-offered", 422, 8, "objection not offered: {0}",
        "Objection not offered",
        "On a purpose whose legal basis is soft opt-in, B2B or non-commercial prospection, the person is not asked to consent but must be offered, at collection, a free and simple way to object: an unticked \"I do not want to receive …\" box. The decision must say that it was offered (`objection_offered: true`) and how it was left (`objected`). A purpose on consent has a consent box and carries neither.";
    /// Rule 8: a soft opt-in decision without the sale's order reference.
    OrderRequired(String) = "order-required", 422, 8, "order reference required: {0}", "Soft opt-in needs a sale",
        "Soft opt-in (L34-5 CPCE) covers only a customer whose address was collected during a sale: a decision on a soft opt-in purpose that was not objected must carry the sale's `order_ref` (the widget reads `data-order-ref`, or the form field the notice names in `order_field`). Creating an account is not a sale (CNIL): a sign-up without an order needs consent.";
    /// Rule 8: soft opt-in on a purpose with a recipient other than the controller.
    SoftOptInPartner(String) = "soft-opt-in-partner", 422, 8, "soft opt-in for another recipient: {0}",
        "Soft opt-in only for the controller",
        "Soft opt-in covers only the controller's own analogous products, sent by the controller itself. A purpose that passes the data to a partner, or names any recipient besides the controller, needs the person's consent.";
    /// Rule 8: a B2B decision without the person's job function, or a B2B purpose without topics.
    JobFunctionRequired(String) = "job-function-required", 422, 8, "job function required: {0}",
        "B2B needs the job function",
        "B2B prospection without consent must relate to the person's job: a decision on a b2b purpose that was not objected must carry the person's `job_function` (from the form field the notice names in `job_field`), and the notice must declare the `topics` its messages are about.";
    /// Rule 9: a minor's receipt without a guardian contact (or with the child's own).
    GuardianRequired(String) = "guardian-required", 422, 9, "guardian required: {0}", "Guardian required",
        "The visitor declared being under the age of digital consent: the receipt must name a holder of parental responsibility (a guardian e-mail different from the child's contact), who will be asked to consent too.";
    /// Rule 9: the age threshold or jurisdiction differs from the notice's.
    AgeMismatch(String) = "age-mismatch", 422, 9, "age rule mismatch: {0}", "Age rule mismatch",
        "The age threshold and jurisdiction in the receipt must be those of the notice.";
    /// Rule 10: this receipt (`jti`) was already submitted.
    Replay = "replay", 409, 10, "this receipt was already submitted", "Receipt already submitted",
        "A receipt is accepted once. Its `jti` was already recorded; the earlier submission stands.";
    /// Seals and proofs: the `kid` is not in the key set.
    UnknownKey(String) = "unknown-key", 401, 0, "unknown key: {0}", "Unknown key",
        "The seal or proof names a `kid` that is not in the key set it is checked against.";
    /// Proofs: the parts of a proof bundle do not agree with each other.
    BadProof(String) = "bad-proof", 422, 0, "inconsistent proof: {0}", "Inconsistent proof",
        "The parts of the proof of consent (receipt, seal, notice, events, checkpoint) do not agree with each other.";
}

impl VerifyError {
    /// The stable, machine-readable code.
    pub const fn code(&self) -> &'static str {
        self.kind().info().code
    }

    /// The HTTP status the verifier answers with.
    pub const fn status(&self) -> u16 {
        self.kind().info().status
    }
}

impl ErrorKind {
    /// The kind whose code this is.
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.info().code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_every_kind_is_listed() {
        let mut codes: alloc::vec::Vec<&str> = ErrorKind::ALL.iter().map(|k| k.info().code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert_eq!(VerifyError::Replay.kind(), ErrorKind::Replay);
        assert_eq!(VerifyError::BadPayload("x".into()).code(), "bad-payload");
    }

    #[test]
    fn statuses_follow_the_family_of_the_failure() {
        // 400 structure, 401 authenticity and freshness, 403 the wrong party, 409 replay,
        // 422 a well-formed receipt whose consent does not hold.
        assert_eq!(VerifyError::MalformedJws(String::new()).status(), 400);
        assert_eq!(VerifyError::BadSignature.status(), 401);
        assert_eq!(VerifyError::OriginNotAllowed(String::new()).status(), 403);
        assert_eq!(VerifyError::Replay.status(), 409);
        assert_eq!(VerifyError::Preticked.status(), 422);
    }

    #[test]
    fn rule_numbers_run_from_one_to_ten_and_titles_are_set() {
        for kind in ErrorKind::ALL {
            let info = kind.info();
            assert!(info.rule.is_none_or(|r| (1..=10).contains(&r)), "{}", info.code);
            assert!(!info.title.is_empty() && info.text.len() > 20, "{}", info.code);
            assert_eq!(ErrorKind::from_code(info.code), Some(*kind));
        }
    }
}
