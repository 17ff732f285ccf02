//! Objections from anywhere (rule 18) and refusals at the source (rule 19): recorded once,
//! the contact suppressed for the scope, the leads given before withdrawn, an event in the
//! chain without the address, and the permissions answer no.

use consent_verifier::consent::access::create_key;

use crate::helpers::*;

async fn key(app: &TestApp) -> String {
    create_key(&app.state.store, "dpo", app.clock.now()).await.unwrap().1
}

async fn object(app: &TestApp, key: &str, body: serde_json::Value) -> reqwest::Response {
    app.client.post(format!("{}/v1/admin/objections", app.base)).bearer_auth(key).json(&body).send().await.unwrap()
}

async fn allowed(app: &TestApp, key: &str, email: &str, purpose: &str) -> serde_json::Value {
    let url = format!("{}/v1/admin/permissions?email={email}&purpose={purpose}&channel=email", app.base);
    app.client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}

async fn status_of(app: &TestApp, lead: &str) -> String {
    app.state.store.lead(lead).await.unwrap().unwrap().status.to_string()
}

async fn lead_of(res: reqwest::Response) -> String {
    let body: serde_json::Value = res.json().await.unwrap();
    body["lead_id"].as_str().unwrap_or_else(|| panic!("no lead: {body}")).to_string()
}

#[tokio::test]
async fn an_objection_from_the_dpo_withdraws_suppresses_and_is_recorded_once_without_the_address() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let s = app.session().await;
    let older = sign(&s.claims(&email)); // signed before the objection, sent after it
    let lead = lead_of(app.post_lead(&sign(&s.claims(&email))).await).await;
    app.clock.advance(2);

    let body = serde_json::json!({"email": email.to_uppercase().replace("@EXAMPLE.ORG", "@example.org"),
        "source": "dpo", "note": "letter of 1 December", "received_at": app.clock.now().to_string()});
    let res = object(&app, &k, body.clone()).await;
    assert_eq!(res.status(), 201);
    let done: serde_json::Value = res.json().await.unwrap();
    assert_eq!(done["duplicate"], false, "{done}");
    assert_eq!(done["leads_withdrawn"], 1, "{done}");
    assert!(done["suppressed"].as_u64().unwrap() >= 2, "every e-mail purpose of the notice: {done}");
    assert_eq!(status_of(&app, &lead).await, "withdrawn");
    assert_eq!(allowed(&app, &k, &email, "newsletter-email").await["allowed"], false);
    assert_problem(app.post_lead(&older).await, 409, "suppressed").await;

    // The same objection again (say, the import run twice): recorded once. (Without
    // `received_at` it is timed now, and a later one is another objection.)
    let again: serde_json::Value = object(&app, &k, body).await.json().await.unwrap();
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["objection_id"], done["objection_id"]);

    let events = app.state.store.lead_events(&lead).await.unwrap();
    let withdrawn = events.iter().find(|e| e.kind == "withdrawn").expect("a withdrawal in the lead's chain");
    assert_eq!(withdrawn.data["objection_id"], done["objection_id"], "{}", withdrawn.data);
    assert_eq!(withdrawn.data["source"], "objection", "{}", withdrawn.data);
    let all = app.state.store.events(0, 10_000).await.unwrap();
    let recorded: Vec<_> = all.iter().filter(|e| e.kind == "objection_recorded").collect();
    assert_eq!(recorded.len(), 1, "one event for one objection");
    let local = email.split('@').next().unwrap();
    let text = |e: &consent_receipt::Event| e.data.to_string();
    assert!(all.iter().all(|e| !text(e).contains(local) && !text(e).contains("letter of")), "no address, no note");
}

