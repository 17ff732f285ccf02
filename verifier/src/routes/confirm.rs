//! `GET /confirm/{token}` shows the double opt-in page; `POST /confirm/{token}` confirms;
//! `POST /confirm/{token}/resend` sends a new link; `POST /confirm/{token}/decline` is
//! "no thanks".

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::render::{self, ConfirmExpired, Step, link_page, message, refusal};
use crate::consent::{Answer, Link, confirm};
use crate::error::ApiError;
use crate::i18n::messages;
use crate::state::AppState;

fn expired(lang: &str, token: &str) -> Result<Response, ApiError> {
    let t = messages(lang);
    link_page(StatusCode::GONE, &ConfirmExpired { t, lang, title: t.link_expired_title, token })
}

#[tracing::instrument(skip_all)]
pub(crate) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let Answer { lang, link } = confirm::show(&state, &token).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(p) => link_page(
            StatusCode::OK,
            &render::ConfirmPage {
                t,
                lang: &lang,
                title: t.confirm_title,
                token: &token,
                labels: &p.labels,
                sender: &p.sender,
            },
        ),
        Link::Expired => expired(&lang, &token),
        other => refusal(&lang, &other, Step::ConfirmPage),
    }
}

#[tracing::instrument(skip_all)]
pub(crate) async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let Answer { lang, link } = confirm::confirm(&state, &token).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(unsubscribe) => link_page(
            StatusCode::OK,
            &render::Confirmed { t, lang: &lang, title: t.confirmed_title, unsubscribe: &unsubscribe },
        ),
        Link::Expired => expired(&lang, &token),
        other => refusal(&lang, &other, Step::Confirm),
    }
}

#[tracing::instrument(skip_all)]
pub(crate) async fn resend(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let Answer { lang, link } = confirm::resend(&state, &token).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(()) => message(StatusCode::OK, &lang, t.resent_title, t.resent_text),
        other => refusal(&lang, &other, Step::Confirm),
    }
}

/// "No thanks" on the confirmation page: as easy as confirming, it withdraws everything
/// the request asked for.
#[tracing::instrument(skip_all)]
pub(crate) async fn decline(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let Answer { lang, link } = confirm::decline(&state, &token).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(_) => message(StatusCode::OK, &lang, t.declined_title, t.declined_text),
        other => refusal(&lang, &other, Step::Confirm),
    }
}
