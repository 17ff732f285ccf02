//! Double opt-in. `GET /confirm/{token}` shows a page with a button and changes nothing
//! (mail scanners follow links); `POST /confirm/{token}` confirms. An expired link can ask
//! for a new mail (`POST /confirm/{token}/resend`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::esc;
use super::lifepages::{Lang, link_page, notice_for, purposes_list};
use crate::lifecycle::{confirmation_mail, link, new_token, token_hash};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::{LeadRef, LifeOp, LifeOutcome, status};

#[tracing::instrument(skip_all)]
pub(crate) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let hash = token_hash(&token);
    let Some(t) = state.store.token_lead(&hash).await?.filter(|t| t.purpose == "confirm") else {
        return Ok(unknown(Lang::En));
    };
    let l = Lang::of(&t.notice_lang);
    let now = state.clock.now();
    if t.used_at.is_some() {
        return Ok(link_page(
            StatusCode::OK,
            l,
            l.t("Déjà confirmé", "Already confirmed"),
            &format!(
                "<p>{}</p>",
                l.t(
                    "Ce lien a déjà servi : votre inscription est confirmée.",
                    "This link was already used: your subscription is confirmed."
                )
            ),
        ));
    }
    if t.expires_at.is_some_and(|e| e < now) {
        return Ok(expired(l, &token));
    }
    if t.status != status::PENDING_CONFIRMATION {
        return Ok(wrong_state(l, &t.status));
    }
    let notice = notice_for(&state, &t.notice_digest);
    let sender =
        notice.as_deref().map(|n| format!("{}, {}", n.controller.name, n.controller.address)).unwrap_or_default();
    let body = format!(
        "<p>{}</p>{}<form method=\"post\" action=\"/confirm/{t}\"><button type=\"submit\">{}</button></form>\
         <p class=\"meta\">{}</p><form method=\"post\" action=\"/confirm/{t}/decline\"><button type=\"submit\" class=\"secondary\">{}</button></form>\
         <p class=\"meta\">{} {}</p>",
        l.t("Vous avez demandé à recevoir :", "You asked for:"),
        purposes_list(notice.as_deref(), &t.granted),
        l.t("Je confirme mon inscription", "I confirm my subscription"),
        l.t(
            "Rien n'est enregistré tant que vous n'avez pas cliqué. Ce n'était pas vous, ou vous avez changé d'avis ?",
            "Nothing is recorded until you click. Not you, or changed your mind?"
        ),
        l.t("Non merci, annuler cette demande", "No thanks, cancel this request"),
        l.t("Expéditeur :", "Sender:"),
        esc(&sender),
        t = esc(&token),
    );
    Ok(link_page(StatusCode::OK, l, l.t("Confirmez votre inscription", "Confirm your subscription"), &body))
}

#[tracing::instrument(skip_all)]
pub(crate) async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let hash = token_hash(&token);
    let lang = state.store.token_lead(&hash).await?.map_or(Lang::En, |t| Lang::of(&t.notice_lang));
    let (unsubscribe, row) = new_token("unsubscribe", None)?;
    let now = state.clock.now();
    let outcome = state.writer.life(LifeOp::Confirm { token_hash: hash, unsubscribe: row }, now).await?;
    let l = lang;
    Ok(match outcome {
        LifeOutcome::Done { lead_id, .. } => {
            tracing::info!(lead = %lead_id, "double opt-in confirmed");
            let body = format!(
                "<p>{}</p><p>{} <a href=\"{}\">{}</a></p>",
                l.t("Merci, votre inscription est confirmée.", "Thank you, your subscription is confirmed."),
                l.t(
                    "Vous pouvez la retirer à tout moment, en un clic :",
                    "You can withdraw it at any time, with one click:"
                ),
                esc(&link(&state, "unsubscribe", &unsubscribe)),
                l.t("me désinscrire", "unsubscribe"),
            );
            link_page(StatusCode::OK, l, l.t("C'est confirmé", "Confirmed"), &body)
        }
        LifeOutcome::TokenUsed { .. } => link_page(
            StatusCode::CONFLICT,
            l,
            l.t("Déjà confirmé", "Already confirmed"),
            &format!("<p>{}</p>", l.t("Ce lien a déjà servi.", "This link was already used.")),
        ),
        LifeOutcome::TokenExpired { .. } => expired(l, &token),
        LifeOutcome::WrongState { status, .. } => wrong_state(l, &status),
        _ => unknown(l),
    })
}

