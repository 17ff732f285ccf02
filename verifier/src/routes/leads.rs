//! `POST /v1/leads`: a receipt and the form's extra fields; the lead is accepted only if
//! the receipt passes every rule.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{json_body, request_origin};
use crate::consent::accept::accept;
use crate::error::ApiError;
use crate::state::AppState;

/// Most extra form fields, and their sizes.
const MAX_FIELDS: usize = 32;
const MAX_FIELD_NAME: usize = 64;
const MAX_FIELD_VALUE: usize = 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadRequest {
    receipt: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

#[tracing::instrument(skip_all)]
pub(crate) async fn post_lead(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: LeadRequest = json_body(&headers, body).await?;
    if req.fields.len() > MAX_FIELDS
        || req.fields.iter().any(|(k, v)| k.is_empty() || k.len() > MAX_FIELD_NAME || v.len() > MAX_FIELD_VALUE)
    {
        return Err(ApiError::malformed("fields: at most 32, names of 1-64 bytes, values of at most 1 KiB"));
    }
    let done = accept(&state, &req.receipt, req.fields, request_origin(&headers)).await?;
    let body = serde_json::json!({"lead_id": done.lead_id, "status": done.status, "seal": done.seal});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
