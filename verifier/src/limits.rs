//! Who is asking, and how much they may ask: the client's address (the peer, or the
//! client a trusted proxy names), and the request-rate buckets keyed by it (governor's
//! GCRA limiters: per client address, per page origin for `POST /v1/leads`, and failed
//! admin authentications per client address).
//!
//! A client is its address, except that a whole IPv6 /64 counts as one: anyone with one
//! IPv6 address usually has the 2^64 around it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use crate::config::{LimitsConfig, Rate};

/// The key one client is counted under: its IPv4 address, or its IPv6 /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Whether `ip` is one of the trusted proxies.
pub fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client's address. From `peer` (the TCP peer) unless it is a trusted proxy; then,
/// walking the proxies' chain from the right (`Forwarded` `for=`, RFC 7239, else
/// `X-Forwarded-For`), the first address that is not a trusted proxy. Only the hops
/// appended by trusted proxies are believed: what the client wrote itself sits further
/// left and is never reached. A hop that does not parse stops the walk at the proxy that
/// added it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let forwarded: Vec<Option<IpAddr>> = if headers.contains_key("forwarded") {
        headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("for").then(|| forwarded_for(value))
                })
            })
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| hop.trim().parse::<IpAddr>().ok())
            .collect()
    };
    let mut client = peer;
    for hop in forwarded.into_iter().rev() {
        match hop {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip, trusted) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// The address of a `for=` value: `192.0.2.60`, `"192.0.2.60:47011"`, `"[2001:db8::1]:4711"`.
fn forwarded_for(value: &str) -> Option<IpAddr> {
    let v = value.trim().trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    v.parse().ok().or_else(|| v.rsplit_once(':').and_then(|(host, _port)| host.parse().ok()))
}

/// The bucket of `rate`: `count` cells, one back every `per / count`.
pub fn quota(rate: Rate) -> Option<Quota> {
    let count = NonZeroU32::new(rate.count)?;
    Some(Quota::with_period(rate.per / rate.count)?.allow_burst(count))
}

fn limiter<K: std::hash::Hash + Eq + Clone>(rate: Option<Rate>) -> Option<DefaultKeyedRateLimiter<K>> {
    Some(RateLimiter::dashmap(quota(rate?)?))
}

/// The verifier's request-rate buckets; `Err(wait)` means "over the limit, try again in
/// `wait`".
#[derive(Debug)]
pub struct RateLimits {
    client: Option<DefaultKeyedRateLimiter<IpAddr>>,
    origin: Option<DefaultKeyedRateLimiter<String>>,
    admin_failures: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses whose admin authentications are refused until then.
    admin_locked: Mutex<HashMap<IpAddr, Instant>>,
    clock: DefaultClock,
}

impl RateLimits {
    /// The buckets the configuration asks for (a limit set to `off` has none).
    pub fn new(c: &LimitsConfig) -> RateLimits {
        RateLimits {
            client: limiter(c.client_rate),
            origin: limiter(c.origin_rate),
            admin_failures: limiter(c.admin_failure_rate),
            admin_locked: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &Option<DefaultKeyedRateLimiter<K>>,
        key: &K,
    ) -> Result<(), Duration> {
        match limiter {
            Some(l) => l.check_key(key).map_err(|not_until| not_until.wait_time_from(self.clock.now())),
            None => Ok(()),
        }
    }

    /// One request from `ip`.
    pub fn client(&self, ip: IpAddr) -> Result<(), Duration> {
        self.check(&self.client, &client_key(ip))
    }

    /// One lead posted for a page on `origin` (an origin no notice allows counts under
    /// one shared key, so made-up origins cannot grow the table).
    pub fn origin(&self, origin: &str) -> Result<(), Duration> {
        self.check(&self.origin, &origin.to_string())
    }

    /// Whether `ip` may try to authenticate now (it has not failed too often lately).
    pub fn admin_may_try(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut locked = self.admin_locked.lock().unwrap_or_else(|p| p.into_inner());
        match locked.get(&client_key(ip)) {
            Some(until) if *until > now => Err(*until - now),
            Some(_) => {
                locked.remove(&client_key(ip));
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// `ip` presented a wrong key: counted; past the limit, it waits.
    pub fn admin_failed(&self, ip: IpAddr) -> Result<(), Duration> {
        let key = client_key(ip);
        let over = self.check(&self.admin_failures, &key);
        if let Err(wait) = over {
            let mut locked = self.admin_locked.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            locked.retain(|_, until| *until > now);
            locked.insert(key, now + wait);
        }
        over
    }

    /// Forgets the buckets that are full again (run every minute: the tables hold only
    /// the clients of the last moments).
    pub fn prune(&self) {
        if let Some(l) = &self.client {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.origin {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.admin_failures {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_ip(ip("198.51.100.1"), &h, &trusted), ip("198.51.100.1"));
        assert_eq!(client_ip(ip("10.1.1.1"), &h, &trusted), ip("203.0.113.7"));
        assert_eq!(client_ip(ip("10.1.1.1"), &h, &[]), ip("10.1.1.1"));
    }

    #[test]
    fn what_the_client_wrote_itself_is_never_believed() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real peer.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.2.2.2")]);
        assert_eq!(client_ip(ip("10.1.1.1"), &h, &trusted), ip("203.0.113.7"));
        let h = headers(&[("forwarded", "for=1.2.3.4, for=\"[2001:db8::1]:4711\";proto=https")]);
        assert_eq!(client_ip(ip("10.1.1.1"), &h, &trusted), ip("2001:db8::1"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_ip(ip("10.1.1.1"), &h, &trusted), ip("10.1.1.1"));
        let h = headers(&[("forwarded", "For=\"192.0.2.60:47011\"")]);
        assert_eq!(client_ip(ip("10.1.1.1"), &h, &trusted), ip("192.0.2.60"));
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), client_key(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(client_key(ip("2001:db8:1:2::1")), client_key(ip("2001:db8:1:3::1")));
        assert_eq!(client_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    /// Simulated on governor's fake clock: one hour of an honest site at ten times a busy
    /// sign-up page's rate (10 sign-ups a second, each a notice fetch and a lead post,
    /// all from one address: the site's back end in field mode), and a flood.
    #[test]
    fn an_honest_site_at_ten_times_a_busy_rate_stays_under_the_default_limits_for_an_hour() {
        use governor::clock::FakeRelativeClock;
        let c = LimitsConfig::resolve(crate::config::LimitSettings::default()).unwrap();
        let clock = FakeRelativeClock::default();
        let client =
            RateLimiter::<IpAddr, _, _, _>::dashmap_with_clock(quota(c.client_rate.unwrap()).unwrap(), clock.clone());
        let origin =
            RateLimiter::<&str, _, _, _>::dashmap_with_clock(quota(c.origin_rate.unwrap()).unwrap(), clock.clone());
        let site = ip("192.0.2.10");
        for _ in 0..3600 * 10 {
            assert!(client.check_key(&site).is_ok(), "notice fetch limited");
            assert!(client.check_key(&site).is_ok(), "lead post limited");
            assert!(origin.check_key(&"https://shop.example").is_ok(), "origin limited");
            clock.advance(Duration::from_millis(100));
        }
        // A flood of 1,000 requests a second is refused within its first seconds.
        let flood = ip("198.51.100.66");
        let refused = (0..5000)
            .filter(|_| {
                clock.advance(Duration::from_millis(1));
                client.check_key(&flood).is_err()
            })
            .count();
        assert!(refused > 1500, "{refused} of 5000 refused");
    }

    #[test]
    fn a_bucket_refuses_past_its_count_and_says_how_long_to_wait() {
        let c = LimitsConfig::resolve(crate::config::LimitSettings {
            client_rate: Some("3/m".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        let limits = RateLimits::new(&c);
        for _ in 0..3 {
            assert!(limits.client(ip("192.0.2.1")).is_ok());
        }
        let wait = limits.client(ip("192.0.2.1")).unwrap_err();
        assert!(wait > Duration::from_secs(10) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limits.client(ip("192.0.2.2")).is_ok(), "another client has its own bucket");
    }
}
