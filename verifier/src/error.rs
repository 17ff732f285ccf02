//! Every error a client can see, in one table: the receipt rules' codes (from
//! [`consent_receipt::ErrorKind`]) and the verifier's own, each with its HTTP status,
//! title and explanation. problem+json bodies (RFC 9457), `GET /errors` and
//! `GET /errors/{code}` all read this table, and the test that every code has a page walks
//! [`Code::all`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consent_receipt::{ErrorInfo, ErrorKind, VerifyError};

use crate::store::StoreError;

/// Declares [`Code`] from its rows: variant, code, status, title, explanation.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal, $status:literal, $title:literal, $text:literal;)*) => {
        /// A code a client can receive.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            /// A verification rule of the receipt format failed.
            Rule(ErrorKind),
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            const OWN: &'static [Code] = &[$(Code::$variant,)*];

            /// Code, status, title and explanation.
            pub const fn info(self) -> &'static ErrorInfo {
                match self {
                    Code::Rule(kind) => kind.info(),
                    $(Code::$variant => {
                        const INFO: ErrorInfo =
                            ErrorInfo { code: $code, status: $status, rule: None, title: $title, text: $text };
                        &INFO
                    })*
                }
            }
        }
    };
}

codes! {
    /// The body or the query is not what the endpoint takes.
    MalformedRequest = "malformed-request", 400, "Malformed request",
        "The body must be a JSON object as documented for this endpoint, e.g. {\"receipt\": \"<compact JWS>\", \"fields\": {…}} for POST /v1/leads, and query parameters must have the documented form. The detail names what is wrong.";
    /// Over [`crate::config::BODY_LIMIT`].
    BodyTooLarge = "body-too-large", 413, "Body too large", "A request body may be at most 64 KiB.";
    /// No route, no page, no such record.
    NotFound = "not-found", 404, "Not found", "There is nothing at this address.";
    /// The route exists with other methods.
    MethodNotAllowed = "method-not-allowed", 405, "Method not allowed",
        "This address does not answer to this HTTP method; the Allow header lists those it answers to.";
    /// Over the request time limit.
    Timeout = "timeout", 408, "Request timeout", "The request took longer than the verifier's time limit.";
    /// Not JSON.
    UnsupportedMediaType = "unsupported-media-type", 415, "Unsupported media type", "Send the body as application/json.";
    /// The database cannot be reached.
    Unavailable = "unavailable", 503, "Temporarily unavailable",
        "The verifier cannot reach its database right now. Nothing was recorded; try again shortly.";
    /// A bug: logged, never detailed.
    Internal = "internal", 500, "Internal error",
        "Something went wrong on the verifier's side. It has been logged; nothing was recorded.";
    /// A withdrawal came after this receipt was signed.
    Suppressed = "suppressed", 409, "Consent withdrawn since",
        "This contact withdrew this consent after the receipt was signed. A receipt signed before a withdrawal cannot undo it: the visitor has to give a new consent, with a receipt signed after the withdrawal.";
    /// The token in a link is not one we issued (or its lead was purged).
    TokenUnknown = "token-unknown", 404, "Unknown link",
        "The link's token is not one this verifier issued, or the lead it belonged to was purged. Links in mails carry random single-use tokens, of which only hashes are stored.";
    /// A single-use link was used already.
    TokenUsed = "token-used", 409, "Link already used",
        "This single-use link (double opt-in or a guardian's approval) was already used; the answer it carried stands.";
    /// A link expired.
    TokenExpired = "token-expired", 410, "Link expired",
        "This link has expired (links in mails last 7 days). The confirmation page offers a new link; for a guardian's approval, the child signs up again.";
    /// The lead is not in a state this step applies to.
    WrongState = "wrong-state", 409, "Nothing to do in this state",
        "The lead is not in a state this step applies to: for example a guardian's answer for a lead that no longer awaits one, or a confirmation of a withdrawn consent. The detail names the lead's status.";
    /// The guardian's receipt does not match the child's.
    GuardianMismatch = "guardian-mismatch", 422, "Guardian receipt does not match",
        "The guardian's receipt must name the child's receipt this link was sent for (`guardian_for`), be for the same notice, and be signed with the address the request was sent to.";
    /// A browser-signed withdrawal under another key.
    NotYourReceipt = "not-your-receipt", 403, "Not signed by the receipt's key",
        "A withdrawal signed in the browser must be signed by the key that signed the consent receipt it names: only the browser that gave a consent withdraws it this way (every mail also carries a one-click link).";
    /// No or a wrong admin key.
    Unauthorized = "unauthorized", 401, "API key required",
        "The admin API needs `Authorization: Bearer cwk_…` with a live key made by `consent-verifier admin create-key`.";
    /// A wrong SMS code, or one tried too often.
    BadCode = "bad-code", 422, "Wrong code",
        "The code is not the 6-digit code the SMS gave for this sign-up, or it was tried wrongly too often (5 times), after which it no longer works. Open the link in the SMS, or reply OUI, to confirm instead.";
    /// An inbound SMS whose signature does not hold.
    BadInboundSignature = "bad-inbound-signature", 401, "Unsigned inbound message",
        "POST /v1/sms/inbound needs X-Consent-Timestamp (Unix seconds, within 5 minutes) and X-Consent-Signature, the base64url HMAC-SHA256 of `<timestamp>.<body>` under the key given with --sms-inbound-secret.";
    /// Over a request-rate limit.
    RateLimited = "rate-limited", 429, "Too many requests",
        "This client address (or, for POST /v1/leads, this page origin) sent more requests than the verifier's limits allow (--client-rate, --origin-rate; failed admin keys: --admin-failure-rate). Nothing was checked or recorded. Wait the number of seconds the Retry-After header gives, then try again. An honest site stays far below the defaults; a site behind a proxy should name it with --trusted-proxy, so that its visitors are counted apart.";
    /// A revoked admin key.
    RevokedKey = "revoked-key", 403, "API key revoked",
        "This API key was revoked with `consent-verifier admin revoke-key`. Make a new one with `admin create-key`.";
    /// An "open" reported as contact: it is not one.
    OpenIsNotContact = "open-is-not-contact", 422, "Opening a message is not contact",
        "Only a click in a marketing message counts as the prospect's contact and starts the retention period (three years by default) again. Merely opening a message does not: the CNIL counts a click, never an open, as a contact (rule 23, from its référentiel on commercial prospection), and an open is only a tracking pixel that mail programs and privacy protections load on their own. Nothing was recorded. Report a click with {\"kind\": \"click\"}.";
    /// The proof of a lead whose contact data was erased.
    ProofErased = "proof-erased", 410, "Receipt erased with the contact",
        "This lead was withdrawn or refused, and after the configured delay (--erase-contacts-after, 30 days by default) its contact data was erased. The signed receipt names the e-mail address and phone number, so it was erased too, and no proof bundle can be made any more. What stays proves the withdrawal and is shown by GET /v1/admin/leads/{id}: the verifier's seal (the receipt's SHA-256, its id, the lead and the time), every event of the lead in the signed chain, and keyed hashes of the addresses, by which the suppression list still recognises the person.";
    /// A webhook target that is not an absolute http(s) URL.
    BadWebhookUrl = "bad-webhook-url", 422, "Not a webhook URL",
        "A webhook endpoint needs an absolute http:// or https:// URL with a host and no credentials in it (the signature of each delivery authenticates the verifier). The detail says what is wrong.";
    /// A webhook target on a private or loopback address.
    WebhookTargetRefused = "webhook-target-refused", 422, "Webhook target not public",
        "The URL's host is, or resolves to, a loopback, private, link-local or otherwise non-public address. The verifier refuses to call into its own network on an admin key's word (and checks again at every delivery). A deployment whose receivers are on a private network starts the verifier with --webhook-allow-private.";
    /// An event type no webhook has.
    UnknownEventType = "unknown-event-type", 422, "Unknown webhook event type",
        "The event_types of a webhook endpoint must be names from the list in the README (lead.accepted, lead.refused, lead.confirmed, lead.guardian_approved, lead.guardian_refused, lead.withdrawn, lead.renewed, lead.expired, lead.purged, lead.contact_erased, objection.recorded, suppression.lifted, webhook.test), or empty for every type.";
}

