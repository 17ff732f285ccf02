//! SMS settings: the transport (`file`, `http`, `smpp`) and what each needs, and the key
//! that signs inbound messages from an HTTP gateway.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Deserialize;

use super::{HumanDuration, SecretString};

/// How SMS leave the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransport {
    /// Write one JSON file per SMS to `<data-dir>/sms-outbox/` and log the link (the default: no provider needed).
    File,
    /// POST each SMS as JSON to a gateway URL with a bearer token.
    Http,
    /// Bind to an SMS centre over SMPP 3.4 (transceiver: submits go out, STOP and OUI come in).
    Smpp,
}

/// The SMS flags, their `CONSENT_*` variables, and the `[sms]` table of the config file.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SmsSettings {
    /// How SMS are sent [default: file]
    #[arg(long, env = "CONSENT_SMS_TRANSPORT", value_enum)]
    pub sms_transport: Option<SmsTransport>,
    /// Gateway URL for --sms-transport http (each SMS is POSTed there as JSON)
    #[arg(long, env = "CONSENT_SMS_HTTP_URL")]
    pub sms_http_url: Option<String>,
    /// Bearer token for the HTTP gateway (prefer the environment variable)
    #[arg(long, env = "CONSENT_SMS_HTTP_TOKEN", hide_env_values = true)]
    pub sms_http_token: Option<SecretString>,
    /// Key that signs inbound SMS POSTed to /v1/sms/inbound (HMAC-SHA256); without it the endpoint is off
    #[arg(long, env = "CONSENT_SMS_INBOUND_SECRET", hide_env_values = true)]
    pub sms_inbound_secret: Option<SecretString>,
    /// SMS centre for --sms-transport smpp, host:port
    #[arg(long, env = "CONSENT_SMPP_ADDR")]
    pub smpp_addr: Option<String>,
    /// SMPP system id (the account name the provider gave)
    #[arg(long, env = "CONSENT_SMPP_SYSTEM_ID")]
    pub smpp_system_id: Option<String>,
    /// SMPP password (prefer the environment variable)
    #[arg(long, env = "CONSENT_SMPP_PASSWORD", hide_env_values = true)]
    pub smpp_password: Option<SecretString>,
    /// Submits in flight at once on the SMPP connection [default: 10]
    #[arg(long, env = "CONSENT_SMPP_WINDOW")]
    pub smpp_window: Option<usize>,
    /// How long to wait for a submit_sm_resp before the connection counts as lost [default: 10s]
    #[arg(long, env = "CONSENT_SMPP_TIMEOUT")]
    pub smpp_timeout: Option<HumanDuration>,
}

impl SmsSettings {
    /// These settings, with `fallback` filling what they leave unset.
    pub fn or(self, fallback: SmsSettings) -> SmsSettings {
        SmsSettings {
            sms_transport: self.sms_transport.or(fallback.sms_transport),
            sms_http_url: self.sms_http_url.or(fallback.sms_http_url),
            sms_http_token: self.sms_http_token.or(fallback.sms_http_token),
            sms_inbound_secret: self.sms_inbound_secret.or(fallback.sms_inbound_secret),
            smpp_addr: self.smpp_addr.or(fallback.smpp_addr),
            smpp_system_id: self.smpp_system_id.or(fallback.smpp_system_id),
            smpp_password: self.smpp_password.or(fallback.smpp_password),
            smpp_window: self.smpp_window.or(fallback.smpp_window),
            smpp_timeout: self.smpp_timeout.or(fallback.smpp_timeout),
        }
    }
}

/// SMS settings, resolved.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// Transport.
    pub transport: SmsTransport,
    /// Where the file transport writes.
    pub outbox_dir: PathBuf,
    /// Gateway URL (http).
    pub http_url: Option<String>,
    /// Gateway token (http).
    pub http_token: Option<SecretString>,
    /// Key of inbound signatures.
    pub inbound_secret: Option<SecretString>,
    /// SMS centre (smpp).
    pub smpp_addr: Option<String>,
    /// SMPP account.
    pub smpp_system_id: String,
    /// SMPP password.
    pub smpp_password: SecretString,
    /// Submits in flight.
    pub smpp_window: usize,
    /// Response time limit.
    pub smpp_timeout: std::time::Duration,
}

impl SmsConfig {
    /// Applies defaults; refuses a transport without what it needs.
    pub fn resolve(s: SmsSettings, data_dir: &Path) -> anyhow::Result<SmsConfig> {
        let c = SmsConfig {
            transport: s.sms_transport.unwrap_or(SmsTransport::File),
            outbox_dir: data_dir.join("sms-outbox"),
            http_url: s.sms_http_url,
            http_token: s.sms_http_token,
            inbound_secret: s.sms_inbound_secret,
            smpp_addr: s.smpp_addr,
            smpp_system_id: s.smpp_system_id.unwrap_or_default(),
            smpp_password: s.smpp_password.unwrap_or_default(),
            smpp_window: s.smpp_window.unwrap_or(10).clamp(1, 256),
            smpp_timeout: s.smpp_timeout.map_or(std::time::Duration::from_secs(10), |d| d.0),
        };
        match c.transport {
            SmsTransport::Http if c.http_url.is_none() => bail!("--sms-transport http needs --sms-http-url"),
            SmsTransport::Smpp if c.smpp_addr.is_none() => bail!("--sms-transport smpp needs --smpp-addr host:port"),
            _ => Ok(c),
        }
    }
}
