//! After the tick: double opt-in, guardian approval, withdrawal, suppression, retention,
//! over a real SMTP conversation with a sink on a loopback port.

use std::time::Duration;

use consent_e2e::smtp::{ReceivedMail, SmtpSink};
use consent_receipt::{GuardianContact, GuardianFor, WithdrawalClaims};
use consent_verifier::Settings;
use consent_verifier::config::{MailTransport, SmtpTls};

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(10);

async fn app_with_smtp(sink: &SmtpSink) -> TestApp {
    spawn_app_with(Options { settings: Some(smtp_settings(sink.port())), ..Options::default() }).await
}

pub fn smtp_settings(port: u16) -> Settings {
    Settings {
        mail_transport: Some(MailTransport::Smtp),
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(port),
        smtp_tls: Some(SmtpTls::None),
        mail_from: Some("no-reply@verifier.test".into()),
        ..Settings::default()
    }
}

/// The first `https://verifier.test/<path>/<token>` link in the mail's text.
fn link_in(mail: &ReceivedMail, path: &str) -> String {
    let text = mail.text_part("text/plain").expect("a text part");
    let start = text.find(&format!("{AUD}/{path}/")).unwrap_or_else(|| panic!("no /{path}/ link in:\n{text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

fn local(url: &str, app: &TestApp) -> String {
    url.replace(AUD, &app.base)
}

async fn lead_id_of(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string()
}

async fn status_of(app: &TestApp, lead: &str) -> String {
    app.state.store.lead(lead).await.unwrap().unwrap().status.to_string()
}

async fn kinds(app: &TestApp, lead: &str) -> Vec<String> {
    app.state.store.lead_events(lead).await.unwrap().into_iter().map(|e| e.kind).collect()
}

/// Waits until the lead's events include `kind` (the worker appends them after sending).
async fn wait_event(app: &TestApp, lead: &str, kind: &str) {
    for _ in 0..200 {
        if kinds(app, lead).await.iter().any(|k| k == kind) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {kind} event for {lead}: {:?}", kinds(app, lead).await);
}

#[tokio::test]
async fn the_double_opt_in_mail_arrives_over_smtp_with_one_click_unsubscribe_headers() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let (receipt, claims) = app.valid_receipt().await;

    let lead = lead_id_of(app.post_lead(&receipt).await).await;

    let mails = sink.wait_for(1, WAIT).await.unwrap();
    let mail = &mails[0];
    assert_eq!(mail.to, [claims.contact.email.clone().unwrap()]);
    let (name, address) = mail.from_header().unwrap();
    assert_eq!(name.as_deref(), Some("Atelier Lumière SAS"), "the controller is the sender");
    assert_eq!(address, "no-reply@verifier.test");
    let unsubscribe = mail.header("List-Unsubscribe").unwrap();
    assert!(unsubscribe.starts_with(&format!("<{AUD}/v1/unsubscribe/")) && unsubscribe.ends_with('>'), "{unsubscribe}");
    assert_eq!(mail.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(mail.subject().unwrap().starts_with("Please confirm"), "English notice, English mail");
    let text = mail.text_part("text/plain").unwrap();
    let html = mail.text_part("text/html").unwrap();
    assert!(text.contains("/confirm/") && html.contains("/confirm/"));
    assert!(
        text.contains("Atelier Lumière SAS") && text.contains("/unsubscribe/"),
        "sender identity and a way out in the body"
    );
    assert!(mail.message_id().is_some());
    wait_event(&app, &lead, "confirmation_sent").await;
    assert_eq!(status_of(&app, &lead).await, "pending_confirmation", "nothing is active before the click");
}

#[tokio::test]
async fn a_confirmation_link_works_once_and_get_never_changes_state() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let (receipt, _) = app.valid_receipt().await;
    let lead = lead_id_of(app.post_lead(&receipt).await).await;
    let link = local(&link_in(&sink.wait_for(1, WAIT).await.unwrap()[0], "confirm"), &app);
    wait_event(&app, &lead, "confirmation_sent").await;
    let before = kinds(&app, &lead).await;

    for _ in 0..3 {
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("<form method=\"post\""), "a page with a button");
    }
    assert_eq!(status_of(&app, &lead).await, "pending_confirmation", "GET (a mail scanner) changes nothing");
    assert_eq!(kinds(&app, &lead).await, before);

    let confirmed = app.client.post(&link).send().await.unwrap();
    assert_eq!(confirmed.status(), 200);
    let page = confirmed.text().await.unwrap();
    assert!(page.contains("/unsubscribe/"), "the confirmation page carries the way out");
    assert_eq!(status_of(&app, &lead).await, "active");
    assert!(kinds(&app, &lead).await.contains(&"confirmed".to_string()));

    let again = app.client.post(&link).send().await.unwrap();
    assert_eq!(again.status(), 409, "single-use");
    assert_eq!(kinds(&app, &lead).await.iter().filter(|k| *k == "confirmed").count(), 1);
}

#[tokio::test]
async fn declining_on_the_confirmation_page_is_as_easy_as_confirming() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let (receipt, _) = app.valid_receipt().await;
    let lead = lead_id_of(app.post_lead(&receipt).await).await;
    let link = local(&link_in(&sink.wait_for(1, WAIT).await.unwrap()[0], "confirm"), &app);
    let page = app.client.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("action=\"/confirm/{}/decline\"", link.rsplit('/').next().unwrap())));
    assert!(page.contains("Atelier Lumière SAS"), "the sender is named");

    let declined = app.client.post(format!("{link}/decline")).send().await.unwrap();

    assert_eq!(declined.status(), 200);
    assert_eq!(status_of(&app, &lead).await, "withdrawn");
    assert_eq!(app.client.post(&link).send().await.unwrap().status(), 409, "the confirmation link died with it");
}

