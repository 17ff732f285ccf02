//! Rule 3 beyond what serde checks: formats, sizes and contacts of the claims.

use super::{Claims, MAX_PURPOSES, bad};
use crate::b64;
use crate::contact::{Email, PhoneE164};
use crate::error::VerifyError;

/// The steps of [`VerifiedReceipt::verify_observed`](super::VerifiedReceipt::verify_observed),
/// each named as it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyStep {
    /// Rule 1: the JWS split, decoded, its header and algorithm accepted.
    Parsed,
    /// Rule 2: the header's key decoded, the signature checked with `verify_strict`.
    SignatureChecked,
    /// Rule 3: the payload's JSON read and its schema checked.
    SchemaChecked,
}

fn is_origin(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")) else {
        return false;
    };
    !rest.is_empty() && rest.len() <= 253 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// Text a person typed or a page gave: not blank, at most `max` characters, no controls.
fn is_text(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

fn is_token_id(s: &str, bytes: usize) -> bool {
    b64::decode(s).is_ok_and(|v| v.len() == bytes)
}

/// The contacts of a receipt, parsed: e-mail, phone, guardian's e-mail.
pub(super) type ParsedContacts = (Option<Email>, Option<PhoneE164>, Option<Email>);

/// Rule 3 beyond what serde checks: formats, sizes and contacts.
pub(super) fn check_schema(c: &Claims) -> Result<ParsedContacts, VerifyError> {
    if !is_token_id(&c.jti, 16) {
        return Err(bad("jti must be 16 bytes of base64url"));
    }
    if c.iat <= 0 {
        return Err(bad("iat must be a positive NumericDate"));
    }
    if c.aud.is_empty() || c.aud.len() > 512 {
        return Err(bad("aud must be the verifier's URL"));
    }
    if !is_origin(&c.iss) {
        return Err(bad("iss must be an origin such as https://shop.example"));
    }
    if c.nonce.is_empty() || c.nonce.len() > 512 {
        return Err(bad("nonce is missing or too long"));
    }
    let n = &c.notice;
    if !crate::notice::is_identifier(&n.id) {
        return Err(bad("notice.id must be 1-64 of [A-Za-z0-9_-]"));
    }
    if n.lang.is_empty() || n.lang.len() > 16 || !n.lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(bad("notice.lang must be a language tag"));
    }
    if !is_token_id(&n.digest, 32) {
        return Err(bad("notice.digest must be a base64url SHA-256"));
    }
    if c.contact.email.is_none() && c.contact.phone.is_none() {
        return Err(bad("contact needs an email or a phone"));
    }
    if c.decisions.is_empty() || c.decisions.len() > MAX_PURPOSES {
        return Err(bad("decisions must hold 1 to 32 entries"));
    }
    for d in &c.decisions {
        if d.purpose.is_empty() || d.purpose.len() > 64 {
            return Err(bad("a decision's purpose must be 1-64 characters"));
        }
        if d.at <= 0 {
            return Err(bad("a decision's at must be a positive NumericDate"));
        }
        // An objection box: `objected` says how it was left, and `granted` is its opposite.
        match d.objected {
            Some(objected) if !d.objection_offered || d.granted == objected => {
                return Err(bad("a decision with objected needs objection_offered true and granted = !objected"));
            }
            None if d.objection_offered => return Err(bad("a decision with objection_offered needs objected")),
            _ => {}
        }
        for (name, value) in [("order_ref", &d.order_ref), ("job_function", &d.job_function)] {
            if value.as_deref().is_some_and(|v| !is_text(v, 128)) {
                return Err(VerifyError::BadPayload(alloc::format!("a decision's {name} must be 1-128 characters")));
            }
        }
    }
    let page = &c.evidence.page;
    if page.len() > 2048 || !(page.starts_with("https://") || page.starts_with("http://")) {
        return Err(bad("evidence.page must be an http(s) URL of at most 2048 bytes"));
    }
    let a = &c.age;
    if a.jurisdiction.len() != 2 || !a.jurisdiction.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("age.jurisdiction must be an ISO 3166-1 alpha-2 code"));
    }
    if !(1..=21).contains(&a.threshold) {
        return Err(bad("age.threshold must be between 1 and 21"));
    }
    if !a.minor && a.guardian.is_some() {
        return Err(bad("age.guardian is only for a minor"));
    }
    if let Some(g) = &c.guardian_for {
        if !is_token_id(&g.jti, 16) {
            return Err(bad("guardian_for.jti must be 16 bytes of base64url"));
        }
        if a.minor {
            return Err(bad("a guardian's own receipt cannot declare a minor"));
        }
    }
    let email = c.contact.email.as_deref().map(Email::parse).transpose()?;
    let phone = c.contact.phone.as_deref().map(PhoneE164::parse).transpose()?;
    let guardian = a.guardian.as_ref().map(|g| Email::parse(&g.email)).transpose()?;
    Ok((email, phone, guardian))
}
