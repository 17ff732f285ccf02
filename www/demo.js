/* The demo shop's own script: what a site does around the widget. No inline script
   anywhere: the page runs under script-src 'self' 'wasm-unsafe-eval'. */
"use strict";

// First thing on the page: record Content-Security-Policy violations, so that the page
// (and the browser tests) can show there are none.
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || ""));
});

document.addEventListener("DOMContentLoaded", function () {
  var fr = document.documentElement.lang === "fr";
  var form = document.getElementById("signup");
  var result = document.getElementById("result");
  var log = document.getElementById("log-list");
  var accepted = null;

  function note(text) {
    var li = document.createElement("li");
    li.textContent = text;
    log.appendChild(li);
  }

  ["ready", "change", "signed", "accepted", "confirmed", "error"].forEach(function (name) {
    form.addEventListener("consent:" + name, function (e) {
      var d = e.detail || {};
      if (name === "accepted") {
        accepted = d;
        note("consent:accepted — lead " + d.lead_id + ", " + d.status);
      } else if (name === "signed") {
        note("consent:signed — " + (fr ? "reçu signé, " : "signed receipt, ") + d.receipt.length + (fr ? " caractères" : " characters"));
      } else if (name === "confirmed") {
        note("consent:confirmed — lead " + d.lead_id + ", " + d.status);
      } else if (name === "ready") {
        note("consent:ready — " + d.notice + " v" + d.version + " (" + d.lang + ")");
      } else if (name === "change") {
        note("consent:change — " + (d.purpose ? d.purpose + " = " + d.granted + (d.trusted ? "" : " (script)") : "minor = " + d.minor));
      } else {
        note("consent:error — " + d.code + ": " + d.message);
      }
    });
  });

  // The widget has signed (and, in post mode, recorded) the consent before this runs: the
  // site's own handler sees the form as its back end would.
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = new FormData(form);
    var receipt = data.get("consent_receipt") || "";
    result.replaceChildren();
    var h = document.createElement("h2");
    h.textContent = form.getAttribute("data-done") || (fr ? "Compte créé (démo)" : "Account created (demo)");
    result.appendChild(h);
    var lines = [
      (fr ? "Adresse : " : "Address: ") + (data.get("email") || ""),
      (fr ? "Mobile : " : "Mobile: ") + (data.get("phone") || "—"),
      (fr ? "Consentement : " : "Consent: ") + (accepted ? accepted.status : (fr ? "rien à enregistrer" : "nothing to record")),
      (fr ? "Lead : " : "Lead: ") + (accepted ? accepted.lead_id : "—"),
      (fr ? "Reçu signé transmis au serveur du site : " : "Signed receipt sent to the site's server: ") +
        (receipt ? receipt.length + (fr ? " caractères" : " characters") : (fr ? "aucun" : "none"))
    ];
    lines.forEach(function (t) {
      var p = document.createElement("p");
      p.textContent = t;
      result.appendChild(p);
    });
    result.hidden = false;
    result.focus();
  });
});
