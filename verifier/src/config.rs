//! Configuration: one struct, from defaults, a TOML file, `CONSENT_*` environment
//! variables and flags (later ones win). Every default is chosen so that
//! `consent-verifier serve` works on a fresh machine with no flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::domain::Origin;

mod limits;
mod retention;
mod sms;
mod values;
mod webhooks;

pub use limits::{LimitSettings, LimitsConfig, Rate, RateSetting};
pub use retention::{RetentionConfig, RetentionSettings};
pub use sms::{SmsConfig, SmsSettings, SmsTransport};
pub use values::{HumanDuration, MailTransport, SecretString, SmtpTls};
pub use webhooks::{WebhookConfig, WebhookSettings};

///
/// The same struct is the `serve` flags (with their `CONSENT_*` variables) and the
/// `--config` file's keys, so the two can never drift apart.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CONSENT_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Public base URL of this verifier: the `aud` receipts must name [default: http://<addr>]
    #[arg(long, env = "CONSENT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where data, keys and the mail outbox live [default: ./data]
    #[arg(long, env = "CONSENT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Signing keys and the nonce secret; replicas share it [default: <data-dir>/keys]
    #[arg(long, env = "CONSENT_KEYS_DIR")]
    pub keys_dir: Option<PathBuf>,
    /// Database URL, sqlite://… or postgres://… [default: sqlite://<data-dir>/consent.db]
    #[arg(long, env = "CONSENT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory of notice files (<id>.toml) [default: ./notices]
    #[arg(long, env = "CONSENT_NOTICES")]
    pub notices: Option<PathBuf>,
    /// Directory of static pages to serve (demo, guide, widget) [default: ./www if present]
    #[arg(long, env = "CONSENT_WWW")]
    pub www: Option<PathBuf>,
    /// An origin allowed to show every notice, besides each notice's own list (repeatable;
    /// comma-separated in the environment)
    #[arg(long = "allowed-origin", env = "CONSENT_ALLOWED_ORIGINS", value_delimiter = ',')]
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// A witness that cosigns the transparency log's checkpoints (C2SP tlog-witness): the
    /// URL it serves `add-checkpoint` under (repeatable; comma-separated in the environment)
    #[arg(long = "witness", env = "CONSENT_WITNESSES", value_delimiter = ',')]
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// How long a nonce issued with a notice stays valid [default: 2h]
    #[arg(long, env = "CONSENT_NONCE_TTL")]
    pub nonce_ttl: Option<HumanDuration>,
    /// Allowed difference between a receipt's iat and this clock [default: 5m]
    #[arg(long, env = "CONSENT_CLOCK_SKEW")]
    pub clock_skew: Option<HumanDuration>,
    /// Time limit for one request [default: 10s]
    #[arg(long, env = "CONSENT_REQUEST_TIMEOUT")]
    pub request_timeout: Option<HumanDuration>,
    /// How mail is sent [default: file]
    #[arg(long, env = "CONSENT_MAIL_TRANSPORT", value_enum)]
    pub mail_transport: Option<MailTransport>,
    /// Sender address of every mail [default: no-reply@<public-url host>]
    #[arg(long, env = "CONSENT_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// SMTP server host
    #[arg(long, env = "CONSENT_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP server port [default: 587 with starttls, 465 with tls, 25 without]
    #[arg(long, env = "CONSENT_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// SMTP transport security [default: starttls]
    #[arg(long, env = "CONSENT_SMTP_TLS", value_enum)]
    pub smtp_tls: Option<SmtpTls>,
    /// SMTP user name
    #[arg(long, env = "CONSENT_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// SMTP password (prefer the environment variable to the flag)
    #[arg(long, env = "CONSENT_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<SecretString>,
    /// SMS: the transport and its settings (the `[sms]` table of the config file).
    #[command(flatten)]
    #[serde(default)]
    pub sms: SmsSettings,
    /// Limits: timeouts, connections, request rates, trusted proxies (the `[limits]` table).
    #[command(flatten)]
    #[serde(default)]
    pub limits: LimitSettings,
    /// Retention: when contact data is erased, when renewal is asked (the `[retention]` table).
    #[command(flatten)]
    #[serde(default)]
    pub retention: RetentionSettings,
    /// Webhooks: private targets, the retry schedule's scale (the `[webhooks]` table).
    #[command(flatten)]
    #[serde(default)]
    pub webhooks: WebhookSettings,
    /// How long a replica holds a message it claimed from the outbox before another may
    /// send it (PostgreSQL; a replica that died frees its claims then) [default: 30s]
    #[arg(long, env = "CONSENT_OUTBOX_LEASE")]
    pub outbox_lease: Option<HumanDuration>,
    /// Count CPU time per stage of the work, read at GET /v1/admin/stats/stages (for
    /// benchmarks; off, it costs nothing) [default: false]
    #[arg(long, env = "CONSENT_STAGE_TIMINGS", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub stage_timings: Option<bool>,
}

