//! How many connections may be open: all together (below the open-file limit), and from
//! one client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

use crate::limits::{client_key, is_trusted};

/// Descriptors kept for everything but client connections: the database pool, the
/// SQLite files, SMTP and SMPP connections, key and outbox files.
const RESERVE: u64 = 128;

/// The connection cap that fits the open-file limit: `wanted`, or less when the limit
/// (raised first to its hard maximum) leaves less after [`RESERVE`].
pub fn fit_to_open_file_limit(wanted: usize) -> usize {
    match open_file_limit() {
        Some(limit) => {
            let room = limit.saturating_sub(RESERVE).max(limit / 2).max(1);
            let fitted = wanted.min(usize::try_from(room).unwrap_or(usize::MAX));
            if fitted < wanted {
                tracing::warn!(
                    wanted,
                    fitted,
                    open_file_limit = limit,
                    "fewer connections than --max-connections: the open-file limit leaves no more (raise it with ulimit -n)"
                );
            }
            fitted
        }
        None => wanted,
    }
}

/// The soft open-file limit, raised to the hard one first (as Go's runtime does): the
/// soft 1,024 of many systems is a default, not a decision.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        if setrlimit(Resource::Nofile, raised).is_err() {
            tracing::debug!("the open-file limit could not be raised");
        }
    }
    getrlimit(Resource::Nofile).current
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Open connections per client address.
#[derive(Debug, Clone)]
pub struct PerClient {
    max: usize,
    trusted: Arc<[IpNet]>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open connection of a client; counted until dropped.
#[derive(Debug)]
pub struct Slot {
    key: Option<IpAddr>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerClient {
    /// At most `max` connections per client; trusted proxies are not counted (everyone
    /// behind them shares their address).
    pub fn new(max: usize, trusted: &[IpNet]) -> PerClient {
        PerClient { max, trusted: trusted.into(), open: Arc::default() }
    }

    /// A slot for a new connection from `peer`, or `None` when that client has its
    /// share open already.
    pub fn enter(&self, peer: IpAddr) -> Option<Slot> {
        if is_trusted(peer, &self.trusted) {
            return Some(Slot { key: None, open: self.open.clone() });
        }
        let key = client_key(peer);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot { key: Some(key), open: self.open.clone() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_share_and_gets_it_back_when_a_connection_closes() {
        let caps = PerClient::new(2, &["10.0.0.1/32".parse().unwrap()]);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let (s1, _s2) = (caps.enter(a).unwrap(), caps.enter(a).unwrap());
        assert!(caps.enter(a).is_none());
        assert!(caps.enter("192.0.2.2".parse().unwrap()).is_some(), "another client");
        drop(s1);
        assert!(caps.enter(a).is_some());
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let behind: Vec<Slot> = (0..10).filter_map(|_| caps.enter(proxy)).collect();
        assert_eq!(behind.len(), 10, "a trusted proxy is not capped");
    }
}
