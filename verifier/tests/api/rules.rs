//! Every verification rule and error code, through the real HTTP router.

use consent_receipt::{Claims, Decision, GuardianContact, Jwk, SigningKey, b64};

use crate::helpers::*;

const OTHER_SHOP: &str = "https://other-shop.example";

/// A compact JWS from raw header and payload JSON, signed with `key`.
fn raw_jws(header: &serde_json::Value, payload: &[u8], key: &SigningKey) -> String {
    use ed25519_dalek::Signer;
    let input = format!("{}.{}", b64::encode(header.to_string().as_bytes()), b64::encode(payload));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64::encode(&sig.to_bytes()))
}

fn header_for(key: &SigningKey) -> serde_json::Value {
    serde_json::json!({"alg": "EdDSA", "typ": "consent-receipt+jwt", "jwk": Jwk::from_key(&key.verifying_key())})
}

fn with_payload(claims: &Claims, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let key = consent_e2e::random_key();
    let mut v = serde_json::to_value(claims).unwrap();
    edit(&mut v);
    raw_jws(&header_for(&key), v.to_string().as_bytes(), &key)
}

// ---- accepted ----

#[tokio::test]
async fn a_valid_receipt_is_accepted_sealed_and_stored_as_received() {
    let app = spawn_app().await;
    let (receipt, claims) = app.valid_receipt().await;

    let res = app
        .client
        .post(format!("{}/v1/leads", app.base))
        .header("Origin", SHOP)
        .json(&serde_json::json!({"receipt": receipt, "fields": {"first_name": "Alice"}}))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "pending_confirmation");
    let lead_id = body["lead_id"].as_str().unwrap();
    let jwks: consent_receipt::Jwks = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    let seal =
        consent_receipt::verify_seal_of(body["seal"].as_str().unwrap(), &receipt, &jwks).expect("the seal verifies");
    assert_eq!(seal.claims.lead_id, lead_id);
    assert_eq!(seal.claims.jti, claims.jti);
    assert_eq!(seal.claims.status, "pending_confirmation");

    let stored = app.state.store.lead(lead_id).await.unwrap().expect("the lead is stored");
    assert_eq!(stored.receipt.as_deref(), Some(receipt.as_str()), "the exact signed bytes are kept");
    assert_eq!(stored.seal, body["seal"].as_str().unwrap());
    assert_eq!(stored.granted, ["newsletter-email"]);
    assert_eq!(stored.fields["first_name"], "Alice");
    assert_eq!(stored.email.as_deref(), claims.contact.email.as_deref());
}

#[tokio::test]
async fn a_refusal_of_every_purpose_is_stored_as_a_refusal() {
    let app = spawn_app().await;
    let s = app.session().await;
    let mut c = s.claims(&unique_email());
    c.decisions.iter_mut().for_each(|d| d.granted = false);
    c.evidence.trusted_gesture = false;

    let res = app.post_lead(&sign(&c)).await;

    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "refused");
    let stored = app.state.store.lead(body["lead_id"].as_str().unwrap()).await.unwrap().unwrap();
    assert!(stored.granted.is_empty());
}

#[tokio::test]
async fn a_minor_with_a_guardian_waits_for_the_guardian() {
    let app = spawn_app().await;
    let s = app.session().await;
    let mut c = s.claims(&unique_email());
    c.age.minor = true;
    c.age.guardian = Some(GuardianContact { email: unique_email() });

    let res = app.post_lead(&sign(&c)).await;

    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["status"], "awaiting_guardian");
}

#[tokio::test]
async fn a_notice_without_double_opt_in_makes_the_lead_active_at_once() {
    let app = spawn_app().await;
    let s = app.session_for("offers", "en", SHOP).await;

    let res = app.post_lead(&sign(&s.claims(&unique_email()))).await;

    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["status"], "active");
}

