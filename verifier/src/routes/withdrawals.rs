//! `POST /v1/withdrawals`: withdrawal signed with the visitor's own key, from the browser
//! that gave the consent ("manage my consent" in the widget). No account, no login: the
//! key that signed the receipt is the proof.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_receipt::{VerifyError, b64, verify_withdrawal};
use serde::Deserialize;

use super::json_body;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::{LeadRef, LifeOp, LifeOutcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WithdrawalRequest {
    withdrawal: String,
}

#[tracing::instrument(skip_all)]
pub(crate) async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: WithdrawalRequest = json_body(&headers, body).await?;
    let v = verify_withdrawal(&req.withdrawal)?;
    let c = &v.claims;
    if c.aud.trim_end_matches('/') != state.config.public_url {
        return Err(VerifyError::WrongAudience("the withdrawal was made for another verifier".into()).into());
    }
    let now = state.clock.now();
    let skew = state.config.clock_skew.as_secs() as i64;
    if (c.iat - now).abs() > skew {
        return Err(VerifyError::ClockSkew("iat is too far from the verifier's clock".into()).into());
    }
    let (lead_id, visitor_key) = state.store.lead_by_jti(&c.receipt_jti).await?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "no consent was recorded with this receipt")
    })?;
    if visitor_key != b64::encode(v.key.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not-your-receipt",
            "the withdrawal must be signed by the key that signed the receipt",
        ));
    }
    let op = LifeOp::Withdraw {
        lead: LeadRef::Lead(lead_id),
        purposes: c.purposes.clone(),
        source: "signed",
        signed_jti: Some(c.jti.clone()),
    };
    match state.writer.life(op, now).await? {
        LifeOutcome::Done { lead_id, status } => {
            Ok((StatusCode::OK, Json(serde_json::json!({"lead_id": lead_id, "status": status}))).into_response())
        }
        LifeOutcome::Replay => Err(VerifyError::Replay.into()),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "not-found", "no consent was recorded with this receipt")),
    }
}
