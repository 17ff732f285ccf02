//! What every handler shares.

use std::collections::HashSet;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::KeyRing;
use crate::limits::RateLimits;
use crate::nonce::Nonces;
use crate::notices::Registry;
use crate::store::{Store, Writer};

/// Shared state, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts.
#[derive(Debug)]
pub struct Inner {
    /// Configuration.
    pub config: Config,
    /// Signing keys (reloadable after a rotation).
    pub keys: RwLock<Arc<KeyRing>>,
    /// Nonce issuer and checker.
    pub nonces: Nonces,
    /// Notices served, and every version ever served.
    pub notices: Registry,
    /// Database.
    pub store: Store,
    /// Group-commit writer.
    pub writer: Writer,
    /// Clock.
    pub clock: Clock,
    /// Origins allowed for every notice: configured ones and the public URL's.
    pub global_origins: HashSet<String>,
    /// Wakes the mail worker when a mail is queued.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Wakes the SMS worker when an SMS is queued.
    pub sms_wake: Arc<tokio::sync::Notify>,
    /// Wakes the webhook worker when a delivery is queued.
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// Request-rate buckets.
    pub limits: RateLimits,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Wraps the parts.
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }

    /// Wakes the workers of both channels and the webhook worker: something was queued.
    pub fn wake_senders(&self) {
        self.mail_wake.notify_one();
        self.sms_wake.notify_one();
        self.webhook_wake.notify_one();
    }

    /// The current key ring.
    pub fn keys(&self) -> Arc<KeyRing> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether `origin` may show notice `notice_id` (rule 5).
    pub fn origin_allowed(&self, notice_id: &str, origin: &str) -> bool {
        self.global_origins.contains(origin)
            || self.notices.current(notice_id).is_some_and(|n| n.origins.iter().any(|o| o.as_str() == origin))
    }

    /// Every origin that may call the browser-facing API (for CORS).
    pub fn any_origin_allowed(&self, origin: &str) -> bool {
        self.global_origins.contains(origin)
            || self.notices.all().any(|n| n.origins.iter().any(|o| o.as_str() == origin))
    }
}
