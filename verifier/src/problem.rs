//! Errors as the client sees them: `application/problem+json` (RFC 9457) with a stable
//! `type` per rule, and a human page at that `type` explaining it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consent_receipt::VerifyError;
use consent_receipt::error::explain;

use crate::store::StoreError;

/// Codes the HTTP layer adds to the verification rules' codes, with status, title and
/// explanation.
pub const HTTP_CODES: &[(&str, u16, &str, &str)] = &[
    (
        "malformed-request",
        400,
        "Malformed request",
        "The body must be a JSON object as documented for this endpoint, e.g. {\"receipt\": \"<compact JWS>\", \"fields\": {…}} for POST /v1/leads.",
    ),
    ("body-too-large", 413, "Body too large", "A request body may be at most 64 KiB."),
    ("not-found", 404, "Not found", "There is nothing at this address."),
    ("method-not-allowed", 405, "Method not allowed", "This address does not answer to this HTTP method."),
    ("timeout", 408, "Request timeout", "The request took longer than the verifier's time limit."),
    ("unsupported-media-type", 415, "Unsupported media type", "Send the body as application/json."),
    (
        "unavailable",
        503,
        "Temporarily unavailable",
        "The verifier cannot reach its database right now. Nothing was recorded; try again shortly.",
    ),
    (
        "internal",
        500,
        "Internal error",
        "Something went wrong on the verifier's side. It has been logged; nothing was recorded.",
    ),
];

/// Title and explanation for any code (rule or HTTP), with its rule number if it has one.
pub fn describe(code: &str) -> Option<(Option<u8>, &'static str, &'static str)> {
    if let Some((rule, title, text)) = explain(code) {
        return Some(((rule > 0).then_some(rule), title, text));
    }
    HTTP_CODES.iter().find(|c| c.0 == code).map(|c| (None, c.2, c.3))
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, code, detail: detail.into() }
    }

    /// A bad request body.
    pub fn malformed(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed-request", detail)
    }

    /// A storage failure: logged with its whole chain, "unavailable" to the client.
    pub fn store(err: StoreError) -> ApiError {
        tracing::error!(error = ?anyhow::Error::from(err), "store failure");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable; nothing was recorded",
        )
    }

    /// A bug or an unexpected failure: logged, "internal error" to the client.
    pub fn internal(err: impl Into<anyhow::Error>) -> ApiError {
        tracing::error!(error = ?err.into(), "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    /// The code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> ApiError {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError { status, code: e.code(), detail: e.to_string() }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::store(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = describe(self.code).map_or("Error", |d| d.1);
        let body = serde_json::json!({
            "type": format!("/errors/{}", self.code),
            "title": title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        res
    }
}

/// Middleware body: turns the bare error answers of the framework and of layers (404,
/// 405, 408, 413, …) into problem+json, so that every error has the same shape.
pub async fn problemize(res: Response) -> Response {
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
        StatusCode::NOT_FOUND => ("not-found", "there is nothing at this address"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "this address does not answer to this method"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => ("body-too-large", "a request body may be at most 64 KiB"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "send application/json"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "temporarily unavailable"),
        s if s.is_server_error() => ("internal", "internal error"),
        _ => ("malformed-request", "the request could not be understood"),
    };
    let detail = match (code, said) {
        ("malformed-request", Some(t)) => t,
        _ => detail.to_string(),
    };
    let mut out = ApiError::new(status, code, detail).into_response();
    for (name, value) in headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}
