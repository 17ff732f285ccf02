//! Single-page apps: containers added and removed after load, calls made before the wasm
//! runs, render → remove → render in one task, and the npm package in a Vite + React 18
//! app in StrictMode, served from its own origin.

use consent_e2e::browser::Browser;
use consent_e2e::process::{VerifierProcess, free_port};
use consent_e2e::static_site::StaticSite;

use crate::support::*;

const ADD_LATE_CONTAINER: &str = "const d = document.createElement('div'); d.className = 'consent-widget'; \
    d.dataset.notice = 'newsletter'; d.id = 'late'; window.__late = d; \
    document.getElementById('signup').append(d);";

#[tokio::test]
async fn a_container_added_after_load_renders_by_itself_and_one_taken_out_is_removed() {
    let site = Site::start().await;
    site.open("/en/").await;
    site.js(ADD_LATE_CONTAINER).await;
    site.browser.wait_until("document.querySelector('#late .cw input[type=checkbox]')", WAIT).await.unwrap();
    assert_eq!(site.js("return __late.dataset.cwId").await, "cw-2");

    site.js("__late.remove()").await;
    site.browser.wait_until("!__late.querySelector('.cw') && !__late.hasAttribute('data-cw-id')", WAIT).await.unwrap();
    assert_eq!(site.js("return document.querySelectorAll('.cw').length").await, 1, "the page's own widget stays");

    site.js("document.getElementById('signup').append(__late)").await;
    site.browser.wait_until("__late.querySelector('.cw input[type=checkbox]')", WAIT).await.unwrap();
    assert_eq!(site.js("return __late.dataset.cwId").await, "cw-3", "put back, it renders anew");
    site.close().await;
}

/// Holds the widget's wasm, and the notices' requests while `__holdNotices` is set, until
/// the test lets them through; records `consent:ready` per widget id.
const GATES: &str = r#"(() => {
  const real = window.fetch.bind(window);
  let letWasm;
  const wasm = new Promise(r => { letWasm = r; });
  window.__letWasm = letWasm;
  window.__held = [];
  window.__heldRequests = [];
  window.__holdNotices = false;
  window.__readies = [];
  document.addEventListener("consent:ready", e => window.__readies.push(e.detail.id));
  window.fetch = (input, init) => {
    const url = String((input && input.url) || input);
    if (url.includes("widget_bg.wasm")) { return wasm.then(() => real(input, init)); }
    if (window.__holdNotices && url.includes("/v1/notices/")) {
      window.__heldRequests.push(input);
      return new Promise(r => window.__held.push(r)).then(() => real(input, init));
    }
    return real(input, init);
  };
})();"#;

