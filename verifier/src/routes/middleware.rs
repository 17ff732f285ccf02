//! What every answer goes through: problem+json for every error, and the security and
//! caching headers.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The strict policy every page is served with: no inline script or style anywhere, and
/// WebAssembly allowed to compile ('wasm-unsafe-eval').
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// No powerful browser feature is used by any page of the verifier: none may be used by
/// them, nor by anything they embed.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
    encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), \
    magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), screen-wake-lock=(), \
    serial=(), usb=(), xr-spatial-tracking=(), browsing-topics=()";

/// HSTS, sent only when the public URL is https (over plain http a browser ignores it, and
/// a demo on http://127.0.0.1 must not pin anything): two years, subdomains left alone
/// (the verifier does not know what else runs under its domain).
pub const HSTS: &str = "max-age=63072000";

/// Security and caching headers for every answer; the widget's files may be loaded (with
/// SRI) by pages on any origin.
pub(crate) async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let widget_file = req.uri().path().starts_with("/widget/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static(PERMISSIONS_POLICY));
    if state.config.public_url.starts_with("https://") {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if widget_file {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("public, max-age=300"));
    } else {
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
    }
    res
}

/// An error of the browser API is readable by the page that caused it, whatever its
/// origin: a widget on an origin the notice does not allow can then tell its developer
/// so ("add the origin to the notice's `origins`") instead of seeing a network error.
/// Nothing is exposed that the request did not already name, no credentials are ever
/// allowed, and success answers keep CORS for allowed origins only (so do preflights).
pub(crate) async fn problems_readable_from_any_origin(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut res = next.run(req).await;
    let failed = res.status().is_client_error() || res.status().is_server_error();
    if let Some(origin) = origin.filter(|_| failed) {
        let h = res.headers_mut();
        if !h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.append(header::VARY, HeaderValue::from_static("origin"));
        }
    }
    res
}

/// Turns the bare error answers of the framework and of layers (404, 405, 408, 413, …)
/// into problem+json, so that every error has the same shape.
pub(crate) async fn problemize(res: Response) -> Response {
    let status = res.status();
    // Problems stay problems, and the pages a person opens from a mail link stay pages.
    let keep = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
    });
    if status.as_u16() < 400 || keep {
        return res;
    }
    // The framework's own rejections (a missing or mistyped query parameter, say) explain
    // themselves in a short text body: keep that explanation as the detail.
    let plain = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    let headers = res.headers().clone();
    let said = if plain && status.is_client_error() {
        axum::body::to_bytes(res.into_body(), 2048)
            .await
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    } else {
        None
    };
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => (Code::NotFound, "there is nothing at this address"),
        StatusCode::METHOD_NOT_ALLOWED => (Code::MethodNotAllowed, "this address does not answer to this method"),
        StatusCode::REQUEST_TIMEOUT => (Code::Timeout, "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => (Code::BodyTooLarge, "a request body may be at most 64 KiB"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (Code::UnsupportedMediaType, "send application/json"),
        StatusCode::SERVICE_UNAVAILABLE => (Code::Unavailable, "temporarily unavailable"),
        s if s.is_server_error() => (Code::Internal, "internal error"),
        _ => (Code::MalformedRequest, "the request could not be understood"),
    };
    let detail = match (code, said) {
        (Code::MalformedRequest, Some(t)) => t,
        _ => detail.to_string(),
    };
    let mut out = ApiError::new(code, detail).with_status(status).into_response();
    for (name, value) in headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}
