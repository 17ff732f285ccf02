/* The proof checker's page: reads what the person drops or pastes, hands it to the
   consent-receipt crate compiled to WebAssembly (verify/check.js, which embeds the module
   so that the page works from disk), and shows its answer. The network is used only by the
   "Fetch the key set" button. Every word comes from the page's #words block. */
"use strict";
(function () {
  var words = {};
  var jwks = "";

  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  function time(t) { return new Date(t * 1000).toISOString().replace(".000Z", "Z"); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function row(dl, term, value) {
    dl.appendChild(el("dt", term));
    var dd = el("dd");
    if (Array.isArray(value)) {
      var ul = el("ul");
      value.forEach(function (v) { ul.appendChild(el("li", v)); });
      dd.appendChild(ul);
    } else {
      dd.textContent = value;
    }
    dl.appendChild(dd);
  }
  function confirmedBy(by) { return say({ link: "by_link", code: "by_code", reply: "by_reply" }[by] || by); }

  function exactText(notice) {
    var details = el("details");
    details.appendChild(el("summary", say("exact_text")));
    var dl = el("dl");
    row(dl, say("controller"), notice.controller.name + ", " + notice.controller.address);
    row(dl, say("data"), notice.data);
    notice.purposes.forEach(function (p) {
      row(dl, p.label, p.text + " — " + say("purpose_recipients") + ": " + p.recipients.join("; "));
    });
    row(dl, say("withdrawal"), notice.withdrawal);
    row(dl, say("rights"), notice.rights);
    row(dl, say("retention"), notice.retention);
    details.appendChild(dl);
    return details;
  }

  function bundle(a, out) {
    out.appendChild(el("h2", say("holds", { lead: a.lead_id })));
    var dl = el("dl");
    row(dl, say("who"), a.who.filter(Boolean).join(", "));
    var n = a.notice;
    row(dl, say("shown"), say("shown_notice", { id: n.id, version: n.version, lang: n.lang, title: n.title }));
    row(dl, say("when"), say("signed_on", { at: time(a.signed.at), page: a.signed.page }));
    var label = function (p) { return p.id + " — " + p.label; };
    if (a.granted.length) { row(dl, say("granted"), a.granted.map(label)); }
    if (a.refused.length) { row(dl, say("refused"), a.refused.map(label)); }
    if (a.minor) {
      var at = a.minor.parent_agreed_at;
      row(dl, say("minor"), at ? say("parent_agreed", { at: time(at) }) : say("no_parent"));
    }
    row(dl, say("double_opt_in"), a.confirmed.length ? a.confirmed.map(function (c) {
      var proved = c.channel === "email" ? ", " + say("proves_email") : c.channel === "sms" ? ", " + say("proves_phone") : "";
      return say("confirmed_at", { at: time(c.at), by: confirmedBy(c.by) + proved });
    }) : say("not_confirmed"));
    if (a.withdrawals.length) {
      row(dl, say("withdrawn"), a.withdrawals.map(function (w) {
        return say("withdrawn_at", { at: time(w.at), purposes: w.purposes.join(", "), source: w.source });
      }));
    }
    a.objections.forEach(function (o) {
      row(dl, say("objection"), say("objection_at", { at: time(o.at), source: o.source, scope: o.scope, channel: o.channel }));
    });
    row(dl, say("status"), a.status);
    row(dl, say("history"), a.history.map(function (h) { return h.kind + " (" + time(h.at) + ")"; }));
    if (a.log) { row(dl, say("log"), say("log_holds", { origin: a.log.origin, size: a.log.size })); }
    if (a.witnessed && a.witnessed.given > 0) {
      row(dl, say("witnesses"), say("witnessed", a.witnessed));
    } else if (a.cosigners && a.cosigners.length) {
      row(dl, say("witnesses"), say("cosigners", { names: a.cosigners.join(", ") }));
    }
    row(dl, say("checkpoint"), say("checkpoint_of", { events: a.checkpoint.events, at: time(a.checkpoint.at), kids: a.kids.join(", ") }));
    out.appendChild(dl);
    out.appendChild(el("p", say(a.keys_from_bundle ? "keys_inside" : "keys_loaded"), "hint"));
    out.appendChild(exactText(n));
  }

  function receipt(a, out) {
    var r = a.receipt;
    var dl = el("dl");
    if (r) {
      out.appendChild(el("h2", say("receipt_holds", { jti: r.jti, key: r.key })));
      row(dl, say("who"), r.who.filter(Boolean).join(", "));
      row(dl, say("when"), say("signed_on", { at: time(r.signed.at), page: r.signed.page }));
      row(dl, say("shown"), say("notice_ref", r.notice));
      r.decisions.forEach(function (d) {
        var key = d.objected === true ? "decision_objected" : d.objected === false ? "decision_not_objected"
          : d.granted ? "decision_granted" : "decision_refused";
        row(dl, d.purpose, say(key, { at: time(d.at) }));
      });
      var yn = function (b) { return say(b ? "yes" : "no"); };
      row(dl, say("evidence"), say("evidence_text", { unticked: yn(r.unticked), gesture: yn(r.gesture), minor: yn(r.minor) }));
    }
    if (a.seal) {
      var s = a.seal;
      row(dl, say("seal"), s.checked
        ? say("seal_holds", { kid: s.kid, lead: s.lead_id, status: s.status, at: time(s.at) }) + (s.of_this_receipt ? say("seal_of_this") : "")
        : say("seal_unchecked"));
    }
    out.appendChild(dl);
  }

  function show(answer) {
    var out = document.getElementById("result");
    out.textContent = "";
    out.hidden = false;
    out.className = "verdict" + (answer.ok ? "" : " bad");
    if (!answer.ok) {
      var head = answer.rule ? say("failed_rule", { rule: answer.rule }) : say("failed");
      out.appendChild(el("h2", head + (answer.code ? " (" + answer.code + (answer.title ? ": " + answer.title : "") + ")" : "")));
      out.appendChild(el("p", answer.message));
      if (answer.text) { out.appendChild(el("p", answer.text, "hint")); }
    } else if (answer.kind === "bundle") {
      bundle(answer, out);
    } else {
      receipt(answer, out);
    }
    out.setAttribute("data-verdict", answer.ok ? "holds" : "failed");
    if (out.scrollIntoView) { out.scrollIntoView({ block: "start" }); }
  }

  function run() {
    var input = document.getElementById("input").value;
    var seal = document.getElementById("seal").value;
    var witnesses = document.getElementById("witnesses").value;
    if (!window.consentCheckReady) { show({ ok: false, message: say("not_ready") }); return; }
    window.consentCheckReady.then(function (check) {
      show(JSON.parse(check(input, seal, jwks, witnesses)));
    }, function (e) { show({ ok: false, message: say("not_ready") + " (" + e + ")" }); });
  }

  function readFile(file) {
    var status = document.getElementById("result");
    status.hidden = false;
    status.className = "verdict";
    status.textContent = say("reading", { name: file.name });
    var reader = new FileReader();
    reader.onload = function () { document.getElementById("input").value = String(reader.result); run(); };
    reader.onerror = function () { show({ ok: false, message: say("cannot_read") }); };
    reader.readAsText(file);
  }

  function fetchKeys() {
    var url = document.getElementById("jwks-url").value.trim();
    var status = document.getElementById("jwks-status");
    if (!url) { status.textContent = say("jwks_needs_url"); return; }
    fetch(url, { credentials: "omit" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (text) {
        var keys = JSON.parse(text).keys;
        if (!Array.isArray(keys)) { throw new Error("no keys"); }
        jwks = text;
        status.textContent = say("jwks_loaded", { n: keys.length });
      })["catch"](function (e) { status.textContent = say("jwks_failed", { why: e.message }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    words = JSON.parse(document.getElementById("words").textContent);
    document.getElementById("check").addEventListener("submit", function (e) { e.preventDefault(); run(); });
    document.getElementById("fetch-jwks").addEventListener("click", fetchKeys);
    document.getElementById("file").addEventListener("change", function (e) {
      if (e.target.files.length) { readFile(e.target.files[0]); }
    });
    var drop = document.getElementById("drop");
    drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files.length) { readFile(e.dataTransfer.files[0]); }
    });
  });
})();
