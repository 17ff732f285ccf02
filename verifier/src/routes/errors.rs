//! `GET /errors` and `GET /errors/{code}`: what each error `type` means, for people.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Html;
use consent_receipt::VerifyError;
use consent_receipt::error::status_of;

use crate::problem::{ApiError, HTTP_CODES, describe};

use super::pages::{esc as escape, page as site_page};

fn html_page(title: &str, body: &str) -> Html<String> {
    site_page(
        "en",
        &format!("{title} · consent-widget"),
        &format!("{body}<p><a href=\"/errors\">All error types</a></p>"),
    )
}

fn all_codes() -> impl Iterator<Item = &'static str> {
    VerifyError::CODES.iter().copied().chain(HTTP_CODES.iter().map(|c| c.0))
}

fn status(code: &str) -> u16 {
    status_of(code).or_else(|| HTTP_CODES.iter().find(|c| c.0 == code).map(|c| c.1)).unwrap_or(400)
}

pub(crate) async fn index() -> Html<String> {
    let mut rows = String::new();
    for code in all_codes() {
        if let Some((rule, title, _)) = describe(code) {
            let rule = rule.map_or(String::from("–"), |r| r.to_string());
            rows.push_str(&format!(
                "<tr><td><a href=\"/errors/{code}\"><code>{code}</code></a></td><td>{}</td><td>{rule}</td><td>{}</td></tr>",
                status(code),
                escape(title)
            ));
        }
    }
    html_page(
        "Error types",
        &format!(
            "<h1>Error types</h1><p>Every error the verifier returns is <code>application/problem+json</code> \
             (RFC 9457) whose <code>type</code> is one of these pages and whose <code>code</code> is the last part.</p>\
             <table><thead><tr><th>code</th><th>HTTP status</th><th>rule</th><th>meaning</th></tr></thead><tbody>{rows}</tbody></table>"
        ),
    )
}

pub(crate) async fn page_for(code: &str) -> Result<Html<String>, ApiError> {
    let (rule, title, text) = describe(code)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not-found", "no error type has this code"))?;
    let rule = rule.map(|r| format!("<p>Verification rule {r} of the receipt format.</p>")).unwrap_or_default();
    Ok(html_page(
        title,
        &format!(
            "<h1>{}</h1><p><code>type: /errors/{code}</code> · <code>code: {code}</code> · HTTP {}</p>{rule}<p>{}</p>",
            escape(title),
            status(code),
            escape(text)
        ),
    ))
}

pub(crate) async fn page(Path(code): Path<String>) -> Result<Html<String>, ApiError> {
    page_for(&code).await
}
