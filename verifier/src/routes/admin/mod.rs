//! `/v1/admin/…`: for the site owner's systems (a CRM, a campaign tool), behind API keys.
//! Authentication comes first, so an unauthenticated caller learns nothing, not even
//! whether an address is known.

mod csv;
mod leads;
pub mod objections;
mod permissions;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::consent::access::{KeyCheck, check_key};
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The admin routes, each behind the key check.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/admin/leads", get(leads::list))
        .route("/v1/admin/leads/{id}", get(leads::one))
        .route("/v1/admin/leads/{id}/proof", get(leads::proof))
        .route("/v1/admin/permissions", get(permissions::permissions))
        .route("/v1/admin/export", get(leads::export))
        .route("/v1/admin/objections", post(objections::post))
        .layer(axum::middleware::from_fn_with_state(state, require_key))
}

/// Bearer-key check for every admin route: 401 without a valid key, 403 for a revoked one.
async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_string);
    let unauthorized = |detail: &str| {
        let mut res = ApiError::new(Code::Unauthorized, detail).into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"consent-verifier admin\""));
        res
    };
    let Some(key) = presented else {
        return unauthorized("an admin API key is required (Authorization: Bearer cwk_…)");
    };
    match check_key(&state.store, &key).await {
        Ok(KeyCheck::Valid(name)) => {
            tracing::info!(key = %name, "admin request");
            next.run(req).await
        }
        Ok(KeyCheck::Revoked) => ApiError::new(Code::RevokedKey, "this API key was revoked").into_response(),
        Ok(KeyCheck::Invalid) => unauthorized("this API key is not valid"),
        Err(e) => ApiError::store(e).into_response(),
    }
}
