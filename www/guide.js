/* Fills the embedding guide with this verifier's address and the current build's SRI hash. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var origin = location.origin;
  document.querySelectorAll("[data-origin]").forEach(function (el) {
    el.textContent = el.textContent.split("https://consent.example.com").join(origin);
  });
  fetch("/widget/build.json", { credentials: "omit" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (build) {
      var js = build.files["widget.js"];
      var wasm = build.files["widget_bg.wasm"];
      document.querySelectorAll("[data-sri]").forEach(function (el) {
        el.textContent = el.textContent.split("sha384-…").join(js.integrity);
      });
      var sign = build.files["sign_bg.wasm"];
      var size = document.getElementById("size");
      size.textContent = "widget.js " + (js.gzip / 1024).toFixed(1) + " KB + widget_bg.wasm " +
        (wasm.gzip / 1024).toFixed(1) + " KB gzipped (version " + build.version + ")" +
        (sign ? "; browsers without WebCrypto Ed25519 also fetch sign_bg.wasm, " + (sign.gzip / 1024).toFixed(1) + " KB." : ".");
    })
    ["catch"](function () {
      document.getElementById("size").textContent = "The widget is not built on this server yet: run cargo xtask dist.";
    });
});
