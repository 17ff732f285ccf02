//! Serving connections, with the limits `axum::serve` leaves out: it builds hyper's
//! connections without a timer, so a client that sends half a request head, or nothing,
//! keeps its connection (and a descriptor) for ever, and a stop waits for it.
//!
//! Here every connection has, through hyper-util's auto builder (HTTP/1.1 and HTTP/2)
//! with a Tokio timer:
//!
//! - a header-read timeout (`--header-timeout`): the first request head, and each next
//!   one on an HTTP/1.1 keep-alive connection, must arrive whole within it;
//! - an idle timeout (`--idle-timeout`): nothing read or written for that long closes it
//!   ([`idle::Tracked`] counts the bytes);
//! - a place under two caps: all connections together (`--max-connections`, kept below
//!   the open-file limit) and per client address (`--max-connections-per-client`). A
//!   connection over a cap is accepted and closed at once, so the listen queue keeps
//!   moving and everybody else is still served;
//! - a graceful end with a deadline (`--shutdown-timeout`): on stop, idle connections
//!   close, requests in flight finish, and whatever is left when the deadline passes is
//!   cut.

mod caps;
mod idle;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

pub use caps::{PerClient, fit_to_open_file_limit};
pub use idle::{Activity, Tracked};

use crate::config::LimitsConfig;

/// Serves `app` on `listener` until `shutdown` completes, then ends every connection
/// within `limits.shutdown_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &LimitsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let max = fit_to_open_file_limit(limits.max_connections);
    let open = Arc::new(Semaphore::new(max));
    let per_client = PerClient::new(limits.max_connections_per_client, &limits.trusted_proxies);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(limits.idle_timeout / 2)
        .keep_alive_timeout(limits.header_timeout);
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut refused = Refusals::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let Some(slot) = per_client.enter(peer.ip()) else {
            refused.note("per client", max);
            continue;
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            refused.note("in all", max);
            continue;
        };
        let conn = Conn {
            builder: builder.clone(),
            app: app.clone(),
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            peer,
        };
        tasks.spawn(crate::stages::timed(crate::stages::Stage::Http, conn.run(stream, slot, permit, stopping.clone())));
    }
    drop(listener);
    let open_now = tasks.len();
    tracing::info!(connections = open_now, "no longer accepting; finishing requests in flight");
    let _ = stop.send(true);
    let drained =
        tokio::time::timeout(limits.shutdown_timeout, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            cut = tasks.len(),
            deadline = ?limits.shutdown_timeout,
            "connections still open at the shutdown deadline were cut"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// Counts connections closed for a cap, and says so at most once a minute.
#[derive(Default)]
struct Refusals {
    since: usize,
    last: Option<Instant>,
}

impl Refusals {
    fn note(&mut self, cap: &'static str, max: usize) {
        self.since += 1;
        if self.last.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(cap, max, closed = self.since, "connections over the cap closed at once");
            self.since = 0;
            self.last = Some(Instant::now());
        }
    }
}

/// One accepted connection and what it is served with.
struct Conn {
    builder: auto::Builder<TokioExecutor>,
    app: Router,
    header_timeout: Duration,
    idle_timeout: Duration,
    peer: SocketAddr,
}

impl Conn {
    async fn run(
        self,
        stream: TcpStream,
        slot: caps::Slot,
        permit: OwnedSemaphorePermit,
        mut stop: watch::Receiver<bool>,
    ) {
        let _held = (slot, permit);
        let _ = stream.set_nodelay(true);
        let activity = Activity::default();
        let io = TokioIo::new(Tracked::new(stream, activity.clone()));
        // Handlers see the peer as `ConnectInfo`, as with `into_make_service_with_connect_info`.
        let peer = self.peer;
        let asked = Arc::new(AtomicBool::new(false));
        let asked_in = asked.clone();
        let service = self.app.map_request(move |mut req: Request<Incoming>| {
            asked_in.store(true, Ordering::Relaxed);
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let conn = self.builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service)).into_owned();
        tokio::pin!(conn);
        let (header_timeout, idle_timeout) = (self.header_timeout, self.idle_timeout);
        // The auto builder first reads enough to tell HTTP/1.1 from HTTP/2, outside hyper's
        // header timer: the first request gets a deadline of its own.
        let first_deadline = tokio::time::sleep(header_timeout);
        tokio::pin!(first_deadline);
        let mut first_pending = true;
        let mut tick =
            tokio::time::interval((idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5)));
        let mut closing: Option<Instant> = None;
        loop {
            tokio::select! {
                done = conn.as_mut() => {
                    if let Err(e) = done {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = &mut first_deadline, if first_pending => {
                    first_pending = false;
                    if !asked.load(Ordering::Relaxed) {
                        tracing::debug!("no whole request within the header timeout; closed");
                        return;
                    }
                }
                changed = stop.changed(), if closing.is_none() => {
                    let _ = changed;
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
                _ = tick.tick() => {
                    let idle = activity.idle_for();
                    match closing {
                        None if idle >= idle_timeout => {
                            conn.as_mut().graceful_shutdown();
                            closing = Some(Instant::now());
                        }
                        // A graceful end that a client does not let happen (it neither
                        // reads nor sends) is cut after one more idle period.
                        Some(since) if since.elapsed() >= idle_timeout && idle >= idle_timeout => return,
                        _ => {}
                    }
                }
            }
        }
    }
}
