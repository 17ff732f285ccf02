//! `spawn_app()` and friends: the real router on a loopback port, in-process, with a
//! temporary data directory and a clock the test can move.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use consent_e2e::Session;
use consent_receipt::Claims;
use consent_verifier::clock::Clock;
use consent_verifier::state::AppState;
use consent_verifier::{Application, Config, Settings};
use tempfile::TempDir;

/// The verifier's public URL in tests: the `aud` receipts must name.
pub const AUD: &str = "https://verifier.test";
/// An origin allowed for every notice.
pub const SHOP: &str = "https://shop.example";

/// A notices directory with the demo notices (`newsletter`, `orders`) and the test-only
/// ones in `tests/api/fixtures/` (`offers`, `pros`, `charity`).
pub fn test_notices() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = consent_e2e::workspace_dir();
    for name in ["newsletter.toml", "orders.toml"] {
        std::fs::copy(ws.join("notices").join(name), dir.path().join(name)).unwrap();
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures");
    for name in ["offers.toml", "pros.toml", "charity.toml"] {
        std::fs::copy(fixtures.join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// How to build a test app; every field has a default.
#[derive(Default)]
pub struct Options {
    pub data_dir: Option<PathBuf>,
    pub keys_dir: Option<PathBuf>,
    pub notices_dir: Option<PathBuf>,
    pub allowed_origins: Option<Vec<String>>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub settings: Option<Settings>,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Clock,
    #[allow(dead_code)]
    pub data_dir: PathBuf,
    pub notices_dir: PathBuf,
    _dirs: Vec<Arc<TempDir>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn try_spawn_app_with(opts: Options) -> anyhow::Result<TestApp> {
    let mut dirs = Vec::new();
    let data_dir = match opts.data_dir {
        Some(d) => d,
        None => {
            let d = Arc::new(tempfile::tempdir()?);
            let p = d.path().to_path_buf();
            dirs.push(d);
            p
        }
    };
    let notices_dir = match opts.notices_dir {
        Some(d) => d,
        None => {
            let d = Arc::new(test_notices());
            let p = d.path().to_path_buf();
            dirs.push(d);
            p
        }
    };
    let base = opts.settings.unwrap_or_default();
    let settings = Settings {
        addr: Some("127.0.0.1:0".parse()?),
        public_url: Some(opts.public_url.unwrap_or_else(|| AUD.into())),
        data_dir: Some(data_dir.clone()),
        keys_dir: opts.keys_dir,
        // SQLite in the data directory, or this directory's own PostgreSQL schema.
        database_url: Some(opts.database_url.unwrap_or_else(|| consent_e2e::db::database_url(&data_dir))),
        notices: Some(notices_dir.clone()),
        www: Some(consent_e2e::workspace_dir().join("www")),
        allowed_origins: opts.allowed_origins.unwrap_or_else(|| vec![SHOP.into()]),
        ..Settings::default()
    }
    .or(base);
    let config = Config::resolve(settings)?;
    let clock = Clock::default();
    let app = Application::build_with_clock(config, clock.clone()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Ok(TestApp {
        base,
        client: reqwest::Client::new(),
        state,
        clock,
        data_dir,
        notices_dir,
        _dirs: dirs,
        stop: Some(stop),
        task: Some(task),
    })
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    try_spawn_app_with(opts).await.expect("the test app starts")
}

impl TestApp {
    /// The demo notice in English, as a page on the shop's origin would fetch it.
    pub async fn session(&self) -> Session {
        self.session_for("newsletter", "en", SHOP).await
    }

    pub async fn session_for(&self, notice: &str, lang: &str, origin: &str) -> Session {
        Session::fetch(&self.client, &self.base, notice, lang, origin).await.expect("notice fetched")
    }

    /// POSTs a receipt as the shop's page would (with its Origin header).
    pub async fn post_lead(&self, receipt: &str) -> reqwest::Response {
        self.post_lead_from(receipt, Some(SHOP)).await
    }

    pub async fn post_lead_from(&self, receipt: &str, origin: Option<&str>) -> reqwest::Response {
        let mut req =
            self.client.post(format!("{}/v1/leads", self.base)).json(&serde_json::json!({"receipt": receipt}));
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        req.send().await.expect("request sent")
    }

    /// Withdraws everything a receipt granted, with a request signed by the receipt's key.
    pub async fn withdraw(&self, receipt_jti: &str, key: &consent_receipt::SigningKey) -> reqwest::Response {
        let w = consent_receipt::WithdrawalClaims {
            jti: consent_e2e::random_jti(),
            iat: self.clock.now(),
            aud: AUD.into(),
            receipt_jti: receipt_jti.into(),
            purposes: None,
        };
        self.client
            .post(format!("{}/v1/withdrawals", self.base))
            .json(&serde_json::json!({"withdrawal": w.sign(key)}))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request sent")
    }

    /// A valid, signed receipt for a fresh address; returns it with its claims.
    pub async fn valid_receipt(&self) -> (String, Claims) {
        let s = self.session().await;
        let claims = s.claims(&unique_email());
        (claims.sign(&consent_e2e::random_key()), claims)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task").expect("server ran");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn unique_email() -> String {
    format!("visitor-{}@example.org", consent_e2e::random_jti().to_lowercase().replace(['-', '_'], "x"))
}

pub fn sign(claims: &Claims) -> String {
    claims.sign(&consent_e2e::random_key())
}

/// Asserts a problem+json answer with this status and code, and returns its body.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    let got = res.status().as_u16();
    let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    assert_eq!((got, body["code"].as_str().unwrap_or("")), (status, code), "unexpected answer: {body}");
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(body["type"], format!("/errors/{code}"));
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body["detail"].as_str().is_some(), "{body}");
    body
}
