//! `POST /v1/admin/leads/{id}/activity`: the site's mailing tool reports a click in a
//! marketing message, the prospect's contact: the retention period starts again. An open
//! is refused (`open-is-not-contact`): it is not contact.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use consent_receipt::Channel;
use serde::Deserialize;

use crate::clock::{parse_time, rfc3339};
use crate::consent::activity::{Activity, record};
use crate::domain::Ident;
use crate::error::ApiError;
use crate::routes::json_body;
use crate::state::AppState;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityRequest {
    /// `click` (an `open` is refused).
    kind: String,
    /// When: Unix seconds or RFC 3339; now when absent.
    at: Option<serde_json::Value>,
    /// The channel of the message: `email` or `sms`.
    channel: Option<Channel>,
}

fn when(at: Option<&serde_json::Value>) -> Result<Option<i64>, ApiError> {
    let bad = || ApiError::malformed("at must be Unix seconds or an RFC 3339 time (2026-11-27T09:30:00Z)");
    match at {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(serde_json::Value::String(s)) => parse_time(s).map(Some).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// `POST /v1/admin/leads/{id}/activity` with `{"kind": "click", "at": …, "channel": …}`.
pub(crate) async fn post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = Ident::parse(&id, "lead id").map_err(|e| ApiError::malformed(e.to_string()))?;
    let req: ActivityRequest = json_body(&headers, body).await?;
    let activity = Activity::parse(req.kind.trim())?;
    let at = when(req.at.as_ref())?;
    let done = record(&state, id.as_str(), activity, at, req.channel).await?;
    Ok(Json(serde_json::json!({
        "lead_id": done.lead_id,
        "recorded": "click",
        "at": rfc3339(done.at),
        "last_contact_at": rfc3339(done.last_contact_at),
        "retention_ends_at": rfc3339(done.retention_ends_at),
    }))
    .into_response())
}
