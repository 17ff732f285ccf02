//! Double opt-in per channel: a lead that asks for e-mail and SMS purposes is sent a mail
//! and an SMS, and each confirmation proves one address. The mail's link makes only the
//! e-mail purposes contactable; the SMS's link, code or OUI only the SMS purposes.

use consent_e2e::smtp::SmtpSink;
use consent_receipt::{Channel, Claims, ProofBundle};
use consent_verifier::Settings;
use consent_verifier::consent::access::create_key;
use consent_verifier::consent::permissions::UNCONFIRMED;

use crate::helpers::*;
use crate::lifecycle::smtp_settings;
use crate::retention::{link_in, mail_to};
use crate::sms::{inbound, lead_of, link_and_code, permission, sms_claims, sms_settings, sms_to, unique_mobile};

/// A verifier that mails over SMTP to `sink` and sends SMS to files.
pub async fn app(sink: &SmtpSink) -> TestApp {
    let settings = Settings { sms: sms_settings().sms, ..smtp_settings(sink.port()) };
    spawn_app_with(Options { settings: Some(settings), ..Options::default() }).await
}

/// A visitor who gives an address and a number and ticks the e-mail and the SMS boxes.
fn both(s: &consent_e2e::Session, email: &str, phone: &str) -> Claims {
    let mut c = sms_claims(s, phone);
    c.contact.email = Some(email.into());
    c.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "partner-sharing");
    c
}

async fn may_mail(app: &TestApp, email: &str) -> serde_json::Value {
    let k = create_key(&app.state.store, "mail", app.clock.now()).await.unwrap().1;
    let url = format!("{}/v1/admin/permissions?email={email}&purpose=newsletter-email&channel=email", app.base);
    app.client.get(url).bearer_auth(k).send().await.unwrap().json().await.unwrap()
}

async fn code(app: &TestApp, lead: &str, code: &str) -> reqwest::Response {
    let body = serde_json::json!({"lead_id": lead, "code": code}).to_string();
    app.post_raw("/v1/sms/confirmations", body).await
}

async fn admin_lead(app: &TestApp, lead: &str) -> serde_json::Value {
    let k = create_key(&app.state.store, "view", app.clock.now()).await.unwrap().1;
    let url = format!("{}/v1/admin/leads/{lead}", app.base);
    app.client.get(url).bearer_auth(k).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_confirmed_mail_does_not_make_the_sms_purposes_contactable() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app(&sink).await;
    let s = app.session().await;
    let (email, phone) = (unique_email(), unique_mobile());
    let lead = lead_of(app.post_lead(&sign(&both(&s, &email, &phone))).await).await;
    let (_, sms_code) = link_and_code(sms_to(&app, &phone).await["text"].as_str().unwrap());
    let confirm = link_in(&app, &mail_to(&sink, &email).await, "confirm");

    assert_eq!(app.client.post(&confirm).send().await.unwrap().status(), 200);

    assert_eq!(may_mail(&app, &email).await["allowed"], true, "the mail proved the address");
    let sms = permission(&app, &phone).await;
    assert_eq!((sms["allowed"].as_bool(), sms["reason"].as_str()), (Some(false), Some(UNCONFIRMED)), "{sms}");
    assert_eq!(admin_lead(&app, &lead).await["confirmed_channels"], serde_json::json!(["email"]));
    let half = consent_receipt::verify_bundle(&crate::proofs::bundle_of(&app, &lead).await, None).unwrap();
    assert_eq!(half.in_force, ["newsletter-email"], "the proof too says the SMS purpose is not in force yet");
    let partner_check = half.granted_to("Éditions Papillon SARL");
    assert!(partner_check.is_empty(), "partner sharing was not granted: {partner_check:?}");

    assert_eq!(code(&app, &lead, &sms_code).await.status(), 200, "the code still confirms the number");
    assert_eq!(permission(&app, &phone).await["allowed"], true);
    assert_eq!(admin_lead(&app, &lead).await["confirmed_channels"], serde_json::json!(["email", "sms"]));
    assert_problem(code(&app, &lead, &sms_code).await, 422, "bad-code").await;

    let k = create_key(&app.state.store, "proof", app.clock.now()).await.unwrap().1;
    let url = format!("{}/v1/admin/leads/{lead}/proof", app.base);
    let bundle: ProofBundle = app.client.get(url).bearer_auth(k).send().await.unwrap().json().await.unwrap();
    let report = consent_receipt::verify_bundle(&bundle, None).unwrap();
    let proved: Vec<_> = report.confirmed.iter().map(|c| (c.1.as_str(), c.2)).collect();
    assert_eq!(proved, [("link", Some(Channel::Email)), ("code", Some(Channel::Sms))]);
    assert_eq!(report.in_force, ["newsletter-email", "offers-sms"]);
}

