//! Headless Chromium driven over WebDriver (ChromeDriver), for the browser tests and the
//! widget benchmark.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// ChromeDriver: `CHROMEDRIVER`, else Debian's.
pub fn chromedriver() -> PathBuf {
    std::env::var_os("CHROMEDRIVER").map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

/// Chromium: `CHROMIUM`, else Debian's.
pub fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// A headless browser session; `close` it at the end of the test.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts ChromeDriver on a free port and a fresh headless Chromium profile.
    pub async fn start() -> anyhow::Result<Browser> {
        Browser::start_sized(1000, 1400).await
    }

    /// As [`start`](Self::start), with a window size. Tried three times: the free port
    /// ChromeDriver was given can be taken by another test's process before it binds it
    /// (then the session request reaches the wrong server), and a Chromium starting on a
    /// loaded machine sometimes drops its first session.
    pub async fn start_sized(width: u32, height: u32) -> anyhow::Result<Browser> {
        let mut last = None;
        for _ in 0..3 {
            match Browser::try_start(width, height).await {
                Ok(b) => return Ok(b),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt was made")))
    }

    async fn try_start(width: u32, height: u32) -> anyhow::Result<Browser> {
        let driver_path = chromedriver();
        if !driver_path.exists() {
            bail!(
                "{} is missing: install Debian's chromium and chromium-driver (`cargo xtask test` does) or set CHROMEDRIVER",
                driver_path.display()
            );
        }
        let port = crate::process::free_port()?;
        let mut command = Command::new(&driver_path);
        command.arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null());
        // Its own process group: Chromium and its helpers are ChromeDriver's children, and
        // killing the group on drop leaves no browser behind even when a test panics.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut driver = command.spawn().with_context(|| format!("starting {}", driver_path.display()))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("ChromeDriver did not listen within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir()?;
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ],
            },
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => bail!("capabilities must be an object"),
        };
        let client = match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                kill_group_of(&mut driver);
                return Err(anyhow::Error::new(e).context("opening a Chromium session"));
            }
        };
        Ok(Browser { client, driver, _profile: profile })
    }

    /// Evaluates `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<serde_json::Value>) -> anyhow::Result<serde_json::Value> {
        self.client.execute(script, args).await.with_context(|| format!("running {script}"))
    }

    /// Runs `source` in every document this session opens from now on, before the page's
    /// own scripts (Chrome DevTools' `Page.addScriptToEvaluateOnNewDocument`, through
    /// ChromeDriver): a page without a browser feature, for instance.
    pub async fn on_new_document(&self, source: &str) -> anyhow::Result<()> {
        let params = serde_json::json!({ "source": source });
        self.client
            .issue_cmd(Cdp { cmd: "Page.addScriptToEvaluateOnNewDocument", params })
            .await
            .context("adding a script to every new document")?;
        Ok(())
    }

    /// Emulates a CSS media feature for the pages of this session (DevTools'
    /// `Emulation.setEmulatedMedia`): `("prefers-color-scheme", "dark")`, for instance.
    pub async fn emulate_media(&self, feature: &str, value: &str) -> anyhow::Result<()> {
        let params = serde_json::json!({ "features": [{ "name": feature, "value": value }] });
        self.client
            .issue_cmd(Cdp { cmd: "Emulation.setEmulatedMedia", params })
            .await
            .with_context(|| format!("emulating {feature}: {value}"))?;
        Ok(())
    }

    /// Polls `condition` (a JS expression) until it is truthy.
    pub async fn wait_until(&self, condition: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let script = format!("return !!({condition});");
        loop {
            if self.js(&script, vec![]).await?.as_bool() == Some(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for {condition}");
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Ends the session and stops ChromeDriver.
    pub async fn close(self) -> anyhow::Result<()> {
        // Drop kills what is left.
        self.client.clone().close().await.context("closing the session")
    }

    fn kill_group(&mut self) {
        kill_group_of(&mut self.driver);
    }
}

/// A Chrome DevTools Protocol command, through ChromeDriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        (hyper::Method::POST, Some(serde_json::json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Kills ChromeDriver's process group: the driver and every browser process it started.
fn kill_group_of(driver: &mut Child) {
    // `kill -s KILL -- -<pgid>`. The `--` matters: without it procps reads `-<pgid>` as
    // options, not as a group.
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--"])
        .arg(format!("-{}", driver.id()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}
