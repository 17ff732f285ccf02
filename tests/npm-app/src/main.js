// A React 18 app in StrictMode that embeds the widget from the npm package, as the
// guide's React snippet does. Plain createElement: no JSX transform to install.
import { StrictMode, createElement as h, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { ConsentWidget } from "consent-widget";

// The test serves this app on one origin and gives the verifier's in the query.
const verifier = new URLSearchParams(location.search).get("verifier");
window.__sameObject = window.ConsentWidget === ConsentWidget;
window.__rendered = [];
window.__ready = [];
document.addEventListener("consent:ready", (e) => window.__ready.push(e.detail.id));

function Consent() {
  const ref = useRef(null);
  useEffect(() => {
    const id = ConsentWidget.render(ref.current, { notice: "newsletter", verifier, lang: "en", mode: "field" });
    window.__rendered.push(id);
    return () => ConsentWidget.remove(id);
  }, []);
  return h("div", { ref, id: "consent" });
}

function App() {
  const [shown, setShown] = useState(true);
  const submit = (e) => {
    e.preventDefault();
    window.__submitted = new FormData(e.currentTarget).get("consent_receipt");
  };
  return h(
    "form",
    { id: "signup", onSubmit: submit },
    h("label", { htmlFor: "email" }, "E-mail"),
    h("input", { id: "email", type: "email", name: "email" }),
    shown ? h(Consent) : null,
    h("button", { type: "button", id: "toggle", onClick: () => setShown((s) => !s) }, "Toggle"),
    h("button", { type: "submit" }, "Sign up"),
  );
}

createRoot(document.getElementById("root")).render(h(StrictMode, null, h(App)));
