//! The offline rules of a receipt, one test per rule.

use super::*;
use crate::notice::tests::sample;

pub(crate) fn claims_for(notice: &Notice) -> Claims {
    Claims {
        jti: b64::encode(&[9; 16]),
        iat: 1_763_800_000,
        aud: "https://consent.example.com".into(),
        iss: "https://shop.example".into(),
        nonce: "n".into(),
        notice: NoticeRef {
            id: notice.id.clone(),
            version: notice.version,
            lang: notice.lang.clone(),
            digest: notice.digest(),
        },
        contact: Contact { email: Some("alice@example.org".into()), phone: None },
        decisions: notice
            .purposes
            .iter()
            .map(|p| Decision::new(p.id.clone(), p.id == "newsletter-email", 1_763_800_000))
            .collect(),
        evidence: Evidence {
            initially_unchecked: true,
            trusted_gesture: true,
            page: "https://shop.example/signup".into(),
        },
        age: Age { minor: false, threshold: 15, jurisdiction: "FR".into(), guardian: None },
        guardian_for: None,
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[3; 32])
}

fn verified(c: &Claims) -> Result<VerifiedReceipt, VerifyError> {
    VerifiedReceipt::verify(&c.sign(&key()))
}

#[test]
fn a_valid_receipt_passes_every_offline_rule() {
    let n = sample();
    let r = verified(&claims_for(&n)).unwrap();
    r.check_against(&n, "https://consent.example.com/").unwrap();
    r.check_origin(|o| o == "https://shop.example", Some("https://shop.example")).unwrap();
    r.check_time(1_763_800_010, 300, Some(1_763_799_000)).unwrap();
    assert_eq!(r.email().unwrap().as_str(), "alice@example.org");
}

#[test]
fn a_single_all_flag_instead_of_per_purpose_decisions_is_refused() {
    let c = claims_for(&sample());
    let mut v = serde_json::to_value(&c).unwrap();
    v["decisions"] = serde_json::json!({"all": true});
    let payload = serde_json::to_vec(&v).unwrap();
    let jws = jws::sign(&jws::Header::with_jwk(RECEIPT_TYP, &key().verifying_key()), &payload, &key());
    assert!(matches!(VerifiedReceipt::verify(&jws), Err(VerifyError::BadPayload(_))));
}

#[test]
fn a_grant_without_a_trusted_gesture_is_refused() {
    let n = sample();
    let mut c = claims_for(&n);
    c.evidence.trusted_gesture = false;
    assert_eq!(verified(&c).unwrap().check_decisions(&n), Err(VerifyError::UntrustedGesture));
}

#[test]
fn a_refusal_of_everything_needs_no_gesture() {
    let n = sample();
    let mut c = claims_for(&n);
    c.evidence.trusted_gesture = false;
    c.decisions.iter_mut().for_each(|d| d.granted = false);
    verified(&c).unwrap().check_decisions(&n).unwrap();
}

#[test]
fn a_preticked_box_voids_the_receipt_even_when_refused() {
    let n = sample();
    let mut c = claims_for(&n);
    c.evidence.initially_unchecked = false;
    c.decisions.iter_mut().for_each(|d| d.granted = false);
    assert_eq!(verified(&c).unwrap().check_decisions(&n), Err(VerifyError::Preticked));
}

#[test]
fn a_grant_on_a_channel_without_an_address_is_refused() {
    let mut n = sample();
    n.purposes[0].channels = alloc::vec![Channel::Sms];
    let c = claims_for(&n);
    let r = verified(&c).unwrap();
    assert!(matches!(r.check_decisions(&n), Err(VerifyError::MissingAddress(_))));
    let mut c = claims_for(&n);
    c.contact.phone = Some("+33612345678".into());
    verified(&c).unwrap().check_decisions(&n).unwrap();
}

#[test]
fn a_child_cannot_name_themselves_as_guardian() {
    let n = sample();
    let mut c = claims_for(&n);
    c.age.minor = true;
    c.age.guardian = Some(GuardianContact { email: "ALICE@example.org".into() });
    assert!(matches!(verified(&c).unwrap().check_age(&n), Err(VerifyError::GuardianRequired(_))));
}

#[test]
fn a_decision_after_signing_is_refused() {
    let n = sample();
    let mut c = claims_for(&n);
    c.decisions[0].at = c.iat + 1;
    assert!(matches!(verified(&c).unwrap().check_time(c.iat, 300, None), Err(VerifyError::ClockSkew(_))));
}

#[test]
fn the_evidence_page_must_be_on_the_issuing_origin() {
    let n = sample();
    let mut c = claims_for(&n);
    c.evidence.page = "https://shop.example.evil.test/signup".into();
    let r = verified(&c).unwrap();
    assert!(matches!(r.check_origin(|_| true, None), Err(VerifyError::OriginNotAllowed(_))));
}

#[test]
fn an_observed_verification_names_each_step_it_finished_and_stops_at_a_bad_signature() {
    let good = claims_for(&sample()).sign(&key());
    let mut steps = Vec::new();
    VerifiedReceipt::verify_observed(&good, &mut |s| steps.push(s)).unwrap();
    assert_eq!(steps, [VerifyStep::Parsed, VerifyStep::SignatureChecked, VerifyStep::SchemaChecked]);
    let (input, _) = good.rsplit_once('.').unwrap();
    let forged = jws::with_signature(input.to_string(), &[7; 64]);
    let mut steps = Vec::new();
    assert!(VerifiedReceipt::verify_observed(&forged, &mut |s| steps.push(s)).is_err());
    assert_eq!(steps, [VerifyStep::Parsed]);
}