#[tokio::test]
async fn an_expired_confirmation_link_offers_a_new_mail_and_only_the_new_link_works() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let (receipt, _) = app.valid_receipt().await;
    let lead = lead_id_of(app.post_lead(&receipt).await).await;
    let old = local(&link_in(&sink.wait_for(1, WAIT).await.unwrap()[0], "confirm"), &app);

    app.clock.advance(8 * 24 * 3600);

    let page = app.client.get(&old).send().await.unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("/resend"));
    assert_eq!(app.client.post(&old).send().await.unwrap().status(), 410, "an expired link does not confirm");
    assert_eq!(status_of(&app, &lead).await, "pending_confirmation");

    assert_eq!(app.client.post(format!("{old}/resend")).send().await.unwrap().status(), 200);
    let mails = sink.wait_for(2, WAIT).await.unwrap();
    let new = local(&link_in(&mails[1], "confirm"), &app);
    assert_ne!(new, old);
    assert_eq!(app.client.post(&old).send().await.unwrap().status(), 409, "the old link died");
    assert_eq!(app.client.post(&new).send().await.unwrap().status(), 200);
    assert_eq!(status_of(&app, &lead).await, "active");
}

async fn minor_lead(app: &TestApp, lang: &str, guardian: &str) -> (String, consent_receipt::Claims) {
    let s = app.session_for("newsletter", lang, SHOP).await;
    let mut c = s.claims(&unique_email());
    c.age.minor = true;
    c.age.guardian = Some(GuardianContact { email: guardian.into() });
    let lead = lead_id_of(app.post_lead(&sign(&c)).await).await;
    (lead, c)
}

/// The parent's own receipt, from the guardian page (the verifier's origin).
async fn guardian_receipt(app: &TestApp, child: &consent_receipt::Claims, guardian: &str, agree: bool) -> String {
    let s = app.session_for("newsletter", &child.notice.lang, AUD).await;
    let mut c = s.claims(guardian);
    for d in &mut c.decisions {
        d.granted = agree && child.decisions.iter().any(|cd| cd.purpose == d.purpose && cd.granted);
    }
    c.guardian_for = Some(GuardianFor { jti: child.jti.clone() });
    sign(&c)
}

