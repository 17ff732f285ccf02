//! Retention (rule 23), with the test clock: a click restarts the three years and an open
//! does not; before the end the lead is asked once, on the channel it consented on, to
//! renew; renewing keeps it, silence deletes it; the leads of a notice no longer served end
//! too, with the retention they were collected under; a withdrawn or refused lead keeps only
//! keyed hashes of its contact after the delay. (The SMS channel, retired notices and erasure: `retention_ends.rs`.)

use std::time::Duration;

use consent_e2e::smtp::{ReceivedMail, SmtpSink};
use consent_verifier::clock::rfc3339;
use consent_verifier::consent::access::create_key;
use consent_verifier::consent::permissions::{EXPIRED, NO_CONSENT};
use consent_verifier::consent::retention::{Report, run_once};

use crate::helpers::*;
use crate::lifecycle::smtp_settings;

pub const DAY: i64 = 86_400;
pub const THREE_YEARS: i64 = 1095 * DAY;

pub async fn job(app: &TestApp) -> Report {
    run_once(&app.state).await.unwrap()
}

pub async fn key(app: &TestApp) -> String {
    create_key(&app.state.store, "retention", app.clock.now()).await.unwrap().1
}

pub async fn kinds(app: &TestApp, lead: &str) -> Vec<String> {
    app.state.store.lead_events(lead).await.unwrap().into_iter().map(|e| e.kind).collect()
}

async fn renewal_requests(app: &TestApp, lead: &str) -> usize {
    kinds(app, lead).await.iter().filter(|k| *k == "renewal_requested").count()
}

pub async fn app_with_smtp(sink: &SmtpSink) -> TestApp {
    spawn_app_with(Options { settings: Some(smtp_settings(sink.port())), ..Options::default() }).await
}

/// An active lead of the single opt-in `offers` notice, for a fresh address.
pub async fn active_offer(app: &TestApp) -> (String, String) {
    let s = app.session_for("offers", "en", SHOP).await;
    let email = unique_email();
    let res = app.post_lead(&sign(&s.claims(&email))).await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "active", "{body}");
    (body["lead_id"].as_str().unwrap().to_string(), email)
}

