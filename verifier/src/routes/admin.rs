//! `/v1/admin/…`: for the site owner's systems (a CRM, a campaign tool), behind API keys.
//! Authentication comes first, so an unauthenticated caller learns nothing, not even
//! whether an address is known.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use consent_receipt::{Channel, Email};
use serde::Deserialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::admin::{KeyCheck, check_key};
use crate::clock::rfc3339;
use crate::lifecycle::contact_hash;
use crate::problem::ApiError;
use crate::state::AppState;

/// Bearer-key check for every admin route: 401 without a valid key, 403 for a revoked one.
pub(crate) async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_string);
    let unauthorized = |detail: &str| {
        let mut res = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail).into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"consent-verifier admin\""));
        res
    };
    let Some(key) = presented else {
        return unauthorized("an admin API key is required (Authorization: Bearer cwk_…)");
    };
    match check_key(&state.store, &key).await {
        Ok(KeyCheck::Valid(name)) => {
            tracing::info!(key = %name, "admin request");
            next.run(req).await
        }
        Ok(KeyCheck::Revoked) => {
            ApiError::new(StatusCode::FORBIDDEN, "revoked-key", "this API key was revoked").into_response()
        }
        Ok(KeyCheck::Invalid) => unauthorized("this API key is not valid"),
        Err(e) => ApiError::store(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    status: Option<String>,
    notice: Option<String>,
    purpose: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
    format: Option<String>,
}

enum Bind {
    Text(String),
    Int(i64),
}

fn ident(value: &str, what: &str) -> Result<String, ApiError> {
    if value.is_empty()
        || value.len() > 64
        || !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::malformed(format!("{what} must be 1-64 of [A-Za-z0-9_-]")));
    }
    Ok(value.to_string())
}

fn time_param(value: &str, what: &str) -> Result<i64, ApiError> {
    crate::clock::parse_time(value).ok_or_else(|| {
        ApiError::malformed(format!(
            "{what} must be an RFC 3339 time (2026-11-27T09:30:00Z), a date (2026-11-27) or Unix seconds"
        ))
    })
}

/// `WHERE …` and its parameters; keyset pagination on the (time-ordered) lead id.
fn where_clause(f: &Filter, after: Option<&str>) -> Result<(String, Vec<Bind>), ApiError> {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    let mut push = |sql: &str, b: Bind, parts: &mut Vec<String>| {
        binds.push(b);
        parts.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = &f.status {
        push("status = ?", Bind::Text(ident(s, "status")?), &mut parts);
    }
    if let Some(n) = &f.notice {
        push("notice_id = ?", Bind::Text(ident(n, "notice")?), &mut parts);
    }
    if let Some(p) = &f.purpose {
        // `granted` is a JSON array of ids, which are plain identifiers.
        push("granted LIKE ?", Bind::Text(format!("%\"{}\"%", ident(p, "purpose")?)), &mut parts);
    }
    if let Some(t) = &f.since {
        push("created_at >= ?", Bind::Int(time_param(t, "since")?), &mut parts);
    }
    if let Some(t) = &f.until {
        push("created_at < ?", Bind::Int(time_param(t, "until")?), &mut parts);
    }
    if let Some(a) = after {
        push("id > ?", Bind::Text(ident(a, "after")?), &mut parts);
    }
    let sql = if parts.is_empty() { String::new() } else { format!("WHERE {}", parts.join(" AND ")) };
    Ok((sql, binds))
}

const SUMMARY: &str = "id, jti, status, notice_id, notice_version, notice_lang, granted, email, phone, minor, created_at, last_contact_at";

fn summary(r: &AnyRow) -> Result<serde_json::Value, sqlx::Error> {
    let granted: String = r.try_get("granted")?;
    Ok(serde_json::json!({
        "lead_id": r.try_get::<String, _>("id")?,
        "receipt_jti": r.try_get::<String, _>("jti")?,
        "status": r.try_get::<String, _>("status")?,
        "notice": {"id": r.try_get::<String, _>("notice_id")?, "version": r.try_get::<i64, _>("notice_version")?, "lang": r.try_get::<String, _>("notice_lang")?},
        "granted": serde_json::from_str::<serde_json::Value>(&granted).unwrap_or_default(),
        "email": r.try_get::<Option<String>, _>("email")?,
        "phone": r.try_get::<Option<String>, _>("phone")?,
        "minor": r.try_get::<i64, _>("minor")? != 0,
        "created_at": rfc3339(r.try_get("created_at")?),
        "last_contact_at": rfc3339(r.try_get("last_contact_at")?),
    }))
}

async fn page(
    state: &AppState,
    f: &Filter,
    after: Option<&str>,
    limit: i64,
    extra: &str,
) -> Result<Vec<AnyRow>, ApiError> {
    let (clause, binds) = where_clause(f, after)?;
    let sql = format!("SELECT {SUMMARY}{extra} FROM leads {clause} ORDER BY id LIMIT {limit}");
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
        };
    }
    Ok(q.fetch_all(state.store.pool()).await.map_err(crate::store::StoreError::from)?)
}

