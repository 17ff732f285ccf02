//! Rule 8 for the legal bases other than consent (LAW.md rules 20–22): what a decision on
//! a soft opt-in, B2B or non-commercial purpose must carry.

use alloc::format;

use super::VerifiedReceipt;
use crate::error::VerifyError;
use crate::notice::{LegalBasis, Notice};

fn name(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "consent",
        LegalBasis::SoftOptIn => "soft_opt_in",
        LegalBasis::B2b => "b2b",
        LegalBasis::NonCommercial => "non_commercial",
        LegalBasis::LegitimateInterest => "legitimate_interest",
    }
}

impl VerifiedReceipt {
    /// Rule 8 (legal bases): a purpose on `soft_opt_in`, `b2b` or `non_commercial` was
    /// offered with an objection box, and its decision says so and how it was left; a
    /// soft opt-in goes only to the controller, and one not objected names its sale
    /// (`order_ref`); a B2B purpose declares its topics, and one not objected carries the
    /// person's `job_function`. A purpose on consent carries none of these.
    ///
    /// An objection never needs the conditions of the basis it objects to: it is honoured
    /// as it is. A guardian's receipt approves the child's decisions and is not held to
    /// this.
    pub fn check_bases(&self, notice: &Notice) -> Result<(), VerifyError> {
        if self.claims.guardian_for.is_some() {
            return Ok(());
        }
        for d in &self.claims.decisions {
            let Some(p) = notice.purpose(&d.purpose) else { continue };
            let (id, basis) = (&d.purpose, p.legal_basis);
            let mismatch = |what: &str| {
                VerifyError::DecisionsMismatch(format!(
                    "purpose {id} is on {}: its decision carries no {what}",
                    name(basis)
                ))
            };
            if !basis.offers_objection() {
                if d.objection_offered {
                    return Err(mismatch("objection box (its box asks for consent)"));
                }
            } else if !d.objection_offered {
                return Err(VerifyError::ObjectionNotOffered(format!(
                    "purpose {id} is on {}: the person must be offered an objection box at collection",
                    name(basis)
                )));
            }
            if d.order_ref.is_some() && basis != LegalBasis::SoftOptIn {
                return Err(mismatch("order_ref"));
            }
            if d.job_function.is_some() && basis != LegalBasis::B2b {
                return Err(mismatch("job_function"));
            }
            let goes_ahead = d.objected == Some(false);
            match basis {
                LegalBasis::SoftOptIn if !p.only_controller(&notice.controller) => {
                    return Err(VerifyError::SoftOptInPartner(format!(
                        "purpose {id} names a recipient other than the controller"
                    )));
                }
                LegalBasis::SoftOptIn if goes_ahead && d.order_ref.is_none() => {
                    return Err(VerifyError::OrderRequired(format!(
                        "purpose {id} is on soft opt-in and was not objected, but no order_ref names the sale"
                    )));
                }
                LegalBasis::B2b if p.topics.is_empty() => {
                    return Err(VerifyError::JobFunctionRequired(format!(
                        "the notice declares no topics for the b2b purpose {id}"
                    )));
                }
                LegalBasis::B2b if goes_ahead && d.job_function.is_none() => {
                    return Err(VerifyError::JobFunctionRequired(format!(
                        "purpose {id} is on b2b and was not objected, but the decision carries no job_function"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    use super::*;
    use crate::receipt::tests::claims_for;
    use crate::{Claims, Decision, ErrorKind, SigningKey};

    /// The sample notice with its first purpose on `basis` (and what that basis needs).
    fn notice(basis: LegalBasis) -> Notice {
        let mut n = crate::notice::tests::sample();
        let p = &mut n.purposes[0];
        p.legal_basis = basis;
        match basis {
            LegalBasis::SoftOptIn => p.order_field = Some("order_id".into()),
            LegalBasis::B2b => {
                p.topics = alloc::vec!["office-lighting".into()];
                p.job_field = Some("job_title".into());
            }
            _ => {}
        }
        n
    }

    /// Claims whose first decision is an objection box, ticked or not.
    fn claims(n: &Notice, objected: bool) -> Claims {
        let mut c = claims_for(n);
        c.decisions[0] = Decision::objection(n.purposes[0].id.clone(), objected, c.iat);
        c
    }

    fn check(n: &Notice, c: &Claims) -> Result<(), VerifyError> {
        let r = VerifiedReceipt::verify(&c.sign(&SigningKey::from_bytes(&[5; 32])))?;
        r.check_decisions(n)
    }

    fn kind(r: Result<(), VerifyError>) -> Option<ErrorKind> {
        r.err().map(|e| e.kind())
    }

    #[test]
    fn a_soft_opt_in_decision_without_an_order_reference_is_refused() {
        let n = notice(LegalBasis::SoftOptIn);
        let mut c = claims(&n, false);
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::OrderRequired));
        c.decisions[0].order_ref = Some("A-1042".into());
        check(&n, &c).unwrap();
    }

    #[test]
    fn an_objection_is_honoured_without_the_conditions_of_its_basis() {
        for basis in [LegalBasis::SoftOptIn, LegalBasis::B2b, LegalBasis::NonCommercial] {
            let n = notice(basis);
            check(&n, &claims(&n, true)).unwrap();
        }
    }

    #[test]
    fn a_soft_opt_in_purpose_for_a_partner_is_refused() {
        let mut n = notice(LegalBasis::SoftOptIn);
        n.purposes[0].recipients = alloc::vec![String::from("Partner Co")];
        let mut c = claims(&n, false);
        c.decisions[0].order_ref = Some("A-1042".into());
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::SoftOptInPartner));
    }

    #[test]
    fn a_b2b_decision_needs_the_job_function_and_the_notice_its_topics() {
        let mut n = notice(LegalBasis::B2b);
        let mut c = claims(&n, false);
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::JobFunctionRequired));
        c.decisions[0].job_function = Some("Facility manager".into());
        check(&n, &c).unwrap();
        n.purposes[0].topics.clear();
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::JobFunctionRequired));
    }

    #[test]
    fn non_commercial_needs_the_objection_box_and_no_sale() {
        let n = notice(LegalBasis::NonCommercial);
        let mut c = claims_for(&n);
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::ObjectionNotOffered), "a consent box instead");
        c = claims(&n, false);
        check(&n, &c).unwrap();
        c.decisions[0].order_ref = Some("A-1042".into());
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::DecisionsMismatch));
    }

    #[test]
    fn an_objection_box_on_a_consent_purpose_is_refused() {
        let n = crate::notice::tests::sample();
        assert_eq!(kind(check(&n, &claims(&n, false))), Some(ErrorKind::DecisionsMismatch));
    }

    #[test]
    fn an_objection_box_left_unticked_needs_no_gesture_but_a_consent_does() {
        let n = notice(LegalBasis::NonCommercial);
        let mut c = claims(&n, false);
        c.evidence.trusted_gesture = false;
        check(&n, &c).unwrap();
        c.decisions[1].granted = true;
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::UntrustedGesture));
    }

    #[test]
    fn an_objection_that_contradicts_its_grant_fails_the_schema() {
        let n = notice(LegalBasis::NonCommercial);
        let mut c = claims(&n, true);
        c.decisions[0].granted = true;
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::BadPayload));
        c.decisions[0].objection_offered = false;
        assert_eq!(kind(check(&n, &c)), Some(ErrorKind::BadPayload));
    }

    #[test]
    fn a_consent_decision_keeps_its_first_wire_shape_and_an_objection_says_it_all() {
        let consent = serde_json::to_string(&Decision::new("p", true, 7)).unwrap();
        assert_eq!(consent, r#"{"purpose":"p","granted":true,"at":7}"#);
        let mut objection = Decision::objection("p", false, 7);
        objection.order_ref = Some("A-1042".into());
        assert_eq!(
            serde_json::to_string(&objection).unwrap(),
            r#"{"purpose":"p","granted":true,"at":7,"objection_offered":true,"objected":false,"order_ref":"A-1042"}"#
        );
    }
}
