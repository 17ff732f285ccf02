//! `GET /errors` and `GET /errors/{code}`: what each error `type` means, for people. Both
//! walk the one table in [`crate::error`].

use askama::Template;
use axum::extract::Path;
use axum::response::Html;
use consent_receipt::ErrorInfo;

use super::render::html;
use crate::error::{ApiError, Code};
use crate::i18n::{Messages, fill, messages};

/// The pages explain the table, which is written in English for the developers who read
/// these codes.
const LANG: &str = "en";

#[derive(Template)]
#[template(path = "errors.html")]
struct Index {
    t: &'static Messages,
    lang: &'static str,
    title: String,
    errors: Vec<&'static ErrorInfo>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct One {
    t: &'static Messages,
    lang: &'static str,
    title: String,
    e: &'static ErrorInfo,
    rule_of: Option<String>,
}

pub(crate) async fn index() -> Result<Html<String>, ApiError> {
    let t = messages(LANG);
    let errors = Code::all().map(Code::info).collect();
    html(&Index { t, lang: LANG, title: format!("{} · consent-widget", t.errors_title), errors })
}

pub(crate) async fn page(Path(code): Path<String>) -> Result<Html<String>, ApiError> {
    let e = Code::from_code(&code).ok_or_else(|| ApiError::not_found("no error type has this code"))?.info();
    let t = messages(LANG);
    let rule_of = e.rule.map(|r| fill(t.errors_rule_of, &[("rule", &r.to_string())]));
    html(&One { t, lang: LANG, title: format!("{} · consent-widget", e.title), e, rule_of })
}
