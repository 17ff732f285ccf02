//! The link of a message asking to renew before retention ends: `GET /renew/{token}` (the
//! mail's) and `GET /r/{token}` (the SMS's short link) show a page and change nothing (mail
//! and link scanners follow links); `POST` to the same address renews; `POST …/decline`
//! withdraws, as easily.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use consent_receipt::Channel;

use super::render::{self, Step, link_page, message, refusal};
use crate::consent::{Answer, Link, renewal};
use crate::error::ApiError;
use crate::i18n::{fill, messages};
use crate::state::AppState;

async fn page(state: &AppState, token: &str, action: &str) -> Result<Response, ApiError> {
    let Answer { lang, link } = renewal::show(state, token).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(p) => link_page(
            StatusCode::OK,
            &render::RenewPage {
                t,
                lang: &lang,
                title: t.renew_title,
                action,
                labels: &p.labels,
                deadline: fill(t.renew_deadline, &[("date", &p.until)]),
                sender: &p.sender,
            },
        ),
        other => refusal(&lang, &other, Step::RenewPage),
    }
}

async fn renew(state: &AppState, token: &str, channel: Channel) -> Result<Response, ApiError> {
    let Answer { lang, link } = renewal::renew(state, token, channel).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(()) => message(StatusCode::OK, &lang, t.renewed_title, t.renewed_text),
        other => refusal(&lang, &other, Step::Renew),
    }
}

async fn decline(state: &AppState, token: &str) -> Result<Response, ApiError> {
    let Answer { lang, link } = renewal::decline(state, token).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(_) => message(StatusCode::OK, &lang, t.withdrawn_title, t.withdrawn_all),
        other => refusal(&lang, &other, Step::Renew),
    }
}

#[tracing::instrument(skip_all)]
pub(crate) async fn mail_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    page(&state, &token, &format!("/renew/{token}")).await
}

#[tracing::instrument(skip_all)]
pub(crate) async fn sms_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    page(&state, &token, &format!("/r/{token}")).await
}

#[tracing::instrument(skip_all)]
pub(crate) async fn mail_renew(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    renew(&state, &token, Channel::Email).await
}

#[tracing::instrument(skip_all)]
pub(crate) async fn sms_renew(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    renew(&state, &token, Channel::Sms).await
}

#[tracing::instrument(skip_all)]
pub(crate) async fn decline_any(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    decline(&state, &token).await
}
