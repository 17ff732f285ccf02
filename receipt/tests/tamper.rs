//! Property: no single-byte change to a valid receipt or seal survives verification.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use consent_receipt::*;
use proptest::prelude::*;

fn notice() -> Notice {
    serde_json::from_str(include_str!("fixtures/notice.json")).expect("fixture notice parses")
}

fn receipt() -> String {
    let n = notice();
    Claims {
        jti: b64::encode(&[2; 16]),
        iat: 1_763_800_000,
        aud: "https://consent.example.com".into(),
        iss: "https://shop.example".into(),
        nonce: "nonce".into(),
        notice: NoticeRef { id: n.id.clone(), version: n.version, lang: n.lang.clone(), digest: n.digest() },
        contact: Contact { email: Some("alice@example.org".into()), phone: None },
        decisions: n.purposes.iter().map(|p| Decision::new(p.id.clone(), false, 1_763_800_000)).collect(),
        evidence: Evidence { initially_unchecked: true, trusted_gesture: true, page: "https://shop.example/".into() },
        age: Age { minor: false, threshold: 15, jurisdiction: "FR".into(), guardian: None },
        guardian_for: None,
    }
    .sign(&SigningKey::from_bytes(&[21; 32]))
}

fn accepted(compact: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(compact) else { return false };
    VerifiedReceipt::verify(text).and_then(|r| r.check_against(&notice(), "https://consent.example.com")).is_ok()
}

#[test]
fn the_untouched_receipt_is_accepted() {
    assert!(accepted(receipt().as_bytes()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_single_byte_change_of_a_receipt_is_rejected(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let original = receipt().into_bytes();
        let i = index.index(original.len());
        prop_assume!(original[i] != byte);
        let mut tampered = original.clone();
        tampered[i] = byte;
        prop_assert!(!accepted(&tampered), "byte {} changed to {:#04x} was accepted", i, byte);
    }

    #[test]
    fn any_single_byte_change_of_a_seal_is_rejected(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let key = SigningKey::from_bytes(&[22; 32]);
        let jwks = Jwks { keys: vec![Jwk::published(&key.verifying_key())] };
        let r = receipt();
        let seal = SealClaims { receipt_sha256: sha256_b64(&r), jti: "j".into(), lead_id: "l".into(), status: "active".into(), iat: 1 }.sign(&key);
        let original = seal.into_bytes();
        let i = index.index(original.len());
        prop_assume!(original[i] != byte);
        let mut tampered = original.clone();
        tampered[i] = byte;
        let ok = std::str::from_utf8(&tampered).is_ok_and(|s| verify_seal_of(s, &r, &jwks).is_ok());
        prop_assert!(!ok, "byte {} changed to {:#04x} was accepted", i, byte);
    }
}
