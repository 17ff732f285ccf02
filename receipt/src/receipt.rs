//! The consent receipt: claims (wire format v1), signing, and the verification rules that
//! need no server state.
//!
//! [`VerifiedReceipt::verify`] applies rules 1–3 (structure, strict signature, schema).
//! The `check_*` methods apply the parts of rules 5–9 that depend only on what the caller
//! knows (its own URL, the clock, the notice). Nonces (rule 4) and replay (rule 10) need
//! the verifier's secret and store and live in the verifier.

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::b64;
use crate::contact::{Email, PhoneE164};
use crate::error::VerifyError;
use crate::jws;
use crate::notice::{Channel, Notice};

mod bases;
mod decision;
mod schema;
pub use decision::Decision;
pub use schema::VerifyStep;
use schema::check_schema;

/// `typ` of a receipt's protected header.
pub const RECEIPT_TYP: &str = "consent-receipt+jwt";
/// Largest receipt accepted, in bytes of compact serialisation.
pub const MAX_RECEIPT_LEN: usize = 16 * 1024;
/// Most purposes a notice (and so a receipt) may have.
pub const MAX_PURPOSES: usize = 32;

/// The receipt payload, wire format v1. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Receipt id: 16 random bytes, base64url.
    pub jti: String,
    /// Signing time, seconds since the epoch.
    pub iat: i64,
    /// The verifier's base URL.
    pub aud: String,
    /// Origin of the page that showed the widget.
    pub iss: String,
    /// The challenge issued with the notice.
    pub nonce: String,
    /// Which notice text was shown.
    pub notice: NoticeRef,
    /// The contact the consent is about.
    ///
    /// Not `sub`: RFC 7519 §4.1.2 makes `sub` a string, and JWT libraries (PyJWT ≥ 2.10,
    /// `jsonwebtoken`) refuse or mis-parse an object there.
    pub contact: Contact,
    /// One decision per purpose of the notice, refusals included.
    pub decisions: Vec<Decision>,
    /// How the decisions were captured.
    pub evidence: Evidence,
    /// The visitor's declaration about the age of digital consent.
    pub age: Age,
    /// On a guardian's receipt: the child's receipt this one approves (joint consent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_for: Option<GuardianFor>,
}

/// Exactly which notice was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRef {
    /// Notice id.
    pub id: String,
    /// Notice version.
    pub version: u32,
    /// Language shown.
    pub lang: String,
    /// [`Notice::digest`] of that version and language.
    pub digest: String,
}

/// The contact: an e-mail address, an E.164 phone number, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number, E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// How the decisions were captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Every box was unticked when first rendered.
    pub initially_unchecked: bool,
    /// Every grant came from a trusted user gesture (`Event.isTrusted`).
    pub trusted_gesture: bool,
    /// URL of the page the widget was on.
    pub page: String,
}

/// The age declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Age {
    /// The visitor said they are under `threshold`.
    pub minor: bool,
    /// The notice's age of digital consent.
    pub threshold: u8,
    /// The notice's jurisdiction.
    pub jurisdiction: String,
    /// A holder of parental responsibility, required when `minor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian: Option<GuardianContact>,
}

/// How to reach a holder of parental responsibility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianContact {
    /// Guardian's e-mail address.
    pub email: String,
}

/// The child's receipt that a guardian's receipt approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianFor {
    /// The child's receipt `jti`.
    pub jti: String,
}

impl Claims {
    /// Signs these claims as a receipt with the visitor's key; the public key goes in the
    /// header's `jwk`.
    pub fn sign(&self, key: &SigningKey) -> String {
        let input = self.signing_input(key.verifying_key().as_bytes());
        let signature = ed25519_dalek::Signer::sign(key, input.as_bytes()).to_bytes();
        jws::with_signature(input, &signature)
    }

    /// What [`sign`](Self::sign) signs, for a signer that holds the key elsewhere (the
    /// widget's WebCrypto key): the receipt is then
    /// [`jws::with_signature`]`(input, &signature)`, byte for byte what `sign` makes.
    pub fn signing_input(&self, public_key: &[u8; 32]) -> String {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        jws::signing_input_with_jwk(RECEIPT_TYP, public_key, &payload)
    }
}

/// A receipt whose structure, signature and schema hold (rules 1–3).
#[derive(Debug, Clone)]
pub struct VerifiedReceipt {
    compact: String,
    claims: Claims,
    key: VerifyingKey,
    email: Option<Email>,
    phone: Option<PhoneE164>,
    guardian: Option<Email>,
}

/// base64url SHA-256 of a compact token's ASCII bytes, as seals name receipts.
pub fn sha256_b64(compact: &str) -> String {
    b64::encode(&Sha256::digest(compact.as_bytes()))
}

