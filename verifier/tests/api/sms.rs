//! SMS, the second channel: double opt-in by link, code or reply, STOP by SMS, the
//! suppression it leaves, the permissions answer with its quiet hours, the proof. These
//! use the file transport (one JSON file per SMS); `smpp.rs` runs the same over a real
//! SMPP conversation.

use std::time::Duration;

use consent_receipt::{Claims, b64};
use consent_verifier::Settings;
use consent_verifier::config::SmsSettings;
use consent_verifier::consent::access::create_key;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::helpers::*;

pub const MOBILE: &str = "+33612345678";
pub const SECRET: &str = "inbound-test-secret";

/// A unique French mobile number.
pub fn unique_mobile() -> String {
    let n = u32::from_be_bytes(b64::decode(&consent_e2e::random_jti()).unwrap()[..4].try_into().unwrap());
    // 06 12 …: a range in use (not every 06 number is in the plan).
    format!("+33612{:06}", n % 1_000_000)
}

pub fn sms_settings() -> Settings {
    Settings {
        sms: SmsSettings { sms_inbound_secret: Some(SECRET.parse().unwrap()), ..SmsSettings::default() },
        ..Settings::default()
    }
}

pub async fn app() -> TestApp {
    spawn_app_with(Options { settings: Some(sms_settings()), ..Options::default() }).await
}

/// Claims for a phone-only visitor who ticks the SMS box and nothing else.
pub fn sms_claims(s: &consent_e2e::Session, phone: &str) -> Claims {
    let mut c = s.claims("unused@example.org");
    c.contact.email = None;
    c.contact.phone = Some(phone.into());
    c.decisions.iter_mut().for_each(|d| d.granted = d.purpose == "offers-sms");
    c
}

pub async fn lead_of(res: reqwest::Response) -> String {
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "pending_confirmation", "{body}");
    body["lead_id"].as_str().unwrap().to_string()
}

