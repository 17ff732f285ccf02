/* consent-widget loader: starts the WebAssembly widget that sits next to this script.
 * The wasm is fetched with its own integrity hash, so the SRI hash of this file
 * vouches for the whole widget. */
;(function () {
  "use strict";
  var startedAt = performance.now();
  var script = document.currentScript;
  var src = (script && script.src) || location.href;
  var api = window.ConsentWidget || (window.ConsentWidget = {});
  var glue = __consentWidgetWasm;
  api.startedAt = startedAt;
  api.ready = fetch(new URL("widget_bg.wasm", src), { integrity: "__WASM_SRI__", credentials: "omit", mode: "cors" })
    .then(function (response) { return glue({ module_or_path: response }); })
    .then(function () {
      api.render = glue.render;
      api.getReceipt = glue.getReceipt;
      api.reset = glue.reset;
      api.remove = glue.remove;
      glue.boot(src);
      return api;
    });
  api.ready["catch"](function (e) { console.error("consent-widget: could not start:", e); });
})();