/// Grants only `purpose` in `c`.
fn grant_only(c: &mut Claims, purpose: &str) {
    c.decisions.iter_mut().for_each(|d| d.granted = d.purpose == purpose);
}

#[tokio::test]
async fn a_phone_only_contact_in_e164_is_accepted_for_an_sms_purpose() {
    let app = spawn_app().await;
    let s = app.session().await;
    let mut c = s.claims("x@example.org");
    c.contact.email = None;
    c.contact.phone = Some("+33612345678".into());
    grant_only(&mut c, "offers-sms");

    assert_eq!(app.post_lead(&sign(&c)).await.status(), 201);
}

#[tokio::test]
async fn a_grant_whose_channel_has_no_address_in_the_contact_is_refused() {
    let app = spawn_app().await;
    let s = app.session().await;
    // An e-mail purpose granted with only a phone number...
    let mut phone_only = s.claims("x@example.org");
    phone_only.contact.email = None;
    phone_only.contact.phone = Some("+33612345678".into());
    // ...and an SMS purpose granted with only an e-mail address.
    let mut email_only = s.claims(&unique_email());
    grant_only(&mut email_only, "offers-sms");

    let body = assert_problem(app.post_lead(&sign(&phone_only)).await, 422, "missing-address").await;
    assert!(body["detail"].as_str().unwrap().contains("newsletter-email"), "{body}");
    assert_problem(app.post_lead(&sign(&email_only)).await, 422, "missing-address").await;
    assert_eq!(app.get("/errors/missing-address").await.status(), 200);
}

#[tokio::test]
async fn a_receipt_forwarded_by_the_sites_back_end_without_an_origin_header_is_accepted() {
    let app = spawn_app().await;
    let (receipt, _) = app.valid_receipt().await;

    assert_eq!(app.post_lead_from(&receipt, None).await.status(), 201);
}

// ---- rule 1: structure, algorithm, key ----

#[tokio::test]
async fn garbage_bytes_are_a_malformed_request() {
    let app = spawn_app().await;
    let res = app.post_raw("/v1/leads", vec![0xff, 0x00, 0x13, 0x37, b'{']).await;
    assert_problem(res, 400, "malformed-request").await;
}

#[tokio::test]
async fn a_body_without_a_receipt_is_a_malformed_request() {
    let app = spawn_app().await;
    assert_problem(app.post_raw("/v1/leads", r#"{"fields":{}}"#).await, 400, "malformed-request").await;
}

#[tokio::test]
async fn a_receipt_that_is_not_a_compact_jws_is_malformed() {
    let app = spawn_app().await;
    assert_problem(app.post_lead("not.a.jws.at-all").await, 400, "malformed-jws").await;
    assert_problem(app.post_lead("abc").await, 400, "malformed-jws").await;
    assert_problem(app.post_lead("eyJhbGciOiJFZERTQSJ9==.e30.AA").await, 400, "malformed-jws").await;
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let header = serde_json::json!({"alg": "none", "typ": "consent-receipt+jwt"});
    let token = format!(
        "{}.{}.",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(serde_json::to_vec(&claims).unwrap().as_slice())
    );
    assert_problem(app.post_lead(&token).await, 400, "unsupported-alg").await;
}

#[tokio::test]
async fn alg_hs256_is_rejected() {
    use hmac::Mac;
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let header = serde_json::json!({"alg": "HS256", "typ": "consent-receipt+jwt"});
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(serde_json::to_vec(&claims).unwrap().as_slice())
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"a guessable shared secret").unwrap();
    mac.update(input.as_bytes());
    let token = format!("{input}.{}", b64::encode(&mac.finalize().into_bytes()));
    assert_problem(app.post_lead(&token).await, 400, "unsupported-alg").await;
}

#[tokio::test]
async fn a_crit_header_is_rejected() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let key = consent_e2e::random_key();
    let mut header = header_for(&key);
    header["crit"] = serde_json::json!(["exp"]);
    let token = raw_jws(&header, &serde_json::to_vec(&claims).unwrap(), &key);
    assert_problem(app.post_lead(&token).await, 400, "unsupported-header").await;
}

