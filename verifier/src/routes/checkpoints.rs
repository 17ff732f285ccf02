//! `GET /v1/checkpoints/latest`: the latest signed checkpoint of the event chain.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::consent::proof::checkpoint_now;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) async fn latest(State(state): State<AppState>) -> Result<Response, ApiError> {
    // The published one (signed every minute the chain moves); a first one if none yet.
    // Callers never make the verifier sign on demand.
    let (jws, c) = match state.store.latest_checkpoint().await? {
        Some(found) => found,
        None => checkpoint_now(&state).await?,
    };
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(serde_json::json!({"checkpoint": jws, "count": c.count, "head": c.head, "iat": c.iat})),
    )
        .into_response())
}
