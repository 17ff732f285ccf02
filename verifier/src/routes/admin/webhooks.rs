//! `/v1/admin/webhooks`: register (`POST`, the secret shown once), list (`GET`), delete
//! (`DELETE …/{id}`), recent deliveries (`GET …/{id}/deliveries`) and a test event
//! (`POST …/{id}/test`).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::consent::webhooks::{self, Registration};
use crate::error::ApiError;
use crate::routes::json_body;
use crate::state::AppState;
use crate::store::webhooks::{DeliveryRecord, Endpoint};

/// The registration body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    /// Where to post.
    url: String,
    /// Which types (absent or empty: every type).
    #[serde(default)]
    event_types: Vec<String>,
    /// Whether deliveries carry the e-mail address, the phone number and the receipt.
    #[serde(default)]
    include_contact: bool,
}

fn endpoint_json(e: &Endpoint) -> serde_json::Value {
    serde_json::json!({
        "id": e.id,
        "url": e.url,
        "event_types": e.event_types,
        "include_contact": e.include_contact,
        "created_at": rfc3339(e.created_at),
        "disabled_at": e.disabled_at.map(rfc3339),
        "disabled_reason": e.disabled_reason,
    })
}

fn delivery_json(d: &DeliveryRecord) -> serde_json::Value {
    let status = match (d.delivered_at, d.failed_at) {
        (Some(_), _) => "delivered",
        (None, Some(_)) => "failed",
        (None, None) => "pending",
    };
    serde_json::json!({
        "id": d.id,
        "type": d.event_type,
        "lead_id": d.lead_id,
        "status": status,
        "attempts": d.attempts,
        "created_at": rfc3339(d.created_at),
        "next_attempt_at": (status == "pending").then(|| rfc3339(d.next_attempt_at)),
        "delivered_at": d.delivered_at.map(rfc3339),
        "failed_at": d.failed_at.map(rfc3339),
        "last_status": d.last_status,
        "last_error": d.last_error,
    })
}

/// `POST /v1/admin/webhooks` → `201` with the endpoint, its `secret` and `public_key`.
pub(crate) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let req: RegisterRequest = json_body(&headers, body).await?;
    let done = webhooks::register(
        &state,
        Registration { url: req.url, event_types: req.event_types, include_contact: req.include_contact },
    )
    .await?;
    let mut out = endpoint_json(&done.endpoint);
    out["secret"] = done.secret.as_str().into();
    out["public_key"] = done.public_key.into();
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `GET /v1/admin/webhooks` → `{"endpoints": […]}` (no secrets).
pub(crate) async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let all = webhooks::list(&state).await?;
    Ok(Json(serde_json::json!({"endpoints": all.iter().map(endpoint_json).collect::<Vec<_>>()})).into_response())
}

/// `DELETE /v1/admin/webhooks/{id}` → `204`.
pub(crate) async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    webhooks::delete(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The query of the deliveries listing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveriesQuery {
    /// At most this many, newest first (100 by default, at most 1000).
    limit: Option<i64>,
}

/// `GET /v1/admin/webhooks/{id}/deliveries?limit=` → `{"deliveries": […]}`, newest first.
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::malformed("limit must be between 1 and 1000"));
    }
    let all = webhooks::deliveries(&state, &id, limit).await?;
    Ok(Json(serde_json::json!({"deliveries": all.iter().map(delivery_json).collect::<Vec<_>>()})).into_response())
}

/// `POST /v1/admin/webhooks/{id}/test` → `202 {"delivery_id"}`.
pub(crate) async fn test(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let delivery = webhooks::test(&state, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({"delivery_id": delivery}))).into_response())
}