#[tokio::test]
async fn a_small_order_public_key_is_rejected() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let header = serde_json::json!({"alg": "EdDSA", "typ": "consent-receipt+jwt",
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64::encode(&identity)}});
    // With the identity as public key, R = identity and s = 0 "verify" under lax rules.
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let token = format!(
        "{}.{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(serde_json::to_vec(&claims).unwrap().as_slice()),
        b64::encode(&sig)
    );
    assert_problem(app.post_lead(&token).await, 400, "bad-key").await;
}

#[tokio::test]
async fn a_jwk_that_is_not_ed25519_is_rejected() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let key = consent_e2e::random_key();
    let header = serde_json::json!({"alg": "EdDSA", "typ": "consent-receipt+jwt",
        "jwk": {"kty": "OKP", "crv": "X25519", "x": b64::encode(key.verifying_key().as_bytes())}});
    let token = raw_jws(&header, &serde_json::to_vec(&claims).unwrap(), &key);
    assert_problem(app.post_lead(&token).await, 400, "bad-key").await;
}

// ---- rule 2: signature ----

#[tokio::test]
async fn a_tampered_payload_is_rejected() {
    let app = spawn_app().await;
    let (receipt, claims) = app.valid_receipt().await;
    let mut forged = claims.clone();
    forged.decisions.iter_mut().for_each(|d| d.granted = true);
    let parts: Vec<&str> = receipt.split('.').collect();
    let token = format!("{}.{}.{}", parts[0], b64::encode(&serde_json::to_vec(&forged).unwrap()), parts[2]);
    assert_problem(app.post_lead(&token).await, 401, "bad-signature").await;
}

#[tokio::test]
async fn a_tampered_header_is_rejected() {
    let app = spawn_app().await;
    let (receipt, _) = app.valid_receipt().await;
    let other = consent_e2e::random_key();
    let parts: Vec<&str> = receipt.split('.').collect();
    let token = format!("{}.{}.{}", b64::encode(header_for(&other).to_string().as_bytes()), parts[1], parts[2]);
    assert_problem(app.post_lead(&token).await, 401, "bad-signature").await;
}

#[tokio::test]
async fn a_signature_from_another_key_is_rejected() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let (shown, signer) = (consent_e2e::random_key(), consent_e2e::random_key());
    let token = raw_jws(&header_for(&shown), &serde_json::to_vec(&claims).unwrap(), &signer);
    assert_problem(app.post_lead(&token).await, 401, "bad-signature").await;
}

#[tokio::test]
async fn a_malleable_signature_with_s_plus_l_is_rejected() {
    // The group order L, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let app = spawn_app().await;
    let (receipt, _) = app.valid_receipt().await;
    let (input, sig) = receipt.rsplit_once('.').unwrap();
    let mut sig: [u8; 64] = b64::decode_array(sig).unwrap();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        sig[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L still fits in 256 bits");
    let token = format!("{input}.{}", b64::encode(&sig));
    assert_problem(app.post_lead(&token).await, 401, "bad-signature").await;
    // The original still passes: only the malleated form is refused.
    assert_eq!(app.post_lead(&receipt).await.status(), 201);
}

// ---- rule 3: schema ----

#[tokio::test]
async fn an_unknown_payload_field_is_rejected() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let token = with_payload(&claims, |v| v["marketing_ok"] = serde_json::json!(true));
    assert_problem(app.post_lead(&token).await, 422, "bad-payload").await;
}

#[tokio::test]
async fn a_single_all_flag_instead_of_one_decision_per_purpose_is_rejected() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let token = with_payload(&claims, |v| v["decisions"] = serde_json::json!({"all": true}));
    assert_problem(app.post_lead(&token).await, 422, "bad-payload").await;
}