#[tokio::test]
async fn the_guardian_mail_reaches_the_guardian_in_the_notices_language_and_nothing_reaches_the_child() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let guardian = unique_email();

    let (lead, child) = minor_lead(&app, "fr", &guardian).await;

    let mails = sink.wait_for(1, WAIT).await.unwrap();
    assert_eq!(mails[0].to, std::slice::from_ref(&guardian));
    assert!(
        mails[0].subject().unwrap().contains("Votre accord"),
        "French notice, French mail: {:?}",
        mails[0].subject()
    );
    let text = mails[0].text_part("text/plain").unwrap();
    let child_email = child.contact.email.clone().unwrap();
    assert!(
        text.contains(&format!("{}***@example.org", &child_email[..1])),
        "names the child's contact, masked:\n{text}"
    );
    assert!(text.contains("autorité parentale"));
    assert!(text.contains("lettre d'information"), "explains what the child asked for");
    assert!(mails[0].header("List-Unsubscribe").is_some());
    wait_event(&app, &lead, "guardian_requested").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "no mail to the child before the parent agrees");
    assert_eq!(status_of(&app, &lead).await, "awaiting_guardian");
}

#[tokio::test]
async fn a_guardian_approval_moves_the_lead_on_and_keeps_both_receipts() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let guardian = unique_email();
    let (lead, child) = minor_lead(&app, "en", &guardian).await;
    let link = link_in(&sink.wait_for(1, WAIT).await.unwrap()[0], "guardian");
    let token = link.rsplit('/').next().unwrap().to_string();
    let page = app.client.get(local(&link, &app)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-mode=\"guardian\"") && page.contains(&child.jti), "the guardian page holds the widget");

    let receipt = guardian_receipt(&app, &child, &guardian, true).await;
    let res = app
        .client
        .post(format!("{}/v1/guardian-approvals", app.base))
        .json(&serde_json::json!({"receipt": receipt, "token": token}))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "pending_confirmation");
    let jwks: consent_receipt::Jwks = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    consent_receipt::verify_seal_of(body["seal"].as_str().unwrap(), &receipt, &jwks)
        .expect("the parent's receipt is sealed too");
    let mails = sink.wait_for(2, WAIT).await.unwrap();
    assert_eq!(mails[1].to, [child.contact.email.clone().unwrap()], "now the child confirms");
    assert!(kinds(&app, &lead).await.contains(&"guardian_approved".to_string()));
    let stored = app.state.store.guardian_receipts(&lead).await.unwrap().len();
    assert_eq!(stored, 1, "the child's and the parent's receipts are both kept");
    let again = app
        .client
        .post(format!("{}/v1/guardian-approvals", app.base))
        .json(&serde_json::json!({"receipt": guardian_receipt(&app, &child, &guardian, true).await, "token": token}))
        .send()
        .await
        .unwrap();
    assert_problem(again, 409, "token-used").await;
}

