/* consent-widget loader: starts the WebAssembly widget that sits next to this script.
 * The wasm is fetched with its own integrity hash, so the SRI hash of this file
 * vouches for the whole widget, the fallback signer included.
 *
 * Signing: the widget hands ed25519(seed, message?) the visitor's seed and the JWS
 * signing input. Where WebCrypto has Ed25519 (detected once, at load) the seed is
 * imported as a non-extractable key (PKCS#8: a fixed 16-byte prefix, then the seed);
 * its public key comes from one extractable import, exported as a JWK. Elsewhere the
 * fallback module sign_bg.wasm (ed25519-dalek) is fetched, SRI-pinned, and signs. */
;(function () {
  "use strict";
  var startedAt = performance.now();
  var script = document.currentScript;
  var src = (script && script.src) || location.href;
  var api = window.ConsentWidget || (window.ConsentWidget = {});
  var glue = __consentWidgetWasm;
  var subtle = window.crypto && crypto.subtle;
  var ED = "Ed25519";
  var get = function (name, sri) {
    return fetch(new URL(name, src), { integrity: sri, credentials: "omit", mode: "cors" });
  };
  var pkcs8 = function (seed) {
    var der = new Uint8Array(48);
    der.set([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32]);
    der.set(seed, 16);
    return der;
  };
  var importKey = function (seed, extractable) {
    return subtle.importKey("pkcs8", pkcs8(seed), ED, extractable, ["sign"]);
  };
  // One import and one signature with a throwaway seed: true where both work.
  var native = Promise.resolve()
    .then(function () { return importKey(new Uint8Array(32), false); })
    .then(function (k) { return subtle.sign(ED, k, new Uint8Array(0)); })
    .then(function () { return true; }, function () { return false; });
  var fallback;
  var signer = function () {
    return fallback || (fallback = get("sign_bg.wasm", "__SIGN_SRI__")
      .then(function (r) { return r.arrayBuffer(); })
      .then(function (b) { return WebAssembly.instantiate(b); })
      .then(function (m) { return m.instance.exports; }));
  };
  var keys = {};
  var webCrypto = function (seed, message) {
    var id = seed.join();
    var key = keys[id] || (keys[id] = Promise.all([
      importKey(seed, false),
      importKey(seed, true).then(function (k) { return subtle.exportKey("jwk", k); }).then(function (jwk) {
        var x = atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/"));
        return Uint8Array.from(x, function (c) { return c.charCodeAt(0); });
      })
    ]));
    return key.then(function (k) {
      return message ? subtle.sign(ED, k[0], message).then(function (s) { return new Uint8Array(s); }) : k[1];
    });
  };
  var dalek = function (seed, message) {
    return signer().then(function (e) {
      var at = e.io(), m = new Uint8Array(e.memory.buffer);
      m.set(seed, at);
      if (!message) { e.public_key(); return m.slice(at, at + 32); }
      m.set(message, at + 32);
      if (!e.sign(message.length)) { throw new Error("message too long"); }
      return m.slice(at, at + 64);
    });
  };
  native.then(function (yes) { api.signer = yes ? "webcrypto" : "fallback"; if (!yes) { signer(); } });
  var ed25519 = function (seed, message) {
    return native.then(function (yes) { return (yes ? webCrypto : dalek)(seed, message); });
  };
  api.startedAt = startedAt;
  api.ready = get("widget_bg.wasm", "__WASM_SRI__")
    .then(function (response) { return glue({ module_or_path: response }); })
    .then(function () {
      var w = glue.boot(src, ed25519);
      api.render = function (element, options) { return w.render(element, options); };
      api.getReceipt = function (id) { return w.getReceipt(id); };
      api.reset = function (id) { w.reset(id); };
      api.remove = function (id) { w.remove(id); };
      return api;
    });
  api.ready["catch"](function (e) { console.error("consent-widget: could not start:", e); });
})();