#[tokio::test]
async fn an_objection_is_kept_to_its_scope_and_a_consent_given_after_it_stands() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let s = app.session().await;
    let mut both = s.claims(&email);
    both.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "offers-sms");
    let lead = lead_of(app.post_lead(&sign(&both)).await).await;
    app.clock.advance(2);
    let res = object(
        &app,
        &k,
        serde_json::json!({"email": email, "scope": "purpose", "purpose": "partner-sharing", "source": "esp"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let stored = app.state.store.lead(&lead).await.unwrap().unwrap();
    assert_eq!(stored.granted, ["newsletter-email"], "only the purpose objected to is withdrawn");
    assert_ne!(stored.status.to_string(), "withdrawn");

    // An objection dated before a consent leaves that consent alone.
    app.clock.advance(2);
    let later = lead_of(app.post_lead(&sign(&app.session().await.claims(&email))).await).await;
    let earlier = app.clock.now() - 60;
    let res =
        object(&app, &k, serde_json::json!({"email": email, "source": "letter", "received_at": earlier.to_string()}))
            .await;
    assert_eq!(res.status(), 201);
    let done: serde_json::Value = res.json().await.unwrap();
    assert_eq!(done["leads_withdrawn"], 0, "both consents were given after the letter: {done}");
    assert_ne!(status_of(&app, &later).await, "withdrawn");
    assert_ne!(status_of(&app, &lead).await, "withdrawn");
}

#[tokio::test]
async fn a_bad_objection_gets_a_clear_error() {
    let app = spawn_app().await;
    let k = key(&app).await;
    for (body, says) in [
        (serde_json::json!({"source": "dpo"}), "exactly one of email and phone"),
        (serde_json::json!({"email": "a@example.org", "source": "rumour"}), "source `rumour`"),
        (serde_json::json!({"email": "a@example.org", "source": "dpo", "scope": "notice"}), "needs `notice`"),
        (serde_json::json!({"email": "a@example.org", "source": "dpo", "received_at": "tomorrow"}), "received_at"),
        (serde_json::json!({"phone": "+33612", "source": "phone"}), "phone"),
    ] {
        let problem = assert_problem(object(&app, &k, body.clone()).await, 400, "malformed-request").await;
        assert!(problem["detail"].as_str().unwrap().contains(says), "{body} → {problem}");
    }
    let anonymous = app
        .client
        .post(format!("{}/v1/admin/objections", app.base))
        .json(&serde_json::json!({"email": "a@example.org", "source": "dpo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_refusal_stated_at_the_source_is_recorded_as_an_objection_never_as_consent() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let s = app.session().await;
    let res = app
        .client
        .post(format!("{}/v1/leads", app.base))
        .header("Origin", s.origin.as_str())
        .json(&serde_json::json!({"receipt": sign(&s.claims(&email)), "fields": {"no_solicitation": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "objection", "{body}");
    assert!(body.get("lead_id").is_none(), "no lead: {body}");
    assert_eq!(app.state.store.count_leads().await.unwrap(), 0, "nothing recorded as consent");
    let answer = allowed(&app, &k, &email, "newsletter-email").await;
    assert_eq!(answer["allowed"], false, "{answer}");
    assert_eq!(answer["reason"], "objected", "the refusal is on the suppression list, as an objection: {answer}");
}

#[tokio::test]
async fn the_csv_import_applies_each_row_once_and_names_the_lines_it_refused() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let s = app.session().await;
    let lead = lead_of(app.post_lead(&sign(&s.claims(&email))).await).await;
    app.clock.advance(2);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("unsubscribes.csv");
    let csv = format!(
        "email,phone,source,scope,purpose,received_at,note\n\
         {email},,esp,,,{at},\"unsubscribed at the mailing tool, 2 Dec\"\n\
         ,+33612345678,phone,purpose,offers-sms,{at},\n\
         not-an-address,,esp,,,{at},\n\
         other@example.org,,rumour,,,{at},\n\
         late@example.org,,esp,,,,\n",
        at = app.clock.now()
    );
    std::fs::write(&file, csv).unwrap();
    let first = import(&file, &app.base, &k).await;
    let out = String::from_utf8_lossy(&first.stdout).to_string();
    assert_eq!(first.status.code(), Some(1), "a refused row fails the run: {out}");
    assert!(out.contains("2 applied, 0 duplicate, 3 invalid"), "{out}");
    assert!(out.contains("line 4:") && out.contains("line 5:") && out.contains("rumour"), "line numbers: {out}");
    assert!(out.contains("line 6: received_at is empty"), "{out}");
    assert_eq!(status_of(&app, &lead).await, "withdrawn");

    let again = import(&file, &app.base, &k).await;
    let out = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(out.contains("0 applied, 2 duplicate, 3 invalid"), "running it again changes nothing: {out}");
}

async fn import(file: &std::path::Path, base: &str, key: &str) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_consent-verifier"));
    cmd.args(["objections", "import"]).arg(file).args(["--url", base, "--api-key", key]);
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

#[tokio::test]
async fn a_mail_link_lifts_no_objection_of_the_phone_given_beside_it() {
    use crate::retention::{link_in, mail_to};
    use crate::sms::{MOBILE, sms_to};
    let sink = consent_e2e::smtp::SmtpSink::start().await.unwrap();
    let app = crate::channels::app(&sink).await;
    let k = key(&app).await;
    let email = unique_email();
    let at = app.clock.now().to_string();
    let phone_objection = serde_json::json!({"phone": MOBILE, "source": "phone", "received_at": at});
    assert_eq!(object(&app, &k, phone_objection).await.status(), 201);
    app.clock.advance(2);
    // Someone gives their own e-mail address and that phone number, and ticks both channels.
    let s = app.session().await;
    let mut both = s.claims(&email);
    both.contact.phone = Some(MOBILE.into());
    both.iat = app.clock.now();
    both.decisions.iter_mut().for_each(|d| d.at = both.iat);
    both.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "partner-sharing");
    let lead = lead_of(app.post_lead(&sign(&both)).await).await;
    sms_to(&app, MOBILE).await;
    // The mail's link proves the e-mail address, nothing about the number beside it.
    let link = link_in(&app, &mail_to(&sink, &email).await, "confirm");
    let confirmed = app.client.post(link).send().await.unwrap();
    assert_eq!(confirmed.status(), 200);
    assert_eq!(status_of(&app, &lead).await, "active");
    let url = format!("{}/v1/admin/permissions?phone=%2B33612345678&purpose=offers-sms&channel=sms", app.base);
    let answer: serde_json::Value = app.client.get(url).bearer_auth(&k).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["allowed"], false, "the phone's owner objected and has not consented again: {answer}");
    assert_eq!(answer["reason"], "objected", "{answer}");
}

#[tokio::test]
async fn the_proof_of_a_lead_an_objection_withdrew_carries_the_objection_and_shows_its_removal() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let lead = lead_of(app.post_lead(&sign(&app.session().await.claims(&email))).await).await;
    app.clock.advance(2);
    let received = app.clock.now() - 1;
    let body = serde_json::json!({"email": email, "source": "letter", "received_at": received.to_string()});
    assert_eq!(object(&app, &k, body).await.status(), 201);

    let b = crate::proofs::bundle_of(&app, &lead).await;
    assert_eq!(b.objections.len(), 1, "the objection's own event is in the bundle");
    let report = consent_receipt::verify_bundle(&b, None).expect("the bundle holds");
    assert_eq!(report.objections, [(received, "letter".to_string(), "all".to_string(), "email".to_string())]);
    assert!(report.withdrawals.iter().any(|w| w.2 == "objection"), "{:?}", report.withdrawals);
    assert!(!serde_json::to_string(&b.objections).unwrap().contains(email.split('@').next().unwrap()));

    let mut without = b.clone();
    without.objections.clear();
    let err = consent_receipt::verify_bundle(&without, None).unwrap_err().to_string();
    assert!(err.contains("objection behind the withdrawal"), "{err}");
    let mut altered = b.clone();
    altered.objections[0].data["source"] = "dpo".into();
    let err = consent_receipt::verify_bundle(&altered, None).unwrap_err().to_string();
    assert!(err.contains("altered"), "{err}");
}
