//! The visitor's key and the receipt.
//!
//! The key is an Ed25519 seed from `crypto.getRandomValues`, kept per origin in
//! `localStorage` so that the same browser can later show and withdraw its consents.
//! Where storage is refused (private modes, blocked storage), a key for this page only.
//!
//! The wasm holds no Ed25519 code: [`Signer`] hands the seed and the JWS signing input to
//! the loader, which signs with WebCrypto (the seed imported as a non-extractable key)
//! where the browser has Ed25519, and with the fallback module `widget/sign` elsewhere.
//! Ed25519 is deterministic: both give the same signature, and the receipt is byte for
//! byte what `consent_receipt::Claims::sign` makes from the same seed.

use consent_receipt::{b64, jws};
use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::dom::window;
use crate::prelude::*;

const KEY_ITEM: &str = "consent-widget:visitor-key:v1";

/// Random bytes from the browser's CSPRNG.
pub fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let crypto = window().crypto().expect_throw("crypto.getRandomValues is required");
    crypto.get_random_values_with_u8_array(&mut buf).expect_throw("crypto.getRandomValues failed");
    buf
}

/// The visitor's Ed25519 seed for this origin, created on first use.
pub fn visitor_seed() -> [u8; 32] {
    let storage = window().local_storage().ok().flatten();
    if let Some(storage) = &storage {
        if let Ok(Some(text)) = storage.get_item(KEY_ITEM) {
            if let Some(seed) = b64::decode_array::<32>(&text) {
                return seed;
            }
        }
    }
    let seed = random::<32>();
    if let Some(storage) = storage {
        let _ = storage.set_item(KEY_ITEM, &b64::encode(&seed));
    }
    seed
}

/// The loader's `ed25519(seed, message?)`: a promise of the seed's 32-byte public key
/// without a message, of the message's 64-byte signature with one.
#[derive(Debug, Clone)]
pub struct Signer(Function);

impl Signer {
    pub fn new(ed25519: Function) -> Signer {
        Signer(ed25519)
    }

    async fn call(&self, seed: &[u8; 32], message: Option<&[u8]>) -> Option<Vec<u8>> {
        let message = message.map_or(JsValue::UNDEFINED, |m| Uint8Array::from(m).into());
        let promise = self.0.call2(&JsValue::NULL, &Uint8Array::from(&seed[..]), &message).ok()?;
        let bytes = JsFuture::from(Promise::resolve(&promise)).await.ok()?;
        Some(bytes.dyn_into::<Uint8Array>().ok()?.to_vec())
    }

    /// Signs with the visitor's key: `input` makes the JWS signing input from the public
    /// key, and the compact JWS comes back. `None` when the browser could not sign (the
    /// fallback module could not be fetched).
    pub async fn sign(&self, input: impl FnOnce(&[u8; 32]) -> String) -> Option<String> {
        let seed = visitor_seed();
        let public: [u8; 32] = self.call(&seed, None).await?.try_into().ok()?;
        let input = input(&public);
        let signature: [u8; 64] = self.call(&seed, Some(input.as_bytes())).await?.try_into().ok()?;
        Some(jws::with_signature(input, &signature))
    }
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