#[tracing::instrument(skip_all)]
pub(crate) async fn resend(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let hash = token_hash(&token);
    let Some(t) = state.store.token_lead(&hash).await?.filter(|t| t.purpose == "confirm") else {
        return Ok(unknown(Lang::En));
    };
    let l = Lang::of(&t.notice_lang);
    let (Some(notice), Some(email)) = (notice_for(&state, &t.notice_digest), t.email.clone()) else {
        return Ok(unknown(l));
    };
    let now = state.clock.now();
    let (unsubscribe, unsub_row) = new_token("unsubscribe", None)?;
    let (mail, confirm_row) = confirmation_mail(&state, &notice, &email, &t.granted, &unsubscribe, now)?;
    let op = LifeOp::ResendConfirmation { token_hash: hash, tokens: vec![confirm_row, unsub_row], mail };
    Ok(match state.writer.life(op, now).await? {
        LifeOutcome::Done { .. } => {
            state.mail_wake.notify_one();
            link_page(
                StatusCode::OK,
                l,
                l.t("Nouveau lien envoyé", "New link sent"),
                &format!(
                    "<p>{}</p>",
                    l.t(
                        "Un nouveau message de confirmation part vers votre adresse. L'ancien lien ne sert plus.",
                        "A new confirmation message is on its way to your address. The old link no longer works."
                    )
                ),
            )
        }
        LifeOutcome::WrongState { status, .. } => wrong_state(l, &status),
        LifeOutcome::TokenUsed { .. } => link_page(
            StatusCode::CONFLICT,
            l,
            l.t("Déjà confirmé", "Already confirmed"),
            &format!("<p>{}</p>", l.t("Ce lien a déjà servi.", "This link was already used.")),
        ),
        _ => unknown(l),
    })
}

/// "No thanks" on the confirmation page: as easy as confirming, it withdraws everything
/// the request asked for.
#[tracing::instrument(skip_all)]
pub(crate) async fn decline(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let hash = token_hash(&token);
    let lang = state.store.token_lead(&hash).await?.map_or(Lang::En, |t| Lang::of(&t.notice_lang));
    let op =
        LifeOp::Withdraw { lead: LeadRef::ConfirmToken(hash), purposes: None, source: "declined", signed_jti: None };
    let l = lang;
    Ok(match state.writer.life(op, state.clock.now()).await? {
        LifeOutcome::Done { .. } => link_page(
            StatusCode::OK,
            l,
            l.t("Demande annulée", "Request cancelled"),
            &format!(
                "<p>{}</p>",
                l.t("C'est noté : vous ne recevrez rien de notre part.", "Noted: you will receive nothing from us.")
            ),
        ),
        _ => unknown(l),
    })
}

fn expired(l: Lang, token: &str) -> Response {
    let body = format!(
        "<p>{}</p><form method=\"post\" action=\"/confirm/{}/resend\"><button type=\"submit\">{}</button></form>",
        l.t(
            "Ce lien de confirmation a expiré. Rien n'a été enregistré.",
            "This confirmation link has expired. Nothing was recorded."
        ),
        esc(token),
        l.t("M'envoyer un nouveau lien", "Send me a new link"),
    );
    link_page(StatusCode::GONE, l, l.t("Lien expiré", "Link expired"), &body)
}

fn wrong_state(l: Lang, status: &str) -> Response {
    let text = match status {
        status::ACTIVE => l.t("Votre inscription est déjà confirmée.", "Your subscription is already confirmed."),
        status::WITHDRAWN => l.t(
            "Ce consentement a été retiré : il n'y a plus rien à confirmer.",
            "This consent was withdrawn: there is nothing left to confirm.",
        ),
        _ => l.t("Il n'y a rien à confirmer.", "There is nothing to confirm."),
    };
    link_page(StatusCode::CONFLICT, l, l.t("Rien à faire", "Nothing to do"), &format!("<p>{text}</p>"))
}

fn unknown(l: Lang) -> Response {
    link_page(
        StatusCode::NOT_FOUND,
        l,
        l.t("Lien inconnu", "Unknown link"),
        &format!("<p>{}</p>", l.t("Ce lien n'est pas (ou plus) valable.", "This link is not (or no longer) valid.")),
    )
}
