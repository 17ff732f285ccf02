//! The HTTP API and pages: one file per endpoint (a folder for the admin API), assembled
//! by [`router`]. Handlers parse the request, call one use case of [`crate::consent`] (or
//! read the store for display), and render JSON or a page from `templates/`.

mod admin;
mod checkpoints;
mod confirm;
mod errors;
mod guardian;
mod health;
mod jwks;
mod leads;
mod limits;
mod middleware;
mod notice_page;
mod notices;
mod render;
mod renew;
mod sms;
mod tlog;
mod unsubscribe;
mod withdrawals;

pub use middleware::CSP;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::map_response;
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::BODY_LIMIT;
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Every route, with CORS for the browser-facing API, time limits, request tracing that
/// records only the matched route (never a token or an address), and problem+json for
/// every error.
pub fn router(state: AppState) -> Router {
    let cors_state = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| cors_state.any_origin_allowed(o))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600));

    let browser_api = Router::new()
        .route("/v1/notices/{id}", get(notices::get_notice))
        .route("/v1/leads", post(leads::post_lead))
        .route("/v1/guardian-approvals", post(guardian::approve))
        .route("/v1/withdrawals", post(withdrawals::post))
        .route("/v1/sms/confirmations", post(sms::confirm_code))
        .layer(cors)
        .layer(axum::middleware::from_fn(middleware::problems_readable_from_any_origin));

    let public = Router::new()
        .route("/.well-known/jwks.json", get(jwks::get_jwks))
        .layer(CorsLayer::new().allow_origin(AllowOrigin::any()).allow_methods([Method::GET]));

    let timeout = state.config.request_timeout;
    let not_found = || async { ApiError::not_found("there is nothing at this address") };
    let router = Router::new()
        .merge(browser_api)
        .merge(public)
        // No CORS here: admin calls come from servers, with a key.
        .merge(admin::router(state.clone()))
        .route("/v1/checkpoints/latest", get(checkpoints::latest))
        .route("/log/checkpoint", get(tlog::checkpoint))
        .route("/log/tile/{level}/{*index}", get(tlog::tile))
        .route("/log/consistency", get(tlog::consistency))
        .route("/errors", get(errors::index))
        .route("/errors/{code}", get(errors::page))
        .route("/notices/{id}", get(notice_page::notice_page))
        .route("/confirm/{token}", get(confirm::page).post(confirm::confirm))
        .route("/confirm/{token}/resend", post(confirm::resend))
        .route("/confirm/{token}/decline", post(confirm::decline))
        // The SMS's short link: the same page, the same button.
        .route("/c/{token}", get(confirm::page).post(confirm::confirm))
        // Renewal before retention ends: the mail's link, and the SMS's short one.
        .route("/renew/{token}", get(renew::mail_page).post(renew::mail_renew))
        .route("/renew/{token}/decline", post(renew::decline_any))
        .route("/r/{token}", get(renew::sms_page).post(renew::sms_renew))
        .route("/r/{token}/decline", post(renew::decline_any))
        // From an HTTP SMS gateway, signed; no CORS (servers call it).
        .route("/v1/sms/inbound", post(sms::inbound))
        .route("/guardian/{token}", get(guardian::page))
        .route("/unsubscribe/{token}", get(unsubscribe::page).post(unsubscribe::withdraw))
        .route("/v1/unsubscribe/{token}", post(unsubscribe::one_click))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    // The static site (demo, guide, widget) answers what no route does.
    let router = match &state.config.www_dir {
        Some(dir) => router.fallback_service(
            tower_http::services::ServeDir::new(dir).not_found_service(axum::routing::any(not_found)),
        ),
        None => router.fallback(not_found),
    };
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req.extensions().get::<MatchedPath>().map_or("(unmatched)", |p| p.as_str());
                    tracing::info_span!("request", method = %req.method(), route)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // Outside the trace: a flood that is refused does not flood the log too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::rate_limit))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(map_response(middleware::problemize))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::headers))
        .with_state(state)
}

/// Reads a JSON body of at most [`BODY_LIMIT`] bytes into `T`.
pub(crate) async fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: axum::body::Body) -> Result<T, ApiError> {
    let too_large = || ApiError::new(Code::BodyTooLarge, "a request body may be at most 64 KiB");
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(too_large());
    }
    let bytes: Bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return too_large();
            }
            source = s.source();
        }
        ApiError::malformed("the request body could not be read")
    })?;
    crate::stages::time(crate::stages::Stage::Parse, || serde_json::from_slice(&bytes))
        .map_err(|e| ApiError::malformed(format!("the body is not the expected JSON: {e}")))
}

/// The `Origin` header, if the browser sent one.
pub(crate) fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}
