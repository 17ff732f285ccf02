//! Retention (rule 23), continued: the renewal request on the SMS channel (outside quiet
//! hours), the leads of a notice no longer served, and the contact data of withdrawn and
//! refused leads, erased after the delay down to keyed hashes.

use consent_receipt::Email;
use consent_verifier::consent::quiet;
use consent_verifier::consent::tokens::contact_hash;

use crate::helpers::*;
use crate::retention::{DAY, THREE_YEARS, active_offer, job, key, kinds, may_mail};
use crate::sms::{lead_of, link_and_code, sms_claims, sms_to, unique_mobile};

/// Whether a marketing SMS may go out in France at `t` and for the hour after it.
fn sendable(t: i64) -> bool {
    let rule = quiet::rule("FR").unwrap();
    [t, t + 3600].iter().all(|&at| quiet::window(&rule, at).unwrap().send_now)
}

/// The SMS to `to` that asks to renew, once the worker wrote it.
async fn renewal_sms(app: &TestApp, to: &str) -> String {
    for _ in 0..200 {
        for e in std::fs::read_dir(app.data_dir.join("sms-outbox")).unwrap().flatten() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(e.path()).unwrap()) else {
                continue;
            };
            if v["to"] == to && v["text"].as_str().is_some_and(|t| t.contains("/r/")) {
                return v["text"].as_str().unwrap().to_string();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no renewal SMS to {to}");
}

#[tokio::test]
async fn an_sms_lead_is_asked_to_renew_by_sms_outside_quiet_hours_and_its_short_link_renews() {
    let app = crate::sms::app().await;
    let s = app.session().await;
    let phone = unique_mobile();
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await;
    let (_, code) = link_and_code(sms_to(&app, &phone).await["text"].as_str().unwrap());
    let confirm = serde_json::json!({"lead_id": lead, "code": code}).to_string();
    assert_eq!(app.post_raw("/v1/sms/confirmations", confirm).await.status(), 200);
    // 29 days before the end, at night (or on a Sunday or a holiday) in Paris.
    let mut t = app.clock.now() + THREE_YEARS - 29 * DAY;
    while quiet::window(&quiet::rule("FR").unwrap(), t).unwrap().send_now {
        t += 1800;
    }
    app.clock.advance(t - app.clock.now());
    assert_eq!(job(&app).await.asked, 0, "a renewal SMS waits for the quiet hours to end");
    while !sendable(t) {
        t += 1800;
    }
    app.clock.advance(t - app.clock.now());

    assert_eq!(job(&app).await.asked, 1);

    let text = renewal_sms(&app, &phone).await;
    assert!(text.starts_with("Atelier Lumière") && text.ends_with("STOP au 36111"), "{text}");
    let start = text.find(&format!("{AUD}/r/")).unwrap();
    let link = text[start..].split_whitespace().next().unwrap().trim_end_matches('.').replace(AUD, &app.base);
    assert_eq!(app.client.get(&link).send().await.unwrap().status(), 200);
    assert!(!kinds(&app, &lead).await.contains(&"consent_renewed".to_string()), "opening the link changes nothing");
    let before = app.clock.now();
    assert_eq!(app.client.post(&link).send().await.unwrap().status(), 200);
    let events = app.state.store.lead_events(&lead).await.unwrap();
    let renewed = events.iter().find(|e| e.kind == "consent_renewed").expect("renewed");
    assert_eq!(renewed.data["channel"], "sms", "renewed through the SMS's link");
    assert!(app.state.store.lead_clock(&lead).await.unwrap().unwrap().last_contact_at >= before);
}

#[tokio::test]
async fn leads_of_a_retired_notice_are_purged() {
    let data = tempfile::tempdir().unwrap();
    let notices = test_notices();
    // `offers` is served with 400 days of retention, then no longer served at all.
    let offers = notices.path().join("offers.toml");
    let text = std::fs::read_to_string(&offers).unwrap();
    std::fs::write(&offers, text.replace("double_opt_in = false", "double_opt_in = false\nretention_days = 400"))
        .unwrap();
    let opts = || Options {
        data_dir: Some(data.path().to_path_buf()),
        notices_dir: Some(notices.path().to_path_buf()),
        ..Options::default()
    };
    let app = spawn_app_with(opts()).await;
    let (lead, _) = active_offer(&app).await;
    app.stop().await;
    std::fs::remove_file(&offers).unwrap();
    let again = spawn_app_with(opts()).await;
    assert!(again.state.notices.current("offers").is_none(), "retired");

    again.clock.advance(399 * DAY);
    let early = job(&again).await;
    again.clock.advance(2 * DAY);
    let late = job(&again).await;

    assert_eq!((early.asked, early.deleted), (0, 0), "kept to its end; no renewal under a retired notice");
    assert_eq!(late.deleted, 1, "deleted with the retention it was collected under");
    assert!(again.state.store.lead(&lead).await.unwrap().is_none());
    assert_eq!(kinds(&again, &lead).await.last().map(String::as_str), Some("consent_expired"));
}

#[tokio::test]
async fn a_withdrawn_lead_keeps_only_a_keyed_hash_after_the_delay() {
    let app = spawn_app().await;
    let key = key(&app).await;
    let s = app.session_for("offers", "en", SHOP).await;
    let email = unique_email();
    let (claims, visitor) = (s.claims(&email), consent_e2e::random_key());
    let res = app.post_lead(&claims.sign(&visitor)).await;
    let lead = res.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string();
    assert_eq!(app.withdraw(&claims.jti, &visitor).await.status(), 200);
    let mut refusal = s.claims(&unique_email());
    refusal.decisions.iter_mut().for_each(|d| d.granted = false);
    let refused = app.post_lead(&sign(&refusal)).await.json::<serde_json::Value>().await.unwrap();
    assert_eq!(refused["status"], "refused");
    let refused = refused["lead_id"].as_str().unwrap().to_string();

    app.clock.advance(29 * DAY);
    assert_eq!(job(&app).await.erased, 0, "within the delay the contact stays");
    assert!(app.state.store.lead(&lead).await.unwrap().unwrap().email.is_some());
    app.clock.advance(2 * DAY);
    assert_eq!(job(&app).await.erased, 2);

    for id in [&lead, &refused] {
        let d = app.state.store.lead_detail(id).await.unwrap().unwrap();
        assert_eq!((&d.summary.email, &d.summary.phone, &d.receipt), (&None, &None, &None), "{id}");
        assert_eq!(d.fields, serde_json::json!({}));
        assert!(d.summary.contact_erased_at.is_some());
    }
    let hash = contact_hash(&app.state, &Email::parse(&email).unwrap());
    assert_eq!(app.state.store.lead(&lead).await.unwrap().unwrap().contact_hash, Some(hash), "the keyed hash stays");
    let get = |path: String| app.client.get(format!("{}{path}", app.base)).bearer_auth(&key).send();
    assert_problem(get(format!("/v1/admin/leads/{lead}/proof")).await.unwrap(), 410, "proof-erased").await;
    assert_eq!(app.get("/errors/proof-erased").await.status(), 200);
    let kept: serde_json::Value = get(format!("/v1/admin/leads/{lead}")).await.unwrap().json().await.unwrap();
    assert!(kept["seal"].is_string() && kept["contact_erased_at"].is_string(), "{kept}");
    let kinds: Vec<&str> = kept["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.ends_with(&["withdrawn", "suppressed", "contact_erased"]), "{kinds:?}");
    assert!(!kept.to_string().contains(&email), "no trace of the address: {kept}");
    let p = may_mail(&app, &key, &email).await;
    assert_eq!(
        (p["allowed"].as_bool(), p["reason"].as_str()),
        (Some(false), Some("withdrawn")),
        "the withdrawal holds"
    );
    let audit = consent_verifier::consent::audit::verify_chain(&app.state.store).await.unwrap();
    assert!(matches!(audit, consent_verifier::consent::audit::Audit::Intact { .. }), "{audit:?}");
}

#[tokio::test]
async fn a_lead_that_never_confirmed_is_deleted_after_thirty_days_not_three_years() {
    let app = spawn_app().await;
    let (old, _) = app.valid_receipt().await;
    let old =
        app.post_lead(&old).await.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string();
    app.clock.advance(25 * crate::retention::DAY);
    // Signed on the verifier's (advanced) clock.
    let mut c = app.session().await.claims(&unique_email());
    c.iat = app.clock.now();
    c.decisions.iter_mut().for_each(|d| d.at = c.iat);
    let res = app.post_lead(&sign(&c)).await.json::<serde_json::Value>().await.unwrap();
    let recent = res["lead_id"].as_str().unwrap_or_else(|| panic!("{res}")).to_string();
    app.clock.advance(6 * crate::retention::DAY);

    // (The job also runs by itself at start: the count can be another run's.)
    let report = crate::retention::job(&app).await;

    assert!(report.unconfirmed <= 1, "{report:?}");
    assert!(app.state.store.lead(&old).await.unwrap().is_none(), "31 days without a confirmation: deleted");
    assert!(app.state.store.lead(&recent).await.unwrap().is_some(), "6 days: its link still works");
    let events = app.state.store.lead_events(&old).await.unwrap();
    let purged: Vec<_> = events.iter().filter(|e| e.kind == "purged").collect();
    assert_eq!(purged.len(), 1, "deleted once, and the deletion is an event");
    assert_eq!(purged[0].data["reason"], "unconfirmed");
    assert_eq!(crate::retention::job(&app).await.unconfirmed, 0, "nothing left to delete");
}