#[tokio::test]
async fn a_receipt_without_a_nonce_fails_the_schema() {
    let app = spawn_app().await;
    let (_, claims) = app.valid_receipt().await;
    let token = with_payload(&claims, |v| {
        v.as_object_mut().unwrap().remove("nonce");
    });
    assert_problem(app.post_lead(&token).await, 422, "bad-payload").await;
}

#[tokio::test]
async fn a_malformed_email_is_rejected() {
    let app = spawn_app().await;
    let s = app.session().await;
    for bad in ["not-an-email", "alice@localhost", "a b@example.org", "Alice <alice@example.org>"] {
        let c = s.claims(bad);
        assert_problem(app.post_lead(&sign(&c)).await, 422, "bad-contact").await;
    }
}

#[tokio::test]
async fn a_phone_number_not_in_e164_is_rejected() {
    let app = spawn_app().await;
    let s = app.session().await;
    let mut c = s.claims("x@example.org");
    c.contact.phone = Some("06 12 34 56 78".into());
    assert_problem(app.post_lead(&sign(&c)).await, 422, "bad-contact").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_rejected() {
    let app = spawn_app().await;
    let big = format!(r#"{{"receipt":"{}"}}"#, "a".repeat(70 * 1024));
    assert_problem(app.post_raw("/v1/leads", big).await, 413, "body-too-large").await;
}

#[tokio::test]
async fn a_body_over_the_limit_without_a_content_length_is_rejected() {
    let app = spawn_app().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..80).map(|_| Ok(vec![b' '; 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    assert_problem(app.post_raw("/v1/leads", body).await, 413, "body-too-large").await;
}

// ---- rule 4: nonce ----

#[tokio::test]
async fn an_expired_nonce_is_rejected() {
    let app = spawn_app().await;
    let s = app.session().await;
    app.clock.advance(2 * 3600 + 1);
    let mut c = s.claims(&unique_email());
    c.iat = app.clock.now();
    c.decisions.iter_mut().for_each(|d| d.at = c.iat);
    assert_problem(app.post_lead(&sign(&c)).await, 401, "expired-nonce").await;
}

#[tokio::test]
async fn a_nonce_from_another_verifier_is_rejected() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    let foreign = other.session().await;
    let mut c = app.session().await.claims(&unique_email());
    c.nonce = foreign.nonce;
    assert_problem(app.post_lead(&sign(&c)).await, 401, "bad-nonce").await;
}

#[tokio::test]
async fn a_made_up_nonce_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.nonce = b64::encode(&[1u8; 57]);
    assert_problem(app.post_lead(&sign(&c)).await, 401, "bad-nonce").await;
}

#[tokio::test]
async fn a_nonce_issued_for_another_notice_is_rejected() {
    let app = spawn_app().await;
    let offers = app.session_for("offers", "en", SHOP).await;
    let mut c = app.session().await.claims(&unique_email());
    c.nonce = offers.nonce;
    assert_problem(app.post_lead(&sign(&c)).await, 401, "bad-nonce").await;
}

#[tokio::test]
async fn a_nonce_issued_for_another_language_of_the_notice_is_rejected() {
    let app = spawn_app().await;
    let fr = app.session_for("newsletter", "fr", SHOP).await;
    let mut c = app.session().await.claims(&unique_email());
    c.nonce = fr.nonce;
    assert_problem(app.post_lead(&sign(&c)).await, 401, "bad-nonce").await;
}

#[tokio::test]
async fn a_nonce_issued_for_another_origin_is_rejected() {
    let app =
        spawn_app_with(Options { allowed_origins: Some(vec![SHOP.into(), OTHER_SHOP.into()]), ..Options::default() })
            .await;
    let other = app.session_for("newsletter", "en", OTHER_SHOP).await;
    let mut c = app.session().await.claims(&unique_email());
    c.nonce = other.nonce;
    assert_problem(app.post_lead(&sign(&c)).await, 401, "bad-nonce").await;
}

// ---- rule 5: audience and origin ----

#[tokio::test]
async fn a_receipt_for_another_verifier_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.aud = "https://another-verifier.example".into();
    assert_problem(app.post_lead(&sign(&c)).await, 403, "wrong-audience").await;
}

#[tokio::test]
async fn an_origin_header_that_differs_from_iss_is_rejected() {
    let app =
        spawn_app_with(Options { allowed_origins: Some(vec![SHOP.into(), OTHER_SHOP.into()]), ..Options::default() })
            .await;
    let (receipt, _) = app.valid_receipt().await;
    assert_problem(app.post_lead_from(&receipt, Some(OTHER_SHOP)).await, 403, "origin-not-allowed").await;
}

#[tokio::test]
async fn an_origin_no_longer_allowed_is_rejected() {
    let keys = tempfile::tempdir().unwrap();
    let before = spawn_app_with(Options {
        keys_dir: Some(keys.path().to_path_buf()),
        allowed_origins: Some(vec![SHOP.into(), OTHER_SHOP.into()]),
        ..Options::default()
    })
    .await;
    let s = before.session_for("newsletter", "en", OTHER_SHOP).await;
    let after = spawn_app_with(Options { keys_dir: Some(keys.path().to_path_buf()), ..Options::default() }).await;

    let res = after.post_lead_from(&sign(&s.claims(&unique_email())), Some(OTHER_SHOP)).await;

    assert_problem(res, 403, "origin-not-allowed").await;
}

#[tokio::test]
async fn an_evidence_page_on_another_origin_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.evidence.page = "https://elsewhere.example/signup".into();
    assert_problem(app.post_lead(&sign(&c)).await, 403, "origin-not-allowed").await;
}

