//! Retention settings: how long a withdrawn or refused lead keeps its contact data before
//! only keyed hashes of it stay, and how long before a lead's retention ends it is asked to
//! renew. The retention period itself is each notice's `retention_days` (three years by
//! default), since the people were told it with the notice.

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

use super::HumanDuration;

/// The retention flags, their `CONSENT_*` variables, and the `[retention]` table of the
/// config file.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RetentionSettings {
    /// How long a withdrawn or refused lead keeps its e-mail address, phone number, receipt
    /// and form fields; then only keyed hashes of the addresses stay (the proof of the
    /// withdrawal stays too) [default: 30d]
    #[arg(long, env = "CONSENT_ERASE_CONTACTS_AFTER")]
    pub erase_contacts_after: Option<HumanDuration>,
    /// How long before a lead's retention ends it is asked, once, on the channel it
    /// consented on, whether it wants to renew its consent; without an answer it is
    /// deleted at the end [default: 30d]
    #[arg(long, env = "CONSENT_RENEWAL_LEAD_TIME")]
    pub renewal_lead_time: Option<HumanDuration>,
    /// How long a lead that never completed its double opt-in (or its parent's approval)
    /// is kept: then it is deleted, its events aside; at least 8 days, the confirmation
    /// link lasting 7 [default: 30d]
    #[arg(long, env = "CONSENT_UNCONFIRMED_AFTER")]
    pub unconfirmed_after: Option<HumanDuration>,
}

impl RetentionSettings {
    /// These settings, with `fallback` filling what they leave unset.
    pub fn or(self, fallback: RetentionSettings) -> RetentionSettings {
        RetentionSettings {
            erase_contacts_after: self.erase_contacts_after.or(fallback.erase_contacts_after),
            renewal_lead_time: self.renewal_lead_time.or(fallback.renewal_lead_time),
            unconfirmed_after: self.unconfirmed_after.or(fallback.unconfirmed_after),
        }
    }
}

/// Retention settings, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Delay after a withdrawal or a refusal before the contact data is erased.
    pub erase_contacts_after: Duration,
    /// Time before the end of retention at which the renewal request goes out.
    pub renewal_lead_time: Duration,
    /// How long a lead waiting for its double opt-in or a parent is kept.
    pub unconfirmed_after: Duration,
}

/// Thirty days: long enough to answer a question about a withdrawal just made (and far
/// beyond the 48 hours mailbox providers give to honour one), short enough that an
/// address nobody may write to any more is not kept for years.
const THIRTY_DAYS: Duration = Duration::from_secs(30 * 86_400);

impl RetentionConfig {
    /// Applies defaults; refuses a renewal lead time of zero (the request would go out
    /// when the data is deleted) or of a year or more.
    pub fn resolve(s: RetentionSettings) -> anyhow::Result<RetentionConfig> {
        let renewal_lead_time = s.renewal_lead_time.map_or(THIRTY_DAYS, |d| d.0);
        if renewal_lead_time < Duration::from_secs(86_400) || renewal_lead_time >= Duration::from_secs(365 * 86_400) {
            bail!("--renewal-lead-time must be at least a day and less than a year (e.g. 30d)");
        }
        let unconfirmed_after = s.unconfirmed_after.map_or(THIRTY_DAYS, |d| d.0);
        if unconfirmed_after < Duration::from_secs(8 * 86_400) {
            bail!("--unconfirmed-after must be at least 8 days: the confirmation link lasts 7 (e.g. 30d)");
        }
        Ok(RetentionConfig {
            erase_contacts_after: s.erase_contacts_after.map_or(THIRTY_DAYS, |d| d.0),
            renewal_lead_time,
            unconfirmed_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_delays_default_to_thirty_days_and_read_like_people_write_them() {
        let c = RetentionConfig::resolve(RetentionSettings::default()).unwrap();
        assert_eq!((c.erase_contacts_after, c.renewal_lead_time), (THIRTY_DAYS, THIRTY_DAYS));
        let s: RetentionSettings =
            toml::from_str("erase-contacts-after = \"7d\"\nrenewal-lead-time = \"60d\"").unwrap();
        let c = RetentionConfig::resolve(s).unwrap();
        assert_eq!(c.erase_contacts_after, Duration::from_secs(7 * 86_400));
        assert_eq!(c.renewal_lead_time, Duration::from_secs(60 * 86_400));
    }

    #[test]
    fn a_renewal_lead_time_of_nothing_or_of_years_is_refused() {
        for bad in ["0s", "2h", "400d"] {
            let s = RetentionSettings { renewal_lead_time: Some(bad.parse().unwrap()), ..Default::default() };
            assert!(RetentionConfig::resolve(s).is_err(), "{bad}");
        }
        for bad in ["0s", "7d"] {
            let s = RetentionSettings { unconfirmed_after: Some(bad.parse().unwrap()), ..Default::default() };
            assert!(RetentionConfig::resolve(s).is_err(), "an unconfirmed lead kept {bad} dies before its link");
        }
    }
}
