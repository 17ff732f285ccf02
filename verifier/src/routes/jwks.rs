//! `GET /.well-known/jwks.json`: every key that ever signed a seal here.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

pub(crate) async fn get_jwks(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(state.keys().jwks().clone()))
}
