//! Request rates: each request counts against its client's bucket, each `POST /v1/leads`
//! against its page origin's too. Past a limit the answer is `429 rate-limited` with
//! `Retry-After`, before anything is parsed or checked (a receipt with a bad signature
//! costs no signature check once its sender is over the limit).

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, Code};
use crate::limits::client_ip;
use crate::state::AppState;

/// Where origins no notice allows are counted, all together.
const OTHER_ORIGINS: &str = "(origins no notice allows)";

/// The client's address of a request: the TCP peer, or whom a trusted proxy names.
pub(crate) fn client_of(
    state: &AppState,
    req_headers: &HeaderMap,
    peer: Option<&ConnectInfo<std::net::SocketAddr>>,
) -> Option<IpAddr> {
    peer.map(|ConnectInfo(addr)| client_ip(addr.ip(), req_headers, &state.config.limits.trusted_proxies))
}

/// `429 rate-limited`, with `Retry-After` in whole seconds (at least 1), readable by the
/// page that caused it, whatever its origin (as the browser API's other errors).
pub(crate) fn limited(wait: Duration, detail: &str, origin: Option<&HeaderValue>) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut res = ApiError::new(Code::RateLimited, detail).into_response();
    let h = res.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
    res
}

/// Counts the request against its client's bucket (and its origin's, for a lead).
/// Health checks are never limited: a load balancer must see the truth under a flood.
/// Neither is the admin API, whose callers hold a key (an import of ten thousand
/// objections is ten thousand calls) and whose wrong keys have a limit of their own.
pub(crate) async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" || path.starts_with("/v1/admin/") {
        return next.run(req).await;
    }
    let origin = req.headers().get(header::ORIGIN).cloned();
    let client = client_of(&state, req.headers(), req.extensions().get::<ConnectInfo<std::net::SocketAddr>>());
    if let Some(ip) = client
        && let Err(wait) = state.limits.client(ip)
    {
        return limited(
            wait,
            "too many requests from this address; try again after Retry-After seconds",
            origin.as_ref(),
        );
    }
    if req.method() == Method::POST && path == "/v1/leads" {
        let key = match origin.as_ref().and_then(|o| o.to_str().ok()) {
            Some(o) if state.any_origin_allowed(o) => o,
            _ => OTHER_ORIGINS,
        };
        if let Err(wait) = state.limits.origin(key) {
            return limited(
                wait,
                "too many leads for this origin; try again after Retry-After seconds",
                origin.as_ref(),
            );
        }
    }
    next.run(req).await
}
