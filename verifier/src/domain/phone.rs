//! Phone numbers checked against the numbering plan.
//!
//! The receipt crate checks only the E.164 shape (`+` and 8 to 15 digits): the widget
//! builds it for wasm32 and must not carry libphonenumber's metadata. The verifier checks
//! the number against that metadata with the `phonenumber` crate (a maintained port of
//! Google's libphonenumber) and keeps only its E.164 form.

use consent_receipt::{PhoneE164, VerifyError};
use phonenumber::{Mode, Type};

/// A phone number that exists in its country's numbering plan, in E.164 form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Checks `number`; with `mobile`, it must also be a mobile number (an SMS purpose).
    pub fn check(number: &PhoneE164, mobile: bool) -> Result<Phone, VerifyError> {
        let bad = |why: &str| VerifyError::BadContact(format!("phone number {why}"));
        let parsed = phonenumber::parse(None, number.as_str()).map_err(|_| bad("is not a number of any plan"))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(bad("is not in use in its country's numbering plan"));
        }
        if mobile
            && !matches!(parsed.number_type(&phonenumber::metadata::DATABASE), Type::Mobile | Type::FixedLineOrMobile)
        {
            return Err(bad("is not a mobile number: an SMS purpose needs one"));
        }
        Ok(Phone(parsed.format().mode(Mode::E164).to_string()))
    }

    /// The number in E.164 form, `+` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// A phone number is personal data: Debug never prints it.
impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Phone(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(s: &str) -> PhoneE164 {
        PhoneE164::parse(s).unwrap()
    }

    #[test]
    fn a_french_mobile_passes_and_stays_in_e164() {
        assert_eq!(Phone::check(&e164("+33612345678"), true).unwrap().as_str(), "+33612345678");
    }

    #[test]
    fn a_landline_is_refused_for_sms_but_kept_as_a_contact() {
        // +33 1: Paris fixed lines.
        assert!(Phone::check(&e164("+33142685300"), true).is_err());
        assert!(Phone::check(&e164("+33142685300"), false).is_ok());
    }

    #[test]
    fn a_number_outside_every_plan_is_refused() {
        assert!(matches!(Phone::check(&e164("+33012345678"), false), Err(VerifyError::BadContact(_))));
    }
}
