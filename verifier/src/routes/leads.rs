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
use crate::consent::objections::refused_at_source;
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
    fields: BTreeMap<String, serde_json::Value>,
}

/// The source said "no solicitation" (rule 19): `true`, or a form's `"true"`, `"on"`, `"1"`,
/// `"yes"`, `"oui"` in any case.
const NO_SOLICITATION: &str = "no_solicitation";

#[tracing::instrument(skip_all)]
pub(crate) async fn post_lead(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: LeadRequest = json_body(&headers, body).await?;
    let mut fields = BTreeMap::new();
    for (name, value) in req.fields {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(b) => b.to_string(),
            _ => return Err(ApiError::malformed(format!("fields.{name}: give a string (or true/false)"))),
        };
        fields.insert(name, text);
    }
    let refused = match fields.get(NO_SOLICITATION).map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) if matches!(v.as_str(), "true" | "on" | "1" | "yes" | "oui") => true,
        Some(v) if matches!(v.as_str(), "false" | "off" | "0" | "no" | "non" | "") => false,
        // A refusal must never be read as a consent: what is not clearly one or the other is refused.
        Some(_) => return Err(ApiError::malformed("fields.no_solicitation: give true or false")),
    };
    if refused {
        let done = refused_at_source(&state, &req.receipt, request_origin(&headers)).await?;
        let ids: Vec<&str> = done.iter().map(|d| d.id.as_str()).collect();
        return Ok(Json(serde_json::json!({"status": "objection", "objection_ids": ids})).into_response());
    }
    if fields.len() > MAX_FIELDS
        || fields.iter().any(|(k, v)| k.is_empty() || k.len() > MAX_FIELD_NAME || v.len() > MAX_FIELD_VALUE)
    {
        return Err(ApiError::malformed("fields: at most 32, names of 1-64 bytes, values of at most 1 KiB"));
    }
    let done = accept(&state, &req.receipt, fields, request_origin(&headers)).await?;
    let body = serde_json::json!({"lead_id": done.lead_id, "status": done.status, "seal": done.seal});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