#[tokio::test]
async fn a_guardian_refusal_ends_the_lead_and_nothing_is_sent_to_the_child() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let guardian = unique_email();
    let (lead, child) = minor_lead(&app, "en", &guardian).await;
    let token = link_in(&sink.wait_for(1, WAIT).await.unwrap()[0], "guardian").rsplit('/').next().unwrap().to_string();

    let receipt = guardian_receipt(&app, &child, &guardian, false).await;
    let res = app
        .client
        .post(format!("{}/v1/guardian-approvals", app.base))
        .json(&serde_json::json!({"receipt": receipt, "token": token}))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["status"], "refused_by_guardian");
    assert_eq!(status_of(&app, &lead).await, "refused_by_guardian");
    assert!(kinds(&app, &lead).await.contains(&"guardian_refused".to_string()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn a_guardian_receipt_for_another_child_or_from_another_address_is_refused() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let guardian = unique_email();
    let (_, child) = minor_lead(&app, "en", &guardian).await;
    let (_, other_child) = minor_lead(&app, "en", &unique_email()).await;
    let mails = sink.wait_for(2, WAIT).await.unwrap();
    let mail = mails.iter().find(|m| m.to == [guardian.clone()]).unwrap();
    let token = link_in(mail, "guardian").rsplit('/').next().unwrap().to_string();
    let post = |receipt: String| {
        app.client
            .post(format!("{}/v1/guardian-approvals", app.base))
            .json(&serde_json::json!({"receipt": receipt, "token": token}))
            .send()
    };

    let for_other = guardian_receipt(&app, &other_child, &guardian, true).await;
    assert_problem(post(for_other).await.unwrap(), 422, "guardian-mismatch").await;
    let from_elsewhere = guardian_receipt(&app, &child, &unique_email(), true).await;
    assert_problem(post(from_elsewhere).await.unwrap(), 422, "guardian-mismatch").await;
}

#[tokio::test]
async fn one_click_unsubscribe_withdraws_at_once_without_cookies_and_get_does_not() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let (receipt, _) = app.valid_receipt().await;
    let lead = lead_id_of(app.post_lead(&receipt).await).await;
    let mail = &sink.wait_for(1, WAIT).await.unwrap()[0];
    let one_click = local(mail.header("List-Unsubscribe").unwrap().trim_matches(['<', '>']), &app);

    let get = app.client.get(&one_click).send().await.unwrap();
    assert_eq!(get.status(), 405, "RFC 8058: only the POST unsubscribes");
    assert_eq!(status_of(&app, &lead).await, "pending_confirmation");
    let wrong = app.client.post(&one_click).body("hello").send().await.unwrap();
    assert_problem(wrong, 400, "malformed-request").await;

    let res = reqwest::Client::new()
        .post(&one_click)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(status_of(&app, &lead).await, "withdrawn");
    let k = kinds(&app, &lead).await;
    assert!(k.contains(&"withdrawn".to_string()) && k.contains(&"suppressed".to_string()), "{k:?}");
}

#[tokio::test]
async fn withdrawal_from_the_page_is_per_purpose_or_all_and_the_get_page_changes_nothing() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let s = app.session().await;
    let mut c = s.claims(&unique_email());
    // Both e-mail purposes (the SMS one would need a phone number).
    c.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "offers-sms");
    let lead = lead_id_of(app.post_lead(&sign(&c)).await).await;
    let page = local(&link_in(&sink.wait_for(1, WAIT).await.unwrap()[0], "unsubscribe"), &app);

    let html = app.client.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Withdraw everything") && html.contains("name=\"purpose\""));
    assert_eq!(app.state.store.lead(&lead).await.unwrap().unwrap().granted.len(), 2);

    let one = app.client.post(&page).form(&[("purpose", "partner-sharing")]).send().await.unwrap();
    assert_eq!(one.status(), 200);
    let stored = app.state.store.lead(&lead).await.unwrap().unwrap();
    assert_eq!(stored.granted, ["newsletter-email"]);
    assert_eq!(stored.status.as_str(), "pending_confirmation", "the other purpose stands");

    let all = app.client.post(&page).form(&[("x", "")]).send().await.unwrap();
    assert_eq!(all.status(), 200);
    assert_eq!(status_of(&app, &lead).await, "withdrawn");
}