impl Code {
    /// Every code: the receipt rules', in rule order, then the verifier's own.
    pub fn all() -> impl Iterator<Item = Code> {
        ErrorKind::ALL.iter().map(|k| Code::Rule(*k)).chain(Code::OWN.iter().copied())
    }

    /// The code with this name.
    pub fn from_code(name: &str) -> Option<Code> {
        Code::all().find(|c| c.info().code == name)
    }

    /// Its HTTP status.
    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.info().status).unwrap_or(StatusCode::BAD_REQUEST)
    }
}

impl From<ErrorKind> for Code {
    fn from(kind: ErrorKind) -> Code {
        Code::Rule(kind)
    }
}

/// An error answer: a code from the table, the status it answers with, and a detail.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    status: StatusCode,
    detail: String,
}

impl ApiError {
    /// An error with the status the table gives its code.
    pub fn new(code: impl Into<Code>, detail: impl Into<String>) -> ApiError {
        let code = code.into();
        ApiError { code, status: code.status(), detail: detail.into() }
    }

    /// The same code, answered with another status. Only `unknown-notice` uses it: asking
    /// for a notice id that does not exist is a 404, naming a version that is not
    /// published (rule 7) a 422, and clients match on the one code.
    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    /// A bad request body or query.
    pub fn malformed(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::MalformedRequest, detail)
    }

    /// Nothing has this id.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::NotFound, detail)
    }

    /// A storage failure: logged with its whole chain, "unavailable" to the client.
    pub fn store(err: StoreError) -> ApiError {
        tracing::error!(error = ?anyhow::Error::from(err), "store failure");
        ApiError::new(Code::Unavailable, "the database is unavailable; nothing was recorded")
    }

    /// A bug or an unexpected failure: logged, "internal error" to the client.
    pub fn internal(err: impl Into<anyhow::Error>) -> ApiError {
        tracing::error!(error = ?err.into(), "internal error");
        ApiError::new(Code::Internal, "internal error")
    }

    /// The code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> ApiError {
        ApiError::new(e.kind(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::store(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let info = self.code.info();
        let body = serde_json::json!({
            "type": format!("/errors/{}", info.code),
            "title": info.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": info.code,
        });
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_distinct_and_found_by_name() {
        let all: Vec<Code> = Code::all().collect();
        for code in &all {
            assert_eq!(Code::from_code(code.info().code), Some(*code));
        }
        let mut names: Vec<&str> = all.iter().map(|c| c.info().code).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn a_rule_keeps_the_status_the_receipt_format_gives_it() {
        assert_eq!(ApiError::from(VerifyError::Replay).status(), StatusCode::CONFLICT);
        assert_eq!(ApiError::new(Code::TokenExpired, "x").status(), StatusCode::GONE);
        assert_eq!(ApiError::new(Code::Unauthorized, "x").status(), StatusCode::UNAUTHORIZED);
    }
}
