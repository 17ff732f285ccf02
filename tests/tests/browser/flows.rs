//! What a visitor does, and what ends up recorded.

use consent_receipt::VerifiedReceipt;

use crate::support::*;

#[tokio::test]
async fn every_box_is_unticked_when_the_page_loads() {
    let site = Site::start().await;
    site.open("/").await;

    let boxes = site
        .js("return [...document.querySelectorAll('.cw input[type=checkbox]')].map(b => [b.checked, b.defaultChecked, b.hasAttribute('checked')])")
        .await;

    let boxes = boxes.as_array().unwrap();
    let served = reqwest::get(format!("{}/v1/notices/newsletter?lang=fr", site.verifier.base))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let purposes = served["notice"]["purposes"].as_array().unwrap().len();
    assert!(purposes >= 2, "the demo notice has several purposes: {served}");
    assert_eq!(boxes.len(), purposes, "one box per purpose of the demo notice");
    for b in boxes {
        assert_eq!(b, &serde_json::json!([false, false, false]));
    }
    let labels = site.js("return [...document.querySelectorAll('.cw-purpose label')].map(l => l.textContent)").await;
    for label in labels.as_array().unwrap() {
        let label = label.as_str().unwrap().to_lowercase();
        assert!(label.contains("mail") || label.contains("sms"), "each box says its channel: {label}");
    }
    let age = site.js("return [...document.querySelectorAll('.cw input[type=radio]')].some(r => r.checked)").await;
    assert_eq!(age, false, "the age question is not pre-answered");
    site.close().await;
}

#[tokio::test]
async fn a_real_click_and_submit_records_a_trusted_grant() {
    let site = Site::start().await;
    site.open("/en/").await;
    site.type_into("#email", "alice@example.org").await;
    site.type_into("#first-name", "Alice").await;
    site.click("#cw-1-age-adult").await;
    site.click("#cw-1-p0").await;

    site.submit_and_wait_for_result().await;

    let stored = site.stored().await;
    assert_eq!(stored.len(), 1);
    let lead = &stored[0];
    assert_eq!(lead.status, "pending_confirmation");
    assert_eq!(lead.granted, ["newsletter-email"]);
    let c = &lead.claims;
    assert!(c.evidence.initially_unchecked);
    assert!(c.evidence.trusted_gesture);
    assert_eq!(c.contact.email.as_deref(), Some("alice@example.org"));
    assert_eq!(
        c.decisions.iter().map(|d| (d.purpose.as_str(), d.granted)).collect::<Vec<_>>(),
        [("newsletter-email", true), ("partner-sharing", false), ("offers-sms", false)]
    );
    assert_eq!(c.evidence.page, format!("{}/en/", site.verifier.base), "origin and path only");
    assert!(!c.age.minor);
    let result = site.text("#result").await;
    assert!(result.contains("pending_confirmation"), "{result}");
    site.close().await;
}

#[tokio::test]
async fn submitting_with_nothing_ticked_records_a_refusal_and_the_form_still_goes_through() {
    let site = Site::start().await;
    site.open("/en/").await;
    site.type_into("#email", "bob@example.org").await;

    site.submit_and_wait_for_result().await;

    let stored = site.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, "refused");
    assert!(stored[0].granted.is_empty());
    assert!(stored[0].claims.decisions.iter().all(|d| !d.granted), "every purpose recorded as refused");
    site.close().await;
}

#[tokio::test]
async fn a_box_ticked_by_script_is_not_a_trusted_grant() {
    let site = Site::start().await;
    site.open("/en/").await;
    site.type_into("#email", "carol@example.org").await;
    site.click("#cw-1-age-adult").await;
    site.js("document.getElementById('cw-1-p0').checked = true;").await;
    site.js("window.lastError = null; document.getElementById('signup').addEventListener('consent:error', e => window.lastError = e.detail.code);").await;

    let alert = site.submit_and_wait_for_alert().await;

    assert!(alert.contains("untrusted-gesture"), "{alert}");
    assert_eq!(site.js("return window.lastError").await, "untrusted-gesture");
    assert!(site.stored().await.is_empty(), "nothing was accepted");
    assert_eq!(site.js("return document.getElementById('email').value").await, "carol@example.org", "input kept");
    site.close().await;
}

#[tokio::test]
async fn the_minor_path_shows_child_wording_and_requires_a_guardian() {
    let site = Site::start().await;
    site.open("/en/").await;
    let adult_text = site.text("#cw-1-p0-text").await;
    site.type_into("#email", "dan@example.org").await;

    site.click("#cw-1-age-minor").await;

    let child_text = site.text("#cw-1-p0-text").await;
    assert_ne!(child_text, adult_text);
    assert!(child_text.contains("will send you an e-mail"), "{child_text}");
    assert!(site.text("#cw-1-child-note").await.contains("under 15"));
    assert_eq!(
        site.js("return document.getElementById('cw-1-guardian').required").await,
        false,
        "a minor refusing everything needs no guardian"
    );
    site.click("#cw-1-p0").await;
    assert_eq!(site.js("return document.getElementById('cw-1-guardian').required").await, true);
    site.click("button[type=submit]").await;
    // The browser's own validation stops the form and points at the guardian field.
    assert_eq!(site.js("return document.getElementById('cw-1-guardian').validity.valueMissing").await, true);
    assert_eq!(site.js("return document.getElementById('result').hidden").await, true);
    assert!(site.stored().await.is_empty());

    site.type_into("#cw-1-guardian", "parent@example.org").await;
    site.submit_and_wait_for_result().await;

    let stored = site.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, "awaiting_guardian");
    assert!(stored[0].claims.age.minor);
    assert_eq!(stored[0].claims.age.guardian.as_ref().unwrap().email, "parent@example.org");
    site.close().await;
}

