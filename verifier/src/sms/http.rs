//! An HTTP SMS gateway: each SMS is one `POST` of `{"id", "from", "to", "text"}` with a
//! bearer token. 2xx is accepted; 429 and 5xx are retried; any other answer is a refusal.

use anyhow::Context;

use crate::config::{SecretString, SmsConfig};
use crate::mail::SendError;
use crate::store::outbox::Claimed;

/// Posts SMS to a gateway.
#[derive(Debug, Clone)]
pub struct HttpSms {
    client: reqwest::Client,
    url: String,
    token: Option<SecretString>,
}

impl HttpSms {
    /// A client for the configured gateway.
    pub fn new(c: &SmsConfig) -> anyhow::Result<HttpSms> {
        let url = c.http_url.clone().context("--sms-transport http needs --sms-http-url")?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .context("building the HTTP client")?;
        Ok(HttpSms { client, url, token: c.http_token.clone() })
    }

    /// Posts one SMS; the id lets the gateway drop a duplicate.
    pub async fn send(&self, sms: &Claimed) -> Result<(), SendError> {
        let body = serde_json::json!({"id": sms.id, "from": sms.from, "to": sms.to, "text": sms.message});
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.expose());
        }
        // reqwest's errors name the URL, never the body: no number reaches the log.
        let res = req.send().await.map_err(|e| SendError::Transient(format!("gateway: {e}")))?;
        let status = res.status();
        if status.is_success() {
            Ok(())
        } else if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Transient(format!("gateway answered {status}")))
        } else {
            Err(SendError::Permanent(format!("gateway answered {status}")))
        }
    }
}
