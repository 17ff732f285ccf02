//! `GET /notices/{id}?lang=`: the full notice, for people (the demo notice's
//! `policy_url`).

use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::notices::current;
use super::render::{NoticePage, html};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

pub(crate) async fn notice_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Html<String>, ApiError> {
    let (notice, digest) = current(&state, &id)?.negotiate(q.lang.as_deref());
    html(&NoticePage::new(notice, digest))
}
