//! `POST /v1/withdrawals`: a withdrawal signed with the visitor's own key, from the
//! browser that gave the consent ("manage my consent" in the widget).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::json_body;
use crate::consent::withdraw;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WithdrawalRequest {
    withdrawal: String,
}

#[tracing::instrument(skip_all)]
pub(crate) async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: WithdrawalRequest = json_body(&headers, body).await?;
    let done = withdraw::signed(&state, &req.withdrawal).await?;
    let body = serde_json::json!({"lead_id": done.lead_id, "status": done.status});
    Ok((StatusCode::OK, Json(body)).into_response())
}
