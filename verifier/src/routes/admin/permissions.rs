//! `GET /v1/admin/permissions?email=&purpose=&channel=email`: may we contact this person
//! for this purpose on this channel now, on which basis, with which receipt.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use consent_receipt::{Channel, Email};
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::consent::permissions::may_contact;
use crate::domain::Ident;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct PermissionQuery {
    email: String,
    purpose: String,
    channel: Option<Channel>,
}

pub(crate) async fn permissions(
    State(state): State<AppState>,
    Query(q): Query<PermissionQuery>,
) -> Result<Response, ApiError> {
    let email = Email::parse(&q.email).map_err(|e| ApiError::malformed(e.to_string()))?;
    let purpose = Ident::parse(&q.purpose, "purpose").map_err(|e| ApiError::malformed(e.to_string()))?;
    let p = may_contact(&state, &email, &purpose, q.channel.unwrap_or(Channel::Email)).await?;
    let body = match p.grant {
        Some(g) => serde_json::json!({
            "allowed": p.allowed,
            "reason": p.reason,
            "basis": g.basis,
            "lead_id": g.lead_id,
            "receipt_jti": g.receipt_jti,
            "notice": {"id": g.notice.0, "version": g.notice.1, "digest": g.notice.2},
            "since": rfc3339(g.since),
        }),
        None => serde_json::json!({"allowed": p.allowed, "reason": p.reason}),
    };
    Ok(Json(body).into_response())
}
