//! Notices: exactly what a visitor was shown, in one language, and its digest.
//!
//! A [`Notice`] is one language of one version of a notice, as the verifier serves it at
//! `GET /v1/notices/{id}?lang=`. Its [`digest`](Notice::digest) is the base64url SHA-256 of
//! its JSON Canonicalization Scheme form (RFC 8785), so that anyone holding the notice
//! text can recompute the digest a receipt names, with any JCS implementation.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::b64;

/// One language of one version of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Notice id, e.g. `newsletter`.
    pub id: String,
    /// Version number; a published version never changes.
    pub version: u32,
    /// Language of this text (BCP 47 primary tag, e.g. `fr`).
    pub lang: String,
    /// Heading shown above the checkboxes.
    pub title: String,
    /// ISO 3166-1 alpha-2 country whose law sets the age of digital consent.
    pub jurisdiction: String,
    /// Below this age a holder of parental responsibility must consent too (GDPR Art. 8).
    pub age_of_consent: u8,
    /// Whether the contact must confirm by e-mail before any marketing.
    pub double_opt_in: bool,
    /// Who is responsible, and how to reach them (Art. 13(1)(a), (b)).
    pub controller: Controller,
    /// What personal data the form collects, in plain words.
    pub data: String,
    /// One per purpose; each needs its own decision (Art. 13(1)(c), (e)).
    pub purposes: Vec<Purpose>,
    /// The legitimate interests pursued, where a purpose relies on Art. 6(1)(f).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legitimate_interests: Option<String>,
    /// Transfers outside the EU/EEA and their safeguards, or that there are none (13(1)(f)).
    pub transfers: String,
    /// How long the data is kept, or the criteria (13(2)(a)).
    pub retention: String,
    /// The rights of access, rectification, erasure, restriction, objection, portability (13(2)(b)).
    pub rights: String,
    /// That consent can be withdrawn at any time, and how (13(2)(c)).
    pub withdrawal: String,
    /// The right to complain to a supervisory authority (13(2)(d)).
    pub complaint: String,
    /// Whether giving the data is required, and what happens if not (13(2)(e)).
    pub provision: String,
    /// Automated decision-making or profiling, or that there is none (13(2)(f)).
    pub automated_decisions: String,
    /// Explains to a child, in simple words, that a parent or guardian will be asked.
    pub child_guardian_text: String,
    /// The full privacy policy.
    pub policy_url: String,
}

/// The controller's identity and contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    /// Legal name.
    pub name: String,
    /// Postal address.
    pub address: String,
    /// How to contact the controller (e-mail or URL).
    pub contact: String,
    /// How to contact the data protection officer.
    pub dpo: String,
}

/// One purpose of processing, with its own checkbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// Stable id, e.g. `newsletter-email`.
    pub id: String,
    /// The checkbox label.
    pub label: String,
    /// The purpose notice for adults.
    pub text: String,
    /// The same, in words a child understands.
    pub child_text: String,
    /// The channel this purpose uses: exactly one (a separate opt-in per channel: L34-5
    /// CPCE). A list on the wire for compatibility; a notice with two is refused.
    pub channels: Vec<Channel>,
    /// Who receives the data for this purpose (Art. 13(1)(e)).
    pub recipients: Vec<String>,
    /// The legal basis.
    pub legal_basis: LegalBasis,
    /// W3C DPV purpose category, e.g. `dpv:DirectMarketing`.
    pub category: String,
}

impl Purpose {
    /// The purpose's one channel (`None` only on a notice that fails its checks).
    pub fn channel(&self) -> Option<Channel> {
        match self.channels.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// A channel of communication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Email,
    /// SMS / MMS.
    Sms,
}

/// The legal basis a purpose relies on. Consent is the default for marketing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// GDPR Art. 6(1)(a) and L34-5 CPCE consent.
    Consent,
    /// L34-5 al. 2 "soft opt-in" for a customer's analogous products.
    SoftOptIn,
    /// Business-to-business prospection related to the person's job.
    B2b,
    /// Non-commercial (e.g. charity) prospection.
    NonCommercial,
    /// Art. 6(1)(f) legitimate interests.
    LegitimateInterest,
}

impl Notice {
    /// The digest receipts name: base64url(SHA-256(JCS(notice))).
    pub fn digest(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let canonical = canonical_json(&value).unwrap_or_default();
        b64::encode(&Sha256::digest(canonical.as_bytes()))
    }

