//! The visitor's key and the receipt.
//!
//! The key is an Ed25519 seed from `crypto.getRandomValues`, kept per origin in
//! `localStorage` so that the same browser can later show and withdraw its consents.
//! Where storage is refused (private modes, blocked storage), a key for this page only.

use consent_receipt::{SigningKey, b64};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::dom::window;

const KEY_ITEM: &str = "consent-widget:visitor-key:v1";

/// Random bytes from the browser's CSPRNG.
pub fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let crypto = window().crypto().expect_throw("crypto.getRandomValues is required");
    crypto.get_random_values_with_u8_array(&mut buf).expect_throw("crypto.getRandomValues failed");
    buf
}

/// The visitor's key for this origin, created on first use.
pub fn visitor_key() -> SigningKey {
    let storage = window().local_storage().ok().flatten();
    if let Some(storage) = &storage {
        if let Ok(Some(text)) = storage.get_item(KEY_ITEM) {
            if let Some(seed) = b64::decode_array::<32>(&text) {
                return SigningKey::from_bytes(&seed);
            }
        }
    }
    let seed = random::<32>();
    if let Some(storage) = storage {
        let _ = storage.set_item(KEY_ITEM, &b64::encode(&seed));
    }
    SigningKey::from_bytes(&seed)
}

/// A new receipt id.
pub fn new_jti() -> String {
    b64::encode(&random::<16>())
}

const RECEIPTS_ITEM: &str = "consent-widget:receipts:v1";

/// A consent this browser gave, remembered so that it can be withdrawn from here.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub jti: String,
    pub notice: String,
    pub granted: Vec<String>,
    pub at: i64,
}

fn load() -> js_sys::Array {
    window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(RECEIPTS_ITEM).ok().flatten())
        .and_then(|t| js_sys::JSON::parse(&t).ok())
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
        .unwrap_or_default()
}

fn save(list: &js_sys::Array) {
    if let (Some(storage), Ok(text)) = (window().local_storage().ok().flatten(), js_sys::JSON::stringify(list)) {
        let _ = storage.set_item(RECEIPTS_ITEM, &String::from(text));
    }
}

fn field(v: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

/// Keeps the receipt id and what it granted (no contact data).
pub fn remember(jti: &str, notice: &str, granted: &[String], at: i64) {
    if jti.is_empty() || granted.is_empty() {
        return;
    }
    let list = load();
    let granted: js_sys::Array = granted.iter().map(|g| JsValue::from_str(g)).collect();
    list.push(&crate::dom::object(&[
        ("jti", jti.into()),
        ("notice", notice.into()),
        ("granted", granted.into()),
        ("at", JsValue::from_f64(at as f64)),
    ]));
    save(&list);
}

/// The consents this browser gave for a notice.
pub fn remembered(notice: &str) -> Vec<Remembered> {
    load()
        .iter()
        .filter(|v| field(v, "notice").as_string().as_deref() == Some(notice))
        .filter_map(|v| {
            Some(Remembered {
                jti: field(&v, "jti").as_string()?,
                notice: notice.to_string(),
                granted: field(&v, "granted")
                    .dyn_into::<js_sys::Array>()
                    .ok()?
                    .iter()
                    .filter_map(|g| g.as_string())
                    .collect(),
                at: field(&v, "at").as_f64()? as i64,
            })
        })
        .collect()
}

/// Forgets a withdrawn consent.
pub fn forget(jti: &str) {
    let kept: js_sys::Array = load().iter().filter(|v| field(v, "jti").as_string().as_deref() != Some(jti)).collect();
    save(&kept);
}