macro_rules! prefer {
    ($a:expr, $b:expr, $($field:ident),+) => {
        Settings { $($field: $a.$field.or($b.$field)),+, sms: $a.sms.or($b.sms), limits: $a.limits.or($b.limits), retention: $a.retention.or($b.retention), webhooks: $a.webhooks.or($b.webhooks), allowed_origins: if $a.allowed_origins.is_empty() { $b.allowed_origins } else { $a.allowed_origins }, witnesses: if $a.witnesses.is_empty() { $b.witnesses } else { $a.witnesses } }
    };
}

impl Settings {
    /// Reads a TOML settings file.
    pub fn from_file(path: &Path) -> anyhow::Result<Settings> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing the config file {}", path.display()))
    }

    /// These settings, with `fallback` filling what they leave unset.
    pub fn or(self, fallback: Settings) -> Settings {
        prefer!(
            self,
            fallback,
            addr,
            public_url,
            data_dir,
            keys_dir,
            database_url,
            notices,
            www,
            nonce_ttl,
            clock_skew,
            request_timeout,
            mail_transport,
            mail_from,
            smtp_host,
            smtp_port,
            smtp_tls,
            smtp_username,
            smtp_password,
            outbox_lease,
            stage_timings
        )
    }
}

/// Mail settings, resolved.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// Transport.
    pub transport: MailTransport,
    /// Sender address.
    pub from: String,
    /// Where the file transport writes.
    pub outbox_dir: PathBuf,
    /// SMTP host (required with the smtp transport).
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: u16,
    /// SMTP security.
    pub smtp_tls: SmtpTls,
    /// SMTP user name.
    pub smtp_username: Option<String>,
    /// SMTP password.
    pub smtp_password: Option<SecretString>,
}

/// The verifier's configuration, every default applied.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Public base URL, without a trailing slash: the receipts' `aud`.
    pub public_url: String,
    /// Its origin (always allowed: the verifier's own pages).
    pub public_origin: Origin,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Keys directory.
    pub keys_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Notices directory.
    pub notices_dir: PathBuf,
    /// Static pages directory, if any.
    pub www_dir: Option<PathBuf>,
    /// Where `www/` was looked for when it was not given and not found, and how to give it.
    pub www_hint: Option<String>,
    /// Origins allowed for every notice (the public URL's origin is always allowed).
    pub allowed_origins: Vec<Origin>,
    /// The witnesses' `add-checkpoint` URLs.
    pub witnesses: Vec<String>,
    /// Nonce lifetime.
    pub nonce_ttl: Duration,
    /// Allowed clock skew.
    pub clock_skew: Duration,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Mail.
    pub mail: MailConfig,
    /// SMS.
    pub sms: SmsConfig,
    /// Limits.
    pub limits: LimitsConfig,
    /// Outbox claim lease.
    pub outbox_lease: Duration,
    /// Retention.
    pub retention: RetentionConfig,
    /// Whether CPU time is counted per stage ([`crate::stages`]).
    pub stage_timings: bool,
    /// Webhooks.
    pub webhooks: WebhookConfig,
}

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

