//! Talking to the verifier: `fetch`, JSON from the browser's own parser, never cookies.

use consent_receipt::LegalBasis;
use js_sys::{Array, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Request, RequestCredentials, RequestInit, RequestMode, Response};

use crate::dom::window;
use crate::prelude::*;

/// One purpose, as the widget shows it.
#[derive(Debug, Clone)]
pub struct Purpose {
    pub id: String,
    pub label: String,
    pub text: String,
    pub child_text: String,
    pub recipients: Vec<String>,
    /// Its one channel: `email` or `sms`.
    pub channel: String,
    /// Its legal basis. On soft opt-in, B2B and non-commercial the box is an objection box.
    pub basis: LegalBasis,
    /// The form field the basis needs read: the order reference (soft opt-in) or the job
    /// function (B2B).
    pub field: Option<String>,
}

/// The parts of the notice the widget shows. The receipt names the whole notice by
/// its digest; the verifier holds the text.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: String,
    pub version: u32,
    pub lang: String,
    pub title: String,
    pub jurisdiction: String,
    pub age_of_consent: u8,
    pub controller_name: String,
    pub controller_address: String,
    pub controller_contact: String,
    pub dpo: String,
    pub data: String,
    pub purposes: Vec<Purpose>,
    pub legitimate_interests: Option<String>,
    pub transfers: String,
    pub retention: String,
    pub rights: String,
    pub withdrawal: String,
    pub complaint: String,
    pub provision: String,
    pub automated_decisions: String,
    pub child_guardian_text: String,
    pub policy_url: String,
}

/// `GET /v1/notices/{id}`'s answer.
#[derive(Debug, Clone)]
pub struct NoticeAnswer {
    pub notice: Notice,
    pub digest: String,
    pub nonce: String,
    pub origin: String,
    pub audience: String,
    /// The verifier's clock when it answered: receipts are timed on it, not on the
    /// visitor's clock, which may be wrong by hours.
    pub now: i64,
}

/// `POST /v1/leads`'s answer.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub lead_id: String,
    pub status: String,
    pub seal: String,
}

/// Reads fields of a JSON value the browser parsed, without a deserialiser in the wasm.
struct Obj(JsValue);

impl Obj {
    fn get(&self, key: &str) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }
    /// A string field; empty when absent (the verifier always sends every text).
    fn text(&self, key: &str) -> String {
        self.get(key).as_string().unwrap_or_default()
    }
    fn maybe(&self, key: &str) -> Option<String> {
        self.get(key).as_string()
    }
    fn number(&self, key: &str) -> f64 {
        self.get(key).as_f64().unwrap_or(0.0)
    }
    fn obj(&self, key: &str) -> Obj {
        Obj(self.get(key))
    }
    fn list(&self, key: &str) -> Vec<Obj> {
        self.get(key).dyn_into::<Array>().map(|a| a.iter().map(Obj).collect()).unwrap_or_default()
    }
}

fn read_answer(json: JsValue) -> Option<NoticeAnswer> {
    let a = Obj(json);
    let n = a.obj("notice");
    let c = n.obj("controller");
    let purposes: Vec<Purpose> = n
        .list("purposes")
        .into_iter()
        .map(|p| Purpose {
            id: p.text("id"),
            label: p.text("label"),
            text: p.text("text"),
            child_text: p.text("child_text"),
            recipients: p.list("recipients").into_iter().filter_map(|r| r.0.as_string()).collect(),
            channel: p.list("channels").first().and_then(|c| c.0.as_string()).unwrap_or_default(),
            basis: match p.text("legal_basis").as_str() {
                "soft_opt_in" => LegalBasis::SoftOptIn,
                "b2b" => LegalBasis::B2b,
                "non_commercial" => LegalBasis::NonCommercial,
                _ => LegalBasis::Consent,
            },
            field: p.maybe("order_field").or_else(|| p.maybe("job_field")),
        })
        .collect();
    let answer = NoticeAnswer {
        notice: Notice {
            id: n.text("id"),
            version: n.number("version") as u32,
            lang: n.text("lang"),
            title: n.text("title"),
            jurisdiction: n.text("jurisdiction"),
            age_of_consent: n.number("age_of_consent") as u8,
            controller_name: c.text("name"),
            controller_address: c.text("address"),
            controller_contact: c.text("contact"),
            dpo: c.text("dpo"),
            data: n.text("data"),
            purposes,
            legitimate_interests: n.maybe("legitimate_interests"),
            transfers: n.text("transfers"),
            retention: n.text("retention"),
            rights: n.text("rights"),
            withdrawal: n.text("withdrawal"),
            complaint: n.text("complaint"),
            provision: n.text("provision"),
            automated_decisions: n.text("automated_decisions"),
            child_guardian_text: n.text("child_guardian_text"),
            policy_url: n.text("policy_url"),
        },
        digest: a.text("digest"),
        nonce: a.text("nonce"),
        origin: a.text("origin"),
        audience: a.text("audience"),
        now: a.number("now") as i64,
    };
    // What the receipt cannot be made without.
    let complete = !answer.notice.id.is_empty()
        && !answer.notice.purposes.is_empty()
        && !answer.digest.is_empty()
        && !answer.nonce.is_empty()
        && answer.now > 0;
    complete.then_some(answer)
}

