//! `/v1/admin/…`: for the site owner's systems (a CRM, a campaign tool), behind API keys.
//! Authentication comes first, so an unauthenticated caller learns nothing, not even
//! whether an address is known.

mod activity;
mod csv;
mod leads;
pub mod objections;
mod permissions;
mod stats;
mod webhooks;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use crate::consent::access::{KeyCheck, check_key};
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The admin routes, each behind the key check.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/admin/leads", get(leads::list))
        .route("/v1/admin/leads/{id}", get(leads::one))
        .route("/v1/admin/leads/{id}/proof", get(leads::proof))
        .route("/v1/admin/leads/{id}/activity", post(activity::post))
        .route("/v1/admin/permissions", get(permissions::permissions))
        .route("/v1/admin/export", get(leads::export))
        .route("/v1/admin/objections", post(objections::post))
        .route("/v1/admin/stats/stages", get(stats::stages))
        .route("/v1/admin/webhooks", post(webhooks::register).get(webhooks::list))
        .route("/v1/admin/webhooks/{id}", delete(webhooks::delete))
        .route("/v1/admin/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/v1/admin/webhooks/{id}/test", post(webhooks::test))
        .layer(axum::middleware::from_fn_with_state(state, require_key))
}

/// The credentials of `Authorization: Bearer <key>`. The scheme is case-insensitive
/// (RFC 9110 §11.1: `bearer`, `BEARER` are the same), one or more spaces may follow it.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once([' ', '\t'])?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim()).filter(|k| !k.is_empty())
}

/// Bearer-key check for every admin route: 401 without a valid key, 403 for a revoked one,
/// 429 once an address has presented too many wrong keys lately (`--admin-failure-rate`):
/// then no key is even looked at until it has waited.
async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let client =
        super::limits::client_of(&state, req.headers(), req.extensions().get::<ConnectInfo<std::net::SocketAddr>>());
    if let Some(ip) = client
        && let Err(wait) = state.limits.admin_may_try(ip)
    {
        return super::limits::limited(
            wait,
            "too many wrong API keys from this address; wait before trying again",
            None,
        );
    }
    let presented =
        req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer).map(str::to_string);
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
        Ok(KeyCheck::Invalid) => match client.map(|ip| state.limits.admin_failed(ip)) {
            Some(Err(wait)) => super::limits::limited(
                wait,
                "too many wrong API keys from this address; wait before trying again",
                None,
            ),
            _ => unauthorized("this API key is not valid"),
        },
        Err(e) => ApiError::store(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer cwk_a.b", "bearer cwk_a.b", "BEARER  cwk_a.b", "bEaReR\tcwk_a.b "] {
            assert_eq!(bearer(v), Some("cwk_a.b"), "{v}");
        }
        for v in ["Basic cwk_a.b", "Bearer", "Bearer ", "Bearercwk_a.b"] {
            assert_eq!(bearer(v), None, "{v}");
        }
    }
}