#[tokio::test]
async fn a_notice_is_not_served_to_an_origin_it_does_not_allow() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/v1/notices/newsletter", app.base))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "origin-not-allowed").await;
}

// ---- rule 6: time ----

#[tokio::test]
async fn an_iat_far_in_the_past_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.iat -= 3600;
    c.decisions.iter_mut().for_each(|d| d.at = c.iat);
    assert_problem(app.post_lead(&sign(&c)).await, 401, "clock-skew").await;
}

#[tokio::test]
async fn an_iat_far_in_the_future_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.iat += 3600;
    assert_problem(app.post_lead(&sign(&c)).await, 401, "clock-skew").await;
}

#[tokio::test]
async fn a_small_clock_difference_is_tolerated() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.iat += 120;
    assert_eq!(app.post_lead(&sign(&c)).await.status(), 201);
}

// ---- rule 7: notice ----

#[tokio::test]
async fn a_notice_that_is_no_longer_served_is_unknown() {
    let keys = tempfile::tempdir().unwrap();
    let both = spawn_app_with(Options { keys_dir: Some(keys.path().to_path_buf()), ..Options::default() }).await;
    let offers = both.session_for("offers", "en", SHOP).await;
    let only_newsletter = tempfile::tempdir().unwrap();
    std::fs::copy(both.notices_dir.join("newsletter.toml"), only_newsletter.path().join("newsletter.toml")).unwrap();
    let app = spawn_app_with(Options {
        keys_dir: Some(keys.path().to_path_buf()),
        notices_dir: Some(only_newsletter.path().to_path_buf()),
        ..Options::default()
    })
    .await;

    assert_problem(app.post_lead(&sign(&offers.claims(&unique_email()))).await, 422, "unknown-notice").await;
}

