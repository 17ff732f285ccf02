//! `/verify.html`, the proof checker: the `consent-receipt` crate compiled to WebAssembly
//! checks a proof bundle entirely in the page, served by the verifier (under its strict
//! CSP) and saved to disk and opened with the verifier gone.

use fantoccini::Locator;
use serde_json::json;

use crate::support::*;

const ORIGIN: &str = "http://localhost:8080";

/// A lead for `email` and its proof bundle, fetched as the site's operator would.
async fn bundle(site: &Site, email: &str) -> String {
    let client = reqwest::Client::new();
    let base = &site.verifier.base;
    let s = consent_e2e::Session::fetch(&client, base, "newsletter", "en", ORIGIN).await.unwrap();
    let receipt = s.claims(email).sign(&consent_e2e::random_key());
    let res = client.post(format!("{base}/v1/leads")).header("Origin", ORIGIN).json(&json!({"receipt": receipt}));
    let lead: serde_json::Value = res.send().await.unwrap().json().await.unwrap();
    let lead = lead["lead_id"].as_str().unwrap_or_else(|| panic!("no lead: {lead}")).to_string();
    let url = format!("{base}/v1/admin/leads/{lead}/proof");
    client.get(url).bearer_auth(create_key(site)).send().await.unwrap().text().await.unwrap()
}

/// Puts `input` into the page's text box, presses Check, and returns the verdict's
/// `data-verdict` and text.
async fn check(site: &Site, input: &str) -> (String, String) {
    site.js("document.getElementById('result').removeAttribute('data-verdict')").await;
    site.browser.js("document.getElementById('input').value = arguments[0]", vec![input.into()]).await.unwrap();
    site.click("#check button[type=submit]").await;
    site.browser.wait_until("document.getElementById('result').hasAttribute('data-verdict')", WAIT).await.unwrap();
    let verdict = site.js("return document.getElementById('result').getAttribute('data-verdict')").await;
    (verdict.as_str().unwrap().to_string(), site.text("#result").await)
}

#[tokio::test]
async fn the_checker_page_verifies_a_bundle_offline_and_shows_what_fails_in_an_altered_one() {
    let mut site = Site::start_sized(375, 1200).await;
    let text = bundle(&site, "ada@example.org").await;
    let mut altered: serde_json::Value = serde_json::from_str(&text).unwrap();
    let shown = altered["notice"]["purposes"][0]["text"].as_str().unwrap().to_string();
    altered["notice"]["purposes"][0]["text"] = format!("{shown} And also by post.").into();

    // Served by the verifier, under its Content-Security-Policy.
    site.visit(&format!("{}/verify.html", site.verifier.base), "window.consentCheckReady").await;
    let (verdict, account) = check(&site, &text).await;
    assert_eq!(verdict, "holds", "{account}");
    assert!(account.contains("ada@example.org") && account.contains("newsletter-email"), "{account}");
    let violations = axe_violations(&site).await;
    assert!(violations.is_empty(), "/verify.html: {}", serde_json::to_string_pretty(&violations).unwrap());

    // Saved to disk, opened from file:// once the verifier is gone: nothing to reach.
    let saved = tempfile::tempdir().unwrap();
    let www = consent_e2e::workspace_dir().join("www");
    std::fs::create_dir(saved.path().join("verify")).unwrap();
    for file in ["verify.html", "verify.js", "verify.css", "site.css", "verify/check.js"] {
        std::fs::copy(www.join(file), saved.path().join(file)).unwrap();
    }
    site.verifier.kill().unwrap();
    let page = format!("file://{}", saved.path().join("verify.html").display());
    site.visit(&page, "window.consentCheckReady").await;
    let (verdict, account) = check(&site, &text).await;
    assert_eq!(verdict, "holds", "{account}");
    assert!(account.contains("key set inside the bundle"), "it says what the bundle's own keys prove: {account}");
    save_screenshot("verify-page.png", &site.browser.client.screenshot().await.unwrap());

    let (verdict, account) = check(&site, &altered.to_string()).await;
    assert_eq!(verdict, "failed", "{account}");
    assert!(account.contains("bad-proof") && account.contains("notice text"), "{account}");

    // The file picker reads a bundle from disk and checks it at once.
    let file = saved.path().join("proof.json");
    std::fs::write(&file, &text).unwrap();
    site.js("document.getElementById('result').removeAttribute('data-verdict')").await;
    let picker = site.browser.client.find(Locator::Css("#file")).await.unwrap();
    picker.send_keys(&file.display().to_string()).await.unwrap();
    site.browser
        .wait_until("document.getElementById('result').getAttribute('data-verdict') === 'holds'", WAIT)
        .await
        .unwrap();
    site.close().await;
}
