//! Building and running the verifier.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::RwLock;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::{KeyRing, NonceSecret};
use crate::mail::Transport;
use crate::nonce::Nonces;
use crate::notices::{self, Registry};
use crate::routes::router;
use crate::stages::{Stage, timed};
use crate::state::{AppState, Inner};
use crate::store::{Store, Writer, WriterTask};

/// A built verifier, bound to its port, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    writer_task: WriterTask,
    transport: Transport,
    sms: crate::sms::Transport,
    inbound: tokio::sync::mpsc::Receiver<crate::sms::Inbound>,
}

impl Application {
    /// Opens the store, loads keys and notices, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Application::build_with_clock(config, Clock::default()).await
    }

    /// As [`build`](Self::build), with a clock that tests can move.
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Application> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
        if config.stage_timings {
            // Before the writer starts: its task is timed from its first poll.
            crate::stages::enable();
        }
        let store = Store::connect(&config.database_url).await?;
        let keys = KeyRing::load_or_create(&config.keys_dir)?;
        let nonce_secret = NonceSecret::load_or_create(&config.keys_dir)?;
        let current = notices::load_dir(&config.notices_dir)?;
        for entry in &current {
            let file = config.notices_dir.join(format!("{}.toml", entry.id));
            for finding in crate::lint::notice(entry, &file.display().to_string()) {
                tracing::warn!(%finding, "notice lint (see `consent-verifier notices check --strict`)");
            }
        }
        let served = store.register_notices(current.iter().flat_map(|e| e.served()), clock.now()).await?;
        let retention = current
            .iter()
            .flat_map(|e| e.langs.values().map(move |(_, d)| (e.id.as_str(), d.as_str(), e.retention_days)));
        store.record_retention(retention).await?;
        let registry = Registry::new(current, served);
        let (writer, writer_task) = Writer::spawn(store.clone());
        let mut global_origins: HashSet<String> =
            config.allowed_origins.iter().map(|o| o.as_str().to_string()).collect();
        global_origins.insert(config.public_origin.as_str().to_string());
        let transport = Transport::from_config(&config.mail)?;
        // SMS the SMS centre delivers (STOP, OUI) queue here for the consent layer.
        let (inbound_tx, inbound) = tokio::sync::mpsc::channel(256);
        let sms = crate::sms::Transport::from_config(&config.sms, inbound_tx)?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("listening on {} (is another process using it? set --addr)", config.addr))?;
        let state = AppState::new(Inner {
            nonces: Nonces::new(nonce_secret, config.nonce_ttl.as_secs() as i64),
            keys: RwLock::new(Arc::new(keys)),
            notices: registry,
            store,
            writer,
            clock,
            global_origins,
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            sms_wake: Arc::new(tokio::sync::Notify::new()),
            webhook_wake: Arc::new(tokio::sync::Notify::new()),
            limits: crate::limits::RateLimits::new(&config.limits),
            config,
        });
        Ok(Application { listener, state, writer_task, transport, sms, inbound })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The shared state (tests inspect the store through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A summary for the console: where it listens, what it serves.
    pub fn banner(&self) -> String {
        let c = &self.state.config;
        let mut notices: Vec<String> = self
            .state
            .notices
            .all()
            .map(|n| format!("{} v{} ({})", n.id, n.version, n.langs.keys().cloned().collect::<Vec<_>>().join(", ")))
            .collect();
        notices.sort();
        format!(
            "consent-verifier listening on http://{}\n  public URL (aud): {}\n  database: {}\n  keys: {} (kid {})\n  notices: {}\n  static pages: {}",
            self.listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            c.public_url,
            redact_url(&c.database_url),
            c.keys_dir.display(),
            self.state.keys().active_kid(),
            notices.join("; "),
            match (&c.www_dir, &c.www_hint) {
                (Some(d), _) => d.display().to_string(),
                (None, Some(hint)) => format!("none — {hint}"),
                (None, None) => "none".into(),
            },
        )
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests and writes.
    /// `stop` comes from [`shutdown_signal`], called before [`Application::build`] binds
    /// the port: a signal sent as soon as the port answers is then never the default
    /// action (the process killed without draining).
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        self.run_until(stop).await
    }

    /// Serves until `shutdown` completes, then drains.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Application { listener, state, writer_task, transport, sms, inbound } = self;
        if let Some(hint) = &state.config.www_hint {
            tracing::warn!("{hint}");
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mailer = tokio::spawn(timed(
            Stage::Send,
            crate::mail::worker::run(
                state.store.clone(),
                state.writer.clone(),
                transport,
                state.clock.clone(),
                state.mail_wake.clone(),
                state.config.outbox_lease,
                stopped.clone(),
            ),
        ));
        // One worker per channel: a slow SMS provider never holds up mail.
        let texter = tokio::spawn(timed(
            Stage::Send,
            crate::mail::worker::run(
                state.store.clone(),
                state.writer.clone(),
                sms,
                state.clock.clone(),
                state.sms_wake.clone(),
                state.config.outbox_lease,
                stopped.clone(),
            ),
        ));
        let listener_of_sms = tokio::spawn(receive_sms(state.clone(), inbound, stopped.clone()));
        let purger = tokio::spawn(crate::consent::retention::run(state.clone(), stopped.clone()));
        let checkpointer = tokio::spawn(crate::consent::proof::run(state.clone(), stopped.clone()));
        let logger = tokio::spawn(crate::consent::tlog::run(state.clone(), stopped.clone()));
        let hooks = tokio::spawn(crate::webhooks::worker::run(state.clone(), stopped.clone()));
        let pruner = tokio::spawn(prune_rate_limits(state.clone(), stopped));
        let app = router(state.clone());
        crate::connections::serve(listener, app, &state.config.limits, shutdown).await.context("serving HTTP")?;
        // Requests in flight are done or were cut at the deadline. The mail worker finishes
        // the batch in hand, then the writer commits what is queued, then the pool closes.
        let _ = stop.send(true);
        let _ = mailer.await;
        let _ = texter.await;
        let _ = listener_of_sms.await;
        let _ = purger.await;
        let _ = checkpointer.await;
        let _ = logger.await;
        let _ = hooks.await;
        let _ = pruner.await;
        writer_task.finish().await;
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Empties the rate-limit tables of clients not seen lately, every minute, until `stop`.
async fn prune_rate_limits(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => state.limits.prune(),
            _ = stop.changed() => break,
        }
    }
}

/// Acts on the SMS the transport received, one at a time, until `stop`.
async fn receive_sms(
    state: AppState,
    mut inbound: tokio::sync::mpsc::Receiver<crate::sms::Inbound>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            got = inbound.recv() => match got {
                Some(sms) => {
                    if let Err(e) = crate::consent::sms::inbound(&state, &sms).await {
                        tracing::warn!(code = e.code().info().code, "an inbound SMS could not be handled");
                    }
                }
                None => break,
            },
            _ = stop.changed() => break,
        }
    }
}

fn redact_url(url: &str) -> String {
    // postgres://user:password@host/db -> postgres://user:***@host/db
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Installs the SIGINT and SIGTERM handlers now (inside a runtime) and returns what
/// completes when one arrives.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match &mut handlers.0 {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match &mut handlers.1 {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = term => {},
                () = int => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://data/consent.db"), "sqlite://data/consent.db");
    }
}
