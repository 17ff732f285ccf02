//! Test support shared by the verifier's API tests, the browser tests and the benchmark:
//! build and sign receipts the way a third party would from the wire format alone, and
//! run the real verifier binary.

pub mod browser;
pub mod db;
pub mod fixtures;
pub mod process;
pub mod smsc;
pub mod smtp;
pub mod spa;
pub mod static_site;

use anyhow::Context;
use consent_receipt::{Age, Claims, Contact, Decision, Evidence, Notice, NoticeRef, SigningKey, b64};

/// A fresh random visitor key.
pub fn random_key() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).expect("OS random source");
    SigningKey::from_bytes(&seed)
}

/// A fresh receipt id.
pub fn random_jti() -> String {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).expect("OS random source");
    b64::encode(&b)
}

/// Now, in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// What `GET /v1/notices/{id}` returned: everything needed to sign a receipt.
#[derive(Debug, Clone)]
pub struct Session {
    /// The notice shown.
    pub notice: Notice,
    /// Its digest.
    pub digest: String,
    /// The nonce.
    pub nonce: String,
    /// The origin the nonce is bound to.
    pub origin: String,
    /// The verifier's public URL (the `aud`).
    pub audience: String,
}

impl Session {
    /// Fetches a notice as a page on `origin` would.
    pub async fn fetch(
        client: &reqwest::Client,
        base: &str,
        notice: &str,
        lang: &str,
        origin: &str,
    ) -> anyhow::Result<Session> {
        let res = client
            .get(format!("{base}/v1/notices/{notice}?lang={lang}"))
            .header("Origin", origin)
            .send()
            .await
            .context("GET notice")?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.context("notice JSON")?;
        anyhow::ensure!(status.is_success(), "GET notice: {status} {body}");
        Ok(Session {
            notice: serde_json::from_value(body["notice"].clone()).context("notice shape")?,
            digest: body["digest"].as_str().context("digest")?.to_string(),
            nonce: body["nonce"].as_str().context("nonce")?.to_string(),
            origin: body["origin"].as_str().context("origin")?.to_string(),
            audience: body["audience"].as_str().context("audience")?.to_string(),
        })
    }

    /// Valid claims for `email`: the first purpose granted, the others refused, boxes
    /// unticked at first, ticked by a real gesture, an adult. A purpose offered with an
    /// objection box (soft opt-in, B2B, non-commercial) has its box left unticked when it is
    /// the first, ticked otherwise; the order reference or job function its basis needs is
    /// the caller's to add.
    pub fn claims(&self, email: &str) -> Claims {
        let t = now();
        Claims {
            jti: random_jti(),
            iat: t,
            aud: self.audience.clone(),
            iss: self.origin.clone(),
            nonce: self.nonce.clone(),
            notice: NoticeRef {
                id: self.notice.id.clone(),
                version: self.notice.version,
                lang: self.notice.lang.clone(),
                digest: self.digest.clone(),
            },
            contact: Contact { email: Some(email.to_string()), phone: None },
            decisions: self
                .notice
                .purposes
                .iter()
                .enumerate()
                .map(|(i, p)| match p.legal_basis.offers_objection() {
                    true => Decision::objection(p.id.clone(), i != 0, t),
                    false => Decision::new(p.id.clone(), i == 0, t),
                })
                .collect(),
            evidence: Evidence {
                initially_unchecked: true,
                trusted_gesture: true,
                page: format!("{}/signup", self.origin),
            },
            age: Age {
                minor: false,
                threshold: self.notice.age_of_consent,
                jurisdiction: self.notice.jurisdiction.clone(),
                guardian: None,
            },
            guardian_for: None,
        }
    }
}

/// Where the workspace's files are (notices, www), from this crate's manifest.
pub fn workspace_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(std::path::Path::to_path_buf).unwrap_or_default()
}
