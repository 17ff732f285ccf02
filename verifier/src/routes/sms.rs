//! `POST /v1/sms/confirmations`: the 6-digit code of the SMS, typed on the site;
//! `POST /v1/sms/inbound`: an SMS received by an HTTP gateway (STOP, OUI), signed with
//! HMAC-SHA256 under `--sms-inbound-secret`. (`/c/{token}`, the SMS's short link, is the
//! confirmation page under a shorter path.)

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_receipt::b64;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::json_body;
use crate::config::BODY_LIMIT;
use crate::consent::sms::{self, InboundOutcome};
use crate::error::{ApiError, Code};
use crate::sms::Inbound;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeRequest {
    lead_id: String,
    code: String,
}

#[tracing::instrument(skip_all)]
pub(crate) async fn confirm_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: CodeRequest = json_body(&headers, body).await?;
    if req.lead_id.len() > 64 || req.code.len() != 6 || !req.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::malformed("code must be the 6 digits of the SMS, lead_id the lead's id"));
    }
    let done = sms::confirm_by_code(&state, &req.lead_id, &req.code).await?;
    Ok(Json(serde_json::json!({"lead_id": done.lead_id, "status": done.status})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboundRequest {
    from: String,
    text: String,
}

/// How far the timestamp of a signed inbound message may be from the verifier's clock.
const INBOUND_SKEW_SECS: i64 = 300;

fn signed(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let refuse = |why: &str| ApiError::new(Code::BadInboundSignature, why);
    let Some(secret) = &state.config.sms.inbound_secret else {
        return Err(ApiError::not_found("inbound SMS over HTTP are off: set --sms-inbound-secret"));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ts = header("x-consent-timestamp").ok_or_else(|| refuse("X-Consent-Timestamp is missing"))?;
    let sig = header("x-consent-signature").ok_or_else(|| refuse("X-Consent-Signature is missing"))?;
    let at: i64 = ts.parse().map_err(|_| refuse("X-Consent-Timestamp must be Unix seconds"))?;
    if (at - state.clock.now()).abs() > INBOUND_SKEW_SECS {
        return Err(refuse("X-Consent-Timestamp is more than 5 minutes from the verifier's clock"));
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let given = b64::decode(sig).map_err(|_| refuse("X-Consent-Signature must be base64url"))?;
    // Constant-time comparison.
    mac.verify_slice(&given).map_err(|_| refuse("the signature does not match the body"))
}

#[tracing::instrument(skip_all)]
pub(crate) async fn inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let bytes: Bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(Code::BodyTooLarge, "a request body may be at most 64 KiB"))?;
    signed(&state, &headers, &bytes)?;
    let req: InboundRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::malformed(format!("expected {{\"from\", \"text\"}}: {e}")))?;
    let outcome = sms::inbound(&state, &Inbound { from: req.from, text: req.text }).await?;
    let (action, leads) = match outcome {
        InboundOutcome::Stopped(n) => ("withdrawn", n),
        InboundOutcome::Confirmed(n) => ("confirmed", n),
        InboundOutcome::Ignored => ("ignored", 0),
    };
    Ok((StatusCode::OK, Json(serde_json::json!({"action": action, "leads": leads}))).into_response())
}
