//! The admin API: keys, listings, permissions, exports.

use consent_verifier::consent::access::{create_key, revoke_key};

use crate::helpers::*;

async fn key(app: &TestApp) -> String {
    create_key(&app.state.store, "test", app.clock.now()).await.unwrap().1
}

async fn get_with(app: &TestApp, path: &str, key: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn accept(app: &TestApp, email: &str, grant_all: bool) -> String {
    let s = app.session().await;
    let mut c = s.claims(email);
    if grant_all {
        // Every e-mail purpose (the SMS one would need a phone number).
        c.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "offers-sms");
    }
    let res = app.post_lead(&sign(&c)).await;
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admin_endpoints_reject_missing_wrong_and_revoked_keys() {
    let app = spawn_app().await;
    let good = key(&app).await;

    let missing = get_with(&app, "/v1/admin/leads", None).await;
    assert!(missing.headers().get("www-authenticate").is_some());
    assert_problem(missing, 401, "unauthorized").await;
    assert_problem(get_with(&app, "/v1/admin/leads", Some("cwk_0000000000000000.nope")).await, 401, "unauthorized")
        .await;
    let (id, rest) = good.trim_start_matches("cwk_").split_once('.').unwrap();
    let wrong_secret = format!("cwk_{id}.{}", rest.chars().rev().collect::<String>());
    assert_problem(get_with(&app, "/v1/admin/leads", Some(&wrong_secret)).await, 401, "unauthorized").await;
    assert_eq!(get_with(&app, "/v1/admin/leads", Some(&good)).await.status(), 200);

    assert!(revoke_key(&app.state.store, id, app.clock.now()).await.unwrap());

    assert_problem(get_with(&app, "/v1/admin/leads", Some(&good)).await, 403, "revoked-key").await;
}

#[tokio::test]
async fn the_bearer_scheme_is_accepted_in_any_case() {
    let app = spawn_app().await;
    let good = key(&app).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let res = app
            .client
            .get(format!("{}/v1/admin/leads", app.base))
            .header("Authorization", format!("{scheme} {good}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn an_unauthenticated_caller_cannot_tell_whether_an_address_is_known() {
    let app = spawn_app().await;
    accept(&app, "known@example.org", true).await;

    let known = get_with(&app, "/v1/admin/permissions?email=known@example.org&purpose=newsletter-email", None).await;
    let unknown = get_with(&app, "/v1/admin/permissions?email=nobody@example.org&purpose=newsletter-email", None).await;

    assert_eq!(
        (known.status(), unknown.status()),
        (reqwest::StatusCode::UNAUTHORIZED, reqwest::StatusCode::UNAUTHORIZED)
    );
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
}

#[tokio::test]
async fn leads_are_listed_filtered_and_paged() {
    let app = spawn_app().await;
    let k = key(&app).await;
    for i in 0..5 {
        accept(&app, &unique_email(), i % 2 == 0).await;
    }
    let s = app.session().await;
    let mut refused = s.claims(&unique_email());
    refused.decisions.iter_mut().for_each(|d| d.granted = false);
    app.post_lead(&sign(&refused)).await;

    let all: serde_json::Value = get_with(&app, "/v1/admin/leads?limit=4", Some(&k)).await.json().await.unwrap();
    assert_eq!(all["leads"].as_array().unwrap().len(), 4);
    let next = all["next"].as_str().unwrap();
    let rest: serde_json::Value =
        get_with(&app, &format!("/v1/admin/leads?limit=4&after={next}"), Some(&k)).await.json().await.unwrap();
    assert_eq!(rest["leads"].as_array().unwrap().len(), 2);
    assert!(rest["next"].is_null());

    let partner: serde_json::Value =
        get_with(&app, "/v1/admin/leads?purpose=partner-sharing", Some(&k)).await.json().await.unwrap();
    assert_eq!(partner["leads"].as_array().unwrap().len(), 3);
    let refused: serde_json::Value =
        get_with(&app, "/v1/admin/leads?status=refused&notice=newsletter", Some(&k)).await.json().await.unwrap();
    assert_eq!(refused["leads"].as_array().unwrap().len(), 1);
    assert_problem(get_with(&app, "/v1/admin/leads?status=x'%20or%201=1", Some(&k)).await, 400, "malformed-request")
        .await;

    let count = |q: String| {
        let (app, k) = (&app, &k);
        async move {
            get_with(app, &format!("/v1/admin/leads?{q}"), Some(k)).await.json::<serde_json::Value>().await.unwrap()["leads"].as_array().unwrap().len()
        }
    };
    let hour_ago = consent_verifier::clock::rfc3339(app.clock.now() - 3600);
    assert_eq!(count(format!("since={hour_ago}")).await, 6, "RFC 3339 time");
    assert_eq!(count(format!("until={hour_ago}")).await, 0);
    assert_eq!(count(format!("since={}", app.clock.now() - 3600)).await, 6, "Unix seconds");
    assert_eq!(count("since=2000-01-01&until=2000-01-02".into()).await, 0, "dates");
    assert_problem(get_with(&app, "/v1/admin/leads?since=yesterday", Some(&k)).await, 400, "malformed-request").await;
}

#[tokio::test]
async fn a_missing_or_mistyped_parameter_is_named_in_the_error() {
    let app = spawn_app().await;
    let k = key(&app).await;

    let missing = assert_problem(
        get_with(&app, "/v1/admin/permissions?email=a@example.org", Some(&k)).await,
        400,
        "malformed-request",
    )
    .await;
    let channel = get_with(&app, "/v1/admin/permissions?email=a@example.org&purpose=p&channel=fax", Some(&k)).await;
    let channel = assert_problem(channel, 400, "malformed-request").await;
    let limit =
        assert_problem(get_with(&app, "/v1/admin/leads?limit=many", Some(&k)).await, 400, "malformed-request").await;

    assert!(missing["detail"].as_str().unwrap().contains("purpose"), "{missing}");
    assert!(channel["detail"].as_str().unwrap().contains("fax"), "{channel}");
    assert!(limit["detail"].as_str().unwrap().contains("limit"), "{limit}");
}

#[tokio::test]
async fn one_lead_comes_with_its_receipt_and_events() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let id = accept(&app, &unique_email(), false).await;

    let lead: serde_json::Value =
        get_with(&app, &format!("/v1/admin/leads/{id}"), Some(&k)).await.json().await.unwrap();

    assert_eq!(lead["lead_id"], id);
    assert!(lead["receipt"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(lead["events"][0]["kind"], "accepted");
    assert_problem(get_with(&app, "/v1/admin/leads/nope", Some(&k)).await, 404, "not-found").await;
}

#[tokio::test]
async fn permissions_say_whether_contact_is_allowed_now_and_on_which_basis() {
    let app = spawn_app_with(Options {
        settings: Some(consent_verifier::Settings { ..Default::default() }),
        ..Options::default()
    })
    .await;
    let k = key(&app).await;
    let offers = app.session_for("offers", "en", SHOP).await;
    let email = unique_email();
    let res = app.post_lead(&sign(&offers.claims(&email))).await;
    assert_eq!(res.status(), 201, "offers has no double opt-in: active at once");
    let pending = unique_email();
    accept(&app, &pending, false).await;
    let ask = |email: &str, purpose: &str, channel: &str| {
        let path = format!("/v1/admin/permissions?email={email}&purpose={purpose}&channel={channel}");
        let k = k.clone();
        let app = &app;
        async move { get_with(app, &path, Some(&k)).await.json::<serde_json::Value>().await.unwrap() }
    };

    let yes = ask(&email, "offers-email", "email").await;
    assert_eq!(yes["allowed"], true, "{yes}");
    assert_eq!(yes["basis"], "consent");
    assert!(yes["receipt_jti"].is_string());
    assert_eq!(ask(&email, "offers-email", "sms").await["allowed"], false, "not on a channel nobody consented to");
    assert_eq!(ask(&pending, "newsletter-email", "email").await["allowed"], false, "not before the double opt-in");
    assert_eq!(ask(&unique_email(), "offers-email", "email").await["allowed"], false);
}

#[tokio::test]
async fn exports_stream_every_lead_as_jsonl_or_csv() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let s = app.session().await;
    let mut sends = Vec::new();
    for i in 0..520 {
        let mut c = s.claims(&format!("export-{i}@example.org"));
        c.jti = consent_e2e::random_jti();
        sends.push(sign(&c));
    }
    for chunk in sends.chunks(40) {
        let posts = chunk.iter().map(|r| app.post_lead(r));
        for res in futures_util::future::join_all(posts).await {
            assert_eq!(res.status(), 201);
        }
    }

    let jsonl = get_with(&app, "/v1/admin/export?format=jsonl", Some(&k)).await;
    assert_eq!(jsonl.headers()["content-type"], "application/x-ndjson");
    let text = jsonl.text().await.unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 520, "every page of the stream arrived");
    assert!(lines.iter().all(|l| l["receipt"].is_string() && l["seal"].is_string()));

    let csv =
        get_with(&app, "/v1/admin/export?format=csv&status=pending_confirmation", Some(&k)).await.text().await.unwrap();
    let mut rows = csv.lines();
    assert!(rows.next().unwrap().starts_with("lead_id,status,notice"));
    assert_eq!(rows.count(), 520);
    assert_problem(get_with(&app, "/v1/admin/export?format=xml", Some(&k)).await, 400, "malformed-request").await;
}
