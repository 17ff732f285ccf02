//! Who signs in the browser: WebCrypto's Ed25519 where the browser has it, the fallback
//! module `sign_bg.wasm` where it does not. Either way the receipt is the visitor's seed's
//! (kept in localStorage) and the verifier accepts it.

use consent_receipt::{SigningKey, VerifiedReceipt, b64};
use ed25519_dalek::Signer;

use crate::support::*;

/// What a browser without WebCrypto Ed25519 does: refuses the algorithm by name, as
/// Chromium before 137 did (`NotSupportedError`). Runs before the page's scripts.
const HIDE_ED25519: &str = r#"(() => {
  const s = SubtleCrypto.prototype;
  const named = a => /^ed25519$/i.test(typeof a === "string" ? a : (a && a.name) || "");
  for (const [method, at] of [["importKey", 2], ["generateKey", 0], ["sign", 0], ["verify", 0]]) {
    const real = s[method];
    s[method] = function (...args) {
      return named(args[at])
        ? Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"))
        : real.apply(this, args);
    };
  }
})();"#;

/// Signs up with one box ticked and returns the stored receipt, checked.
async fn sign_up(site: &Site, email: &str) -> String {
    site.type_into("#email", email).await;
    site.click("#cw-1-age-adult").await;
    site.click("#cw-1-p0").await;
    site.submit_and_wait_for_result().await;
    let stored = site.stored().await;
    assert_eq!(stored.len(), 1, "the verifier accepted the lead");
    assert_eq!(stored[0].status, "pending_confirmation");
    site.js("return ConsentWidget.getReceipt('cw-1')").await.as_str().unwrap().to_string()
}

/// The receipt is signed by the seed this browser keeps, and its signature is the one
/// ed25519-dalek makes from that seed (Ed25519 is deterministic).
async fn assert_signed_by_the_kept_seed(site: &Site, receipt: &str) {
    let verified = VerifiedReceipt::verify(receipt).unwrap();
    let kept = site.js("return localStorage.getItem('consent-widget:visitor-key:v1')").await;
    let seed: [u8; 32] = b64::decode_array(kept.as_str().unwrap()).unwrap();
    let key = SigningKey::from_bytes(&seed);
    assert_eq!(verified.key(), &key.verifying_key(), "the receipt's jwk is the kept seed's public key");
    let (input, signature) = receipt.rsplit_once('.').unwrap();
    assert_eq!(signature, b64::encode(&key.sign(input.as_bytes()).to_bytes()), "the same signature as dalek's");
}

async fn fetched_the_fallback(site: &Site) -> bool {
    site.js("return performance.getEntriesByType('resource').some(e => e.name.endsWith('/widget/sign_bg.wasm'))")
        .await
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn where_webcrypto_has_ed25519_it_signs_the_receipt_the_verifier_accepts() {
    let site = Site::start().await;
    site.open("/en/").await;
    site.browser.wait_until("ConsentWidget.signer", WAIT).await.unwrap();
    assert_eq!(site.js("return ConsentWidget.signer").await, "webcrypto", "this Chromium has WebCrypto Ed25519");

    let receipt = sign_up(&site, "alice@example.org").await;

    assert_signed_by_the_kept_seed(&site, &receipt).await;
    assert!(!fetched_the_fallback(&site).await, "the fallback signer is not downloaded where it is not needed");
    site.close().await;
}

#[tokio::test]
async fn without_webcrypto_ed25519_the_fallback_module_signs_the_receipt_the_verifier_accepts() {
    let site = Site::start().await;
    site.browser.on_new_document(HIDE_ED25519).await.unwrap();
    site.open("/en/").await;
    site.browser.wait_until("ConsentWidget.signer", WAIT).await.unwrap();
    assert_eq!(site.js("return ConsentWidget.signer").await, "fallback");

    let receipt = sign_up(&site, "bob@example.org").await;

    assert!(fetched_the_fallback(&site).await, "sign_bg.wasm was fetched");
    assert_signed_by_the_kept_seed(&site, &receipt).await;
    site.close().await;
}

#[tokio::test]
async fn webcrypto_and_the_fallback_module_give_the_same_signature() {
    let site = Site::start().await;
    site.open("/en/").await;
    // The page's own WebCrypto and the shipped fallback module, on one seed and message,
    // as loader.js calls them.
    let script = r#"
        const done = arguments[arguments.length - 1];
        const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
        const message = new TextEncoder().encode("eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ");
        const der = new Uint8Array(48);
        der.set([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32]);
        der.set(seed, 16);
        const hex = b => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join("");
        (async () => {
          const key = await crypto.subtle.importKey("pkcs8", der, "Ed25519", false, ["sign"]);
          const web = hex(await crypto.subtle.sign("Ed25519", key, message));
          const bytes = await (await fetch("/widget/sign_bg.wasm")).arrayBuffer();
          const e = (await WebAssembly.instantiate(bytes)).instance.exports;
          const at = e.io(), m = new Uint8Array(e.memory.buffer);
          m.set(seed, at); m.set(message, at + 32);
          const ok = e.sign(message.length);
          return [web, ok ? hex(m.slice(at, at + 64)) : "refused"];
        })().then(done, e => done(["error", String(e)]));
    "#;
    let both = site.browser.client.execute_async(script, vec![]).await.unwrap();
    let seed: [u8; 32] = std::array::from_fn(|i| (i * 7 + 1) as u8);
    let dalek = SigningKey::from_bytes(&seed).sign(b"eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ").to_bytes();
    let hex: String = dalek.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(both, serde_json::json!([hex, hex]), "WebCrypto, the fallback module and dalek agree");
    site.close().await;
}
