//! What the widget says when the verifier refuses it: the visitor reads a neutral message,
//! the page's developer reads in the console what to change.

use crate::support::*;

/// Keeps what the page logs with `console.error`, before the page's scripts run.
const KEEP_CONSOLE_ERRORS: &str = r#"(() => {
  window.__errors = [];
  const real = console.error.bind(console);
  console.error = (...args) => { window.__errors.push(args.map(String).join(" ")); real(...args); };
})();"#;

#[tokio::test]
async fn a_page_on_an_origin_the_notice_does_not_allow_tells_its_developer_to_add_it_to_origins() {
    let site = Site::start().await;
    site.browser.on_new_document(KEEP_CONSOLE_ERRORS).await.unwrap();
    // The same verifier under another host name: another origin, which the demo notice
    // does not list (the verifier's own origin always may show it).
    let foreign = site.verifier.base.replace("127.0.0.1", "localhost");

    site.visit(&format!("{foreign}/en/"), "document.querySelector('.cw-alert')").await;

    assert_eq!(
        site.text(".cw-alert").await,
        "The consent choices could not be loaded. Reload the page to try again.",
        "the visitor reads a neutral message"
    );
    site.browser.wait_until("window.__errors.some(e => e.includes('add it to `origins`'))", WAIT).await.unwrap();
    let logged = site.js("return window.__errors.join('\\n')").await;
    let expected = format!("this page's origin ({foreign}) is not allowed for notice newsletter: add it to `origins`");
    assert!(logged.as_str().unwrap().contains(&expected), "{logged}");
    site.close().await;
}
