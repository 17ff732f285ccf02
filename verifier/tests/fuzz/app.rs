//! One verifier for the targets that need its state (admin queries, inbound SMS): the real
//! router, driven in-process with `oneshot`, on SQLite in a temporary directory.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use consent_verifier::state::AppState;
use consent_verifier::{Application, Config, Settings};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower::ServiceExt;

const SECRET: &str = "fuzz-inbound-secret";

pub struct App {
    rt: tokio::runtime::Runtime,
    state: AppState,
    router: Router,
    key: String,
    /// `http://127.0.0.1:<port>`: the same verifier, served (for the CSV import, a client).
    pub base: String,
    _dir: tempfile::TempDir,
}

pub fn shared() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ws = consent_e2e::workspace_dir();
        let mut settings = Settings {
            addr: Some("127.0.0.1:0".parse().unwrap()),
            public_url: Some("https://verifier.test".into()),
            data_dir: Some(dir.path().to_path_buf()),
            notices: Some(ws.join("notices")),
            www: Some(ws.join("www")),
            ..Settings::default()
        };
        settings.sms.sms_inbound_secret = Some(consent_verifier::config::SecretString::new(SECRET.into()));
        let (state, key, base) = rt.block_on(async {
            let app = Application::build(Config::resolve(settings).unwrap()).await.unwrap();
            let base = format!("http://127.0.0.1:{}", app.port());
            let state = app.state().clone();
            let key =
                consent_verifier::consent::access::create_key(&state.store, "fuzz", state.clock.now()).await.unwrap().1;
            // Most targets drive the router directly; the CSV import is a client of the port.
            tokio::spawn(app.run_until(std::future::pending()));
            (state, key, base)
        });
        let router = consent_verifier::routes::router(state.clone());
        App { rt, state, router, key, base, _dir: dir }
    })
}

/// Bytes as a query string: what may stand in a URI stays, the rest is percent-encoded.
pub fn as_query(input: &[u8]) -> String {
    input
        .iter()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'=' | b'&' | b'+' | b'%' | b':' => {
                char::from(*b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl App {
    /// The status of an admin GET, or `None` when the URI itself does not parse.
    pub fn get_admin(&self, path_and_query: &str) -> Option<u16> {
        let req = Request::get(path_and_query).header("authorization", format!("Bearer {}", self.key));
        let req = req.body(Body::empty()).ok()?;
        Some(self.rt.block_on(async {
            let res = self.router.clone().oneshot(req).await.unwrap();
            // Streamed answers (the export) are read to the end: an error may come late.
            let status = res.status().as_u16();
            match axum::body::to_bytes(res.into_body(), 64 << 20).await {
                Ok(_) => status,
                Err(_) => 599,
            }
        }))
    }

    /// The status of an admin `POST` of a JSON `body`, with a valid key.
    pub fn post_admin(&self, path: &str, body: &[u8]) -> u16 {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.key))
            .body(Body::from(body.to_vec()))
            .unwrap();
        self.rt.block_on(async { self.router.clone().oneshot(req).await.unwrap().status().as_u16() })
    }

    /// The status of a correctly signed `POST /v1/sms/inbound` with `body`.
    pub fn post_inbound(&self, body: &[u8]) -> u16 {
        let ts = self.state.clock.now().to_string();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(body);
        let sig = consent_receipt::b64::encode(&mac.finalize().into_bytes());
        let req = Request::post("/v1/sms/inbound")
            .header("content-type", "application/json")
            .header("x-consent-timestamp", ts)
            .header("x-consent-signature", sig)
            .body(Body::from(body.to_vec()))
            .unwrap();
        self.rt.block_on(async { self.router.clone().oneshot(req).await.unwrap().status().as_u16() })
    }

    /// Runs `consent-verifier objections import` on `csv` against this verifier; its exit
    /// code (0 all applied, 1 rows refused, 2 could not go on; a panic is 101).
    pub fn import_csv(&self, csv: &[u8]) -> i32 {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), csv).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_consent-verifier"))
            .args(["objections", "import"])
            .arg(file.path())
            .args(["--url", &self.base, "--api-key", &self.key])
            .output()
            .unwrap();
        out.status.code().unwrap_or(-1)
    }

    /// Acts on an SMS as the SMPP transport hands it over; false on an internal error.
    pub fn inbound_sms(&self, from: String, text: String) -> bool {
        let sms = consent_verifier::sms::Inbound { from, text };
        let done = self.rt.block_on(consent_verifier::consent::sms::inbound(&self.state, &sms));
        !matches!(done, Err(e) if e.status().is_server_error())
    }
}