#[tokio::test]
async fn field_mode_puts_a_verifiable_receipt_in_the_hidden_input() {
    let site = Site::start().await;
    site.open("/field.html").await;
    site.type_into("#email", "erin@example.org").await;
    site.click("#cw-1-age-adult").await;
    site.click("#cw-1-p1").await;

    site.submit_and_wait_for_result().await;

    let receipt = site.js("return document.querySelector('input[name=consent_receipt]').value").await;
    let receipt = receipt.as_str().unwrap().to_string();
    let verified = VerifiedReceipt::verify(&receipt).expect("a valid compact JWS");
    let answer: serde_json::Value = reqwest::get(format!("{}/v1/notices/newsletter?lang=en", site.verifier.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let notice: consent_receipt::Notice = serde_json::from_value(answer["notice"].clone()).unwrap();
    verified.check_against(&notice, &site.verifier.base).expect("it holds against the notice");
    assert_eq!(verified.claims().granted().collect::<Vec<_>>(), ["partner-sharing"]);
    assert!(site.stored().await.is_empty(), "field mode does not post the lead itself");

    // The site's back end forwards it, as it would a captcha token.
    let res = reqwest::Client::new()
        .post(format!("{}/v1/leads", site.verifier.base))
        .json(&serde_json::json!({"receipt": receipt}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    site.close().await;
}

#[tokio::test]
async fn the_french_and_english_pages_show_their_language() {
    let site = Site::start().await;
    site.open("/").await;
    assert_eq!(site.text(".cw-legend").await, "Restons en contact");
    assert_eq!(site.js("return document.querySelector('.cw').lang").await, "fr");
    assert!(site.text(".cw-age legend").await.contains("moins de 15 ans"));
    site.open("/en/").await;
    assert_eq!(site.text(".cw-legend").await, "Stay in touch");
    assert_eq!(site.js("return document.querySelector('.cw').lang").await, "en");
    assert!(site.text(".cw-age legend").await.contains("under 15"));
    site.close().await;
}

#[tokio::test]
async fn keyboard_only_ticking_works_and_counts_as_a_gesture() {
    use fantoccini::key::Key;
    let site = Site::start().await;
    site.open("/en/").await;
    site.click("#email").await;
    let keys = |k: Key| String::from(char::from(k));
    let active = || async { site.js("return document.activeElement.id").await };

    site.type_into("#email", &format!("frank@example.org{}", keys(Key::Tab))).await;
    assert_eq!(active().await, "phone", "the demo's mobile field comes next");
    site.browser.client.active_element().await.unwrap().send_keys(&keys(Key::Tab)).await.unwrap();
    assert_eq!(site.js("return document.activeElement.tagName").await, "A", "the full notice, in the first layer");
    site.browser.client.active_element().await.unwrap().send_keys(&keys(Key::Tab)).await.unwrap();
    assert_eq!(active().await, "cw-1-age-minor", "the age question: yes, then no");
    // An arrow key moves to "No" and selects it, as in any radio group.
    site.browser.client.active_element().await.unwrap().send_keys(&keys(Key::Right)).await.unwrap();
    assert_eq!(active().await, "cw-1-age-adult");
    assert_eq!(site.js("return document.getElementById('cw-1-age-adult').checked").await, true);
    site.browser.client.active_element().await.unwrap().send_keys(&keys(Key::Tab)).await.unwrap();
    assert_eq!(active().await, "cw-1-p0");
    site.browser.client.active_element().await.unwrap().send_keys(" ").await.unwrap();
    assert_eq!(site.js("return document.getElementById('cw-1-p0').checked").await, true);
    // Tab past the second and third boxes and the details summary to the button.
    let mut stops = Vec::new();
    while site.js("return document.activeElement.tagName").await != "BUTTON" && stops.len() < 8 {
        site.browser.client.active_element().await.unwrap().send_keys(&keys(Key::Tab)).await.unwrap();
        stops.push(site.js("return document.activeElement.id || document.activeElement.tagName").await);
    }
    assert_eq!(stops, ["cw-1-p1", "cw-1-p2", "SUMMARY", "BUTTON"].map(serde_json::Value::from), "tab order");
    site.browser.client.active_element().await.unwrap().send_keys(&keys(Key::Enter)).await.unwrap();
    site.browser.wait_until("!document.getElementById('result').hidden", WAIT).await.unwrap();

    let stored = site.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].granted, ["newsletter-email"]);
    assert!(stored[0].claims.evidence.trusted_gesture, "a key press is a user gesture");
    site.close().await;
}
