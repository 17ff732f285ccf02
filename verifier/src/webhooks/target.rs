//! Which URLs a webhook may be sent to. An admin key must not turn the verifier into a
//! way into its own network (server-side request forgery): unless
//! `--webhook-allow-private` is set, a target on a loopback, private, link-local,
//! shared, documentation or otherwise non-public address is refused when it is registered,
//! and the resolver of the delivery client drops such addresses at every connection, so a
//! name that resolves outward at registration and inward later is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Url;

/// Why a URL cannot be a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an absolute http(s) URL with a host (or with credentials in it).
    #[error("{0}")]
    BadUrl(String),
    /// It is, or resolves to, an address that is not public.
    #[error("{0}")]
    Private(String),
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 (reaches IPv4 inside)
}

/// Parses a target URL; unless `allow_private`, refuses one whose host is, or resolves
/// to, a non-public address.
pub async fn check(text: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = Url::parse(text.trim()).map_err(|e| TargetError::BadUrl(format!("url is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(TargetError::BadUrl("url must be http:// or https://".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::BadUrl("url must not carry credentials; the signature authenticates".into()));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(TargetError::BadUrl("url has no host".into()));
    };
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| TargetError::BadUrl(format!("the host {host} does not resolve")))?
            .collect(),
    };
    if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(TargetError::Private(format!(
            "{host} is, or resolves to, a private, loopback or otherwise non-public address; \
             start the verifier with --webhook-allow-private to allow it"
        )));
    }
    Ok(url)
}

/// The delivery client's resolver: only public addresses.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.filter(|a| is_public(a.ip())).collect();
            if addrs.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.215.14", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_loopback_target_is_refused_unless_private_targets_are_allowed() {
        assert!(matches!(check("http://127.0.0.1:9/hook", false).await, Err(TargetError::Private(_))));
        assert!(matches!(check("http://[::1]:9/hook", false).await, Err(TargetError::Private(_))));
        assert!(matches!(check("http://localhost:9/hook", false).await, Err(TargetError::Private(_))));
        assert!(check("http://127.0.0.1:9/hook", true).await.is_ok());
        assert!(matches!(check("ftp://example.org/", true).await, Err(TargetError::BadUrl(_))));
        assert!(matches!(check("https://u:p@example.org/", true).await, Err(TargetError::BadUrl(_))));
    }
}