async fn activity(app: &TestApp, key: Option<&str>, lead: &str, body: serde_json::Value) -> reqwest::Response {
    let mut req = app.client.post(format!("{}/v1/admin/leads/{lead}/activity", app.base)).json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

pub async fn may_mail(app: &TestApp, key: &str, email: &str) -> serde_json::Value {
    let url = format!("{}/v1/admin/permissions?email={email}&purpose=offers-email&channel=email", app.base);
    app.client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}

async fn last_contact(app: &TestApp, lead: &str) -> i64 {
    app.state.store.lead_clock(lead).await.unwrap().unwrap().last_contact_at
}

/// The local form of the first `<public url>/<path>/<token>` link in the mail's text.
pub fn link_in(app: &TestApp, mail: &ReceivedMail, path: &str) -> String {
    let text = mail.text_part("text/plain").expect("a text part");
    let start = text.find(&format!("{AUD}/{path}/")).unwrap_or_else(|| panic!("no /{path}/ link in:\n{text}"));
    text[start..].split_whitespace().next().unwrap().replace(AUD, &app.base)
}

/// The one mail to `to` the sink received, once it arrived.
pub async fn mail_to(sink: &SmtpSink, to: &str) -> ReceivedMail {
    for _ in 0..200 {
        if let Some(m) = sink.messages().into_iter().find(|m| m.to == [to.to_string()]) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {to}");
}

#[tokio::test]
async fn a_click_restarts_the_three_year_clock() {
    let app = spawn_app().await;
    let key = key(&app).await;
    let (clicked, email) = active_offer(&app).await;
    let (idle, _) = active_offer(&app).await;
    let accepted = last_contact(&app, &clicked).await;

    app.clock.advance(2 * 365 * DAY);
    let before = app.clock.now();
    let res = activity(&app, Some(&key), &clicked, serde_json::json!({"kind": "click", "channel": "email"})).await;

    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let now = last_contact(&app, &clicked).await;
    assert!(now >= before, "the click is the last contact");
    assert_eq!(body["retention_ends_at"], rfc3339(now + THREE_YEARS), "{body}");
    // A click reported late never moves the clock back.
    let late = serde_json::json!({"kind": "click", "at": accepted + 60});
    assert_eq!(activity(&app, Some(&key), &clicked, late).await.status(), 200);
    assert_eq!(last_contact(&app, &clicked).await, now);

    app.clock.advance(365 * DAY + 2 * DAY);
    let report = job(&app).await;

    assert_eq!(report.deleted, 1, "{report:?}");
    assert!(app.state.store.lead(&idle).await.unwrap().is_none(), "three years without contact: deleted");
    assert!(app.state.store.lead(&clicked).await.unwrap().is_some(), "clicked a year ago: kept");
    assert_eq!(may_mail(&app, &key, &email).await["allowed"], true);
    assert!(kinds(&app, &clicked).await.contains(&"contact_recorded".to_string()));
    assert!(kinds(&app, &idle).await.contains(&"consent_expired".to_string()));
}

#[tokio::test]
async fn an_open_is_not_contact_and_is_refused() {
    let app = spawn_app().await;
    let key = key(&app).await;
    let (lead, _) = active_offer(&app).await;
    let before = last_contact(&app, &lead).await;
    app.clock.advance(100 * DAY);

    let body = assert_problem(
        activity(&app, Some(&key), &lead, serde_json::json!({"kind": "open"})).await,
        422,
        "open-is-not-contact",
    )
    .await;

    assert!(body["detail"].as_str().unwrap().contains("nothing was recorded"), "{body}");
    assert_eq!(last_contact(&app, &lead).await, before, "an open never moves the clock");
    assert!(!kinds(&app, &lead).await.contains(&"contact_recorded".to_string()));
    let page = app.get("/errors/open-is-not-contact").await;
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(text.contains("CNIL") && text.contains("click"), "{text}");
    // The rest of the endpoint's contract.
    let click = serde_json::json!({"kind": "click"});
    assert_problem(activity(&app, Some(&key), "01nosuchlead", click.clone()).await, 404, "not-found").await;
    assert_problem(activity(&app, None, &lead, click.clone()).await, 401, "unauthorized").await;
    let view = serde_json::json!({"kind": "view"});
    assert_problem(activity(&app, Some(&key), &lead, view).await, 400, "malformed-request").await;
    let future = serde_json::json!({"kind": "click", "at": app.clock.now() + DAY});
    assert_problem(activity(&app, Some(&key), &lead, future).await, 400, "malformed-request").await;
}

#[tokio::test]
async fn a_lead_is_asked_to_renew_before_its_retention_ends_and_renewing_keeps_it() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let key = key(&app).await;
    let (lead, email) = active_offer(&app).await;

    app.clock.advance(THREE_YEARS - 40 * DAY);
    assert_eq!(job(&app).await.asked, 0, "40 days before the end: not yet");
    app.clock.advance(11 * DAY);
    assert_eq!(job(&app).await.asked, 1, "29 days before the end: asked");
    assert_eq!(job(&app).await.asked, 0, "asked once");

    let mail = mail_to(&sink, &email).await;
    assert_eq!(mail.from_header().unwrap().0.as_deref(), Some("Test GmbH"), "the sender is named");
    assert!(mail.subject().unwrap().starts_with("Do you still want to hear from Test GmbH"));
    assert!(mail.header("List-Unsubscribe").is_some() && mail.header("List-Unsubscribe-Post").is_some());
    let renew = link_in(&app, &mail, "renew");
    let page = app.client.get(&renew).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Yes, keep my subscription"));
    assert!(!kinds(&app, &lead).await.contains(&"consent_renewed".to_string()), "opening the link changes nothing");

    let before = app.clock.now();
    let done = app.client.post(&renew).send().await.unwrap();

    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Subscription kept"));
    assert!(last_contact(&app, &lead).await >= before, "the clock starts again");
    let k = kinds(&app, &lead).await;
    for kind in ["renewal_requested", "consent_renewed"] {
        assert!(k.contains(&kind.to_string()), "{kind} missing from {k:?}");
    }
    app.clock.advance(60 * DAY);
    assert_eq!(job(&app).await.deleted, 0, "past the first end, kept");
    assert!(app.state.store.lead(&lead).await.unwrap().is_some());
    assert_eq!(may_mail(&app, &key, &email).await["allowed"], true);
    assert_eq!(app.client.post(&renew).send().await.unwrap().status(), 409, "the link works once");
}

#[tokio::test]
async fn silence_after_the_renewal_request_ends_in_deletion() {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_with_smtp(&sink).await;
    let key = key(&app).await;
    let (lead, email) = active_offer(&app).await;
    app.clock.advance(THREE_YEARS - 29 * DAY);
    assert_eq!(job(&app).await.asked, 1);
    let renew = link_in(&app, &mail_to(&sink, &email).await, "renew");
    // The worker records the mail as sent just after the server took it: let it, so that
    // the audit below reads a chain that is not moving.
    for _ in 0..200 {
        if kinds(&app, &lead).await.iter().any(|k| k == "renewal_sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    app.clock.advance(30 * DAY);
    let before_the_job = may_mail(&app, &key, &email).await;
    let report = job(&app).await;

    assert_eq!((before_the_job["allowed"].as_bool(), before_the_job["reason"].as_str()), (Some(false), Some(EXPIRED)));
    assert_eq!(report.deleted, 1);
    assert!(app.state.store.lead(&lead).await.unwrap().is_none(), "the data is gone");
    let events = app.state.store.lead_events(&lead).await.unwrap();
    assert_eq!(events.last().unwrap().kind, "consent_expired");
    assert!(!serde_json::to_string(&events).unwrap().contains(&email), "events hold no contact data");
    assert_eq!(may_mail(&app, &key, &email).await["reason"], NO_CONSENT);
    assert_eq!(app.client.get(&renew).send().await.unwrap().status(), 404, "the link died with the lead");
    let audit = consent_verifier::consent::audit::verify_chain(&app.state.store).await.unwrap();
    assert!(matches!(audit, consent_verifier::consent::audit::Audit::Intact { .. }), "{audit:?}");
}

#[tokio::test]
async fn the_renewal_request_goes_out_once_across_restarts_and_replicas() {
    let sink = SmtpSink::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let opts = || Options {
        data_dir: Some(data.path().to_path_buf()),
        settings: Some(smtp_settings(sink.port())),
        ..Options::default()
    };
    let a = spawn_app_with(opts()).await;
    let (lead, email) = active_offer(&a).await;
    a.clock.advance(THREE_YEARS - 29 * DAY);
    // Two replicas deciding at once. A SQLite file belongs to one process (its outbox has no
    // leases), so there the race is two jobs of one verifier; PostgreSQL takes a second one.
    let b = if consent_e2e::db::postgres() { Some(spawn_app_with(opts()).await) } else { None };
    let other = b.as_ref().unwrap_or(&a);
    other.clock.advance(if b.is_some() { THREE_YEARS - 29 * DAY } else { 0 });

    let (x, y) = tokio::join!(
        consent_verifier::consent::renewal::ask_once(&a.state),
        consent_verifier::consent::renewal::ask_once(&other.state)
    );

    // (A replica's own hourly job, starting just now with the moved clock, may be the one.)
    assert!(x.unwrap() + y.unwrap() <= 1, "at most one of the two");
    assert_eq!(renewal_requests(&a, &lead).await, 1, "one request between them");
    mail_to(&sink, &email).await;
    if let Some(b) = b {
        b.stop().await;
    }
    a.stop().await;
    let again = spawn_app_with(opts()).await;
    again.clock.advance(THREE_YEARS - 28 * DAY);
    job(&again).await;
    assert_eq!(renewal_requests(&again, &lead).await, 1, "not asked again after a restart");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = sink.messages().into_iter().filter(|m| m.to == [email.clone()]).count();
    assert_eq!(sent, 1, "one mail");
}
