//! `GET /healthz` (the process answers) and `GET /readyz` (it can also store).

use axum::extract::State;

use crate::error::{ApiError, Code};
use crate::state::AppState;

pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping().await?;
    if state.writer.is_closed() {
        return Err(ApiError::new(Code::Unavailable, "the store writer has stopped"));
    }
    Ok("ready\n")
}
