//! Contacts a consent is about: e-mail addresses and E.164 phone numbers.
//!
//! Parse, don't validate: once a value is an [`Email`] or a [`PhoneE164`], it is
//! well-formed, and nobody checks it again.

use alloc::string::{String, ToString};
use core::fmt;

use crate::error::VerifyError;

/// A single, well-formed e-mail address (`local@domain`).
///
/// Deliberately narrower than RFC 5322: no quoted local parts, comments, IP-literal
/// domains or display names, because a marketing list has no use for them and each is a
/// way to smuggle a second address. Internationalised addresses (RFC 6531) are accepted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address, refusing anything that is not one plain `local@domain`.
    pub fn parse(input: &str) -> Result<Email, VerifyError> {
        let bad = |why: &str| VerifyError::BadContact(alloc::format!("e-mail address {why}"));
        if input.len() > 254 {
            return Err(bad("is longer than 254 bytes"));
        }
        let (local, domain) = input.split_once('@').ok_or_else(|| bad("has no @"))?;
        if domain.contains('@') {
            return Err(bad("has more than one @"));
        }
        if local.is_empty() || local.len() > 64 {
            return Err(bad("has an empty or over-long local part"));
        }
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii();
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad("has a misplaced dot in the local part"));
        }
        if !local.chars().all(|c| c == '.' || (atext(c) && !c.is_control() && !c.is_whitespace())) {
            return Err(bad("has a character not allowed in the local part"));
        }
        let labels: alloc::vec::Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(bad("needs a domain with a dot"));
        }
        for label in &labels {
            let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric());
            if label.is_empty()
                || label.len() > 63
                || label.starts_with('-')
                || label.ends_with('-')
                || !label.chars().all(ok_char)
            {
                return Err(bad("has an invalid domain"));
            }
        }
        if labels.last().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit())) {
            return Err(bad("has a numeric top-level domain"));
        }
        Ok(Email(alloc::format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address, with its domain in lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to recognise the same mailbox again (suppression list, dedupe):
    /// the whole address in lower case. Mail systems treat local parts case-insensitively
    /// in practice, and a withdrawal must not be dodged by changing case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// Whether this is a role address (`contact@`, `info@`, `sales@`, …): the address of a
    /// company or of a function, not of a person. The CNIL treats such generic addresses as
    /// data of the legal person, to which the rules protecting individuals do not apply as
    /// they do to `firstname.lastname@`. A heuristic over common English and French role
    /// names (a `+tag` and the separators `.`, `-`, `_` are ignored); the site owner judges
    /// the rest.
    pub fn is_role_address(&self) -> bool {
        let local = self.0.split('@').next().unwrap_or("").to_lowercase();
        let local = local.split('+').next().unwrap_or("");
        let bare: String = local.chars().filter(|c| !matches!(c, '.' | '-' | '_')).collect();
        ROLE_NAMES.contains(&bare.as_str())
    }
}

/// Local parts that name a function rather than a person, without separators.
const ROLE_NAMES: &[&str] = &[
    "accounting",
    "accounts",
    "accueil",
    "achats",
    "admin",
    "administration",
    "billing",
    "bonjour",
    "booking",
    "careers",
    "commandes",
    "commercial",
    "compta",
    "comptabilite",
    "contact",
    "contacts",
    "contactus",
    "devis",
    "direction",
    "enquiries",
    "equipe",
    "facturation",
    "hello",
    "help",
    "helpdesk",
    "hr",
    "info",
    "infos",
    "information",
    "inquiries",
    "jobs",
    "marketing",
    "office",
    "orders",
    "postmaster",
    "presse",
    "press",
    "purchasing",
    "reception",
    "recrutement",
    "rh",
    "sales",
    "secretariat",
    "service",
    "serviceclient",
    "support",
    "team",
    "ventes",
    "webmaster",
];

// Contacts are personal data: Debug must not print them into logs by accident.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not zero.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneE164(String);

impl PhoneE164 {
    /// Parses an E.164 number; spaces, dots and dashes are not accepted.
    pub fn parse(input: &str) -> Result<PhoneE164, VerifyError> {
        let digits = input
            .strip_prefix('+')
            .ok_or_else(|| VerifyError::BadContact("phone number must start with + (E.164)".into()))?;
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err(VerifyError::BadContact(
                "phone number must be + then 8 to 15 digits, not starting with 0 (E.164)".into(),
            ));
        }
        Ok(PhoneE164(input.to_string()))
    }

    /// The number, `+` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneE164(<redacted>)")
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_parse() {
        for ok in ["alice@example.org", "a.b+tag@sub.example.co.uk", "élodie@exemple.fr", "x@xn--bcher-kva.example"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.org",
            "alice@example",
            "a@b@example.org",
            "alice @example.org",
            "alice@exa mple.org",
            ".alice@example.org",
            "al..ice@example.org",
            "alice@-example.org",
            "alice@example.org\n",
            "\"a\"@example.org",
            "alice@127.0.0.1",
            "Alice <alice@example.org>",
        ] {
            assert!(matches!(Email::parse(bad), Err(VerifyError::BadContact(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_domain_is_lowercased_and_normalized_form_is_all_lower_case() {
        let e = Email::parse("Alice@Example.ORG").unwrap();
        assert_eq!(e.as_str(), "Alice@example.org");
        assert_eq!(e.normalized(), "alice@example.org");
    }

    #[test]
    fn debug_does_not_print_the_address() {
        let e = Email::parse("alice@example.org").unwrap();
        assert!(!alloc::format!("{e:?}").contains("alice"));
    }

    #[test]
    fn role_addresses_are_told_from_personal_ones() {
        for role in ["contact@shop.example", "INFO@shop.example", "sales+fr@shop.example", "service-client@shop.fr"] {
            assert!(Email::parse(role).unwrap().is_role_address(), "{role}");
        }
        for person in ["alice@shop.example", "alice.contact@shop.example", "jean.dupont@info.fr"] {
            assert!(!Email::parse(person).unwrap().is_role_address(), "{person}");
        }
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(PhoneE164::parse("+33612345678").is_ok());
        for bad in ["0612345678", "+33 6 12 34 56 78", "+0612345678", "+1234567", "+1234567890123456"] {
            assert!(PhoneE164::parse(bad).is_err(), "{bad}");
        }
    }
}
