//! `GET /v1/admin/leads`, `/v1/admin/leads/{id}`, `/v1/admin/leads/{id}/proof` and
//! `/v1/admin/export`: leads as the site's systems read them. (A click they report goes to
//! `POST /v1/admin/leads/{id}/activity`, in `activity.rs`.)

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::csv;
use crate::clock::{parse_time, rfc3339};
use crate::domain::{Ident, LeadStatus, NoticeId};
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::store::{LeadDetail, LeadFilter, LeadSummary};

/// The query string of the list and the export.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LeadQuery {
    status: Option<String>,
    notice: Option<String>,
    purpose: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
    format: Option<String>,
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::malformed(e.to_string())
}

fn time_param(value: &str, what: &str) -> Result<i64, ApiError> {
    parse_time(value).ok_or_else(|| {
        ApiError::malformed(format!(
            "{what} must be an RFC 3339 time (2026-11-27T09:30:00Z), a date (2026-11-27) or Unix seconds"
        ))
    })
}

impl LeadQuery {
    /// The filter, each parameter parsed once; the `after` cursor.
    fn filter(&self) -> Result<(LeadFilter, Option<String>), ApiError> {
        let status = match &self.status {
            Some(s) => Some(s.parse::<LeadStatus>().map_err(|_| {
                let known: Vec<&str> = LeadStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::malformed(format!("status must be one of {}", known.join(", ")))
            })?),
            None => None,
        };
        let filter = LeadFilter {
            status,
            notice: self.notice.as_deref().map(NoticeId::parse).transpose().map_err(malformed)?,
            purpose: self.purpose.as_deref().map(|p| Ident::parse(p, "purpose")).transpose().map_err(malformed)?,
            since: self.since.as_deref().map(|t| time_param(t, "since")).transpose()?,
            until: self.until.as_deref().map(|t| time_param(t, "until")).transpose()?,
        };
        let after = self.after.as_deref().map(|a| Ident::parse(a, "after")).transpose().map_err(malformed)?;
        Ok((filter, after.map(|a| a.as_str().to_string())))
    }
}

fn summary(l: &LeadSummary) -> serde_json::Value {
    serde_json::json!({
        "lead_id": l.id,
        "receipt_jti": l.jti,
        "status": l.status,
        "notice": {"id": l.notice.0, "version": l.notice.1, "lang": l.notice.2},
        "granted": l.granted,
        "email": l.email,
        // A role address (contact@, info@, sales@ …) is a company's, not a person's.
        "company_address": l.email.as_deref().and_then(|e| consent_receipt::Email::parse(e).ok()).map(|e| e.is_role_address()),
        "phone": l.phone,
        "minor": l.minor,
        "created_at": rfc3339(l.created_at),
        "last_contact_at": rfc3339(l.last_contact_at),
        "contact_erased_at": l.contact_erased_at.map(rfc3339),
        // Each channel's double opt-in is its own; null when none is owed.
        "confirmed_channels": match l.status {
            LeadStatus::PendingConfirmation => Some(l.confirmed.clone().unwrap_or_default()),
            _ => l.confirmed.clone(),
        },
    })
}

/// `GET /v1/admin/leads?status=&notice=&purpose=&since=&until=&after=&limit=`.
pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<LeadQuery>) -> Result<Response, ApiError> {
    let (filter, after) = q.filter()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state.store.leads(&filter, after.as_deref(), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let leads: Vec<serde_json::Value> = rows.iter().take(limit as usize).map(|d| summary(&d.summary)).collect();
    let next = if more { rows.get(limit as usize - 1).map(|d| d.summary.id.clone()) } else { None };
    Ok(Json(serde_json::json!({"leads": leads, "next": next})).into_response())
}

fn detail(d: &LeadDetail) -> serde_json::Value {
    let mut v = summary(&d.summary);
    v["receipt"] = d.receipt.clone().into();
    v["seal"] = d.seal.clone().into();
    v
}

/// `GET /v1/admin/leads/{id}`: the lead, its receipts and its events.
pub(crate) async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = Ident::parse(&id, "lead id").map_err(malformed)?;
    let d = state.store.lead_detail(id.as_str()).await?.ok_or_else(|| ApiError::not_found("no lead has this id"))?;
    let mut lead = detail(&d);
    lead["origin"] = d.origin.clone().into();
    lead["fields"] = d.fields.clone();
    lead["events"] = serde_json::to_value(state.store.lead_events(id.as_str()).await?).unwrap_or_default();
    Ok(Json(lead).into_response())
}

