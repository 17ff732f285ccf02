//! A verifier process, a browser, and what the verifier stored.

use std::time::Duration;

use consent_e2e::browser::Browser;
use consent_e2e::process::VerifierProcess;
use consent_receipt::{Claims, VerifiedReceipt};
use fantoccini::Locator;
use sqlx::Row;

pub const WAIT: Duration = Duration::from_secs(15);

pub struct Site {
    pub verifier: VerifierProcess,
    pub browser: Browser,
    _data: tempfile::TempDir,
}

/// A lead as the verifier stored it.
#[derive(Debug)]
pub struct Stored {
    pub status: String,
    pub granted: Vec<String>,
    pub claims: Claims,
}

impl Site {
    pub async fn start() -> Site {
        Site::start_sized(1000, 1400).await
    }

    pub async fn start_sized(width: u32, height: u32) -> Site {
        Site::start_with(width, height, &[]).await
    }

    /// With extra `serve` flags (an SMTP sink, for instance).
    pub async fn start_with(width: u32, height: u32, args: &[&str]) -> Site {
        let widget = consent_e2e::workspace_dir().join("www/widget/widget.js");
        assert!(widget.exists(), "{} is missing: build the widget with `cargo xtask dist`", widget.display());
        let data = tempfile::tempdir().unwrap();
        let verifier = VerifierProcess::start(data.path(), args, &[]).unwrap();
        let browser = Browser::start_sized(width, height).await.unwrap();
        Site { verifier, browser, _data: data }
    }

    /// Opens a page of the demo and waits for the widget to be ready.
    pub async fn open(&self, path: &str) {
        self.browser.client.goto(&format!("{}{path}", self.verifier.base)).await.unwrap();
        self.browser.wait_until("document.querySelector('.cw input[type=checkbox]')", WAIT).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.browser.client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.browser.client.find(Locator::Css(css)).await.unwrap().send_keys(text).await.unwrap();
    }

    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.browser.js(script, vec![]).await.unwrap()
    }

    pub async fn text(&self, css: &str) -> String {
        self.browser.client.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
    }

    /// Submits the form and waits for the demo shop's own handler to show its result.
    pub async fn submit_and_wait_for_result(&self) {
        self.click("button[type=submit]").await;
        self.browser.wait_until("!document.getElementById('result').hidden", WAIT).await.unwrap();
    }

    /// Submits and waits for the widget to report an error next to itself.
    pub async fn submit_and_wait_for_alert(&self) -> String {
        self.click("button[type=submit]").await;
        self.browser.wait_until("document.querySelector('.cw-alert').textContent.length > 0", WAIT).await.unwrap();
        self.text(".cw-alert").await
    }

    /// Opens any page of the verifier (a mail link) and waits for `ready`.
    pub async fn visit(&self, url: &str, ready: &str) {
        self.browser.client.goto(url).await.unwrap();
        self.browser.wait_until(ready, WAIT).await.unwrap();
    }

    /// Status of the only lead.
    pub async fn only_status(&self) -> String {
        let pool = consent_e2e::db::pool(&self.verifier.data_dir).await.unwrap();
        let s: String = sqlx::query_scalar("SELECT status FROM leads").fetch_one(&pool).await.unwrap();
        pool.close().await;
        s
    }

    /// Every lead the verifier stored.
    pub async fn stored(&self) -> Vec<Stored> {
        let pool = consent_e2e::db::pool(&self.verifier.data_dir).await.unwrap();
        let rows = sqlx::query("SELECT status, granted, receipt FROM leads ORDER BY created_at")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.iter()
            .map(|r| {
                let receipt: String = r.get("receipt");
                Stored {
                    status: r.get("status"),
                    granted: serde_json::from_str(&r.get::<String, _>("granted")).unwrap(),
                    claims: VerifiedReceipt::verify(&receipt).unwrap().claims().clone(),
                }
            })
            .collect()
    }

    pub async fn close(self) {
        self.browser.close().await.unwrap();
    }
}

/// An admin API key for the site's verifier, made with the CLI as an operator would.
pub fn create_key(site: &Site) -> String {
    let out = std::process::Command::new(consent_e2e::process::verifier_bin().unwrap())
        .args(["admin", "create-key", "--name", "browser-test", "--data-dir"])
        .arg(&site.verifier.data_dir)
        .arg("--database-url")
        .arg(consent_e2e::db::database_url(&site.verifier.data_dir))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().find(|w| w.starts_with("cwk_")).unwrap_or_else(|| panic!("no key in {text}")).to_string()
}

/// Writes a screenshot to target/screenshots (and, with CONSENT_UPDATE_SCREENSHOTS=1, to the
/// committed copies in www/screenshots).
pub fn save_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"));
    let dir = if std::env::var_os("CONSENT_UPDATE_SCREENSHOTS").is_some() {
        consent_e2e::workspace_dir().join("www/screenshots")
    } else {
        consent_e2e::workspace_dir().join("target/screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

/// What axe-core finds wrong with the page as it is now.
pub async fn axe_violations(site: &Site) -> Vec<serde_json::Value> {
    let axe = consent_e2e::fixtures::axe_source().unwrap();
    // WebDriver scripts run outside the page's CSP; the page itself never evaluates code.
    site.browser.js(&format!("{axe}\nreturn true;"), vec![]).await.unwrap();
    let result = site
        .browser
        .js("return axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})));", vec![])
        .await
        .unwrap();
    result.as_array().cloned().unwrap_or_default()
}
