//! Webhooks per Standard Webhooks: each life-cycle event is posted to the endpoints that
//! take its type, signed with `webhook-id`, `webhook-timestamp` and `webhook-signature`
//! (`v1`: HMAC-SHA256 under the endpoint's `whsec_` secret; `v1a`: Ed25519 under the
//! verifier's seal key, published in its JWKS).
//!
//! - [`sign`]: the signatures and the endpoint secrets (derived, never stored);
//! - [`target`]: which URLs may be called (no private or loopback address by default,
//!   checked again at every connection, so a name that later resolves inward is refused);
//! - [`worker`]: claims due deliveries, posts them, retries on the specification's
//!   schedule. The deliveries themselves are queued by the store with their event.

pub mod sign;
pub mod target;
pub mod worker;
