//! Limits: how long a connection may take to say what it wants, how many connections and
//! requests one client gets, and which proxies may name the client.
//!
//! The defaults are far above what an honest site sends. A busy sign-up page takes about
//! one sign-up a second at its peak (3,600 an hour), each a notice fetch and a lead post;
//! ten times that is 20 requests a second, from one address when the site's back end
//! forwards the receipts (field mode). The defaults allow 50 a second from one address
//! (3,000 a minute, bursts included), 100 leads a second for one origin, and 256 open
//! connections per address (a browser opens 6). A test runs an honest site at ten times
//! the busy rate against them (`an_honest_site_at_ten_times_a_busy_rate_is_never_limited`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use ipnet::IpNet;
use serde::Deserialize;

use super::HumanDuration;

/// At most `count` events per `per`, however they bunch up (a bucket of `count` that
/// refills at `count` per `per`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed in one period, and the largest burst.
    pub count: u32,
    /// The period.
    pub per: Duration,
}

/// A rate as written in a flag: `3000/m`, `50/s`, `10/h`, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSetting(pub Option<Rate>);

impl FromStr for RateSetting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(RateSetting(None));
        }
        let bad = || format!("`{s}` is not a rate such as 3000/m, 50/s or 10/h, or off");
        let (n, unit) = s.split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!("`{s}`: a rate of 0 refuses everything; write off to turn the limit off"));
        }
        Ok(RateSetting(Some(Rate { count, per })))
    }
}

impl<'de> Deserialize<'de> for RateSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// The limit flags, their `CONSENT_*` variables, and the `[limits]` table of the config file.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitSettings {
    /// Time a client has, after connecting or after its last answer, to send a whole request
    /// head; an idle HTTP/1.1 keep-alive connection is closed then too [default: 10s]
    #[arg(long, env = "CONSENT_HEADER_TIMEOUT")]
    pub header_timeout: Option<HumanDuration>,
    /// A connection on which nothing was read or written for this long is closed [default: 60s]
    #[arg(long, env = "CONSENT_IDLE_TIMEOUT")]
    pub idle_timeout: Option<HumanDuration>,
    /// On SIGTERM, how long requests in flight may take to finish before the connections
    /// left are cut [default: 10s]
    #[arg(long, env = "CONSENT_SHUTDOWN_TIMEOUT")]
    pub shutdown_timeout: Option<HumanDuration>,
    /// Open connections at most, all clients together; more are closed at once. Never more
    /// than the open-file limit leaves (less a reserve for the database and files) [default: 4096]
    #[arg(long, env = "CONSENT_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Open connections at most from one client address (an IPv6 /64 counts as one; a
    /// trusted proxy is not limited) [default: 256]
    #[arg(long, env = "CONSENT_MAX_CONNECTIONS_PER_CLIENT")]
    pub max_connections_per_client: Option<usize>,
    /// Requests from one client address, as count/period (s, m, h), or off [default: 3000/m]
    #[arg(long, env = "CONSENT_CLIENT_RATE")]
    pub client_rate: Option<RateSetting>,
    /// Leads posted for one page origin (POST /v1/leads), or off [default: 6000/m]
    #[arg(long, env = "CONSENT_ORIGIN_RATE")]
    pub origin_rate: Option<RateSetting>,
    /// Failed admin authentications from one client address, or off [default: 10/m]
    #[arg(long, env = "CONSENT_ADMIN_FAILURE_RATE")]
    pub admin_failure_rate: Option<RateSetting>,
    /// A proxy (address or CIDR range) whose X-Forwarded-For or Forwarded header names the
    /// client (repeatable; comma-separated in the environment). Without one, those
    /// headers are ignored
    #[arg(long = "trusted-proxy", env = "CONSENT_TRUSTED_PROXIES", value_delimiter = ',')]
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