impl Config {
    /// Applies defaults to `settings` and checks what can be checked without I/O.
    pub fn resolve(s: Settings) -> anyhow::Result<Config> {
        let addr = s.addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let public_url = s.public_url.unwrap_or_else(|| format!("http://{addr}"));
        let public_url = public_url.trim_end_matches('/').to_string();
        let public_origin = Origin::of_url(&public_url).map_err(|e| anyhow::anyhow!("--public-url: {e}"))?;
        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let keys_dir = s.keys_dir.unwrap_or_else(|| data_dir.join("keys"));
        let database_url =
            s.database_url.unwrap_or_else(|| format!("sqlite://{}", data_dir.join("consent.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("--database-url must start with sqlite:, postgres:// or postgresql://");
        }
        let (www_dir, www_hint) = match s.www {
            Some(dir) => (Some(dir), None),
            None if Path::new("www").is_dir() => (Some(PathBuf::from("www")), None),
            None => {
                let here = std::env::current_dir().map(|d| d.join("www").display().to_string());
                let hint = format!(
                    "no demo pages, guide or widget: there is no {} (serve looks for ./www); run it from the \
                     repository root, or pass --www /path/to/consent-widget/www (or CONSENT_WWW)",
                    here.unwrap_or_else(|_| "./www".into())
                );
                (None, Some(hint))
            }
        };
        let allowed_origins = s
            .allowed_origins
            .iter()
            .map(|o| Origin::parse(o).map_err(|e| anyhow::anyhow!("--allowed-origin: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let host =
            public_url.split("://").nth(1).unwrap_or("localhost").split([':', '/']).next().unwrap_or("localhost");
        let tls = s.smtp_tls.unwrap_or(SmtpTls::Starttls);
        let mail = MailConfig {
            transport: s.mail_transport.unwrap_or(MailTransport::File),
            from: s.mail_from.unwrap_or_else(|| {
                format!("no-reply@{}", if host.contains('.') { host } else { "localhost.localdomain" })
            }),
            outbox_dir: data_dir.join("outbox"),
            smtp_port: s.smtp_port.unwrap_or(match tls {
                SmtpTls::Starttls => 587,
                SmtpTls::Tls => 465,
                SmtpTls::None => 25,
            }),
            smtp_host: s.smtp_host,
            smtp_tls: tls,
            smtp_username: s.smtp_username,
            smtp_password: s.smtp_password,
        };
        if mail.transport == MailTransport::Smtp && mail.smtp_host.is_none() {
            bail!("--mail-transport smtp needs --smtp-host (or CONSENT_SMTP_HOST)");
        }
        let sms = SmsConfig::resolve(s.sms, &data_dir)?;
        Ok(Config {
            addr,
            public_url,
            public_origin,
            data_dir,
            keys_dir,
            database_url,
            notices_dir: s.notices.unwrap_or_else(|| PathBuf::from("notices")),
            www_dir,
            www_hint,
            allowed_origins,
            witnesses: s.witnesses.clone(),
            nonce_ttl: s.nonce_ttl.map_or(Duration::from_secs(2 * 3600), |d| d.0),
            clock_skew: s.clock_skew.map_or(Duration::from_secs(300), |d| d.0),
            request_timeout: s.request_timeout.map_or(Duration::from_secs(10), |d| d.0),
            mail,
            sms,
            limits: LimitsConfig::resolve(s.limits)?,
            outbox_lease: s.outbox_lease.map_or(Duration::from_secs(30), |d| d.0),
            retention: RetentionConfig::resolve(s.retention)?,
            stage_timings: s.stage_timings.unwrap_or(false),
            webhooks: WebhookConfig::resolve(s.webhooks)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_work_with_no_settings() {
        let c = Config::resolve(Settings::default()).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/consent.db");
        assert_eq!(c.nonce_ttl, Duration::from_secs(7200));
        assert_eq!(c.clock_skew, Duration::from_secs(300));
    }

    #[test]
    fn flags_win_over_the_file() {
        let flags = Settings { public_url: Some("https://a.example/".into()), ..Settings::default() };
        let file = Settings {
            public_url: Some("https://b.example".into()),
            nonce_ttl: Some("1h".parse().unwrap()),
            ..Settings::default()
        };
        let c = Config::resolve(flags.or(file)).unwrap();
        assert_eq!(c.public_url, "https://a.example");
        assert_eq!(c.nonce_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!("90s".parse::<HumanDuration>().unwrap().0, Duration::from_secs(90));
        assert_eq!("2h".parse::<HumanDuration>().unwrap().0, Duration::from_secs(7200));
        assert_eq!("7d".parse::<HumanDuration>().unwrap().0, Duration::from_secs(604_800));
        assert!("2 weeks".parse::<HumanDuration>().is_err());
    }

    #[test]
    fn serve_outside_the_repository_says_where_it_looked_for_www_and_how_to_point_it_there() {
        // Unit tests run in verifier/, which has no www/.
        let c = Config::resolve(Settings::default()).unwrap();
        assert_eq!(c.www_dir, None);
        let hint = c.www_hint.unwrap();
        assert!(hint.contains("verifier/www") && hint.contains("--www") && hint.contains("CONSENT_WWW"), "{hint}");
        let given = Settings { www: Some("/srv/www".into()), ..Settings::default() };
        assert_eq!(Config::resolve(given).unwrap().www_hint, None);
    }

    #[test]
    fn an_allowed_origin_with_a_path_is_refused() {
        let s = Settings { allowed_origins: vec!["https://shop.example/signup".into()], ..Settings::default() };
        assert!(Config::resolve(s).is_err());
    }

    #[test]
    fn limits_come_from_a_limits_table_of_the_config_file() {
        let file: Settings = toml::from_str(
            "outbox-lease = \"1s\"\n[limits]\nclient-rate = \"off\"\norigin-rate = \"120/m\"\n\
             header-timeout = \"500ms\"\ntrusted-proxies = [\"10.0.0.0/8\"]\n",
        )
        .unwrap();
        let c = Config::resolve(file).unwrap();
        assert_eq!(c.limits.client_rate, None);
        assert_eq!(c.limits.origin_rate.map(|r| r.count), Some(120));
        assert_eq!(c.limits.header_timeout, Duration::from_millis(500));
        assert_eq!(c.limits.trusted_proxies.len(), 1);
        assert_eq!(c.outbox_lease, Duration::from_secs(1));
        let defaults = Config::resolve(Settings::default()).unwrap();
        assert_eq!(defaults.limits.max_connections_per_client, 256);
        assert_eq!(defaults.outbox_lease, Duration::from_secs(30));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = SecretString::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "[redacted]");
    }
}
