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
  // First: the API exists at once; what is called before the wasm runs waits in a queue.
  var api = window.ConsentWidget || (window.ConsentWidget = {});
  var startedAt = performance.now();
  var script = document.currentScript;
  var src = (script && script.src) || location.href;
  var url = function (name) { return new URL(name, src); };
  var glue = __consentWidgetWasm;
  var subtle = window.crypto && crypto.subtle;
  var ED = "Ed25519";
  var get = function (name, sri) {
    return fetch(url(name), { integrity: sri, credentials: "omit", mode: "cors" });
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
  // Ids are given here, so that render() answers at once, before the wasm runs too; the
  // element carries its id (data-cw-id) from render() to remove().
  var w, queue = [], n = 0, els = {};
  var call = function (name, args) { return w ? w[name].apply(w, args) : queue.push([name, args]); };
  var ATTR = "data-cw-id", SEL = ".consent-widget[data-notice]:not([data-cw-id])";
  api.startedAt = startedAt;
  api.render = function (target, options) {
    var el = typeof target == "string" ? document.querySelector(target) : target;
    if (!el || !el.setAttribute) { throw new Error("consent-widget: render needs an element or a selector that matches one"); }
    var id = el.getAttribute(ATTR);
    if (!id) {
      id = "cw-" + ++n;
      el.setAttribute(ATTR, id);
      els[id] = el;
      try { call("render", [el, options, id]); } catch (e) { api.remove(id); throw e; }
    }
    return id;
  };
  // Removing while the notice loads aborts its request; the element may be rendered again at once.
  api.remove = function (id) {
    var el = els[id];
    if (el && el.getAttribute(ATTR) == id) { el.removeAttribute(ATTR); }
    delete els[id];
    call("remove", [id]);
  };
  api.reset = function (id) { call("reset", [id]); };
  api.getReceipt = function (id) { return (w && w.getReceipt(id)) || null; };
  // Containers in the page render by themselves, also those a single-page app adds later;
  // those it takes out of the document are removed with their listeners.
  var each = function (node, selector, f) {
    if (node.nodeType == 1) {
      if (node.matches(selector)) { f(node); }
      node.querySelectorAll(selector).forEach(f);
    }
  };
  var implicit = function (el) { try { api.render(el); } catch (e) { console.error(e); } };
  var watch = function () {
    each(document.documentElement, SEL, implicit);
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        r.removedNodes.forEach(function (node) {
          if (!node.isConnected) { each(node, "[" + ATTR + "]", function (el) { api.remove(el.getAttribute(ATTR)); }); }
        });
        r.addedNodes.forEach(function (node) { each(node, SEL, implicit); });
      });
    }).observe(document, { childList: true, subtree: true });
  };
  if (document.readyState == "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
  api.ready = get("widget_bg.wasm", "__WASM_SRI__")
    .then(function (response) { return glue({ module_or_path: response }); })
    .then(function () {
      w = glue.boot(src, ed25519);
      queue.forEach(function (c) {
        try { w[c[0]].apply(w, c[1]); } catch (e) { console.error(e); if (c[0] == "render") { api.remove(c[1][2]); } }
      });
      queue = null;
      return api;
    });
  api.ready["catch"](function (e) { console.error("consent-widget: could not start:", e); });
})();
