//! The visitor's key and the receipt.
//!
//! The key is an Ed25519 seed from `crypto.getRandomValues`, kept per origin in
//! `localStorage` so that the same browser can later show and withdraw its consents.
//! Where storage is refused (private modes, blocked storage), a key for this page only.

use consent_receipt::{SigningKey, b64};
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