impl VerifiedReceipt {
    /// Rules 1–3: well-formed EdDSA JWS with an Ed25519 `jwk`, a signature that verifies
    /// under `verify_strict`, and a payload that matches the v1 schema.
    pub fn verify(compact: &str) -> Result<VerifiedReceipt, VerifyError> {
        VerifiedReceipt::verify_observed(compact, &mut |_| {})
    }

    /// As [`verify`](Self::verify), calling `step` as each step ends, in order: a server
    /// that profiles itself reads its clock there. The rules are the same.
    pub fn verify_observed(compact: &str, step: &mut dyn FnMut(VerifyStep)) -> Result<VerifiedReceipt, VerifyError> {
        if compact.len() > MAX_RECEIPT_LEN {
            return Err(VerifyError::MalformedJws("a receipt is at most 16 KiB".into()));
        }
        let parsed = jws::parse(compact, RECEIPT_TYP)?;
        if parsed.header.kid.is_some() {
            return Err(VerifyError::UnsupportedHeader("a receipt carries its key in jwk, not kid".into()));
        }
        step(VerifyStep::Parsed);
        let key = parsed.verify_embedded()?;
        step(VerifyStep::SignatureChecked);
        let claims: Claims =
            serde_json::from_slice(&parsed.payload).map_err(|e| VerifyError::BadPayload(alloc::format!("{e}")))?;
        let (email, phone, guardian) = check_schema(&claims)?;
        step(VerifyStep::SchemaChecked);
        Ok(VerifiedReceipt { compact: compact.to_string(), claims, key, email, phone, guardian })
    }