/// Why a call failed: the verifier's problem `code`, or `network`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: String,
    pub status: u16,
    pub detail: String,
}

impl ApiError {
    fn network(detail: &str) -> ApiError {
        ApiError { code: "network".into(), status: 0, detail: detail.into() }
    }
}

async fn fetch_json(url: &str, body: Option<&str>, signal: Option<&AbortSignal>) -> Result<(u16, JsValue), ApiError> {
    let init = RequestInit::new();
    init.set_signal(signal);
    init.set_mode(RequestMode::Cors);
    // Consent must not ride on, or create, any cookie.
    init.set_credentials(RequestCredentials::Omit);
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(body));
        let headers = web_sys::Headers::new().map_err(|_| ApiError::network("headers"))?;
        let _ = headers.set("content-type", "application/json");
        init.set_headers(&headers);
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(|_| ApiError::network("bad verifier URL"))?;
    let response: Response = JsFuture::from(window().fetch_with_request(&request))
        .await
        .map_err(|_| ApiError::network("the verifier could not be reached"))?
        .unchecked_into();
    let status = response.status();
    let json = match response.json() {
        Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    };
    Ok((status, json))
}

fn problem(status: u16, json: &JsValue) -> ApiError {
    let body = Obj(json.clone());
    ApiError {
        code: body.maybe("code").unwrap_or_else(|| if status >= 500 { "unavailable".into() } else { "unknown".into() }),
        status,
        detail: body.maybe("detail").unwrap_or_default(),
    }
}

/// The notice, its digest and a fresh nonce for this page's origin; `signal` aborts it.
pub async fn notice(
    verifier: &str,
    id: &str,
    lang: Option<&str>,
    origin: &str,
    signal: Option<&AbortSignal>,
) -> Result<NoticeAnswer, ApiError> {
    let mut url = [verifier, "/v1/notices/", &encode(id), "?origin=", &encode(origin)].concat();
    if let Some(lang) = lang {
        url.push_str("&lang=");
        url.push_str(&encode(lang));
    }
    let (status, json) = fetch_json(&url, None, signal).await?;
    if status != 200 {
        return Err(problem(status, &json));
    }
    read_answer(json).ok_or_else(|| ApiError { code: "bad-answer".into(), status, detail: "incomplete notice".into() })
}

/// Posts JSON to the verifier (`/v1/leads`, `/v1/guardian-approvals`, `/v1/withdrawals`);
/// a 2xx answer's `lead_id`, `status` and `seal` (empty when absent).
pub async fn post_json(verifier: &str, path: &str, body: &str) -> Result<Accepted, ApiError> {
    let (status, json) = fetch_json(&[verifier, path].concat(), Some(body), None).await?;
    if !(200..300).contains(&status) {
        return Err(problem(status, &json));
    }
    let a = Obj(json);
    Ok(Accepted { lead_id: a.text("lead_id"), status: a.text("status"), seal: a.text("seal") })
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
