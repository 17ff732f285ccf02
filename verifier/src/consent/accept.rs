//! A new lead: after rules 1–9, its first status, its seal, and the message it needs,
//! all stored in one commit (rule 10 and the suppression list are checked there).

use std::collections::BTreeMap;

use consent_receipt::{SealClaims, VerifyError, b64};

use super::messages::Outgoing;
use super::objections::{self, Recorded};
use super::tokens::{contact_hash, phone_hash};
use super::verify::{Checked, check_receipt};
use crate::domain::{EventKind, LeadStatus};
use crate::error::{ApiError, Code};
use crate::keys::lead_id;
use crate::stages::{self, Stage};
use crate::state::AppState;
use crate::store::{AcceptOutcome, NewLead};

/// A lead accepted: what `POST /v1/leads` answers.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The new lead's id.
    pub lead_id: String,
    /// Its first status.
    pub status: LeadStatus,
    /// The verifier's seal on the receipt.
    pub seal: String,
}

/// The first status of a lead whose receipt passed.
pub fn initial_status(checked: &Checked) -> LeadStatus {
    let c = checked.receipt.claims();
    if c.granted().next().is_none() {
        // Nothing to confirm or approve: the refusal itself is the record.
        LeadStatus::Refused
    } else if c.age.minor && c.consented().next().is_some() {
        // A parent joins a child's consent; an objection offered instead needs nobody.
        LeadStatus::AwaitingGuardian
    } else if checked.notice.double_opt_in {
        LeadStatus::PendingConfirmation
    } else {
        LeadStatus::Active
    }
}

/// What the `accepted` event says. A receipt with an objection box ticked adds the
/// purposes objected and the objections recorded for them; others keep the first shape.
fn accepted_event(
    checked: &Checked,
    receipt_sha256: &str,
    granted: &[String],
    status: LeadStatus,
    objections: &[Recorded],
    seal_kid: &str,
) -> serde_json::Value {
    let c = checked.receipt.claims();
    let mut data = serde_json::json!({
        "receipt_sha256": receipt_sha256,
        "jti": c.jti,
        "notice_digest": c.notice.digest,
        "granted": granted,
        "status": status,
        "seal_kid": seal_kid,
    });
    let objected: Vec<&str> = c.objected().collect();
    if !objected.is_empty() {
        data["objected"] = objected.into();
        data["objection_ids"] = objections.iter().map(|o| o.id.as_str()).collect::<Vec<_>>().into();
    }
    data
}

/// The messages a new lead needs (its double opt-in, or the request to its guardian), and
/// their tokens, composed into `out`.
fn compose(
    checked: &Checked,
    lead_id: &str,
    status: LeadStatus,
    granted: &[String],
    out: &mut Outgoing<'_>,
    now: i64,
) -> Result<(), ApiError> {
    if status == LeadStatus::Refused {
        return Ok(());
    }
    let email = checked.receipt.email();
    let phone = checked.phone.as_ref().map(|p| p.as_str());
    let unsubscribe = out.unsubscribe_token()?;
    match (status, email, checked.receipt.guardian()) {
        (LeadStatus::PendingConfirmation, _, _) => {
            // Rule 8 saw to it that each granted channel has its address.
            out.confirmations(lead_id, granted, (email.map(|e| e.as_str()), phone), &unsubscribe, now)?;
        }
        (LeadStatus::AwaitingGuardian, Some(child), Some(guardian)) => {
            out.guardian_request(guardian.as_str(), child.as_str(), granted, &unsubscribe, now)?;
        }
        (LeadStatus::AwaitingGuardian, _, _) => {
            tracing::warn!("a minor's lead without an e-mail address cannot name itself to the guardian");
        }
        _ => {}
    }
    Ok(())
}

/// Checks a receipt and stores its lead; `origin` is the request's `Origin` header.
pub async fn accept(
    state: &AppState,
    receipt: &str,
    fields: BTreeMap<String, String>,
    origin: Option<&str>,
) -> Result<Accepted, ApiError> {
    let checked = stages::time(Stage::Decide, || check_receipt(state, receipt, origin))?;
    let c = checked.receipt.claims();
    if c.guardian_for.is_some() {
        return Err(VerifyError::BadPayload("a guardian's receipt goes to POST /v1/guardian-approvals".into()).into());
    }
    // Objection boxes ticked are objections, recorded before the lead: a request retried
    // after a failure records them again (the same ones), and one that is a replay has
    // recorded them the first time.
    let objections = objections::at_collection(state, &checked).await?;
    let status = initial_status(&checked);
    let now = state.clock.now();
    let lead_id = lead_id(state.clock.now_ms()).map_err(ApiError::internal)?;
    let receipt_sha256 = checked.receipt.sha256();
    let keys = state.keys();
    let seal = stages::time(Stage::Seal, || {
        SealClaims {
            receipt_sha256: receipt_sha256.clone(),
            jti: c.jti.clone(),
            lead_id: lead_id.clone(),
            status: status.as_str().to_string(),
            iat: now,
        }
        .sign(keys.active())
    });
    let granted: Vec<String> = c.granted().map(str::to_string).collect();
    let email = checked.receipt.email();
    let phone = checked.phone.as_ref().map(|p| p.as_str());
    let mut out = Outgoing::new(state, &checked.notice);
    stages::time(Stage::Compose, || compose(&checked, &lead_id, status, &granted, &mut out, now))?;
    let Outgoing { mails, tokens, .. } = out;
    let queued_mail = !mails.is_empty();
    let lead = stages::time(Stage::Decide, || NewLead {
        id: lead_id.clone(),
        jti: c.jti.clone(),
        notice_id: c.notice.id.clone(),
        notice_version: c.notice.version,
        notice_lang: c.notice.lang.clone(),
        notice_digest: c.notice.digest.clone(),
        receipt: receipt.to_string(),
        receipt_sha256: receipt_sha256.clone(),
        seal: seal.clone(),
        email: email.map(|e| e.as_str().to_string()),
        phone: phone.map(str::to_string),
        minor: c.age.minor,
        guardian_email: checked.receipt.guardian().map(|g| g.as_str().to_string()),
        granted: granted.clone(),
        consented: c.consented().map(str::to_string).collect(),
        fields: serde_json::to_value(&fields).unwrap_or_default(),
        origin: c.iss.clone(),
        visitor_key: b64::encode(checked.receipt.key().as_bytes()),
        status,
        created_at: now,
        signed_at: c.iat,
        contact_hash: email.map(|e| contact_hash(state, e)),
        phone_hash: phone.map(|p| phone_hash(state, p)),
        tokens,
        mails,
        events: vec![(
            EventKind::Accepted,
            accepted_event(&checked, &receipt_sha256, &granted, status, &objections, keys.active_kid()),
        )],
    });
    match state.writer.accept(lead).await? {
        AcceptOutcome::Accepted => {
            if queued_mail {
                state.wake_senders();
            }
            tracing::info!(lead = %lead_id, %status, "lead accepted");
            Ok(Accepted { lead_id, status, seal })
        }
        AcceptOutcome::Replay => Err(VerifyError::Replay.into()),
        AcceptOutcome::Suppressed => Err(ApiError::new(
            Code::Suppressed,
            "this contact withdrew this consent after the receipt was signed; a new consent is needed",
        )),
    }
}