/// `GET /v1/admin/leads?status=&notice=&purpose=&since=&until=&after=&limit=`.
pub(crate) async fn list(State(state): State<AppState>, Query(f): Query<Filter>) -> Result<Response, ApiError> {
    let limit = f.limit.unwrap_or(100).clamp(1, 1000);
    let rows = page(&state, &f, f.after.as_deref(), limit + 1, "").await?;
    let more = rows.len() as i64 > limit;
    let leads =
        rows.iter().take(limit as usize).map(summary).collect::<Result<Vec<_>, _>>().map_err(ApiError::internal)?;
    let next = if more { leads.last().and_then(|l| l["lead_id"].as_str()).map(str::to_string) } else { None };
    Ok(Json(serde_json::json!({"leads": leads, "next": next})).into_response())
}

/// `GET /v1/admin/leads/{id}`: the lead, its receipts and its events.
pub(crate) async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = ident(&id, "lead id")?;
    let row = sqlx::query(&format!("SELECT {SUMMARY}, receipt, seal, fields, origin FROM leads WHERE id = $1"))
        .bind(&id)
        .fetch_optional(state.store.pool())
        .await
        .map_err(crate::store::StoreError::from)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not-found", "no lead has this id"))?;
    let mut lead = summary(&row).map_err(ApiError::internal)?;
    lead["receipt"] = row.try_get::<Option<String>, _>("receipt").map_err(ApiError::internal)?.into();
    lead["seal"] = row.try_get::<String, _>("seal").map_err(ApiError::internal)?.into();
    lead["origin"] = row.try_get::<String, _>("origin").map_err(ApiError::internal)?.into();
    lead["fields"] =
        serde_json::from_str(&row.try_get::<String, _>("fields").map_err(ApiError::internal)?).unwrap_or_default();
    lead["events"] = serde_json::to_value(state.store.lead_events(&id).await?).unwrap_or_default();
    Ok(Json(lead).into_response())
}