    /// The mandatory items (GDPR Art. 13) that are missing or empty, by name.
    ///
    /// The verifier refuses to serve a notice for which this is not empty.
    pub fn missing_items(&self) -> Vec<String> {
        let mut missing = Vec::new();
        let mut need = |name: &str, value: &str| {
            if value.trim().is_empty() {
                missing.push(String::from(name));
            }
        };
        need("title", &self.title);
        need("controller.name (Art. 13(1)(a))", &self.controller.name);
        need("controller.address (Art. 13(1)(a))", &self.controller.address);
        need("controller.contact (Art. 13(1)(a))", &self.controller.contact);
        need("controller.dpo (Art. 13(1)(b))", &self.controller.dpo);
        need("data", &self.data);
        need("transfers (Art. 13(1)(f))", &self.transfers);
        need("retention (Art. 13(2)(a))", &self.retention);
        need("rights (Art. 13(2)(b))", &self.rights);
        need("withdrawal (Art. 13(2)(c))", &self.withdrawal);
        need("complaint (Art. 13(2)(d))", &self.complaint);
        need("provision (Art. 13(2)(e))", &self.provision);
        need("automated_decisions (Art. 13(2)(f))", &self.automated_decisions);
        need("child_guardian_text", &self.child_guardian_text);
        need("policy_url", &self.policy_url);
        if self.purposes.is_empty() {
            missing.push("purposes (Art. 13(1)(c))".into());
        }
        let mut seen = BTreeSet::new();
        for p in &self.purposes {
            let at = |item: &str| alloc::format!("purposes[{}].{item}", p.id);
            if p.id.trim().is_empty() || !seen.insert(p.id.as_str()) {
                missing.push(alloc::format!("purposes[{}].id (empty or duplicate)", p.id));
            }
            for (name, value) in
                [("label", &p.label), ("text", &p.text), ("child_text", &p.child_text), ("category", &p.category)]
            {
                if value.trim().is_empty() {
                    missing.push(at(name));
                }
            }
            if p.channels.is_empty() {
                missing.push(at("channels"));
            } else if p.channels.len() > 1 {
                // L34-5 CPCE: consent "by this means", one box per channel.
                missing.push(at("channels (exactly one channel per purpose: declare one purpose per channel)"));
            }
            if p.recipients.is_empty() || p.recipients.iter().any(|r| r.trim().is_empty()) {
                missing.push(at("recipients (Art. 13(1)(e))"));
            }
            if p.legal_basis == LegalBasis::LegitimateInterest
                && self.legitimate_interests.as_deref().is_none_or(|t| t.trim().is_empty())
            {
                missing.push("legitimate_interests (Art. 13(1)(d))".into());
            }
        }
        missing.dedup();
        missing
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }
}

/// Whether `s` can name a notice or a purpose: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The age of digital consent (GDPR Art. 8) of an EU/EEA member state, from the
/// Commission's 2020 review. `None` where the law is not known here: such a notice must
/// state `age_of_consent` itself.
pub fn age_of_digital_consent(jurisdiction: &str) -> Option<u8> {
    Some(match jurisdiction {
        "BE" | "DK" | "EE" | "FI" | "LV" | "MT" | "PT" | "SE" => 13,
        "AT" | "BG" | "CY" | "IT" | "LT" | "ES" => 14,
        "CZ" | "FR" | "GR" => 15,
        "HR" | "DE" | "HU" | "IE" | "LU" | "NL" | "PL" | "RO" | "SK" => 16,
        _ => return None,
    })
}

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a JSON value has no canonical form here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("JCS: only integers of magnitude below 2^53 are supported as numbers")]
pub struct NotCanonicalizable;

