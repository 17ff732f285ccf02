//! Joint consent for a minor. The parent's mail links to `GET /guardian/{token}`: the
//! full notice and the widget in guardian mode, where the parent signs their own receipt
//! naming the child's. `POST /v1/guardian-approvals` checks it by the same rules as any
//! receipt, then lets the child's lead go on (or ends it if the parent refused).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_receipt::{Email, SealClaims, VerifyError};
use serde::Deserialize;

use super::lifepages::{Lang, link_page, notice_for, purposes_list};
use super::{esc, json_body, request_origin};
use crate::intake::check_receipt;
use crate::lifecycle::{confirmation_mail, new_token, token_hash};
use crate::mail::templates::mask_email;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::{GuardianDecision, LifeOp, LifeOutcome, status};

fn unknown(l: Lang) -> Response {
    link_page(
        StatusCode::NOT_FOUND,
        l,
        l.t("Lien inconnu", "Unknown link"),
        &format!("<p>{}</p>", l.t("Ce lien n'est pas (ou plus) valable.", "This link is not (or no longer) valid.")),
    )
}

#[tracing::instrument(skip_all)]
pub(crate) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let Some(t) = state.store.token_lead(&token_hash(&token)).await?.filter(|t| t.purpose == "guardian") else {
        return Ok(unknown(Lang::En));
    };
    let l = Lang::of(&t.notice_lang);
    if t.used_at.is_some() || t.status != status::AWAITING_GUARDIAN {
        let body =
            format!("<p>{}</p>", l.t("Votre réponse a déjà été enregistrée.", "Your answer was already recorded."));
        return Ok(link_page(StatusCode::OK, l, l.t("Déjà répondu", "Already answered"), &body));
    }
    if t.expires_at.is_some_and(|e| e < state.clock.now()) {
        let body = format!(
            "<p>{}</p>",
            l.t(
                "Ce lien a expiré : rien ne sera envoyé à votre enfant.",
                "This link has expired: nothing will be sent to your child."
            )
        );
        return Ok(link_page(StatusCode::GONE, l, l.t("Lien expiré", "Link expired"), &body));
    }
    let notice = notice_for(&state, &t.notice_digest);
    let child = t.email.as_deref().map(mask_email).unwrap_or_default();
    let guardian = t.guardian_email.clone().unwrap_or_default();
    let body = format!(
        "<p>{intro}</p>{list}<p>{read} <a href=\"/notices/{id}?lang={lang}\">{full}</a>.</p>\
         <form id=\"signup\" class=\"signup\" method=\"post\" action=\"/guardian/{token}\">\
         <label class=\"field\" for=\"email\">{your}</label>\
         <input type=\"email\" id=\"email\" name=\"email\" value=\"{guardian}\" readonly>\
         <div class=\"consent-widget\" data-notice=\"{id}\" data-lang=\"{lang}\" data-mode=\"guardian\" \
         data-guardian-token=\"{token}\" data-guardian-for=\"{jti}\" data-child=\"{child}\" data-granted=\"{granted}\"></div>\
         <button type=\"submit\">{send}</button></form>\
         <script src=\"/widget/widget.js\" async></script>",
        intro = esc(&format!(
            "{} {child} {}",
            l.t(
                "Une personne de moins de l'âge légal, avec l'adresse",
                "Someone under the age of digital consent, with the address"
            ),
            l.t("a demandé :", "asked for:")
        )),
        list = purposes_list(notice.as_deref(), &t.granted),
        read = l.t("Lisez l'information complète", "Read the full information"),
        full = l.t("ici", "here"),
        id = esc(&t.notice_id),
        lang = esc(&t.notice_lang),
        token = esc(&token),
        your = l.t("Votre adresse e-mail", "Your e-mail address"),
        guardian = esc(&guardian),
        jti = esc(&t.jti),
        child = esc(&child),
        granted = esc(&t.granted.join(",")),
        send = l.t("Envoyer ma réponse", "Send my answer"),
    );
    Ok(link_page(StatusCode::OK, l, l.t("Votre accord de parent", "Your agreement as a parent"), &body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApprovalRequest {
    receipt: String,
    token: String,
}

fn mismatch(why: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "guardian-mismatch", why)
}

#[tracing::instrument(skip_all)]
pub(crate) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let req: ApprovalRequest = json_body(&headers, body).await?;
    let checked = check_receipt(&state, &req.receipt, request_origin(&headers))?;
    let c = checked.receipt.claims();
    let for_jti = c.guardian_for.as_ref().ok_or_else(|| {
        VerifyError::BadPayload("a guardian's receipt names the child's receipt in guardian_for".into())
    })?;
    let hash = token_hash(&req.token);
    let t = state
        .store
        .token_lead(&hash)
        .await?
        .filter(|t| t.purpose == "guardian")
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "token-unknown", "this guardian link is not valid"))?;
    if t.jti != for_jti.jti || t.notice_id != c.notice.id {
        return Err(mismatch("the receipt does not name the child's receipt this link is for"));
    }
    let asked = t.guardian_email.as_deref().and_then(|g| Email::parse(g).ok());
    let signer = checked.receipt.email();
    if asked.zip(signer).is_none_or(|(a, s)| a.normalized() != s.normalized()) {
        return Err(mismatch("the receipt must be signed with the address the request was sent to"));
    }
    // The parent agrees to what the child asked for, all of it, or the answer is a refusal.
    let approved = !t.granted.is_empty() && t.granted.iter().all(|p| c.granted().any(|g| g == p));
    let notice = notice_for(&state, &t.notice_digest)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("lost notice version")))?;
    let now = state.clock.now();
    let next = if notice.double_opt_in { status::PENDING_CONFIRMATION } else { status::ACTIVE };
    let (mut mails, mut tokens) = (Vec::new(), Vec::new());
    if approved && next == status::PENDING_CONFIRMATION {
        if let Some(child) = &t.email {
            let (unsubscribe, row) = new_token("unsubscribe", None)?;
            let (mail, confirm) = confirmation_mail(&state, &notice, child, &t.granted, &unsubscribe, now)?;
            tokens.extend([row, confirm]);
            mails.push(mail);
        }
    }
    let final_status = if approved { next } else { status::REFUSED_BY_GUARDIAN };
    let keys = state.keys();
    let receipt_sha256 = checked.receipt.sha256();
    let seal = SealClaims {
        receipt_sha256: receipt_sha256.clone(),
        jti: c.jti.clone(),
        lead_id: t.lead_id.clone(),
        status: final_status.to_string(),
        iat: now,
    }
    .sign(keys.active());
    let queued = !mails.is_empty();
    let decision = GuardianDecision {
        token_hash: hash,
        jti: c.jti.clone(),
        receipt: req.receipt.clone(),
        receipt_sha256,
        seal: seal.clone(),
        approved,
        next_status: next,
        mails,
        tokens,
    };
    match state.writer.life(LifeOp::Guardian(Box::new(decision)), now).await? {
        LifeOutcome::Done { lead_id, status } => {
            if queued {
                state.mail_wake.notify_one();
            }
            tracing::info!(lead = %lead_id, status = %status, "guardian answered");
            Ok((StatusCode::CREATED, Json(serde_json::json!({"lead_id": lead_id, "status": status, "seal": seal})))
                .into_response())
        }
        LifeOutcome::Replay => Err(VerifyError::Replay.into()),
        LifeOutcome::TokenUsed { .. } => {
            Err(ApiError::new(StatusCode::CONFLICT, "token-used", "this guardian link was already used"))
        }
        LifeOutcome::TokenExpired { .. } => {
            Err(ApiError::new(StatusCode::GONE, "token-expired", "this guardian link has expired"))
        }
        LifeOutcome::WrongState { status, .. } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong-state",
            format!("the lead is {status}, not awaiting a guardian"),
        )),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "token-unknown", "this guardian link is not valid")),
    }
}