/// `GET /v1/admin/leads/{id}/proof`: the proof bundle.
#[derive(Debug, Deserialize)]
pub(crate) struct ProofQuery {
    format: Option<String>,
}

/// `GET /v1/admin/leads/{id}/proof?format=bundle|dpv|kantara`: the proof bundle, or the
/// same proof as DPV JSON-LD (ISO/IEC TS 27560) or a Kantara Consent Receipt v1.1, each
/// carrying the bundle.
pub(crate) async fn proof(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ProofQuery>,
) -> Result<Response, ApiError> {
    let id = Ident::parse(&id, "lead id").map_err(malformed)?;
    let format = q.format.as_deref().unwrap_or("bundle");
    if !["bundle", "dpv", "kantara"].contains(&format) {
        return Err(malformed(format!("format must be bundle, dpv or kantara, not {format:?}")));
    }
    if let Some(b) = crate::consent::proof::bundle(&state, id.as_str()).await? {
        if format == "bundle" {
            return Ok(Json(b).into_response());
        }
        let report = consent_receipt::verify_bundle(&b, None)?;
        return Ok(match format {
            "dpv" => {
                ([(header::CONTENT_TYPE, "application/ld+json")], Json(consent_receipt::export::to_dpv(&b, &report)))
                    .into_response()
            }
            _ => Json(consent_receipt::export::to_kantara(&b, &report)).into_response(),
        });
    }
    match state.store.lead_clock(id.as_str()).await?.and_then(|c| c.contact_erased_at) {
        Some(at) => Err(ApiError::new(
            Code::ProofErased,
            format!(
                "the contact data of this withdrawn or refused lead, its receipt included, was erased at {}; \
                 its seal and events stay at /v1/admin/leads/{id}",
                rfc3339(at)
            ),
        )),
        None => Err(ApiError::not_found("no lead has this id, or its data was purged")),
    }
}

/// Leads per page of the export.
const EXPORT_PAGE: i64 = 500;

/// `GET /v1/admin/export?format=jsonl|csv&…filters`: every matching lead, streamed page by
/// page (never the whole set in memory).
pub(crate) async fn export(State(state): State<AppState>, Query(q): Query<LeadQuery>) -> Result<Response, ApiError> {
    let csv = match q.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::malformed("format must be jsonl or csv")),
    };
    // A bad filter is a 400 now rather than a broken stream later.
    let (filter, _) = q.filter()?;
    let header_line = if csv { csv::HEADER.to_string() } else { String::new() };
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(header_line) });
    let pages = futures_util::stream::try_unfold(
        (state, filter, None::<String>, false),
        move |(state, f, after, done)| async move {
            if done {
                return Ok(None);
            }
            let rows = state
                .store
                .leads(&f, after.as_deref(), EXPORT_PAGE)
                .await
                .map_err(|e| std::io::Error::other(format!("export stopped: {e}")))?;
            let chunk: String =
                rows.iter().map(|d| if csv { csv::line(&d.summary) } else { format!("{}\n", detail(d)) }).collect();
            let last = rows.last().map(|d| d.summary.id.clone()).or(after);
            let finished = (rows.len() as i64) < EXPORT_PAGE;
            Ok(Some((chunk, (state, f, last, finished))))
        },
    );
    let body = Body::from_stream(futures_util::StreamExt::chain(first, pages));
    let ctype = if csv { "text/csv; charset=utf-8" } else { "application/x-ndjson" };
    Ok(([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "no-store")], body).into_response())
}
