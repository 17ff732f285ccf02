//! `GET /v1/admin/permissions?email=|phone=&purpose=&channel=email|sms&topic=`: may we
//! contact this person for this purpose on this channel now (on a B2B purpose, about this
//! topic), on which basis, with which receipt; for SMS, whether now is outside the quiet
//! hours and when the next window opens; for an e-mail address, whether it is a company's
//! role address.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use consent_receipt::{Channel, Email, LegalBasis, PhoneE164};
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::consent::permissions::{Who, may_contact};
use crate::domain::{Ident, Phone};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct PermissionQuery {
    email: Option<String>,
    phone: Option<String>,
    purpose: String,
    channel: Option<Channel>,
    topic: Option<String>,
}

pub(crate) async fn permissions(
    State(state): State<AppState>,
    Query(q): Query<PermissionQuery>,
) -> Result<Response, ApiError> {
    let bad = |e: &dyn std::fmt::Display| ApiError::malformed(e.to_string());
    let purpose = Ident::parse(&q.purpose, "purpose").map_err(|e| bad(&e))?;
    let (email, phone) = match (q.email.as_deref(), q.phone.as_deref()) {
        (Some(e), None) => (Some(Email::parse(e).map_err(|e| bad(&e))?), None),
        (None, Some(p)) => {
            let e164 = PhoneE164::parse(p).map_err(|e| bad(&e))?;
            (None, Some(Phone::check(&e164, false).map_err(|e| bad(&e))?))
        }
        _ => return Err(ApiError::malformed("give exactly one of email and phone (E.164, e.g. phone=%2B33612345678)")),
    };
    let who = match (&email, &phone) {
        (Some(e), _) => Who::Email(e),
        (_, Some(p)) => Who::Phone(p),
        _ => return Err(ApiError::malformed("give exactly one of email and phone")),
    };
    let channel = q.channel.unwrap_or(if phone.is_some() { Channel::Sms } else { Channel::Email });
    let topic = q.topic.as_deref().map(|t| Ident::parse(t, "topic")).transpose().map_err(|e| bad(&e))?;
    let p = may_contact(&state, who, &purpose, channel, topic.as_ref()).await?;
    let mut body = match p.grant {
        Some(g) => {
            let mut body = serde_json::json!({
                "allowed": p.allowed,
                "reason": p.reason,
                "basis": g.basis,
                "lead_id": g.lead_id,
                "receipt_jti": g.receipt_jti,
                "notice": {"id": g.notice.0, "version": g.notice.1, "digest": g.notice.2},
                "since": rfc3339(g.since),
            });
            if g.basis == LegalBasis::B2b {
                body["topics"] = g.topics.into();
                body["job_function"] = g.job_function.into();
            }
            body
        }
        None => serde_json::json!({"allowed": p.allowed, "reason": p.reason}),
    };
    if let Some(company) = p.company_address {
        body["company_address"] = company.into();
    }
    if let (true, Some(w)) = (p.allowed, p.quiet) {
        body["send_now"] = w.send_now.into();
        body["next_send_at"] = rfc3339(w.next_send_at).into();
    }
    Ok(Json(body).into_response())
}
