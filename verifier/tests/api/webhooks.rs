//! Webhooks per Standard Webhooks, received by a server the test runs and checked with an
//! independent implementation (the `standardwebhooks` crate, with its own HMAC): the
//! life-cycle events, a receiver that fails twice then succeeds, one that answers 410,
//! and two replicas sharing the outbox (PostgreSQL).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use consent_receipt::b64;
use consent_verifier::Settings;
use consent_verifier::config::WebhookSettings;
use consent_verifier::consent::access::create_key;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(15);

/// A request the receiver got, and when.
#[derive(Debug, Clone)]
struct Hit {
    headers: HeaderMap,
    body: String,
    at: Instant,
}

impl Hit {
    fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_string()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What the receiver answers next: a status and an optional `Retry-After`.
type Script = Arc<Mutex<VecDeque<(u16, Option<&'static str>)>>>;

/// A webhook receiver on a loopback port: records every request and answers from a script
/// (then 200), after `delay`.
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    answers: Script,
}

impl Receiver {
    async fn start(answers: &[(u16, Option<&'static str>)], delay: Duration) -> Receiver {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let script: Script = Arc::new(Mutex::new(answers.iter().copied().collect()));
        let (h, s) = (hits.clone(), script.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (h, s) = (h.clone(), s.clone());
                async move {
                    h.lock().unwrap().push(Hit { headers, body, at: Instant::now() });
                    tokio::time::sleep(delay).await;
                    let (status, retry_after) = s.lock().unwrap().pop_front().unwrap_or((200, None));
                    let mut res = axum::response::Response::new(axum::body::Body::empty());
                    *res.status_mut() = StatusCode::from_u16(status).unwrap();
                    if let Some(r) = retry_after {
                        res.headers_mut().insert("retry-after", r.parse().unwrap());
                    }
                    res
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, hits, answers: script }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the requests received.
    async fn wait(&self, what: &str, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let start = Instant::now();
        loop {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            assert!(start.elapsed() < WAIT, "{what}: got {:?}", hits.iter().map(Hit::json).collect::<Vec<_>>());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn of_type(hits: &[Hit], t: &str) -> Vec<Hit> {
        hits.iter().filter(|h| h.json()["type"] == t).cloned().collect()
    }
}

/// Test settings: loopback receivers allowed, the retry schedule a thousand times faster.
fn hook_settings() -> Settings {
    Settings {
        webhooks: WebhookSettings { webhook_allow_private: Some(true), webhook_retry_scale: Some(0.001) },
        ..Settings::default()
    }
}

async fn hook_app() -> TestApp {
    spawn_app_with(Options { settings: Some(hook_settings()), ..Options::default() }).await
}

async fn admin_key(app: &TestApp) -> String {
    create_key(&app.state.store, "hooks", app.clock.now()).await.unwrap().1
}

async fn admin(
    app: &TestApp,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let mut req = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// Registers an endpoint; returns its id and secret.
async fn register(app: &TestApp, key: &str, body: serde_json::Value) -> (String, String) {
    let res = admin(app, key, reqwest::Method::POST, "/v1/admin/webhooks", Some(body)).await;
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = res.json().await.unwrap();
    assert!(v["secret"].as_str().unwrap().starts_with("whsec_"), "{v}");
    (v["id"].as_str().unwrap().to_string(), v["secret"].as_str().unwrap().to_string())
}

/// Checks a delivery as any receiver would: the independent implementation's `verify`.
fn verify(secret: &str, hit: &Hit) {
    let wh = standardwebhooks::Webhook::new(secret).unwrap();
    wh.verify(hit.body.as_bytes(), &hit.headers).unwrap_or_else(|e| panic!("{e:?}: {}", hit.body));
    let wrong = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert!(wrong.verify(hit.body.as_bytes(), &hit.headers).is_err(), "another secret does not verify");
}

/// The `v1a` signature holds under the verifier's published key.
async fn verify_v1a(app: &TestApp, hit: &Hit) {
    let jwks: serde_json::Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    let x = b64::decode_array::<32>(jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
    let header = hit.headers["webhook-signature"].to_str().unwrap();
    let v1a = header.split(' ').find_map(|s| s.strip_prefix("v1a,")).expect("a v1a signature");
    let sig = ed25519_dalek::Signature::from_slice(&b64::decode_std(v1a).unwrap()).unwrap();
    let signed = format!("{}.{}.{}", hit.id(), hit.headers["webhook-timestamp"].to_str().unwrap(), hit.body);
    key.verify_strict(signed.as_bytes(), &sig).unwrap();
}

#[tokio::test]
async fn life_cycle_events_are_delivered_signed_and_only_contact_endpoints_get_the_address() {
    let sink = consent_e2e::smtp::SmtpSink::start().await.unwrap();
    let settings = hook_settings().or(crate::lifecycle::smtp_settings(sink.port()));
    let app = spawn_app_with(Options { settings: Some(settings), ..Options::default() }).await;
    let key = admin_key(&app).await;
    let (plain, with_contact) =
        (Receiver::start(&[], Duration::ZERO).await, Receiver::start(&[], Duration::ZERO).await);
    let (_, plain_secret) = register(&app, &key, serde_json::json!({"url": plain.url})).await;
    let (_, contact_secret) = register(
        &app,
        &key,
        serde_json::json!({"url": with_contact.url, "event_types": ["lead.accepted"], "include_contact": true}),
    )
    .await;

    let session = app.session().await;
    let email = unique_email();
    let claims = session.claims(&email);
    let visitor = consent_e2e::random_key();
    let receipt = claims.sign(&visitor);
    let res = app.post_lead(&receipt).await;
    assert_eq!(res.status(), 201);
    let lead = res.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string();
    let mail = &sink.wait_for(1, WAIT).await.unwrap()[0];
    let text = mail.text_part("text/plain").unwrap();
    let link = text[text.find(&format!("{AUD}/confirm/")).unwrap()..]
        .split_whitespace()
        .next()
        .unwrap()
        .replace(AUD, &app.base);
    assert_eq!(app.client.post(&link).send().await.unwrap().status(), 200);
    assert_eq!(app.withdraw(&claims.jti, &visitor).await.status(), 200);

    let hits = plain
        .wait("accepted, confirmed, withdrawn", |h| {
            ["lead.accepted", "lead.confirmed", "lead.withdrawn"].iter().all(|t| !Receiver::of_type(h, t).is_empty())
        })
        .await;
    for hit in &hits {
        verify(&plain_secret, hit);
        assert!(!hit.body.contains(&email) && !hit.body.contains('@'), "no contact data: {}", hit.body);
    }
    verify_v1a(&app, &hits[0]).await;
    let accepted = Receiver::of_type(&hits, "lead.accepted")[0].json();
    let data = &accepted["data"];
    assert_eq!(data["lead_id"], lead.as_str());
    assert_eq!(data["status"], "pending_confirmation");
    assert!(data["seal"].as_str().unwrap().starts_with("eyJ"), "{data}");
    assert!(data["receipt"].is_null(), "the receipt names the address: only with the contact");
    assert_eq!(data["purposes"].as_array().unwrap().len(), claims.decisions.len());
    assert!(accepted["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(Receiver::of_type(&hits, "lead.withdrawn")[0].json()["data"]["status"], "withdrawn");

    let got = with_contact.wait("the accepted lead, with its address", |h| !h.is_empty()).await;
    verify(&contact_secret, &got[0]);
    let data = &got[0].json()["data"];
    assert_eq!(data["contact"]["email"], email.as_str());
    assert_eq!(data["receipt"], receipt.as_str(), "the whole receipt travels with the contact");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(with_contact.hits().len(), 1, "an endpoint gets only the types it asked for");
}

#[tokio::test]
async fn a_receiver_that_fails_twice_then_succeeds_gets_the_same_delivery_honouring_retry_after() {
    let app = hook_app().await;
    let key = admin_key(&app).await;
    let receiver = Receiver::start(&[(500, None), (503, Some("2"))], Duration::ZERO).await;
    let (id, secret) = register(&app, &key, serde_json::json!({"url": receiver.url})).await;

    let res = admin(&app, &key, reqwest::Method::POST, &format!("/v1/admin/webhooks/{id}/test"), None).await;
    assert_eq!(res.status(), 202);
    let delivery = res.json::<serde_json::Value>().await.unwrap()["delivery_id"].as_str().unwrap().to_string();

    let hits = receiver.wait("three attempts", |h| h.len() >= 3).await;
    assert!(hits.iter().all(|h| h.id() == delivery), "one webhook-id on every attempt");
    for h in &hits {
        verify(&secret, h);
    }
    assert_eq!(hits[0].json()["type"], "webhook.test");
    assert!(hits[2].at - hits[1].at >= Duration::from_secs(1), "Retry-After: 2 was waited, not the 5 ms step");
    assert!(receiver.answers.lock().unwrap().is_empty());
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        let res = admin(&app, &key, reqwest::Method::GET, &format!("/v1/admin/webhooks/{id}/deliveries"), None).await;
        listed = res.json::<serde_json::Value>().await.unwrap()["deliveries"][0].clone();
        if listed["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(listed["status"], "delivered", "{listed}");
    assert_eq!(listed["attempts"], 3);
    assert_eq!(listed["last_status"], 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 3, "nothing more once delivered");
}

#[tokio::test]
async fn a_receiver_that_answers_410_disables_its_endpoint_and_gets_nothing_more() {
    let app = hook_app().await;
    let key = admin_key(&app).await;
    let receiver = Receiver::start(&[(410, None)], Duration::ZERO).await;
    let (id, _) = register(&app, &key, serde_json::json!({"url": receiver.url})).await;

    let (receipt, _) = app.valid_receipt().await;
    assert_eq!(app.post_lead(&receipt).await.status(), 201);
    receiver.wait("the first delivery", |h| !h.is_empty()).await;
    let mut endpoint = serde_json::Value::Null;
    for _ in 0..100 {
        let all: serde_json::Value =
            admin(&app, &key, reqwest::Method::GET, "/v1/admin/webhooks", None).await.json().await.unwrap();
        endpoint = all["endpoints"][0].clone();
        if !endpoint["disabled_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(endpoint["disabled_reason"], "410 Gone", "{endpoint}");

    let (receipt, _) = app.valid_receipt().await;
    assert_eq!(app.post_lead(&receipt).await.status(), 201);
    let res = admin(&app, &key, reqwest::Method::POST, &format!("/v1/admin/webhooks/{id}/test"), None).await;
    assert_problem(res, 409, "wrong-state").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.hits().len(), 1, "a disabled endpoint is not retried nor sent new events");
    let listed: serde_json::Value =
        admin(&app, &key, reqwest::Method::GET, &format!("/v1/admin/webhooks/{id}/deliveries"), None)
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(listed["deliveries"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["deliveries"][0]["status"], "failed");
}

#[tokio::test]
async fn endpoints_are_listed_deleted_and_bad_ones_refused_with_a_code() {
    let app = spawn_app().await;
    let key = admin_key(&app).await;
    let post = |body: serde_json::Value| admin(&app, &key, reqwest::Method::POST, "/v1/admin/webhooks", Some(body));
    assert_problem(post(serde_json::json!({"url": "http://127.0.0.1:9/hook"})).await, 422, "webhook-target-refused")
        .await;
    assert_problem(post(serde_json::json!({"url": "http://localhost:9/hook"})).await, 422, "webhook-target-refused")
        .await;
    assert_problem(post(serde_json::json!({"url": "http://10.0.0.8/hook"})).await, 422, "webhook-target-refused").await;
    assert_problem(post(serde_json::json!({"url": "ftp://example.org/"})).await, 422, "bad-webhook-url").await;
    assert_problem(post(serde_json::json!({"url": "hook"})).await, 422, "bad-webhook-url").await;
    let res = post(serde_json::json!({"url": "https://93.184.215.14/hook", "event_types": ["lead.teleported"]})).await;
    assert_problem(res, 422, "unknown-event-type").await;
    assert_problem(
        post(serde_json::json!({"url": "https://93.184.215.14/hook", "secret": "x"})).await,
        400,
        "malformed-request",
    )
    .await;
    let unauth = app.client.get(format!("{}/v1/admin/webhooks", app.base)).send().await.unwrap();
    assert_problem(unauth, 401, "unauthorized").await;

    let res = post(serde_json::json!({"url": "https://93.184.215.14/hook", "event_types": ["lead.withdrawn"]})).await;
    assert_eq!(res.status(), 201);
    let made: serde_json::Value = res.json().await.unwrap();
    let id = made["id"].as_str().unwrap();
    let listed: serde_json::Value =
        admin(&app, &key, reqwest::Method::GET, "/v1/admin/webhooks", None).await.json().await.unwrap();
    assert_eq!(listed["endpoints"][0]["id"], id);
    assert_eq!(listed["endpoints"][0]["event_types"], serde_json::json!(["lead.withdrawn"]));
    assert!(listed["endpoints"][0].get("secret").is_none(), "the secret is shown once: {listed}");
    assert!(!listed.to_string().contains(made["secret"].as_str().unwrap()));

    let path = format!("/v1/admin/webhooks/{id}");
    assert_eq!(admin(&app, &key, reqwest::Method::DELETE, &path, None).await.status(), 204);
    assert_problem(admin(&app, &key, reqwest::Method::DELETE, &path, None).await, 404, "not-found").await;
    let res = admin(&app, &key, reqwest::Method::GET, &format!("{path}/deliveries"), None).await;
    assert_problem(res, 404, "not-found").await;
    let listed: serde_json::Value =
        admin(&app, &key, reqwest::Method::GET, "/v1/admin/webhooks", None).await.json().await.unwrap();
    assert_eq!(listed["endpoints"], serde_json::json!([]));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: runs in the PostgreSQL pass of `cargo xtask test`"]
async fn two_replicas_sharing_the_outbox_never_make_the_same_attempt_twice() {
    assert!(consent_e2e::db::postgres(), "run with CONSENT_TEST_BACKEND=postgres and CONSENT_TEST_POSTGRES_URL");
    let (keys, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let database = consent_e2e::db::database_url(data.path());
    let replica = || {
        spawn_app_with(Options {
            settings: Some(hook_settings()),
            database_url: Some(database.clone()),
            keys_dir: Some(keys.path().to_path_buf()),
            ..Options::default()
        })
    };
    let a = replica().await;
    let b = replica().await;
    let key = admin_key(&a).await;
    // A slow receiver, so that both replicas' workers have deliveries in flight at once.
    let receiver = Receiver::start(&[], Duration::from_millis(30)).await;
    let (_, secret) =
        register(&b, &key, serde_json::json!({"url": receiver.url, "event_types": ["lead.accepted"]})).await;

    let mut posts = Vec::new();
    for i in 0..40 {
        let app = if i % 2 == 0 { &a } else { &b };
        let (receipt, _) = app.valid_receipt().await;
        posts.push(app.post_lead(receipt.as_str()).await.status());
    }
    assert!(posts.iter().all(|s| *s == 201), "{posts:?}");
    let hits = receiver.wait("40 deliveries", |h| h.len() >= 40).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let hits = if receiver.hits().len() > hits.len() { receiver.hits() } else { hits };
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for h in &hits {
        verify(&secret, h);
        *per_id.entry(h.id()).or_default() += 1;
    }
    assert_eq!(per_id.len(), 40, "one delivery per accepted lead");
    assert!(per_id.values().all(|n| *n == 1), "an attempt made twice: {per_id:?}");
}

#[tokio::test]
async fn an_objection_is_delivered_without_the_address_and_an_erasure_gives_up_what_still_carries_it() {
    let app = hook_app().await;
    let key = admin_key(&app).await;
    // A receiver that is down: the contact endpoint's deliveries stay owed.
    let down = Receiver::start(&[(500, None); 64], Duration::ZERO).await;
    let (down_id, _) = register(&app, &key, serde_json::json!({"url": down.url, "include_contact": true})).await;
    let up = Receiver::start(&[], Duration::ZERO).await;
    let (_, secret) = register(&app, &key, serde_json::json!({"url": up.url})).await;
    let email = unique_email();
    let (receipt, _) = {
        let s = app.session().await;
        let c = s.claims(&email);
        (sign(&c), c)
    };
    assert_eq!(app.post_lead(&receipt).await.status(), 201);
    app.clock.advance(2);

    let body = serde_json::json!({"email": email, "source": "dpo", "received_at": app.clock.now().to_string()});
    let res = admin(&app, &key, reqwest::Method::POST, "/v1/admin/objections", Some(body)).await;
    assert_eq!(res.status(), 201);
    let objection = res.json::<serde_json::Value>().await.unwrap()["objection_id"].clone();
    let hits = up
        .wait("the objection and the withdrawal", |h| {
            !Receiver::of_type(h, "objection.recorded").is_empty() && !Receiver::of_type(h, "lead.withdrawn").is_empty()
        })
        .await;
    let recorded = &Receiver::of_type(&hits, "objection.recorded")[0];
    verify(&secret, recorded);
    assert_eq!(recorded.json()["data"]["event"]["data"]["objection_id"], objection);
    assert!(!recorded.body.contains('@'), "{}", recorded.body);
    down.wait("the contact endpoint was tried", |h| h.len() >= 2).await;

    // Thirty days later the withdrawn lead's contact data is erased: so is every body
    // still owed that carries it, and the erasure itself goes out.
    app.clock.advance(31 * 86_400);
    assert_eq!(consent_verifier::consent::retention::erase_once(&app.state).await.unwrap(), 1);
    let res = admin(&app, &key, reqwest::Method::GET, &format!("/v1/admin/webhooks/{down_id}/deliveries"), None).await;
    let listed: serde_json::Value = res.json().await.unwrap();
    let deliveries = listed["deliveries"].as_array().unwrap();
    let erased = deliveries.iter().find(|d| d["type"] == "lead.contact_erased").expect("the erasure is owed too");
    assert_eq!(erased["status"], "pending");
    for d in deliveries.iter().filter(|d| d["type"] == "lead.accepted" || d["type"] == "lead.withdrawn") {
        assert_eq!(d["status"], "failed", "{d}");
        assert_eq!(d["last_error"], "the lead was erased before delivery", "{d}");
    }
    up.wait("the erasure", |h| !Receiver::of_type(h, "lead.contact_erased").is_empty()).await;
}

#[test]
fn every_webhook_type_is_named_in_the_readme_and_in_the_error_page() {
    let readme = std::fs::read_to_string(consent_e2e::workspace_dir().join("README.md")).unwrap();
    let section = &readme[readme.find("## Webhooks").unwrap()..];
    let page = consent_verifier::error::Code::UnknownEventType.info().text;
    for t in consent_verifier::domain::WebhookEvent::ALL {
        assert!(section.contains(&format!("`{t}`")), "{t} missing from the README's Webhooks section");
        assert!(page.contains(t.as_str()), "{t} missing from /errors/unknown-event-type");
    }
}