/// RFC 8785 (JCS) serialisation of a JSON value whose numbers are all integers.
///
/// Members are sorted by their UTF-16 code units, there is no whitespace, and strings use
/// the ECMAScript `JSON.stringify` escapes. Non-integer numbers are refused rather than
/// risk a formatting difference from other implementations.
pub fn canonical_json(value: &serde_json::Value) -> Result<String, NotCanonicalizable> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &serde_json::Value, out: &mut String) -> Result<(), NotCanonicalizable> {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            // JCS writes numbers as IEEE 754 doubles; only integers a double holds exactly
            // (|i| <= 2^53 - 1) have the same text in every implementation.
            match n.as_i64() {
                Some(i) if i.unsigned_abs() <= MAX_SAFE_INTEGER => out.push_str(&alloc::format!("{i}")),
                _ => return Err(NotCanonicalizable),
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    // Copy runs that need no escape in one go; only '"', '\\' and controls are escaped.
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        if escape.is_empty() {
            out.push_str(&alloc::format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A complete two-purpose notice, as tests across the crate use it.
    pub(crate) fn sample() -> Notice {
        let s = |t: &str| String::from(t);
        Notice {
            id: s("newsletter"),
            version: 1,
            lang: s("en"),
            title: s("Stay in touch"),
            jurisdiction: s("FR"),
            age_of_consent: 15,
            double_opt_in: true,
            controller: Controller {
                name: s("Shop SAS"),
                address: s("1 rue de l'Exemple, 75001 Paris"),
                contact: s("privacy@shop.example"),
                dpo: s("dpo@shop.example"),
            },
            data: s("Your e-mail address"),
            purposes: alloc::vec![
                Purpose {
                    id: s("newsletter-email"),
                    label: s("Send me the newsletter by e-mail"),
                    text: s("About once a month."),
                    child_text: s("We send you an e-mail once a month."),
                    channels: alloc::vec![Channel::Email],
                    recipients: alloc::vec![s("Shop SAS")],
                    legal_basis: LegalBasis::Consent,
                    category: s("dpv:DirectMarketing"),
                },
                Purpose {
                    id: s("partner-sharing"),
                    label: s("Share my e-mail with Partner Co"),
                    text: s("Partner Co sends its own offers."),
                    child_text: s("We give your e-mail to Partner Co."),
                    channels: alloc::vec![Channel::Email],
                    recipients: alloc::vec![s("Partner Co")],
                    legal_basis: LegalBasis::Consent,
                    category: s("dpv:Advertising"),
                },
            ],
            legitimate_interests: None,
            transfers: s("None outside the EU."),
            retention: s("3 years from the last contact."),
            rights: s("Access, rectification, erasure, restriction, objection, portability."),
            withdrawal: s("Any time, with one click in every e-mail."),
            complaint: s("You may complain to the CNIL."),
            provision: s("Optional: the form works without it."),
            automated_decisions: s("None."),
            child_guardian_text: s("A parent will be asked to agree too."),
            policy_url: s("https://shop.example/privacy"),
        }
    }

    #[test]
    fn a_complete_notice_has_no_missing_item() {
        assert!(sample().missing_items().is_empty());
    }

    #[test]
    fn a_notice_without_a_controller_contact_names_what_is_missing() {
        let mut n = sample();
        n.controller.contact = String::new();
        n.purposes[1].recipients.clear();
        let missing = n.missing_items();
        assert!(missing.iter().any(|m| m.starts_with("controller.contact")), "{missing:?}");
        assert!(missing.iter().any(|m| m.starts_with("purposes[partner-sharing].recipients")), "{missing:?}");
    }

    #[test]
    fn a_purpose_with_two_channels_is_refused() {
        let mut n = sample();
        n.purposes[0].channels = alloc::vec![Channel::Email, Channel::Sms];
        let missing = n.missing_items();
        assert!(missing.iter().any(|m| m.contains("exactly one channel")), "{missing:?}");
    }

    #[test]
    fn legitimate_interest_needs_its_statement() {
        let mut n = sample();
        n.purposes[0].legal_basis = LegalBasis::LegitimateInterest;
        assert!(n.missing_items().iter().any(|m| m.starts_with("legitimate_interests")));
    }

    #[test]
    fn the_digest_changes_with_any_word() {
        let a = sample();
        let mut b = sample();
        b.purposes[0].text.push('!');
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), sample().digest());
    }

    #[test]
    fn the_digest_is_sha256_of_the_serde_jcs_form() {
        let n = sample();
        let independent = serde_jcs::to_vec(&n).unwrap();
        assert_eq!(n.digest(), b64::encode(&Sha256::digest(&independent)));
    }

    #[test]
    fn the_age_table_follows_the_commission_review() {
        assert_eq!(age_of_digital_consent("FR"), Some(15));
        assert_eq!(age_of_digital_consent("DE"), Some(16));
        assert_eq!(age_of_digital_consent("BE"), Some(13));
        assert_eq!(age_of_digital_consent("SI"), None);
    }

    #[test]
    fn integers_a_double_cannot_hold_and_fractions_have_no_canonical_form() {
        assert_eq!(canonical_json(&serde_json::json!(9_007_199_254_740_993_i64)), Err(NotCanonicalizable));
        assert_eq!(canonical_json(&serde_json::json!(0.5)), Err(NotCanonicalizable));
        assert_eq!(canonical_json(&serde_json::json!(9_007_199_254_740_991_i64)).unwrap(), "9007199254740991");
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            (-(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64).prop_map(|i| serde_json::json!(i)),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_json_matches_serde_jcs(v in json_value()) {
            prop_assert_eq!(canonical_json(&v).unwrap(), serde_jcs::to_string(&v).unwrap());
        }
    }
}
