//! What the pages opened from mail links share: the language, the frame, the purposes.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use consent_receipt::Notice;

use super::{esc, page};
use crate::state::AppState;

/// French or English, from the notice the visitor saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Fr,
    En,
}

impl Lang {
    pub(crate) fn of(tag: &str) -> Lang {
        if tag.starts_with("fr") { Lang::Fr } else { Lang::En }
    }
    pub(crate) fn t(self, fr: &'static str, en: &'static str) -> &'static str {
        if self == Lang::Fr { fr } else { en }
    }
    pub(crate) fn code(self) -> &'static str {
        self.t("fr", "en")
    }
}

/// A page answering a mail link, never cached (it holds the link's token).
pub(crate) fn link_page(status: StatusCode, l: Lang, title: &str, body: &str) -> Response {
    let mut res = (status, page(l.code(), title, &format!("<h1>{}</h1>{body}", esc(title)))).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    // The token is in the URL: never send it on to another site.
    res.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    res
}

/// The notice version a lead was given.
pub(crate) fn notice_for(state: &AppState, digest: &str) -> Option<Arc<Notice>> {
    state.notices.by_digest(digest).cloned()
}

/// The labels of these purposes, as a list.
pub(crate) fn purposes_list(notice: Option<&Notice>, ids: &[String]) -> String {
    let items: String = ids
        .iter()
        .map(|id| {
            let label = notice.and_then(|n| n.purpose(id)).map_or(id.as_str(), |p| p.label.as_str());
            format!("<li>{}</li>", esc(label))
        })
        .collect();
    format!("<ul>{items}</ul>")
}
