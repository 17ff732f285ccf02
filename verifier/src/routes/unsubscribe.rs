//! Withdrawal, as easy as consent: `GET /unsubscribe/{token}` shows one button (and one
//! per purpose) and changes nothing; `POST /unsubscribe/{token}` withdraws; RFC 8058
//! one-click `POST /v1/unsubscribe/{token}` with `List-Unsubscribe=One-Click` withdraws
//! everything at once, with no cookie and no page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};

use super::render::{Step, UnsubscribePage, link_page, message, refusal};
use crate::consent::{Answer, Link, withdraw};
use crate::domain::{LeadStatus, TokenPurpose, WithdrawalSource};
use crate::error::{ApiError, Code};
use crate::i18n::messages;
use crate::state::AppState;

#[tracing::instrument(skip_all)]
pub(crate) async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let Answer { lang, link } = withdraw::show(&state, &token).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(purposes) if purposes.is_empty() => {
            message(StatusCode::OK, &lang, t.unsubscribed_title, t.unsubscribed_text)
        }
        Link::Ok(purposes) => link_page(
            StatusCode::OK,
            &UnsubscribePage { t, lang: &lang, title: t.unsubscribe_title, token: &token, purposes: &purposes },
        ),
        other => refusal(&lang, &other, Step::Unsubscribe),
    }
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
    let purposes = form.purpose.filter(|p| !p.is_empty()).map(|p| vec![p]);
    let source = WithdrawalSource::Page;
    let Answer { lang, link } = withdraw::by_link(&state, &token, TokenPurpose::Unsubscribe, purposes, source).await?;
    let t = messages(&lang);
    match link {
        Link::Ok(done) => {
            let text = if done.status == LeadStatus::Withdrawn { t.withdrawn_all } else { t.withdrawn_some };
            message(StatusCode::OK, &lang, t.withdrawn_title, text)
        }
        other => refusal(&lang, &other, Step::Unsubscribe),
    }
}

/// RFC 8058: the receiver's one-click POST. No cookie, no page, nothing to confirm.
#[tracing::instrument(skip_all)]
pub(crate) async fn one_click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: String,
) -> Result<Response, ApiError> {
    if body.trim() != "List-Unsubscribe=One-Click" {
        return Err(ApiError::malformed("the body must be List-Unsubscribe=One-Click (RFC 8058)"));
    }
    let source = WithdrawalSource::OneClick;
    match withdraw::by_link(&state, &token, TokenPurpose::Unsubscribe, None, source).await?.link {
        Link::Ok(done) => Ok((StatusCode::OK, Json(serde_json::json!({"status": done.status}))).into_response()),
        _ => Err(ApiError::new(Code::TokenUnknown, "this unsubscribe link is not valid")),
    }
}