#[tokio::test]
async fn a_withdrawn_address_is_refused_with_an_older_receipt_and_only_a_confirmed_fresh_consent_lifts_it() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let email = unique_email();
    let s = app.session().await;
    let first = s.claims(&email);
    let signed_before = s.claims(&email);
    let old_receipt = sign(&signed_before);
    let lead = lead_id_of(app.post_lead(&sign(&first)).await).await;
    let mail = &sink.wait_for(1, WAIT).await.unwrap()[0];
    app.clock.advance(5);
    let one_click = local(mail.header("List-Unsubscribe").unwrap().trim_matches(['<', '>']), &app);
    app.client.post(&one_click).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(status_of(&app, &lead).await, "withdrawn");

    assert_problem(app.post_lead(&old_receipt).await, 409, "suppressed").await;

    app.clock.advance(1);
    let fresh_session = app.session().await;
    let mut fresh = fresh_session.claims(&email.to_uppercase().replace("@EXAMPLE.ORG", "@example.org"));
    fresh.iat = app.clock.now();
    fresh.decisions.iter_mut().for_each(|d| d.at = fresh.iat);
    let new_lead = lead_id_of(app.post_lead(&sign(&fresh)).await).await;
    assert_eq!(status_of(&app, &new_lead).await, "pending_confirmation");
    assert!(
        !kinds(&app, &new_lead).await.contains(&"suppression_lifted".to_string()),
        "an accepted consent that waits for its double opt-in lifts nothing"
    );
    let key = consent_verifier::consent::access::create_key(&app.state.store, "crm", app.clock.now()).await.unwrap().1;
    let ask = || async {
        let url = format!("{}/v1/admin/permissions?email={email}&purpose=newsletter-email&channel=email", app.base);
        app.client.get(url).bearer_auth(&key).send().await.unwrap().json::<serde_json::Value>().await.unwrap()
    };
    let waiting = ask().await;
    assert_eq!(waiting["allowed"], false, "{waiting}");
    assert_eq!(waiting["reason"], consent_verifier::consent::permissions::WITHDRAWN_NEWER_WAITING, "it says why");
    assert_problem(app.post_lead(&old_receipt).await, 409, "suppressed").await;

    let mails = sink.wait_for(2, WAIT).await.unwrap();
    let confirm = local(&link_in(&mails[1], "confirm"), &app);
    assert_eq!(app.client.post(&confirm).send().await.unwrap().status(), 200);
    assert_eq!(status_of(&app, &new_lead).await, "active");
    assert!(kinds(&app, &new_lead).await.contains(&"suppression_lifted".to_string()), "the complete consent lifts it");
    let allowed = ask().await;
    assert_eq!(allowed["allowed"], true, "{allowed}");
}

#[tokio::test]
async fn a_withdrawal_signed_by_the_same_browser_key_withdraws_and_no_other_key_can() {
    let app = spawn_app().await;
    let s = app.session().await;
    let key = consent_e2e::random_key();
    let c = s.claims(&unique_email());
    let lead = lead_id_of(app.post_lead(&c.sign(&key)).await).await;
    let withdrawal = |k: &consent_receipt::SigningKey| {
        serde_json::json!({"withdrawal": WithdrawalClaims {
            jti: consent_e2e::random_jti(),
            iat: app.clock.now(),
            aud: AUD.into(),
            receipt_jti: c.jti.clone(),
            purposes: None,
        }.sign(k)})
    };

    let stranger = app
        .client
        .post(format!("{}/v1/withdrawals", app.base))
        .json(&withdrawal(&consent_e2e::random_key()))
        .send()
        .await
        .unwrap();
    assert_problem(stranger, 403, "not-your-receipt").await;
    assert_eq!(status_of(&app, &lead).await, "pending_confirmation");

    let body = withdrawal(&key);
    let mine = app.client.post(format!("{}/v1/withdrawals", app.base)).json(&body).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(status_of(&app, &lead).await, "withdrawn");
    let replay = app.client.post(format!("{}/v1/withdrawals", app.base)).json(&body).send().await.unwrap();
    assert_problem(replay, 409, "replay").await;
}

#[tokio::test]
async fn a_withdrawal_before_the_mail_leaves_cancels_it() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_accepting(false);
    let app = app_with_smtp(&sink).await;
    let s = app.session().await;
    let key = consent_e2e::random_key();
    let c = s.claims(&unique_email());
    lead_id_of(app.post_lead(&c.sign(&key)).await).await;
    let res = app.withdraw(&c.jti, &key).await;
    assert_eq!(res.status(), 200);

    sink.set_accepting(true);
    app.clock.advance(60);
    tokio::time::sleep(Duration::from_secs(2)).await;

    assert!(sink.messages().is_empty(), "no confirmation mail after a withdrawal");
}

