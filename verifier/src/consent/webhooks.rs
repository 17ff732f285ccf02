//! Webhook endpoints: registering one (its target checked, its secret shown once),
//! listing, deleting, and a test delivery. What each life-cycle event sends is queued by
//! the store with the event; the [`crate::webhooks::worker`] posts it.

use crate::domain::WebhookEvent;
use crate::error::{ApiError, Code};
use crate::keys::random_id;
use crate::state::AppState;
use crate::store::webhooks::{DeliveryRecord, Endpoint};
use crate::webhooks::sign::{endpoint_key, public_key_text, secret_text};
use crate::webhooks::target::{TargetError, check};

/// What a registration asks for.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The target URL.
    pub url: String,
    /// The event types it takes (empty: every type).
    pub event_types: Vec<String>,
    /// Whether deliveries carry the contact data and the receipt.
    pub include_contact: bool,
}

/// A registered endpoint, with its secret (shown this once).
#[derive(Debug)]
pub struct Registered {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Its `whsec_` secret.
    pub secret: zeroize::Zeroizing<String>,
    /// The `whpk_` public key of `v1a` signatures.
    pub public_key: String,
}

/// Registers an endpoint.
pub async fn register(state: &AppState, r: Registration) -> Result<Registered, ApiError> {
    let url = check(&r.url, state.config.webhooks.allow_private).await.map_err(|e| match e {
        TargetError::BadUrl(d) => ApiError::new(Code::BadWebhookUrl, d),
        TargetError::Private(d) => ApiError::new(Code::WebhookTargetRefused, d),
    })?;
    let mut types = Vec::new();
    for t in &r.event_types {
        let kind = t.parse::<WebhookEvent>().map_err(|e| ApiError::new(Code::UnknownEventType, e.to_string()))?;
        if !types.contains(&kind.as_str().to_string()) {
            types.push(kind.as_str().to_string());
        }
    }
    let id = format!("ep_{}", random_id().map_err(ApiError::internal)?);
    let endpoint = Endpoint {
        id,
        url: url.to_string(),
        event_types: types,
        include_contact: r.include_contact,
        salt: random_id().map_err(ApiError::internal)?,
        created_at: state.clock.now(),
        disabled_at: None,
        disabled_reason: None,
    };
    state.store.create_endpoint(&endpoint).await?;
    tracing::info!(endpoint = %endpoint.id, "webhook endpoint registered");
    let secret = secret_text(&endpoint_key(&state.nonces, &endpoint.id, &endpoint.salt));
    Ok(Registered { endpoint, secret, public_key: public_key_text(state.keys().active()) })
}

/// Every endpoint.
pub async fn list(state: &AppState) -> Result<Vec<Endpoint>, ApiError> {
    Ok(state.store.endpoints().await?)
}

/// The endpoint with this id, or `404 not-found`.
pub async fn one(state: &AppState, id: &str) -> Result<Endpoint, ApiError> {
    state.store.endpoint(id).await?.ok_or_else(|| ApiError::not_found("no webhook endpoint has this id"))
}

/// Deletes an endpoint and its deliveries.
pub async fn delete(state: &AppState, id: &str) -> Result<(), ApiError> {
    if !state.store.delete_endpoint(id).await? {
        return Err(ApiError::not_found("no webhook endpoint has this id"));
    }
    tracing::info!(endpoint = %id, "webhook endpoint deleted");
    Ok(())
}

/// The latest deliveries of an endpoint.
pub async fn deliveries(state: &AppState, id: &str, limit: i64) -> Result<Vec<DeliveryRecord>, ApiError> {
    one(state, id).await?;
    Ok(state.store.deliveries(id, limit).await?)
}

/// Queues a `webhook.test` delivery to one endpoint (even one that takes other types);
/// returns its `webhook-id`.
pub async fn test(state: &AppState, id: &str) -> Result<String, ApiError> {
    let endpoint = one(state, id).await?;
    if endpoint.disabled_at.is_some() {
        return Err(ApiError::new(Code::WrongState, "this endpoint was disabled (it answered 410 Gone)"));
    }
    let now = state.clock.now();
    let delivery = format!("msg_test_{}", random_id().map_err(ApiError::internal)?);
    let body = serde_json::json!({
        "type": WebhookEvent::Test,
        "timestamp": crate::clock::rfc3339(now),
        "data": {"endpoint_id": endpoint.id},
    });
    state.store.queue_delivery(&delivery, &endpoint.id, WebhookEvent::Test, &body.to_string(), now).await?;
    state.webhook_wake.notify_one();
    Ok(delivery)
}
