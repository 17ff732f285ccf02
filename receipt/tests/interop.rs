//! Our compact JWS against an independent JOSE implementation (`jsonwebtoken`, backed by
//! *ring*), in both directions, for receipts and seals.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use consent_receipt::*;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};

fn notice() -> Notice {
    let text = include_str!("fixtures/notice.json");
    serde_json::from_str(text).expect("fixture notice parses")
}

fn claims(n: &Notice) -> Claims {
    Claims {
        jti: b64::encode(&[1; 16]),
        iat: 1_763_800_000,
        aud: "https://consent.example.com".into(),
        iss: "https://shop.example".into(),
        nonce: "nonce".into(),
        notice: NoticeRef { id: n.id.clone(), version: n.version, lang: n.lang.clone(), digest: n.digest() },
        contact: Contact { email: Some("alice@example.org".into()), phone: None },
        decisions: n.purposes.iter().map(|p| Decision::new(p.id.clone(), true, 1_763_800_000)).collect(),
        evidence: Evidence { initially_unchecked: true, trusted_gesture: true, page: "https://shop.example/".into() },
        age: Age { minor: false, threshold: 15, jurisdiction: "FR".into(), guardian: None },
        guardian_for: None,
    }
}

fn validation(aud: &str) -> Validation {
    let mut v = Validation::new(Algorithm::EdDSA);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_audience(&[aud]);
    v
}

#[test]
fn a_receipt_we_sign_verifies_with_jsonwebtoken() {
    let key = SigningKey::from_bytes(&[11; 32]);
    let n = notice();
    let receipt = claims(&n).sign(&key);

    // The independent library reads the key from our header, as any relying party would.
    let header = jsonwebtoken::decode_header(&receipt).expect("jsonwebtoken reads our header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("consent-receipt+jwt"));
    let jwk = header.jwk.expect("the header carries the visitor's jwk");
    let decoding = DecodingKey::from_jwk(&jwk).expect("an OKP Ed25519 jwk");
    let data =
        jsonwebtoken::decode::<serde_json::Value>(&receipt, &decoding, &validation("https://consent.example.com"))
            .expect("jsonwebtoken verifies our signature");
    assert_eq!(data.claims["contact"]["email"], "alice@example.org");
}

#[test]
fn a_seal_we_sign_verifies_with_jsonwebtoken_and_our_jwks() {
    let key = SigningKey::from_bytes(&[12; 32]);
    let jwks = Jwks { keys: vec![Jwk::published(&key.verifying_key())] };
    let seal = SealClaims {
        receipt_sha256: sha256_b64("a.b.c"),
        jti: "j".into(),
        lead_id: "lead".into(),
        status: "pending_confirmation".into(),
        iat: 1_763_800_000,
    }
    .sign(&key);

    let their_set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&serde_json::to_string(&jwks).unwrap()).expect("jsonwebtoken reads our JWKS");
    let kid = jsonwebtoken::decode_header(&seal).unwrap().kid.expect("a seal names its kid");
    let jwk = their_set.find(&kid).expect("the kid is in the published set");
    let mut v = Validation::new(Algorithm::EdDSA);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(&seal, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .expect("jsonwebtoken verifies our seal");
    assert_eq!(data.claims["lead_id"], "lead");
}

#[test]
fn a_receipt_signed_by_jsonwebtoken_verifies_with_ours() {
    let key = SigningKey::from_bytes(&[13; 32]);
    let der = key.to_pkcs8_der().expect("PKCS#8 encoding");
    let n = notice();
    let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
    header.typ = Some("consent-receipt+jwt".into());
    header.jwk =
        Some(serde_json::from_value(serde_json::to_value(Jwk::from_key(&key.verifying_key())).unwrap()).unwrap());
    let theirs = jsonwebtoken::encode(&header, &claims(&n), &EncodingKey::from_ed_der(der.as_bytes()))
        .expect("jsonwebtoken signs");

    let verified = VerifiedReceipt::verify(&theirs).expect("our verifier accepts their JWS");
    assert_eq!(verified.key(), &key.verifying_key());
    verified.check_against(&n, "https://consent.example.com").expect("and its claims hold");
}

#[test]
fn a_jsonwebtoken_hs256_token_is_refused_as_an_unsupported_algorithm() {
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.typ = Some("consent-receipt+jwt".into());
    let n = notice();
    let token = jsonwebtoken::encode(&header, &claims(&n), &EncodingKey::from_secret(b"guessable")).unwrap();
    assert!(matches!(VerifiedReceipt::verify(&token), Err(VerifyError::UnsupportedAlg(_))));
}