#[tokio::test]
async fn the_retention_purge_deletes_old_leads_and_keeps_the_chain_and_the_suppressions() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let (receipt, _) = app.valid_receipt().await;
    let lead = lead_id_of(app.post_lead(&receipt).await).await;
    let mail = &sink.wait_for(1, WAIT).await.unwrap()[0];
    let one_click = local(mail.header("List-Unsubscribe").unwrap().trim_matches(['<', '>']), &app);
    app.client.post(&one_click).body("List-Unsubscribe=One-Click").send().await.unwrap();
    let (recent, _) = app.valid_receipt().await;

    app.clock.advance(3 * 365 * 24 * 3600 + 2 * 24 * 3600);
    let mut recent_claims = app.session().await.claims(&unique_email());
    recent_claims.iat = app.clock.now();
    recent_claims.decisions.iter_mut().for_each(|d| d.at = recent_claims.iat);
    let _ = recent;
    let kept = lead_id_of(app.post_lead(&sign(&recent_claims)).await).await;

    let purged = consent_verifier::consent::retention::purge_once(&app.state).await.unwrap();

    assert_eq!(purged, 1);
    assert!(app.state.store.lead(&lead).await.unwrap().is_none(), "the old lead's data is gone");
    assert!(app.state.store.lead(&kept).await.unwrap().is_some(), "a recent lead stays");
    assert!(kinds(&app, &lead).await.contains(&"purged".to_string()), "its events stay, with a purged event");
    let suppressions = app.state.store.count_suppressions().await.unwrap();
    assert_eq!(suppressions, 1, "the withdrawal outlives the data");
    assert!(matches!(
        consent_verifier::consent::audit::verify_chain(&app.state.store).await.unwrap(),
        consent_verifier::consent::audit::Audit::Intact { .. }
    ));
}

#[tokio::test]
async fn every_transition_is_an_event_in_the_chain() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let (receipt, _) = app.valid_receipt().await;
    let lead = lead_id_of(app.post_lead(&receipt).await).await;
    let mail = &sink.wait_for(1, WAIT).await.unwrap()[0];
    app.client.post(local(&link_in(mail, "confirm"), &app)).send().await.unwrap();
    wait_event(&app, &lead, "confirmation_sent").await;
    let one_click = local(mail.header("List-Unsubscribe").unwrap().trim_matches(['<', '>']), &app);
    app.client.post(&one_click).body("List-Unsubscribe=One-Click").send().await.unwrap();

    let k = kinds(&app, &lead).await;
    for kind in ["accepted", "confirmation_sent", "confirmed", "withdrawn", "suppressed"] {
        assert!(k.contains(&kind.to_string()), "{kind} missing from {k:?}");
    }
    let events = app.state.store.lead_events(&lead).await.unwrap();
    assert!(events.iter().all(|e| e.hash_holds()));
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("@example.org"), "events hold no contact data");
}

#[test]
fn audit_verify_detects_an_edited_event_row() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let app = spawn_app_with(Options { data_dir: Some(data.path().to_path_buf()), ..Options::default() }).await;
        for _ in 0..3 {
            let (receipt, _) = app.valid_receipt().await;
            assert_eq!(app.post_lead(&receipt).await.status(), 201);
        }
        app.stop().await;
    });
    let audit = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_consent-verifier"))
            .args(["audit", "verify", "--data-dir"])
            .arg(data.path())
            .arg("--database-url")
            .arg(consent_e2e::db::database_url(data.path()))
            .output()
            .unwrap()
    };
    let ok = audit();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("The event chain is intact"));

    rt.block_on(async {
        let pool = consent_e2e::db::pool(data.path()).await.unwrap();
        sqlx::query("UPDATE events SET data = '{\"status\":\"active\"}' WHERE seq = 2").execute(&pool).await.unwrap();
        pool.close().await;
    });
    let broken = audit();
    let out = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{out}");
    assert!(out.contains("BROKEN at event 2") && out.contains("edited"), "{out}");
}
