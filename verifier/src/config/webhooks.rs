//! Webhook settings: whether targets may be private addresses, and (for tests only) how
//! fast the retry schedule runs.

use serde::Deserialize;

/// The webhook flags, their `CONSENT_*` variables, and the `[webhooks]` table of the config
/// file.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WebhookSettings {
    /// Allow webhook targets on private, loopback, link-local or other non-public addresses
    /// (refused by default, so that an admin key cannot make the verifier call into its own
    /// network)
    #[arg(long, env = "CONSENT_WEBHOOK_ALLOW_PRIVATE", num_args = 0..=1, default_missing_value = "true")]
    pub webhook_allow_private: Option<bool>,
    /// Multiplies every delay of the retry schedule (5 s … 24 h). Only tests change it,
    /// so that a retry takes milliseconds; a deployment keeps the specification's 1.
    #[arg(long, env = "CONSENT_WEBHOOK_RETRY_SCALE", hide = true)]
    pub webhook_retry_scale: Option<f64>,
}

impl WebhookSettings {
    /// These settings, with `fallback` filling what they leave unset.
    pub fn or(self, fallback: WebhookSettings) -> WebhookSettings {
        WebhookSettings {
            webhook_allow_private: self.webhook_allow_private.or(fallback.webhook_allow_private),
            webhook_retry_scale: self.webhook_retry_scale.or(fallback.webhook_retry_scale),
        }
    }
}

/// Webhook settings, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WebhookConfig {
    /// Whether non-public targets are allowed.
    pub allow_private: bool,
    /// The factor on the retry schedule (1 outside tests).
    pub retry_scale: f64,
}

impl WebhookConfig {
    /// Applies defaults; a scale must be a finite number in (0, 1].
    pub fn resolve(s: WebhookSettings) -> anyhow::Result<WebhookConfig> {
        let retry_scale = s.webhook_retry_scale.unwrap_or(1.0);
        if !(retry_scale > 0.0 && retry_scale <= 1.0) {
            anyhow::bail!("--webhook-retry-scale must be more than 0 and at most 1");
        }
        Ok(WebhookConfig { allow_private: s.webhook_allow_private.unwrap_or(false), retry_scale })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_targets_are_refused_and_the_schedule_runs_at_full_length_by_default() {
        let c = WebhookConfig::resolve(WebhookSettings::default()).unwrap();
        assert_eq!(c, WebhookConfig { allow_private: false, retry_scale: 1.0 });
        let s: crate::Settings = toml::from_str("[webhooks]\nwebhook-allow-private = true").unwrap();
        assert!(WebhookConfig::resolve(s.webhooks).unwrap().allow_private);
    }

    #[test]
    fn a_retry_scale_outside_zero_to_one_is_refused() {
        for bad in [0.0, -1.0, 2.0, f64::NAN] {
            let s = WebhookSettings { webhook_retry_scale: Some(bad), ..Default::default() };
            assert!(WebhookConfig::resolve(s).is_err(), "{bad}");
        }
    }
}