/// The SMS the file transport wrote to `to`, waiting for the worker.
pub async fn sms_to(app: &TestApp, to: &str) -> serde_json::Value {
    let dir = app.data_dir.join("sms-outbox");
    for _ in 0..200 {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else { continue };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
                if v["to"] == to {
                    return v;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no SMS to {to} in {}", dir.display());
}

/// The short link and the code in an SMS's text.
pub fn link_and_code(text: &str) -> (String, String) {
    let start = text.find(&format!("{AUD}/c/")).unwrap_or_else(|| panic!("no /c/ link in {text}"));
    let link = text[start..].split_whitespace().next().unwrap().to_string();
    let code: String = text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).unwrap().to_string();
    (link, code)
}

/// POSTs an inbound SMS as an HTTP gateway would, signed with `secret`.
pub async fn inbound(app: &TestApp, from: &str, text: &str, secret: &str) -> reqwest::Response {
    let body = serde_json::json!({"from": from, "text": text}).to_string();
    let ts = app.clock.now().to_string();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.{body}").as_bytes());
    let sig = b64::encode(&mac.finalize().into_bytes());
    app.client
        .post(format!("{}/v1/sms/inbound", app.base))
        .header("content-type", "application/json")
        .header("x-consent-timestamp", ts)
        .header("x-consent-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
}

pub async fn status(app: &TestApp, lead: &str) -> String {
    app.state.store.lead(lead).await.unwrap().unwrap().status.to_string()
}

pub async fn permission(app: &TestApp, phone: &str) -> serde_json::Value {
    let k = create_key(&app.state.store, "sms", app.clock.now()).await.unwrap().1;
    let url =
        format!("{}/v1/admin/permissions?phone={}&purpose=offers-sms&channel=sms", app.base, phone.replace('+', "%2B"));
    app.client.get(url).bearer_auth(k).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_confirmation_sms_names_the_sender_carries_link_and_code_and_ends_with_stop() {
    let app = app().await;
    let s = app.session().await;
    let phone = unique_mobile();
    lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await;

    let sms = sms_to(&app, &phone).await;
    let text = sms["text"].as_str().unwrap();
    assert_eq!(sms["from"], "ATLUMIERE");
    assert!(text.starts_with("Atelier Lumière") && text.ends_with("STOP au 36111"), "{text}");
    assert!(text.contains("reply YES"), "{text}");
    link_and_code(text);
}

#[tokio::test]
async fn the_short_link_shows_the_confirmation_page_and_its_button_confirms() {
    let app = app().await;
    let s = app.session().await;
    let phone = unique_mobile();
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await;
    let (link, _) = link_and_code(sms_to(&app, &phone).await["text"].as_str().unwrap());
    let local = link.replace(AUD, &app.base);
    assert_eq!(permission(&app, &phone).await["allowed"], false, "nothing before the confirmation");

    let page = app.client.get(&local).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("offers by SMS"));
    assert_eq!(status(&app, &lead).await, "pending_confirmation", "opening the link changes nothing");
    assert_eq!(app.client.post(&local).send().await.unwrap().status(), 200);

    assert_eq!(status(&app, &lead).await, "active");
    let p = permission(&app, &phone).await;
    assert_eq!(p["allowed"], true, "{p}");
    assert!(p["send_now"].is_boolean() && p["next_send_at"].is_string(), "quiet hours in the answer: {p}");
}

#[tokio::test]
async fn the_code_confirms_and_a_wrong_code_is_refused_then_the_code_dies() {
    let app = app().await;
    let s = app.session().await;
    let (a, b) = (unique_mobile(), unique_mobile());
    let lead_a = lead_of(app.post_lead(&sign(&sms_claims(&s, &a))).await).await;
    let lead_b = lead_of(app.post_lead(&sign(&sms_claims(&s, &b))).await).await;
    let (_, code_a) = link_and_code(sms_to(&app, &a).await["text"].as_str().unwrap());
    let (_, code_b) = link_and_code(sms_to(&app, &b).await["text"].as_str().unwrap());
    let submit = |lead: String, code: String| {
        let body = serde_json::json!({"lead_id": lead, "code": code}).to_string();
        let app = &app;
        async move { app.post_raw("/v1/sms/confirmations", body).await }
    };

    let ok = submit(lead_a.clone(), code_a.clone()).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(status(&app, &lead_a).await, "active");

    let wrong = if code_b == "000000" { "000001" } else { "000000" };
    assert_problem(submit(lead_b.clone(), wrong.into()).await, 422, "bad-code").await;
    for _ in 0..4 {
        submit(lead_b.clone(), wrong.into()).await;
    }
    assert_problem(submit(lead_b.clone(), code_b).await, 422, "bad-code").await;
    assert_eq!(status(&app, &lead_b).await, "pending_confirmation");
    assert_eq!(app.get("/errors/bad-code").await.status(), 200);
}

#[tokio::test]
async fn replying_oui_confirms_and_anything_else_is_recorded_and_ignored() {
    let app = app().await;
    let s = app.session().await;
    let phone = unique_mobile();
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await;
    sms_to(&app, &phone).await;

    let other = inbound(&app, &phone, "bonjour", SECRET).await.json::<serde_json::Value>().await.unwrap();
    assert_eq!(other["action"], "ignored");
    assert_eq!(status(&app, &lead).await, "pending_confirmation");
    let yes = inbound(&app, &phone, "Oui", SECRET).await.json::<serde_json::Value>().await.unwrap();
    assert_eq!((yes["action"].as_str(), yes["leads"].as_i64()), (Some("confirmed"), Some(1)));
    assert_eq!(status(&app, &lead).await, "active");
}

#[tokio::test]
async fn an_unsigned_or_wrongly_signed_inbound_sms_is_refused() {
    let app = app().await;
    assert_problem(inbound(&app, MOBILE, "STOP", "not-the-secret").await, 401, "bad-inbound-signature").await;
    let unsigned = app.post_raw("/v1/sms/inbound", r#"{"from":"+33612345678","text":"STOP"}"#).await;
    assert_problem(unsigned, 401, "bad-inbound-signature").await;
}

#[tokio::test]
async fn stop_by_sms_withdraws_every_sms_purpose_suppresses_the_number_and_shows_in_the_proof() {
    let app = app().await;
    let s = app.session().await;
    let phone = unique_mobile();
    // One lead with both channels: the e-mail purpose must survive the STOP.
    let mut both = sms_claims(&s, &phone);
    both.contact.email = Some(unique_email());
    both.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "partner-sharing");
    let old = sms_claims(&s, &phone); // signed now, sent after the STOP
    let lead = lead_of(app.post_lead(&sign(&both)).await).await;
    let (link, _) = link_and_code(sms_to(&app, &phone).await["text"].as_str().unwrap());
    app.client.post(link.replace(AUD, &app.base)).send().await.unwrap();

    tokio::time::sleep(Duration::from_millis(1100)).await; // the STOP comes after the old receipt's iat
    let stop = inbound(&app, &phone.replace('+', ""), "ARRÊT", SECRET).await.json::<serde_json::Value>().await.unwrap();

    assert_eq!(stop["action"], "withdrawn", "{stop}");
    let stored = app.state.store.lead(&lead).await.unwrap().unwrap();
    assert_eq!((stored.granted, stored.status.as_str()), (vec!["newsletter-email".to_string()], "active"));
    assert_eq!(permission(&app, &phone).await["allowed"], false);
    assert_problem(app.post_lead(&sign(&old)).await, 409, "suppressed").await;
    let k = create_key(&app.state.store, "proof", app.clock.now()).await.unwrap().1;
    let bundle: consent_receipt::ProofBundle = app
        .client
        .get(format!("{}/v1/admin/leads/{lead}/proof", app.base))
        .bearer_auth(k)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let report = consent_receipt::verify_bundle(&bundle, None).unwrap();
    let confirmed: Vec<_> = report.confirmed.iter().map(|c| (c.1.as_str(), c.2)).collect();
    assert_eq!(confirmed, [("link", Some(consent_receipt::Channel::Sms))], "the SMS's link proves the number");
    assert_eq!(report.withdrawals[0].1, ["offers-sms"]);
    assert_eq!(report.withdrawals[0].2, "sms-stop");
}

#[tokio::test]
async fn a_landline_cannot_be_given_for_an_sms_purpose() {
    let app = app().await;
    let s = app.session().await;
    let c = sms_claims(&s, "+33142685300");
    let body = assert_problem(app.post_lead(&sign(&c)).await, 422, "bad-contact").await;
    assert!(body["detail"].as_str().unwrap().contains("mobile"), "{body}");
}

#[tokio::test]
async fn the_stored_number_is_its_e164_form_and_the_permissions_api_takes_it() {
    let app = app().await;
    let s = app.session().await;
    let phone = unique_mobile();
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await;
    let stored = app.state.store.lead_detail(&lead).await.unwrap().unwrap();
    assert_eq!(stored.summary.phone.as_deref(), Some(phone.as_str()));
    let p = permission(&app, &phone).await;
    assert_eq!(
        (p["allowed"].as_bool(), p["reason"].as_str()),
        (Some(false), Some(consent_verifier::consent::permissions::NO_CONSENT))
    );
}
