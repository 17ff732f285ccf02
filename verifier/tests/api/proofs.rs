//! Proof bundles anyone can check offline, signed checkpoints, and key rotation.

use consent_receipt::{Jwks, ProofBundle, SealClaims, VerifyError, verify_bundle};
use consent_verifier::consent::access::create_key;

use crate::helpers::*;

pub async fn bundle_of(app: &TestApp, lead: &str) -> ProofBundle {
    let k = create_key(&app.state.store, "proofs", app.clock.now()).await.unwrap().1;
    let res = app.client.get(format!("{}/v1/admin/leads/{lead}/proof", app.base)).bearer_auth(k).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A lead with a history: accepted, then withdrawn (from its own browser), then another
/// lead after it, so the store's chain runs past it.
pub async fn lead_with_history(app: &TestApp) -> (String, ProofBundle) {
    let s = app.session().await;
    let key = consent_e2e::random_key();
    let c = s.claims(&unique_email());
    let res = app.post_lead(&c.sign(&key)).await;
    let lead = res.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string();
    let res = app.withdraw(&c.jti, &key).await;
    assert_eq!(res.status(), 200);
    let (other, _) = app.valid_receipt().await;
    app.post_lead(&other).await;
    let b = bundle_of(app, &lead).await;
    (lead, b)
}

#[tokio::test]
async fn a_proof_bundle_verifies_offline_and_tells_the_whole_story() {
    let app = spawn_app().await;
    let (lead, b) = lead_with_history(&app).await;
    let published: Jwks = app.get("/.well-known/jwks.json").await.json().await.unwrap();

    let report = verify_bundle(&b, Some(&published)).expect("the bundle holds");

    assert_eq!(report.lead_id, lead);
    assert_eq!(report.granted.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(), ["newsletter-email"]);
    assert_eq!(report.refused.len(), 2, "partner-sharing and offers-sms");
    assert_eq!(report.withdrawals.len(), 1);
    assert_eq!(report.status, "withdrawn");
    assert_eq!(report.history.first().unwrap().1, "accepted");
    assert!(report.checkpoint.0 >= b.events.last().unwrap().seq, "the checkpoint covers the events");
    assert_eq!(
        b.notice.digest(),
        serde_json::from_slice::<serde_json::Value>(
            &consent_receipt::b64::decode(b.receipt.split('.').nth(1).unwrap()).unwrap()
        )
        .unwrap()["notice"]["digest"]
    );
}

#[tokio::test]
async fn verify_catches_an_altered_receipt() {
    let app = spawn_app().await;
    let (_, mut b) = lead_with_history(&app).await;
    let (head, rest) = b.receipt.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&consent_receipt::b64::decode(payload).unwrap()).unwrap();
    claims["decisions"][1]["granted"] = true.into();
    b.receipt = format!("{head}.{}.{sig}", consent_receipt::b64::encode(claims.to_string().as_bytes()));
    assert_eq!(verify_bundle(&b, None).unwrap_err(), VerifyError::BadSignature);
}

#[tokio::test]
async fn verify_catches_an_altered_notice_text() {
    let app = spawn_app().await;
    let (_, mut b) = lead_with_history(&app).await;
    b.notice.purposes[1].text = "Nothing will ever be shared.".into();
    assert!(matches!(verify_bundle(&b, None), Err(VerifyError::BadProof(why)) if why.contains("notice text")));
}

#[tokio::test]
async fn verify_catches_a_removed_event() {
    let app = spawn_app().await;
    let (_, b) = lead_with_history(&app).await;
    assert!(b.events.len() >= 3, "{:?}", b.events.iter().map(|e| &e.kind).collect::<Vec<_>>());
    let mut middle = b.clone();
    middle.events.remove(1);
    assert!(matches!(verify_bundle(&middle, None), Err(VerifyError::BadProof(why)) if why.contains("missing")));
    // Hiding the end of the story (the withdrawal) fails too.
    let mut tail = b.clone();
    tail.events.pop();
    tail.events.pop();
    assert!(
        matches!(verify_bundle(&tail, None), Err(VerifyError::BadProof(why)) if why.contains("missing from the end"))
    );
}

#[tokio::test]
async fn verify_catches_an_event_from_another_lead() {
    let app = spawn_app().await;
    let (_, mut b) = lead_with_history(&app).await;
    let (other, _) = app.valid_receipt().await;
    let res = app.post_lead(&other).await;
    let other_lead = res.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string();
    let foreign = app.state.store.lead_events(&other_lead).await.unwrap().remove(0);
    b.events.push(foreign);
    assert!(matches!(verify_bundle(&b, None), Err(VerifyError::BadProof(why)) if why.contains("another lead")));
}

#[tokio::test]
async fn verify_catches_a_seal_from_an_unknown_key() {
    let app = spawn_app().await;
    let (lead, mut b) = lead_with_history(&app).await;
    let stranger = consent_e2e::random_key();
    b.seal = SealClaims {
        receipt_sha256: consent_receipt::sha256_b64(&b.receipt),
        jti: "x".into(),
        lead_id: lead,
        status: "active".into(),
        iat: 1,
    }
    .sign(&stranger);
    assert!(matches!(verify_bundle(&b, None), Err(VerifyError::UnknownKey(_))));
}

