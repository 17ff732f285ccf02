//! What a page asks of a widget: `data-*` attributes, or the object given to
//! `ConsentWidget.render(element, options)`.

use wasm_bindgen::prelude::*;
use web_sys::Element;

use crate::dom::{document, window};
use crate::prelude::*;

/// How the widget hands the receipt on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// POST the lead to the verifier, then let the form go on with the receipt in a hidden field.
    Post,
    /// Only put the signed receipt in a hidden field; the site's back end forwards it.
    Field,
    /// A parent's joint consent, on the verifier's guardian page.
    Guardian,
}

/// What guardian mode needs, from the guardian page.
#[derive(Debug, Clone)]
pub struct GuardianOptions {
    /// The single-use token from the parent's mail.
    pub token: String,
    /// The child's receipt id.
    pub for_jti: String,
    /// The child's address, masked.
    pub child: String,
    /// What the child asked for.
    pub granted: Vec<String>,
}

/// Options, from `data-*` attributes or `ConsentWidget.render(el, options)`.
#[derive(Debug, Clone)]
pub struct Options {
    pub notice: String,
    pub verifier: String,
    pub lang: Option<String>,
    pub mode: Mode,
    pub field_name: String,
    pub callback: Option<String>,
    pub error_callback: Option<String>,
    pub email_field: Option<String>,
    pub phone_field: Option<String>,
    /// The sale a soft opt-in rests on (`data-order-ref`); else the notice's `order_field`.
    pub order_ref: Option<String>,
    pub fields: Vec<String>,
    pub guardian: Option<GuardianOptions>,
}

fn list(value: Option<String>) -> Vec<String> {
    value.map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
}

fn fail(text: &str) -> JsValue {
    JsValue::from_str(&["consent-widget: ", text].concat())
}

impl Options {
    /// Options from `ConsentWidget.render`'s object, falling back to the element's `data-*`
    /// attributes (implicit rendering passes no object). `default_verifier` is the origin
    /// the script came from.
    pub fn read(el: &Element, obj: &JsValue, default_verifier: &str) -> Result<Options, JsValue> {
        let read = |key: &str, attr: &str| -> Option<String> {
            let given = if obj.is_object() {
                js_sys::Reflect::get(obj, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
            } else {
                None
            };
            given.or_else(|| el.get_attribute(attr)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
        };
        let mode = match read("mode", "data-mode").as_deref() {
            None | Some("post") => Mode::Post,
            Some("field") => Mode::Field,
            Some("guardian") => Mode::Guardian,
            Some(_) => return Err(fail("mode must be post or field")),
        };
        let guardian = match mode {
            Mode::Guardian => Some(GuardianOptions {
                token: read("guardianToken", "data-guardian-token")
                    .ok_or_else(|| fail("guardian mode needs data-guardian-token"))?,
                for_jti: read("guardianFor", "data-guardian-for")
                    .ok_or_else(|| fail("guardian mode needs data-guardian-for"))?,
                child: read("child", "data-child").unwrap_or_default(),
                granted: list(read("granted", "data-granted")),
            }),
            _ => None,
        };
        let html_lang =
            || document().document_element().and_then(|h| h.get_attribute("lang")).filter(|l| !l.is_empty());
        Ok(Options {
            notice: read("notice", "data-notice").ok_or_else(|| fail("data-notice is required"))?,
            verifier: read("verifier", "data-verifier")
                .unwrap_or_else(|| default_verifier.to_string())
                .trim_end_matches('/')
                .to_string(),
            lang: read("lang", "data-lang").or_else(html_lang).or_else(|| window().navigator().language()),
            mode,
            field_name: read("fieldName", "data-field-name").unwrap_or_else(|| "consent_receipt".into()),
            callback: read("callback", "data-callback"),
            error_callback: read("errorCallback", "data-error-callback"),
            email_field: read("emailField", "data-email-field"),
            phone_field: read("phoneField", "data-phone-field"),
            order_ref: read("orderRef", "data-order-ref"),
            fields: list(read("fields", "data-fields")),
            guardian,
        })
    }
}
