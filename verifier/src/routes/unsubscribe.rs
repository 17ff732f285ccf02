//! Withdrawal, as easy as consent: `GET /unsubscribe/{token}` shows one button (and one
//! per purpose) and changes nothing; `POST /unsubscribe/{token}` withdraws; RFC 8058
//! one-click `POST /v1/unsubscribe/{token}` with `List-Unsubscribe=One-Click` withdraws
//! everything at once, with no cookie and no page.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};

use super::esc;
use super::lifepages::{Lang, link_page, notice_for};
use crate::lifecycle::token_hash;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::{LeadRef, LifeOp, LifeOutcome};

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
    let Some(t) = state.store.token_lead(&token_hash(&token)).await?.filter(|t| t.purpose == "unsubscribe") else {
        return Ok(unknown(Lang::En));
    };
    let l = Lang::of(&t.notice_lang);
    if t.granted.is_empty() {
        let body = format!(
            "<p>{}</p>",
            l.t(
                "Vous ne recevez plus rien de notre part pour ce consentement.",
                "You receive nothing from us under this consent any more."
            )
        );
        return Ok(link_page(StatusCode::OK, l, l.t("Déjà désinscrit", "Already unsubscribed"), &body));
    }
    let notice = notice_for(&state, &t.notice_digest);
    let action = format!("/unsubscribe/{}", esc(&token));
    let mut body = format!(
        "<p>{}</p><form method=\"post\" action=\"{action}\"><button type=\"submit\">{}</button></form>",
        l.t("Un clic suffit, sans compte ni mot de passe.", "One click is enough, no account or password."),
        l.t("Tout retirer", "Withdraw everything"),
    );
    if t.granted.len() > 1 {
        body.push_str(&format!("<p>{}</p><ul>", l.t("Ou seulement :", "Or only:")));
        for id in &t.granted {
            let label = notice.as_deref().and_then(|n| n.purpose(id)).map_or(id.clone(), |p| p.label.clone());
            body.push_str(&format!(
                "<li><form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"purpose\" value=\"{}\"><button type=\"submit\">{} {}</button></form></li>",
                esc(id),
                l.t("Retirer :", "Withdraw:"),
                esc(&label)
            ));
        }
        body.push_str("</ul>");
    }
    Ok(link_page(StatusCode::OK, l, l.t("Retirer mon consentement", "Withdraw my consent"), &body))
}

/// The page's form: no field withdraws everything, `purpose` only that one.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct WithdrawForm {
    purpose: Option<String>,
}

#[tracing::instrument(skip_all)]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<WithdrawForm>,
) -> Result<Response, ApiError> {
    let hash = token_hash(&token);
    let lang = state.store.token_lead(&hash).await?.map_or(Lang::En, |t| Lang::of(&t.notice_lang));
    let purposes = form.purpose.filter(|p| !p.is_empty()).map(|p| vec![p]);
    let op = LifeOp::Withdraw { lead: LeadRef::UnsubscribeToken(hash), purposes, source: "page", signed_jti: None };
    let l = lang;
    Ok(match state.writer.life(op, state.clock.now()).await? {
        LifeOutcome::Done { lead_id, status } => {
            tracing::info!(lead = %lead_id, status = %status, "withdrawn from the unsubscribe page");
            let text = if status == crate::store::status::WITHDRAWN {
                l.t(
                    "C'est fait : vous ne recevrez plus rien de notre part pour ce consentement.",
                    "Done: you will receive nothing more from us under this consent.",
                )
            } else {
                l.t(
                    "C'est fait : ce choix est retiré ; les autres restent tels quels.",
                    "Done: that choice is withdrawn; the others stay as they were.",
                )
            };
            link_page(StatusCode::OK, l, l.t("Consentement retiré", "Consent withdrawn"), &format!("<p>{text}</p>"))
        }
        _ => unknown(l),
    })
}

/// RFC 8058: the receiver's one-click POST. No cookie, no page, nothing to confirm.
#[tracing::instrument(skip_all)]
pub(crate) async fn one_click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    let _ = headers;
    if body.trim() != "List-Unsubscribe=One-Click" {
        return Err(ApiError::malformed("the body must be List-Unsubscribe=One-Click (RFC 8058)"));
    }
    let op = LifeOp::Withdraw {
        lead: LeadRef::UnsubscribeToken(token_hash(&token)),
        purposes: None,
        source: "one-click",
        signed_jti: None,
    };
    match state.writer.life(op, state.clock.now()).await? {
        LifeOutcome::Done { status, .. } => {
            Ok((StatusCode::OK, Json(serde_json::json!({"status": status}))).into_response())
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "token-unknown", "this unsubscribe link is not valid")),
    }
}
