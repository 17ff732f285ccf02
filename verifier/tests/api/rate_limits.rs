//! Request rates: past a limit the answer is `429 rate-limited` with `Retry-After`; an
//! honest site at ten times a busy sign-up page's rate is never limited; the client is
//! the peer unless a trusted proxy names it; wrong admin keys are throttled per address.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use consent_verifier::Settings;
use consent_verifier::config::LimitSettings;
use consent_verifier::consent::access::create_key;

use crate::helpers::*;

fn with_limits(l: LimitSettings) -> Options {
    Options { settings: Some(Settings { limits: l, ..Settings::default() }), ..Options::default() }
}

fn rate(s: &str) -> Option<consent_verifier::config::RateSetting> {
    Some(s.parse().unwrap())
}

async fn assert_limited(res: reqwest::Response) {
    let retry: u64 = res.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    assert_problem(res, 429, "rate-limited").await;
}

async fn notice_from(app: &TestApp, client: &reqwest::Client, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut req = client.get(format!("{}/v1/notices/newsletter?lang=en", app.base)).header("Origin", SHOP);
    if let Some(f) = forwarded_for {
        req = req.header("X-Forwarded-For", f);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn past_the_client_limit_the_answer_is_429_with_retry_after_and_others_are_still_served() {
    let app = spawn_app_with(with_limits(LimitSettings { client_rate: rate("5/m"), ..Default::default() })).await;
    for _ in 0..5 {
        assert_eq!(notice_from(&app, &app.client, None).await.status(), 200);
    }

    let refused = notice_from(&app, &app.client, None).await;

    // The page that caused it can read why (as every error of the browser API).
    assert_eq!(refused.headers()["access-control-allow-origin"], SHOP);
    assert_limited(refused).await;
    let other = reqwest::Client::builder().local_address("127.0.0.2".parse::<IpAddr>().unwrap()).build().unwrap();
    assert_eq!(notice_from(&app, &other, None).await.status(), 200, "another address has its own bucket");
    assert_eq!(app.get("/healthz").await.status(), 200, "health checks are never limited");
}

#[tokio::test]
async fn a_client_over_the_limit_costs_no_signature_check() {
    let app = spawn_app_with(with_limits(LimitSettings { client_rate: rate("2/m"), ..Default::default() })).await;
    let (receipt, _) = app.valid_receipt().await; // one request: the notice
    let forged = format!("{}AAAA", &receipt[..receipt.len() - 4]);
    let checked = app.post_lead(&forged).await.status().as_u16();
    assert!(checked != 429 && (400..500).contains(&checked), "{checked}");

    // The third request is refused before its receipt is even parsed.
    assert_limited(app.post_lead(&forged).await).await;
}

#[tokio::test]
async fn past_the_origin_limit_leads_are_429_whatever_address_they_come_from() {
    let app = spawn_app_with(with_limits(LimitSettings {
        client_rate: rate("off"),
        origin_rate: rate("3/m"),
        trusted_proxies: vec!["127.0.0.1".into()],
        ..Default::default()
    }))
    .await;
    let session = app.session().await;
    let post = |n: usize| {
        let receipt = sign(&session.claims(&unique_email()));
        app.client
            .post(format!("{}/v1/leads", app.base))
            .header("Origin", SHOP)
            .header("X-Forwarded-For", format!("198.51.100.{n}"))
            .json(&serde_json::json!({"receipt": receipt}))
            .send()
    };
    for n in 0..3 {
        assert_eq!(post(n).await.unwrap().status(), 201);
    }

    assert_limited(post(9).await.unwrap()).await;
    // Fetching notices is not a lead: still served.
    assert_eq!(notice_from(&app, &app.client, None).await.status(), 200);
}

#[tokio::test]
async fn only_a_trusted_proxy_may_name_the_client() {
    let trusted = spawn_app_with(with_limits(LimitSettings {
        client_rate: rate("2/m"),
        trusted_proxies: vec!["127.0.0.0/8".into()],
        ..Default::default()
    }))
    .await;
    for _ in 0..2 {
        assert_eq!(notice_from(&trusted, &trusted.client, Some("203.0.113.5")).await.status(), 200);
    }
    assert_limited(notice_from(&trusted, &trusted.client, Some("203.0.113.5")).await).await;
    assert_eq!(notice_from(&trusted, &trusted.client, Some("203.0.113.6")).await.status(), 200, "another client");
    // A client that writes its own X-Forwarded-For in front of the proxy's gains nothing.
    assert_limited(notice_from(&trusted, &trusted.client, Some("192.0.2.1, 203.0.113.5")).await).await;

    let untrusted = spawn_app_with(with_limits(LimitSettings { client_rate: rate("2/m"), ..Default::default() })).await;
    for n in 0..2 {
        assert_eq!(notice_from(&untrusted, &untrusted.client, Some(&format!("203.0.113.{n}"))).await.status(), 200);
    }
    // Without a trusted proxy the header is ignored: every request is the peer's.
    assert_limited(notice_from(&untrusted, &untrusted.client, Some("203.0.113.77")).await).await;
}

#[tokio::test]
async fn wrong_admin_keys_past_the_limit_lock_the_address_out_even_with_the_right_key() {
    let app =
        spawn_app_with(with_limits(LimitSettings { admin_failure_rate: rate("3/m"), ..Default::default() })).await;
    let good = create_key(&app.state.store, "crm", app.clock.now()).await.unwrap().1;
    let get = |client: &reqwest::Client, key: &str| {
        client.get(format!("{}/v1/admin/leads", app.base)).bearer_auth(key).send()
    };
    assert_eq!(get(&app.client, &good).await.unwrap().status(), 200, "successes do not count");
    for _ in 0..3 {
        assert_problem(get(&app.client, "cwk_0000000000000000.guess").await.unwrap(), 401, "unauthorized").await;
    }

    assert_limited(get(&app.client, "cwk_0000000000000000.guess").await.unwrap()).await;
    assert_limited(get(&app.client, &good).await.unwrap()).await;
    let other = reqwest::Client::builder().local_address("127.0.0.2".parse::<IpAddr>().unwrap()).build().unwrap();
    assert_eq!(get(&other, &good).await.unwrap().status(), 200, "another address is not locked out");
}

#[tokio::test]
async fn the_admin_api_with_a_key_is_not_held_to_the_client_rate() {
    let app = spawn_app_with(with_limits(LimitSettings { client_rate: rate("2/m"), ..Default::default() })).await;
    let good = create_key(&app.state.store, "import", app.clock.now()).await.unwrap().1;
    for _ in 0..10 {
        let res = app.client.get(format!("{}/v1/admin/leads", app.base)).bearer_auth(&good).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    for _ in 0..2 {
        assert_eq!(notice_from(&app, &app.client, None).await.status(), 200);
    }
    assert_limited(notice_from(&app, &app.client, None).await).await;
}

/// Ten times a busy sign-up page (one sign-up a second at its peak): 10 sign-ups a second,
/// each a notice fetch and a lead post from one address and one origin (a site's back end
/// in field mode), for three seconds, against the default limits. (The hour-long version
/// runs on a simulated clock in the `limits` module's unit tests.)
#[tokio::test]
async fn an_honest_site_at_ten_times_a_busy_rate_is_never_limited() {
    let app = spawn_app().await;
    let started = Instant::now();
    let mut statuses = Vec::new();
    for n in 0..30u32 {
        let due = started + Duration::from_millis(100) * n;
        tokio::time::sleep_until(due.into()).await;
        let (receipt, _) = app.valid_receipt().await;
        statuses.push(app.post_lead(&receipt).await.status().as_u16());
    }
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}