#[tokio::test]
async fn calls_before_the_wasm_runs_are_queued_and_render_remove_render_in_one_task_shows_one_widget() {
    let site = Site::start().await;
    site.browser.on_new_document(GATES).await.unwrap();
    site.browser.client.goto(&format!("{}/en/", site.verifier.base)).await.unwrap();
    site.browser.wait_until("document.querySelector('[data-cw-id]')", WAIT).await.unwrap();
    // The wasm is held: the API is there, its calls wait.
    let before = site
        .js("const d = document.createElement('div'); d.id = 'spa'; document.getElementById('signup').append(d); \
             const a = ConsentWidget.render(d, {notice: 'newsletter'}); ConsentWidget.remove(a); \
             const b = ConsentWidget.render('#spa', {notice: 'newsletter'}); \
             return [typeof ConsentWidget.ready.then == 'function', a, b, ConsentWidget.getReceipt(b), !!document.querySelector('.cw')]")
        .await;
    assert_eq!(before, serde_json::json!([true, "cw-2", "cw-3", null, false]));

    site.js("__letWasm()").await;
    site.browser.wait_until("document.querySelector('#spa .cw input[type=checkbox]')", WAIT).await.unwrap();
    site.browser.wait_until("__readies.length == 2", WAIT).await.unwrap();
    assert_eq!(site.js("return __readies.slice().sort()").await, serde_json::json!(["cw-1", "cw-3"]));
    assert_eq!(site.js("return document.querySelectorAll('#spa .cw').length").await, 1);

    // Now running: render, remove, render in one task; and a removal while the notice loads.
    let ids = site
        .js("const s = document.getElementById('spa'); ConsentWidget.remove(s.dataset.cwId); \
             const a = ConsentWidget.render(s, {notice: 'newsletter'}); ConsentWidget.remove(a); \
             const b = ConsentWidget.render(s, {notice: 'newsletter'}); return [a, b]")
        .await;
    assert_eq!(ids, serde_json::json!(["cw-4", "cw-5"]));
    site.browser.wait_until("__readies.includes('cw-5')", WAIT).await.unwrap();
    assert_eq!(site.js("return document.querySelectorAll('#spa .cw').length").await, 1);

    let cancelled = site
        .js("__holdNotices = true; const s = document.getElementById('spa'); ConsentWidget.remove(s.dataset.cwId); \
             return ConsentWidget.render(s, {notice: 'newsletter'})")
        .await;
    site.browser.wait_until("__held.length == 1", WAIT).await.unwrap();
    site.js(&format!("ConsentWidget.remove({cancelled})")).await;
    assert_eq!(site.js("return __heldRequests[0].signal.aborted").await, true, "the notice's request is aborted");
    site.js("__held.forEach(r => r())").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(site.js("return __readies.includes('cw-6')").await, false, "the cancelled load never got ready");
    assert_eq!(site.js("return document.getElementById('spa').innerHTML").await, "", "nor left anything behind");
    site.close().await;
}

#[tokio::test]
async fn the_npm_package_works_in_a_vite_react_18_app_in_strict_mode_on_another_origin() {
    let started = std::time::Instant::now();
    let app = consent_e2e::spa::build().unwrap();
    println!("SPA app built in {:?}: {:?}", started.elapsed(), app.timings);
    let static_site = StaticSite::start(app.dist.clone()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let verifier = VerifierProcess::start_on(port, data.path(), &["--allowed-origin", &static_site.base], &[]).unwrap();
    let browser = Browser::start().await.unwrap();

    browser.client.goto(&format!("{}/?verifier={}", static_site.base, verifier.base)).await.unwrap();
    browser.wait_until("document.querySelector('#consent .cw input[type=checkbox]')", WAIT).await.unwrap();
    browser.wait_until("__ready.length > 0", WAIT).await.unwrap();
    let state = browser
        .js(
            "return [__sameObject, __rendered, __ready, document.querySelectorAll('.cw').length, \
             document.getElementById('consent').dataset.cwId, ConsentWidget.getReceipt('cw-2')]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        state,
        serde_json::json!([true, ["cw-1", "cw-2"], ["cw-2"], 1, "cw-2", null]),
        "StrictMode rendered, removed and rendered again: one widget, the first load dropped"
    );

    // Unmounting the component removes the widget; mounting it again renders a new one.
    browser.client.find(fantoccini::Locator::Css("#toggle")).await.unwrap().click().await.unwrap();
    browser.wait_until("!document.querySelector('.cw')", WAIT).await.unwrap();
    browser.client.find(fantoccini::Locator::Css("#toggle")).await.unwrap().click().await.unwrap();
    browser.wait_until("__ready.includes('cw-4') && document.querySelectorAll('.cw').length == 1", WAIT).await.unwrap();

    // The packaged wasm signs: a refusal in field mode fills the hidden field.
    browser.client.find(fantoccini::Locator::Css("#email")).await.unwrap().send_keys("ada@example.org").await.unwrap();
    browser.client.find(fantoccini::Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    browser.wait_until("typeof __submitted == 'string' && __submitted.split('.').length == 3", WAIT).await.unwrap();
    assert_eq!(browser.js("return ConsentWidget.getReceipt('cw-4') == __submitted", vec![]).await.unwrap(), true);
    browser.close().await.unwrap();
}