/// `GET /v1/admin/leads/{id}/proof`: the proof bundle.
pub(crate) async fn proof(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = ident(&id, "lead id")?;
    match crate::proofs::bundle(&state, &id).await? {
        Some(b) => Ok(Json(b).into_response()),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not-found", "no lead has this id, or its data was purged")),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PermissionQuery {
    email: String,
    purpose: String,
    channel: Option<Channel>,
}

/// `GET /v1/admin/permissions?email=&purpose=&channel=email`: may we contact this person
/// for this purpose on this channel now, on which basis, with which receipt.
pub(crate) async fn permissions(
    State(state): State<AppState>,
    Query(q): Query<PermissionQuery>,
) -> Result<Response, ApiError> {
    let email = Email::parse(&q.email).map_err(|e| ApiError::malformed(e.to_string()))?;
    let purpose = ident(&q.purpose, "purpose")?;
    let channel = q.channel.unwrap_or(Channel::Email);
    let hash = contact_hash(&state, &email);
    let withdrawn: Option<i64> = sqlx::query_scalar(
        "SELECT created_at FROM suppressions WHERE contact_hash = $1 AND purpose = $2 AND lifted_at IS NULL",
    )
    .bind(&hash)
    .bind(&purpose)
    .fetch_optional(state.store.pool())
    .await
    .map_err(crate::store::StoreError::from)?;
    let rows = sqlx::query(
        "SELECT id, jti, status, notice_id, notice_digest, granted, created_at FROM leads \
         WHERE contact_hash = $1 AND status = 'active' AND granted LIKE $2 ORDER BY created_at DESC",
    )
    .bind(&hash)
    .bind(format!("%\"{purpose}\"%"))
    .fetch_all(state.store.pool())
    .await
    .map_err(crate::store::StoreError::from)?;
    for r in &rows {
        let digest: String = r.try_get("notice_digest").map_err(ApiError::internal)?;
        let Some(notice) = state.notices.by_digest(&digest) else { continue };
        let Some(p) = notice.purpose(&purpose) else { continue };
        if !p.channels.contains(&channel) {
            continue;
        }
        return Ok(Json(serde_json::json!({
            "allowed": withdrawn.is_none(),
            "reason": if withdrawn.is_some() { "withdrawn" } else { "consent" },
            "basis": p.legal_basis,
            "lead_id": r.try_get::<String, _>("id").map_err(ApiError::internal)?,
            "receipt_jti": r.try_get::<String, _>("jti").map_err(ApiError::internal)?,
            "notice": {"id": notice.id, "version": notice.version, "digest": digest},
            "since": rfc3339(r.try_get("created_at").map_err(ApiError::internal)?),
        }))
        .into_response());
    }
    Ok(Json(serde_json::json!({
        "allowed": false,
        "reason": if withdrawn.is_some() { "withdrawn" } else { "no active consent for this purpose and channel" },
    }))
    .into_response())
}

/// One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (an e-mail
/// address may begin with `=`, `+`, `-` or `@`) gets a leading apostrophe, as OWASP advises;
/// phone numbers (`+` and digits) are left alone.
fn csv_field(s: &str) -> String {
    let phone = s.strip_prefix('+').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !phone { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn csv_line(v: &serde_json::Value) -> String {
    let text = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let granted: Vec<&str> =
        v["granted"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default();
    [
        text("lead_id"),
        text("status"),
        v["notice"]["id"].as_str().unwrap_or("").to_string(),
        v["notice"]["version"].to_string(),
        v["notice"]["lang"].as_str().unwrap_or("").to_string(),
        text("email"),
        text("phone"),
        granted.join(";"),
        v["minor"].to_string(),
        text("created_at"),
        text("last_contact_at"),
        text("receipt_jti"),
    ]
    .iter()
    .map(|f| csv_field(f))
    .collect::<Vec<_>>()
    .join(",")
        + "\r\n"
}

/// `GET /v1/admin/export?format=jsonl|csv&…filters`: every matching lead, streamed page by
/// page (never the whole set in memory).
pub(crate) async fn export(State(state): State<AppState>, Query(f): Query<Filter>) -> Result<Response, ApiError> {
    let csv = match f.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::malformed("format must be jsonl or csv")),
    };
    // Reject a bad filter now, as a 400, rather than mid-stream.
    where_clause(&f, None)?;
    let header_line = if csv {
        "lead_id,status,notice,version,lang,email,phone,granted,minor,created_at,last_contact_at,receipt_jti\r\n"
            .to_string()
    } else {
        String::new()
    };
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(header_line) });
    let pages = futures_util::stream::try_unfold(
        (state, f, None::<String>, false),
        move |(state, f, after, done)| async move {
            if done {
                return Ok(None);
            }
            let rows = page(&state, &f, after.as_deref(), 500, ", receipt, seal")
                .await
                .map_err(|e| std::io::Error::other(format!("export stopped: {}", e.code())))?;
            let mut chunk = String::new();
            let mut last = None;
            for r in &rows {
                let mut v = summary(r).map_err(std::io::Error::other)?;
                if csv {
                    chunk.push_str(&csv_line(&v));
                } else {
                    v["receipt"] = r.try_get::<Option<String>, _>("receipt").map_err(std::io::Error::other)?.into();
                    v["seal"] = r.try_get::<String, _>("seal").map_err(std::io::Error::other)?.into();
                    chunk.push_str(&v.to_string());
                    chunk.push('\n');
                }
                last = v["lead_id"].as_str().map(str::to_string);
            }
            let finished = rows.len() < 500;
            Ok(Some((chunk, (state, f, last.or(after), finished))))
        },
    );
    let body = Body::from_stream(futures_util::StreamExt::chain(first, pages));
    let ctype = if csv { "text/csv; charset=utf-8" } else { "application/x-ndjson" };
    Ok(([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "no-store")], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_as_formulas_are_defused() {
        assert_eq!(csv_field("=HYPERLINK(\"http://x\")@example.org"), "\"'=HYPERLINK(\"\"http://x\"\")@example.org\"");
        assert_eq!(csv_field("+cmd@example.org"), "'+cmd@example.org");
        assert_eq!(csv_field("-2+3@example.org"), "'-2+3@example.org");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("+33612345678"), "+33612345678");
        assert_eq!(csv_field("ada@example.org"), "ada@example.org");
    }

    #[test]
    fn filters_refuse_anything_but_identifiers() {
        let f = Filter { status: Some("active' OR 1=1 --".into()), ..Filter::default() };
        assert!(where_clause(&f, None).is_err());
        let ok =
            Filter { status: Some("active".into()), purpose: Some("newsletter-email".into()), ..Filter::default() };
        let (sql, binds) = where_clause(&ok, Some("01a2")).unwrap();
        assert_eq!(sql, "WHERE status = $1 AND granted LIKE $2 AND id > $3");
        assert_eq!(binds.len(), 3);
    }
}