#[tokio::test]
async fn a_digest_that_names_no_published_version_is_unknown() {
    let keys = tempfile::tempdir().unwrap();
    let a = spawn_app_with(Options { keys_dir: Some(keys.path().to_path_buf()), ..Options::default() }).await;
    let s = a.session().await;
    // Another deployment sharing the keys publishes different words under the same id.
    let changed = test_notices();
    let path = changed.path().join("newsletter.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("Stay in touch", "Keep in touch");
    std::fs::write(&path, text).unwrap();
    let b = spawn_app_with(Options {
        keys_dir: Some(keys.path().to_path_buf()),
        notices_dir: Some(changed.path().to_path_buf()),
        ..Options::default()
    })
    .await;

    assert_problem(b.post_lead(&sign(&s.claims(&unique_email()))).await, 422, "unknown-notice").await;
}

#[tokio::test]
async fn an_unknown_notice_id_is_not_served() {
    let app = spawn_app().await;
    assert_problem(app.get("/v1/notices/no-such-notice").await, 404, "unknown-notice").await;
}

// ---- rule 8: decisions ----

#[tokio::test]
async fn decisions_missing_a_purpose_are_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.decisions.pop();
    assert_problem(app.post_lead(&sign(&c)).await, 422, "decisions-mismatch").await;
}

#[tokio::test]
async fn a_decision_naming_an_unknown_purpose_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.decisions.push(Decision::new("all-marketing", true, c.iat));
    assert_problem(app.post_lead(&sign(&c)).await, 422, "decisions-mismatch").await;
}

#[tokio::test]
async fn a_purpose_decided_twice_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    let first = c.decisions[0].clone();
    c.decisions[1] = first;
    assert_problem(app.post_lead(&sign(&c)).await, 422, "decisions-mismatch").await;
}

#[tokio::test]
async fn a_preticked_box_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.evidence.initially_unchecked = false;
    assert_problem(app.post_lead(&sign(&c)).await, 422, "preticked").await;
}

#[tokio::test]
async fn a_grant_without_a_trusted_gesture_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.evidence.trusted_gesture = false;
    assert_problem(app.post_lead(&sign(&c)).await, 422, "untrusted-gesture").await;
}

// ---- rule 9: minors ----

#[tokio::test]
async fn a_minor_without_a_guardian_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.age.minor = true;
    assert_problem(app.post_lead(&sign(&c)).await, 422, "guardian-required").await;
}

#[tokio::test]
async fn a_minor_refusing_everything_needs_no_guardian() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.age.minor = true;
    c.decisions.iter_mut().for_each(|d| d.granted = false);
    let res = app.post_lead(&sign(&c)).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["status"], "refused");
}

#[tokio::test]
async fn a_minor_naming_their_own_address_as_guardian_is_rejected() {
    let app = spawn_app().await;
    let email = unique_email();
    let mut c = app.session().await.claims(&email);
    c.age.minor = true;
    c.age.guardian = Some(GuardianContact { email: email.to_uppercase() });
    assert_problem(app.post_lead(&sign(&c)).await, 422, "guardian-required").await;
}

#[tokio::test]
async fn an_age_threshold_other_than_the_notices_is_rejected() {
    let app = spawn_app().await;
    let mut c = app.session().await.claims(&unique_email());
    c.age.threshold = 13;
    assert_problem(app.post_lead(&sign(&c)).await, 422, "age-mismatch").await;
}

// ---- rule 10: replay ----

#[tokio::test]
async fn a_replayed_receipt_is_rejected_and_the_first_lead_stands() {
    let app = spawn_app().await;
    let (receipt, _) = app.valid_receipt().await;
    let first = app.post_lead(&receipt).await;
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();

    assert_problem(app.post_lead(&receipt).await, 409, "replay").await;

    assert_eq!(app.state.store.count_leads().await.unwrap(), 1);
    assert!(app.state.store.lead(first["lead_id"].as_str().unwrap()).await.unwrap().is_some());
}

#[tokio::test]
async fn the_same_receipt_sent_many_times_at_once_is_accepted_exactly_once() {
    let app = spawn_app().await;
    let (receipt, _) = app.valid_receipt().await;
    let sends = (0..16).map(|_| app.post_lead(&receipt));
    let statuses: Vec<u16> = futures_util::future::join_all(sends).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 15, "{statuses:?}");
}