#[tokio::test]
async fn a_confirmed_number_does_not_make_the_email_purposes_contactable() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app(&sink).await;
    let s = app.session().await;
    let (email, phone) = (unique_email(), unique_mobile());
    let lead = lead_of(app.post_lead(&sign(&both(&s, &email, &phone))).await).await;
    let (short, _) = link_and_code(sms_to(&app, &phone).await["text"].as_str().unwrap());
    let confirm = link_in(&app, &mail_to(&sink, &email).await, "confirm");

    // The SMS's link opens the same page as the mail's, but proves the number.
    assert_eq!(app.client.post(short.replace(AUD, &app.base)).send().await.unwrap().status(), 200);

    assert_eq!(permission(&app, &phone).await["allowed"], true);
    let mail = may_mail(&app, &email).await;
    assert_eq!((mail["allowed"].as_bool(), mail["reason"].as_str()), (Some(false), Some(UNCONFIRMED)), "{mail}");

    let page = app.client.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), 200, "the mail's link still waits for its button");
    assert_eq!(app.client.post(&confirm).send().await.unwrap().status(), 200);
    assert_eq!(may_mail(&app, &email).await["allowed"], true);
    let again = app.client.post(&confirm).send().await.unwrap();
    assert_ne!(again.status(), 200, "a used link does not confirm twice");
    let events = app.state.store.lead_events(&lead).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "confirmed").count(), 2);
}

#[tokio::test]
async fn replying_oui_confirms_the_number_of_a_lead_whose_mail_is_confirmed() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app(&sink).await;
    let s = app.session().await;
    let (email, phone) = (unique_email(), unique_mobile());
    lead_of(app.post_lead(&sign(&both(&s, &email, &phone))).await).await;
    sms_to(&app, &phone).await;
    let confirm = link_in(&app, &mail_to(&sink, &email).await, "confirm");
    app.client.post(&confirm).send().await.unwrap();
    assert_eq!(permission(&app, &phone).await["allowed"], false);

    let yes = inbound(&app, &phone, "OUI", crate::sms::SECRET).await.json::<serde_json::Value>().await.unwrap();

    assert_eq!((yes["action"].as_str(), yes["leads"].as_i64()), (Some("confirmed"), Some(1)), "{yes}");
    assert_eq!(permission(&app, &phone).await["allowed"], true);
    let twice = inbound(&app, &phone, "OUI", crate::sms::SECRET).await.json::<serde_json::Value>().await.unwrap();
    assert_eq!(twice["action"], "ignored", "nothing waits any more: {twice}");
}

/// Posts `receipt` (for `email`) and clicks the confirmation mail's link: a lead in force.
pub async fn confirmed_lead(app: &TestApp, sink: &SmtpSink, receipt: &str, email: &str) -> String {
    let body: serde_json::Value = app.post_lead(receipt).await.json().await.unwrap();
    let lead = body["lead_id"].as_str().unwrap_or_else(|| panic!("{body}")).to_string();
    let link = link_in(app, &mail_to(sink, email).await, "confirm");
    assert_eq!(app.client.post(link).send().await.unwrap().status(), 200);
    lead
}

#[tokio::test]
async fn no_thanks_from_the_sms_link_declines_only_the_sms_purposes() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app(&sink).await;
    let s = app.session().await;
    let (email, phone) = (unique_email(), unique_mobile());
    let lead = lead_of(app.post_lead(&sign(&both(&s, &email, &phone))).await).await;
    let (short, _) = link_and_code(sms_to(&app, &phone).await["text"].as_str().unwrap());
    let token = short.rsplit('/').next().unwrap();

    let res = app.client.post(format!("{}/confirm/{token}/decline", app.base)).send().await.unwrap();

    assert_eq!(res.status(), 200);
    let stored = app.state.store.lead(&lead).await.unwrap().unwrap();
    assert_eq!(stored.granted, ["newsletter-email"], "the phone's holder cannot decline for the e-mail address");
    let confirm = link_in(&app, &mail_to(&sink, &email).await, "confirm");
    assert_eq!(app.client.post(&confirm).send().await.unwrap().status(), 200, "the mail can still be confirmed");
    assert_eq!(may_mail(&app, &email).await["allowed"], true);
}