impl LimitSettings {
    /// These settings, with `fallback` filling what they leave unset.
    pub fn or(self, fallback: LimitSettings) -> LimitSettings {
        LimitSettings {
            header_timeout: self.header_timeout.or(fallback.header_timeout),
            idle_timeout: self.idle_timeout.or(fallback.idle_timeout),
            shutdown_timeout: self.shutdown_timeout.or(fallback.shutdown_timeout),
            max_connections: self.max_connections.or(fallback.max_connections),
            max_connections_per_client: self.max_connections_per_client.or(fallback.max_connections_per_client),
            client_rate: self.client_rate.or(fallback.client_rate),
            origin_rate: self.origin_rate.or(fallback.origin_rate),
            admin_failure_rate: self.admin_failure_rate.or(fallback.admin_failure_rate),
            trusted_proxies: if self.trusted_proxies.is_empty() {
                fallback.trusted_proxies
            } else {
                self.trusted_proxies
            },
        }
    }
}

/// Limits, resolved.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Time to send a whole request head (and the idle time of an HTTP/1.1 keep-alive).
    pub header_timeout: Duration,
    /// Time without a byte either way before a connection is closed.
    pub idle_timeout: Duration,
    /// Time a stop waits for requests in flight.
    pub shutdown_timeout: Duration,
    /// Open connections at most (before the open-file limit is applied).
    pub max_connections: usize,
    /// Open connections at most per client address.
    pub max_connections_per_client: usize,
    /// Requests per client address (`None`: off).
    pub client_rate: Option<Rate>,
    /// Leads per page origin.
    pub origin_rate: Option<Rate>,
    /// Failed admin authentications per client address.
    pub admin_failure_rate: Option<Rate>,
    /// Proxies allowed to name the client.
    pub trusted_proxies: Vec<IpNet>,
}

fn rate(setting: Option<RateSetting>, count: u32, per_secs: u64) -> Option<Rate> {
    setting.map_or(Some(Rate { count, per: Duration::from_secs(per_secs) }), |s| s.0)
}

impl LimitsConfig {
    /// Applies defaults; refuses a proxy that is neither an address nor a range.
    pub fn resolve(s: LimitSettings) -> anyhow::Result<LimitsConfig> {
        let trusted_proxies = s
            .trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                    .with_context(|| format!("--trusted-proxy `{p}` is neither an address nor a CIDR range"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(LimitsConfig {
            header_timeout: s.header_timeout.map_or(Duration::from_secs(10), |d| d.0),
            idle_timeout: s.idle_timeout.map_or(Duration::from_secs(60), |d| d.0),
            shutdown_timeout: s.shutdown_timeout.map_or(Duration::from_secs(10), |d| d.0),
            max_connections: s.max_connections.unwrap_or(4096).max(1),
            max_connections_per_client: s.max_connections_per_client.unwrap_or(256).max(1),
            client_rate: rate(s.client_rate, 3000, 60),
            origin_rate: rate(s.origin_rate, 6000, 60),
            admin_failure_rate: rate(s.admin_failure_rate, 10, 60),
            trusted_proxies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_count_per_period_or_off() {
        assert_eq!(
            "3000/m".parse::<RateSetting>().unwrap().0,
            Some(Rate { count: 3000, per: Duration::from_secs(60) })
        );
        assert_eq!("off".parse::<RateSetting>().unwrap().0, None);
        assert!("0/s".parse::<RateSetting>().is_err());
        assert!("50 per second".parse::<RateSetting>().is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let s = LimitSettings { trusted_proxies: vec!["10.0.0.0/8".into(), "::1".into()], ..Default::default() };
        let c = LimitsConfig::resolve(s).unwrap();
        assert!(c.trusted_proxies[0].contains(&"10.2.3.4".parse::<std::net::IpAddr>().unwrap()));
        assert!(c.trusted_proxies[1].contains(&"::1".parse::<std::net::IpAddr>().unwrap()));
        let bad = LimitSettings { trusted_proxies: vec!["proxy.internal".into()], ..Default::default() };
        assert!(LimitsConfig::resolve(bad).is_err());
    }
}
