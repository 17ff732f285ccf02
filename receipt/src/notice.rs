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

mod bases;
mod jcs;
pub use jcs::{NotCanonicalizable, canonical_json};

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
    /// `b2b` only: the topics its messages may be about, as tags (`office-lighting`). A
    /// message must relate to the person's job; the permissions answer allows only these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// `b2b` only: the name of the form field that holds the person's job function, which
    /// the receipt records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_field: Option<String>,
    /// `soft_opt_in` only: the name of the form field that holds the order reference (a page
    /// may give it with `data-order-ref` instead), which the receipt records: soft opt-in
    /// needs a sale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_field: Option<String>,
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
///
/// On `soft_opt_in`, `b2b` and `non_commercial` the person is not asked to consent: they
/// are offered an objection at collection (an unticked "I do not want to receive …" box),
/// and each basis has its conditions ([`Notice::basis_problems`], and for receipts
/// [`VerifiedReceipt::check_bases`](crate::VerifiedReceipt::check_bases)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// GDPR Art. 6(1)(a) and L34-5 CPCE consent.
    Consent,
    /// L34-5 al. 2 "soft opt-in": a customer, after a sale, for the controller's own
    /// analogous products, with an objection offered at collection and in every message.
    SoftOptIn,
    /// Business-to-business prospection related to the person's job, with an objection
    /// offered at collection.
    B2b,
    /// Non-commercial (e.g. charity) prospection, with an objection offered at collection.
    NonCommercial,
    /// Art. 6(1)(f) legitimate interests.
    LegitimateInterest,
}

impl LegalBasis {
    /// Whether the person is offered an objection instead of being asked for consent:
    /// `soft_opt_in`, `b2b` and `non_commercial`.
    pub const fn offers_objection(self) -> bool {
        matches!(self, LegalBasis::SoftOptIn | LegalBasis::B2b | LegalBasis::NonCommercial)
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
                    topics: Vec::new(),
                    job_field: None,
                    order_field: None,
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
                    topics: Vec::new(),
                    job_field: None,
                    order_field: None,
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
    fn a_consent_notice_keeps_the_digest_it_had_before_the_other_bases_had_fields() {
        // The fields of soft opt-in and B2B are left out when empty, so the JCS form (and
        // the digest every published consent notice and receipt names) is unchanged.
        let v = serde_json::to_value(sample()).unwrap();
        for p in v["purposes"].as_array().unwrap() {
            let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                ["category", "channels", "child_text", "id", "label", "legal_basis", "recipients", "text"]
            );
        }
        // Computed independently (Python's json with sorted keys) from the notice's first shape.
        assert_eq!(sample().digest(), "HiaYCUJ_mE81Us9j_wJYBns8OWbM5FWRu0cjOYop3jA");
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
}
