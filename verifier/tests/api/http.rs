//! The HTTP surface: problem+json everywhere, error pages, CORS, health.

use crate::helpers::*;

#[tokio::test]
async fn an_unknown_address_is_a_problem_not_a_bare_404() {
    let app = spawn_app().await;
    assert_problem(app.get("/v1/nothing-here").await, 404, "not-found").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_problem_and_says_what_is_allowed() {
    let app = spawn_app().await;
    let res = app.client.delete(format!("{}/v1/leads", app.base)).send().await.unwrap();
    assert_eq!(res.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    assert_problem(res, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn every_error_type_has_a_human_page() {
    let app = spawn_app().await;
    for code in consent_verifier::error::Code::all() {
        let info = code.info();
        let res = app.get(&format!("/errors/{}", info.code)).await;
        assert_eq!(res.status(), 200, "{}", info.code);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(html.contains(info.code) && html.contains(&format!("HTTP {}", info.status)), "{}", info.code);
        let title = info.title.replace('\'', "&#39;");
        assert!(html.contains(&format!("<title>{title} · consent-widget</title>")), "{html}");
    }
    let index = app.get("/errors").await.text().await.unwrap();
    assert!(index.contains("preticked"));
}

#[tokio::test]
async fn an_unknown_error_type_page_is_not_found() {
    let app = spawn_app().await;
    assert_problem(app.get("/errors/no-such-code").await, 404, "not-found").await;
}

#[tokio::test]
async fn the_notice_answer_holds_the_notice_its_digest_and_a_fresh_nonce() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/v1/notices/newsletter?lang=fr", app.base))
        .header("Origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["access-control-allow-origin"], SHOP);
    let body: serde_json::Value = res.json().await.unwrap();
    let notice: consent_receipt::Notice = serde_json::from_value(body["notice"].clone()).unwrap();
    assert_eq!(notice.lang, "fr");
    assert_eq!(body["digest"], notice.digest());
    for field in [
        "id",
        "version",
        "lang",
        "jurisdiction",
        "age_of_consent",
        "double_opt_in",
        "controller",
        "policy_url",
        "retention",
        "purposes",
    ] {
        assert!(!body["notice"][field].is_null(), "{field}");
    }
    for field in ["id", "label", "text", "child_text", "channels", "recipients", "legal_basis", "category"] {
        assert!(!body["notice"]["purposes"][0][field].is_null(), "purpose {field}");
    }
    let again: serde_json::Value = app
        .client
        .get(format!("{}/v1/notices/newsletter?lang=fr", app.base))
        .header("Origin", SHOP)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(body["nonce"], again["nonce"], "each answer carries a fresh nonce");
}

#[tokio::test]
async fn the_language_follows_accept_language_when_not_asked() {
    let app = spawn_app().await;
    let body: serde_json::Value = app
        .client
        .get(format!("{}/v1/notices/newsletter", app.base))
        .header("Origin", SHOP)
        .header("Accept-Language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["notice"]["lang"], "en");
}

#[tokio::test]
async fn cors_preflight_is_answered_for_allowed_origins_only() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/v1/leads", app.base))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight(SHOP).await.unwrap();
    assert_eq!(ok.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(SHOP));
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_page_on_an_origin_not_allowed_can_read_why_but_not_a_notice() {
    let app = spawn_app().await;
    let evil = "https://evil.example";
    let res = app
        .client
        .get(format!("{}/v1/notices/newsletter?lang=en", app.base))
        .header("Origin", evil)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(evil));
    assert!(res.headers().get("access-control-allow-credentials").is_none());
    assert!(res.headers().get_all("vary").iter().any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("origin")));
    let body = assert_problem(res, 403, "origin-not-allowed").await;
    assert!(body["detail"].as_str().unwrap().contains("`origins`"), "{body}");
    // A successful answer still goes to allowed origins only.
    let ok = app.client.get(format!("{}/v1/notices/newsletter", app.base)).header("Origin", SHOP).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], SHOP);
}

#[tokio::test]
async fn the_key_set_is_public_and_cacheable() {
    let app = spawn_app().await;
    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let jwks: consent_receipt::Jwks = res.json().await.unwrap();
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(jwks.keys[0].alg.as_deref(), Some("EdDSA"));
    assert!(jwks.keys[0].kid.is_some());
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn every_answer_carries_a_permissions_policy_and_hsts_when_the_public_url_is_https() {
    let app = spawn_app().await; // public URL https://verifier.test
    for path in ["/healthz", "/errors", "/v1/nothing-here", "/.well-known/jwks.json"] {
        let res = app.get(path).await;
        let policy = res.headers().get("permissions-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(policy.contains("camera=()") && policy.contains("geolocation=()"), "{path}: {policy}");
        assert_eq!(res.headers().get("strict-transport-security").unwrap(), "max-age=63072000", "{path}");
    }

    let plain = spawn_app_with(Options { public_url: Some("http://127.0.0.1:9".into()), ..Options::default() }).await;
    let res = plain.get("/healthz").await;
    assert!(res.headers().get("permissions-policy").is_some());
    assert!(res.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
}
