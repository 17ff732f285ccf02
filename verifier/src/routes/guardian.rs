//! `GET /guardian/{token}`: the parent's page (the full notice, the widget in guardian
//! mode). `POST /v1/guardian-approvals`: the parent's own receipt.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::render::{self, Step, link_page, refusal};
use super::{json_body, request_origin};
use crate::consent::{Answer, Link, guardian};
use crate::error::ApiError;
use crate::i18n::{fill, messages};
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub(crate) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let Answer { lang, link } = guardian::show(&state, &token).await?;
    let p = match link {
        Link::Ok(p) => p,
        other => return refusal(&lang, &other, Step::Guardian),
    };
    let t = messages(&lang);
    link_page(
        StatusCode::OK,
        &render::GuardianPage {
            t,
            lang: &lang,
            title: t.guardian_title,
            intro: fill(t.guardian_intro, &[("child", &p.child)]),
            labels: p.granted.iter().map(|(_, label)| label.as_str()).collect(),
            notice_id: &p.notice_id,
            token: &token,
            jti: &p.jti,
            child: &p.child,
            guardian: &p.guardian,
            granted: p.granted.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(","),
        },
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApprovalRequest {
    receipt: String,
    token: String,
}

#[tracing::instrument(skip_all)]
pub(crate) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: ApprovalRequest = json_body(&headers, body).await?;
    let done = guardian::approve(&state, &req.receipt, &req.token, request_origin(&headers)).await?;
    let body = serde_json::json!({"lead_id": done.lead_id, "status": done.status, "seal": done.seal});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
