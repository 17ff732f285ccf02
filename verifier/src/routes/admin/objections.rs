//! `POST /v1/admin/objections`: an objection received anywhere but through our own links
//! (the mailing tool, the DPO, a letter, a phone call), for an e-mail address or a phone
//! number, for everything, one notice or one purpose.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_receipt::{Email, PhoneE164};
use serde::Deserialize;

use crate::clock::parse_time;
use crate::consent::objections::{Objection, Objector, SOURCES, Scope, record};
use crate::domain::{Ident, Phone};
use crate::error::ApiError;
use crate::routes::json_body;
use crate::state::AppState;

/// The longest note kept with an objection.
const NOTE_MAX: usize = 1000;

/// The request body; the CSV import sends the same fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `all` (default), `notice` or `purpose`.
    pub scope: Option<String>,
    pub notice: Option<String>,
    pub purpose: Option<String>,
    pub source: String,
    /// RFC 3339 or Unix seconds; now when absent.
    pub received_at: Option<String>,
    pub note: Option<String>,
}

/// Reads a request into an objection, or says what is wrong with it.
pub fn parse(req: &ObjectionRequest, now: i64) -> Result<Objection, String> {
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let who = match (blank(&req.email), blank(&req.phone)) {
        (Some(e), None) => Objector::Email(Email::parse(&e).map_err(|e| e.to_string())?),
        (None, Some(p)) => {
            let e164 = PhoneE164::parse(&p).map_err(|e| e.to_string())?;
            Objector::Phone(Phone::check(&e164, false).map_err(|e| e.to_string())?)
        }
        _ => return Err("give exactly one of email and phone (E.164, e.g. +33612345678)".into()),
    };
    let ident = |v: &Option<String>, what: &'static str| {
        blank(v)
            .ok_or_else(|| format!("scope {what} needs `{what}`"))
            .and_then(|v| Ident::parse(&v, what).map_err(|e| e.to_string()))
    };
    let scope = match blank(&req.scope).as_deref() {
        None | Some("all") => Scope::All,
        Some("notice") => Scope::Notice(ident(&req.notice, "notice")?),
        Some("purpose") => Scope::Purpose(ident(&req.purpose, "purpose")?),
        Some(other) => return Err(format!("scope `{other}`: give all, notice or purpose")),
    };
    let source = SOURCES
        .into_iter()
        .find(|s| *s == req.source.trim())
        .ok_or_else(|| format!("source `{}`: give one of {}", req.source, SOURCES.join(", ")))?;
    let received_at = match blank(&req.received_at) {
        None => now,
        Some(t) => parse_time(&t).ok_or_else(|| format!("received_at `{t}`: give RFC 3339 or Unix seconds"))?,
    };
    if received_at > now + 300 {
        return Err("received_at is in the future".into());
    }
    let note = blank(&req.note);
    if note.as_ref().is_some_and(|n| n.len() > NOTE_MAX) {
        return Err(format!("note is longer than {NOTE_MAX} bytes"));
    }
    Ok(Objection { who, scope, source, received_at, note })
}

pub(crate) async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: ObjectionRequest = json_body(&headers, body).await?;
    let objection = parse(&req, state.clock.now()).map_err(ApiError::malformed)?;
    let done = record(&state, &objection).await?;
    let status = if done.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let body = serde_json::json!({
        "objection_id": done.id,
        "duplicate": done.duplicate,
        "suppressed": done.suppressed,
        "leads_withdrawn": done.leads_withdrawn,
    });
    Ok((status, Json(body)).into_response())
}