    /// The exact compact JWS that was verified.
    pub fn compact(&self) -> &str {
        &self.compact
    }
    /// The claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
    /// The visitor's public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }
    /// The contact e-mail, parsed.
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }
    /// The contact phone number, parsed.
    pub fn phone(&self) -> Option<&PhoneE164> {
        self.phone.as_ref()
    }
    /// The guardian's e-mail, parsed, for a minor's receipt.
    pub fn guardian(&self) -> Option<&Email> {
        self.guardian.as_ref()
    }
    /// base64url SHA-256 of the compact receipt, as the seal names it.
    pub fn sha256(&self) -> String {
        sha256_b64(&self.compact)
    }

    /// Rule 5 (audience): `aud` is `audience` (compared without a trailing slash).
    pub fn check_audience(&self, audience: &str) -> Result<(), VerifyError> {
        if self.claims.aud.trim_end_matches('/') != audience.trim_end_matches('/') {
            return Err(VerifyError::WrongAudience("the receipt was made for another verifier".into()));
        }
        Ok(())
    }

    /// Rule 5 (origin): `iss` is allowed, equals the request's `Origin` when one was sent,
    /// and the evidence page is on that origin.
    pub fn check_origin(
        &self,
        allowed: impl Fn(&str) -> bool,
        request_origin: Option<&str>,
    ) -> Result<(), VerifyError> {
        let iss = self.claims.iss.as_str();
        if !allowed(iss) {
            return Err(VerifyError::OriginNotAllowed("iss is not an origin this notice allows".into()));
        }
        if let Some(origin) = request_origin {
            if origin != iss {
                return Err(VerifyError::OriginNotAllowed("iss differs from the request's Origin header".into()));
            }
        }
        let page = self.claims.evidence.page.as_str();
        let on_origin = page.strip_prefix(iss).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']));
        if !on_origin {
            return Err(VerifyError::OriginNotAllowed("the evidence page is not on iss".into()));
        }
        Ok(())
    }

    /// Rule 6: `iat` within `max_skew` seconds of `now`, not before the nonce was issued,
    /// and every decision timed between the nonce and `iat`.
    pub fn check_time(&self, now: i64, max_skew: i64, nonce_issued_at: Option<i64>) -> Result<(), VerifyError> {
        let iat = self.claims.iat;
        if iat > now.saturating_add(max_skew) {
            return Err(VerifyError::ClockSkew("iat is in the future".into()));
        }
        if iat < now.saturating_sub(max_skew) {
            return Err(VerifyError::ClockSkew("iat is too far in the past".into()));
        }
        let floor = nonce_issued_at.map(|t| t.saturating_sub(max_skew));
        if floor.is_some_and(|f| iat < f) {
            return Err(VerifyError::ClockSkew("iat is earlier than the nonce".into()));
        }
        for d in &self.claims.decisions {
            if d.at > iat || floor.is_some_and(|f| d.at < f) {
                return Err(VerifyError::ClockSkew("a decision is timed outside the signing session".into()));
            }
        }
        Ok(())
    }

    /// Rule 7 (consistency): the receipt names this notice, version, language and digest.
    pub fn check_notice(&self, notice: &Notice) -> Result<(), VerifyError> {
        self.check_notice_digest(notice, &notice.digest())
    }

    /// As [`check_notice`](Self::check_notice), when the caller already holds the notice's
    /// digest (a registry keyed by digest), sparing a canonicalisation per receipt.
    pub fn check_notice_digest(&self, notice: &Notice, digest: &str) -> Result<(), VerifyError> {
        let r = &self.claims.notice;
        if r.id != notice.id || r.version != notice.version || r.lang != notice.lang {
            return Err(VerifyError::UnknownNotice("id, version or language differ".into()));
        }
        if r.digest != digest {
            return Err(VerifyError::UnknownNotice("the digest is not this notice's".into()));
        }
        Ok(())
    }

    /// Rule 8: exactly one decision per purpose of the notice; a box that started ticked
    /// voids the receipt; every grant by consent needs a trusted gesture; every granted
    /// purpose's channel has an address; each purpose's legal basis has its conditions
    /// ([`check_bases`](Self::check_bases)).
    pub fn check_decisions(&self, notice: &Notice) -> Result<(), VerifyError> {
        let expected: BTreeSet<&str> = notice.purposes.iter().map(|p| p.id.as_str()).collect();
        let mut seen = BTreeSet::new();
        for d in &self.claims.decisions {
            if !expected.contains(d.purpose.as_str()) {
                return Err(VerifyError::DecisionsMismatch("a decision names an unknown purpose".into()));
            }
            if !seen.insert(d.purpose.as_str()) {
                return Err(VerifyError::DecisionsMismatch("a purpose is decided twice".into()));
            }
        }
        if seen != expected {
            return Err(VerifyError::DecisionsMismatch("a purpose of the notice has no decision".into()));
        }
        let e = &self.claims.evidence;
        if !e.initially_unchecked {
            return Err(VerifyError::Preticked);
        }
        // An objection box left unticked is no act, and a ticked one only restricts: only a
        // consent needs the visitor's own gesture.
        if self.claims.consented().next().is_some() && !e.trusted_gesture {
            return Err(VerifyError::UntrustedGesture);
        }
        self.check_addresses(notice)?;
        self.check_bases(notice)
    }

    /// Rule 8 (addresses): every granted purpose's channel has an address in `contact`.
    /// A guardian's receipt approves the child's grants, which go to the child's
    /// addresses: it carries only the guardian's own e-mail and is not held to this.
    pub fn check_addresses(&self, notice: &Notice) -> Result<(), VerifyError> {
        if self.claims.guardian_for.is_some() {
            return Ok(());
        }
        for id in self.claims.granted() {
            let Some(purpose) = notice.purpose(id) else { continue };
            for channel in &purpose.channels {
                let (present, what) = match channel {
                    Channel::Email => (self.email.is_some(), "an e-mail address"),
                    Channel::Sms => (self.phone.is_some(), "a phone number"),
                };
                if !present {
                    return Err(VerifyError::MissingAddress(alloc::format!(
                        "purpose {id} is granted on a channel that needs {what} in contact"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Rule 9: the age declaration follows the notice's rule, and a minor who grants
    /// anything names a guardian other than themselves.
    pub fn check_age(&self, notice: &Notice) -> Result<(), VerifyError> {
        let age = &self.claims.age;
        if age.threshold != notice.age_of_consent || age.jurisdiction != notice.jurisdiction {
            return Err(VerifyError::AgeMismatch(alloc::format!(
                "the notice's rule is under {} in {}",
                notice.age_of_consent,
                notice.jurisdiction
            )));
        }
        // A refusal needs nobody's approval: only a minor's consent needs a guardian (GDPR
        // Art. 8 is about consent; an objection offered instead is the same for everyone).
        if age.minor && self.claims.consented().next().is_some() {
            let guardian = self
                .guardian
                .as_ref()
                .ok_or_else(|| VerifyError::GuardianRequired("a minor must name a parent or guardian".into()))?;
            if self.email.as_ref().is_some_and(|e| e.normalized() == guardian.normalized()) {
                return Err(VerifyError::GuardianRequired(
                    "the guardian's address must differ from the child's".into(),
                ));
            }
        }
        Ok(())
    }

    /// Rules 5 (audience), 6 (without a nonce time), 7, 8 and 9 against a notice:
    /// the offline check a lead buyer can run on a receipt and the notice text.
    pub fn check_against(&self, notice: &Notice, audience: &str) -> Result<(), VerifyError> {
        self.check_audience(audience)?;
        self.check_notice(notice)?;
        self.check_decisions(notice)?;
        self.check_age(notice)
    }
}

fn bad(why: &str) -> VerifyError {
    VerifyError::BadPayload(why.to_string())
}

#[cfg(test)]
pub(crate) mod tests;
