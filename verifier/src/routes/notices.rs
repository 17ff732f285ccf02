//! `GET /v1/notices/{id}?lang=&origin=`: the notice in one language, its digest and a
//! fresh nonce bound to both the notice version and the page's origin.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use consent_receipt::VerifyError;
use serde::Deserialize;

use super::request_origin;
use crate::error::ApiError;
use crate::notices::NoticeEntry;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct NoticeQuery {
    lang: Option<String>,
    origin: Option<String>,
}

/// The notice served now under `id`, or the 404 both notice routes answer.
pub(crate) fn current<'s>(state: &'s AppState, id: &str) -> Result<&'s NoticeEntry, ApiError> {
    state.notices.current(id).ok_or_else(|| {
        ApiError::from(VerifyError::UnknownNotice("no notice has this id".into()))
            .with_status(axum::http::StatusCode::NOT_FOUND)
    })
}

#[tracing::instrument(skip_all, fields(notice = %id))]
pub(crate) async fn get_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let entry = current(&state, &id)?;
    // The browser's Origin header when it sends one (cross-origin); else the page's
    // origin as the widget states it; else the verifier's own pages.
    let origin = match (request_origin(&headers), q.origin.as_deref()) {
        (Some(h), Some(o)) if h != o => {
            return Err(
                VerifyError::OriginNotAllowed("the origin parameter differs from the Origin header".into()).into()
            );
        }
        (Some(h), _) => h.to_string(),
        (None, Some(o)) => o.to_string(),
        (None, None) => state.config.public_origin.as_str().to_string(),
    };
    if !state.origin_allowed(&id, &origin) {
        return Err(VerifyError::OriginNotAllowed(format!(
            "this notice may not be shown on {}; add the origin to the notice's `origins` or --allowed-origin",
            origin.chars().take(100).collect::<String>()
        ))
        .into());
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let wanted = q.lang.as_deref().or_else(|| accept.and_then(|a| a.split([',', ';']).next()).map(str::trim));
    let (notice, digest) = entry.negotiate(wanted);
    let now = state.clock.now();
    let nonce = state.nonces.issue(digest, &origin, now).map_err(ApiError::internal)?;
    let body = serde_json::json!({
        "notice": &**notice,
        "digest": digest,
        "nonce": nonce,
        "nonce_expires_at": now + state.config.nonce_ttl.as_secs() as i64,
        // The widget times receipts on this clock, not on the visitor's.
        "now": now,
        "origin": origin,
        "audience": state.config.public_url,
        "languages": entry.langs.keys().collect::<Vec<_>>(),
    });
    // The nonce is fresh for each request: never cache.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}
