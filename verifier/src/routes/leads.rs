//! `POST /v1/leads`: verify the receipt (rules 1–10), store the lead, seal it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_receipt::{SealClaims, VerifyError, b64};
use serde::Deserialize;

use super::{json_body, request_origin};
use crate::intake::{Checked, check_receipt};
use crate::keys::lead_id;
use crate::lifecycle::{confirmation_mail, contact_hash, guardian_mail, new_token};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::{AcceptOutcome, NewLead, status};

/// Most extra form fields, and their sizes.
const MAX_FIELDS: usize = 32;
const MAX_FIELD_NAME: usize = 64;
const MAX_FIELD_VALUE: usize = 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadRequest {
    receipt: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

/// Status of a newly accepted lead.
pub(crate) fn initial_status(checked: &Checked) -> &'static str {
    let c = checked.receipt.claims();
    if c.granted().next().is_none() {
        // Nothing to confirm or approve: the refusal itself is the record.
        status::REFUSED
    } else if c.age.minor {
        status::AWAITING_GUARDIAN
    } else if checked.notice.double_opt_in {
        status::PENDING_CONFIRMATION
    } else {
        status::ACTIVE
    }
}

#[tracing::instrument(skip_all)]
pub(crate) async fn post_lead(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: LeadRequest = json_body(&headers, body).await?;
    if req.fields.len() > MAX_FIELDS
        || req.fields.iter().any(|(k, v)| k.is_empty() || k.len() > MAX_FIELD_NAME || v.len() > MAX_FIELD_VALUE)
    {
        return Err(ApiError::malformed("fields: at most 32, names of 1-64 bytes, values of at most 1 KiB"));
    }
    let checked = check_receipt(&state, &req.receipt, request_origin(&headers))?;
    let c = checked.receipt.claims();
    if c.guardian_for.is_some() {
        return Err(VerifyError::BadPayload("a guardian's receipt goes to POST /v1/guardian-approvals".into()).into());
    }
    let status = initial_status(&checked);
    let now = state.clock.now();
    let lead_id = lead_id(state.clock.now_ms()).map_err(ApiError::internal)?;
    let receipt_sha256 = checked.receipt.sha256();
    let keys = state.keys();
    let seal = SealClaims {
        receipt_sha256: receipt_sha256.clone(),
        jti: c.jti.clone(),
        lead_id: lead_id.clone(),
        status: status.to_string(),
        iat: now,
    }
    .sign(keys.active());
    let granted: Vec<String> = c.granted().map(str::to_string).collect();
    let email = checked.receipt.email();
    // The mails this status needs go to the outbox in the lead's own transaction.
    let (mut tokens, mut mails) = (Vec::new(), Vec::new());
    if status != status::REFUSED {
        let (unsubscribe, row) = new_token("unsubscribe", None)?;
        tokens.push(row);
        match (status, email, checked.receipt.guardian()) {
            (status::PENDING_CONFIRMATION, Some(to), _) => {
                let (mail, row) = confirmation_mail(&state, &checked.notice, to.as_str(), &granted, &unsubscribe, now)?;
                tokens.push(row);
                mails.push(mail);
            }
            (status::AWAITING_GUARDIAN, Some(child), Some(guardian)) => {
                let (mail, row) = guardian_mail(
                    &state,
                    &checked.notice,
                    guardian.as_str(),
                    child.as_str(),
                    &granted,
                    &unsubscribe,
                    now,
                )?;
                tokens.push(row);
                mails.push(mail);
            }
            (status::PENDING_CONFIRMATION | status::AWAITING_GUARDIAN, _, _) => {
                tracing::warn!(
                    "a lead waits for a mail but has no e-mail address to send it to (SMS is not implemented)"
                );
            }
            _ => {}
        }
    }
    let lead = NewLead {
        id: lead_id.clone(),
        jti: c.jti.clone(),
        notice_id: c.notice.id.clone(),
        notice_version: c.notice.version,
        notice_lang: c.notice.lang.clone(),
        notice_digest: c.notice.digest.clone(),
        receipt: req.receipt.clone(),
        receipt_sha256: receipt_sha256.clone(),
        seal: seal.clone(),
        email: checked.receipt.email().map(|e| e.as_str().to_string()),
        phone: checked.receipt.phone().map(|p| p.as_str().to_string()),
        minor: c.age.minor,
        guardian_email: checked.receipt.guardian().map(|g| g.as_str().to_string()),
        granted: granted.clone(),
        fields: serde_json::to_value(&req.fields).unwrap_or_default(),
        origin: c.iss.clone(),
        visitor_key: b64::encode(checked.receipt.key().as_bytes()),
        status: status.to_string(),
        created_at: now,
        signed_at: c.iat,
        contact_hash: email.map(|e| contact_hash(&state, e)),
        tokens,
        mails,
        events: vec![(
            "accepted".to_string(),
            serde_json::json!({
                "receipt_sha256": receipt_sha256,
                "jti": c.jti,
                "notice_digest": c.notice.digest,
                "granted": granted,
                "status": status,
                "seal_kid": keys.active_kid(),
            }),
        )],
    };
    let queued_mail = !lead.mails.is_empty();
    match state.writer.accept(lead).await? {
        AcceptOutcome::Accepted => {
            if queued_mail {
                state.mail_wake.notify_one();
            }
            tracing::info!(lead = %lead_id, status, "lead accepted");
            Ok((StatusCode::CREATED, Json(serde_json::json!({"lead_id": lead_id, "status": status, "seal": seal})))
                .into_response())
        }
        AcceptOutcome::Replay => Err(VerifyError::Replay.into()),
        AcceptOutcome::Suppressed => Err(ApiError::new(
            StatusCode::CONFLICT,
            "suppressed",
            "this contact withdrew this consent after the receipt was signed; a new consent is needed",
        )),
    }
}