#[tokio::test]
async fn the_cli_checks_a_bundle_offline_and_prints_an_account() {
    let app = spawn_app().await;
    let (_, b) = lead_with_history(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    std::fs::write(&file, serde_json::to_string_pretty(&b).unwrap()).unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_consent-verifier")).arg("verify").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("holds") && text.contains("WITHDRAWN") && text.contains("granted: newsletter-email"),
        "{text}"
    );

    let mut tampered = b.clone();
    tampered.events.remove(1);
    std::fs::write(&file, serde_json::to_string(&tampered).unwrap()).unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_consent-verifier")).arg("verify").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("bad-proof"));
}

#[tokio::test]
async fn the_latest_checkpoint_is_signed_and_public() {
    let app = spawn_app().await;
    let (receipt, _) = app.valid_receipt().await;
    app.post_lead(&receipt).await;
    consent_verifier::consent::proof::checkpoint_now(&app.state).await.unwrap();

    let body: serde_json::Value = app.get("/v1/checkpoints/latest").await.json().await.unwrap();

    let jwks: Jwks = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    let (claims, _): (consent_receipt::CheckpointClaims, String) =
        consent_receipt::verify_statement(body["checkpoint"].as_str().unwrap(), consent_receipt::CHECKPOINT_TYP, &jwks)
            .unwrap();
    assert!(claims.count >= 1);
    assert_eq!(body["count"], claims.count);
}

#[tokio::test]
async fn a_rotated_key_signs_new_seals_and_the_old_one_stays_published() {
    let keys = tempfile::tempdir().unwrap();
    let app = spawn_app_with(Options { keys_dir: Some(keys.path().to_path_buf()), ..Options::default() }).await;
    let (before, _) = app.valid_receipt().await;
    let old_seal =
        app.post_lead(&before).await.json::<serde_json::Value>().await.unwrap()["seal"].as_str().unwrap().to_string();

    let new_kid = consent_verifier::keys::KeyRing::rotate(keys.path()).unwrap();
    consent_verifier::consent::proof::reload_keys(&app.state);

    let (after, _) = app.valid_receipt().await;
    let new_seal =
        app.post_lead(&after).await.json::<serde_json::Value>().await.unwrap()["seal"].as_str().unwrap().to_string();
    let jwks: Jwks = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    assert_eq!(jwks.keys.len(), 2);
    assert_eq!(consent_receipt::verify_seal_of(&new_seal, &after, &jwks).unwrap().kid, new_kid);
    assert_ne!(
        consent_receipt::verify_seal_of(&old_seal, &before, &jwks).unwrap().kid,
        new_kid,
        "old seals still check"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_of_a_chain_that_grows_while_it_runs_finds_it_intact() {
    use consent_verifier::consent::audit::{Audit, verify_chain};
    let app = spawn_app().await;
    let writer = async {
        for _ in 0..30 {
            let (receipt, _) = app.valid_receipt().await;
            assert_eq!(app.post_lead(&receipt).await.status(), 201);
        }
    };
    let auditor = async {
        let mut audits = 0;
        for _ in 0..60 {
            match verify_chain(&app.state.store).await.unwrap() {
                Audit::Intact { .. } => audits += 1,
                Audit::Broken { seq, why } => panic!("a growing chain is not a broken one: {seq}: {why}"),
            }
        }
        audits
    };
    let ((), audits) = tokio::join!(writer, auditor);
    assert_eq!(audits, 60);
}

#[tokio::test]
async fn the_page_checker_gives_the_same_account_as_the_library_and_names_what_fails() {
    let app = spawn_app().await;
    let (lead, b) = lead_with_history(&app).await;
    let text = serde_json::to_string(&b).unwrap();
    let jwks = app.get("/.well-known/jwks.json").await.text().await.unwrap();

    let page: serde_json::Value = serde_json::from_str(&consent_receipt_wasm::check(&text, "", &jwks, "")).unwrap();
    let report = verify_bundle(&b, Some(&serde_json::from_str(&jwks).unwrap())).unwrap();

    assert_eq!((page["ok"].as_bool(), page["kind"].as_str()), (Some(true), Some("bundle")), "{page}");
    assert_eq!(page["lead_id"], lead);
    assert_eq!(page["granted"][0]["id"], report.granted[0].0);
    assert_eq!(page["withdrawals"][0]["source"], report.withdrawals[0].2);
    assert_eq!(page["history"].as_array().unwrap().len(), report.history.len());
    assert_eq!(page["keys_from_bundle"], false);

    let mut altered = b.clone();
    altered.notice.purposes[0].text.push_str(" (and more)");
    let page: serde_json::Value =
        serde_json::from_str(&consent_receipt_wasm::check(&serde_json::to_string(&altered).unwrap(), "", "", ""))
            .unwrap();
    assert_eq!((page["ok"].as_bool(), page["code"].as_str()), (Some(false), Some("bad-proof")), "{page}");
    assert!(page["message"].as_str().unwrap().contains("notice text"), "{page}");
}
