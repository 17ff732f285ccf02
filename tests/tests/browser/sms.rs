//! SMS in a browser, over a real SMPP conversation: the visitor ticks the SMS box with a
//! national number, the confirmation SMS reaches the test SMS centre, its link (or its
//! code, typed in the widget) confirms, and "STOP" from that phone withdraws for good.

use std::time::Duration;

use consent_e2e::smsc::{PASSWORD, SYSTEM_ID, Smsc, Submitted};

use crate::support::*;

const MOBILE: &str = "+33612345678";

async fn site_with(smsc: &Smsc) -> Site {
    let port = smsc.port().to_string();
    let addr = ["127.0.0.1:", &port].concat();
    let args =
        ["--sms-transport", "smpp", "--smpp-addr", &addr, "--smpp-system-id", SYSTEM_ID, "--smpp-password", PASSWORD];
    Site::start_with(1000, 1400, &args).await
}

/// The SMS purpose's box: the one whose label says "SMS".
async fn sms_box(site: &Site) -> String {
    let id = site
        .js("return [...document.querySelectorAll('.cw-purpose input[type=checkbox]')].find(b => document.querySelector(`label[for=\"${b.id}\"]`).textContent.includes('SMS')).id")
        .await;
    format!("#{}", id.as_str().expect("one box names the SMS channel"))
}

/// The number of the permissions API (an API key made with the CLI, as an operator would).
async fn permission(site: &Site, key: &str) -> serde_json::Value {
    let url =
        format!("{}/v1/admin/permissions?phone=%2B33612345678&purpose=offers-sms&channel=sms", site.verifier.base);
    let client = reqwest::Client::new();
    client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}

/// Signs up with the SMS box only, after a first try with a number that cannot be read.
async fn sign_up_for_sms(site: &Site, smsc: &Smsc) -> Submitted {
    site.open("/en/").await;
    site.type_into("#email", "sam@example.org").await;
    site.type_into("#phone", "06 12 3x").await;
    site.click("#cw-1-age-adult").await;
    let sms = sms_box(site).await;
    site.click(&sms).await;
    site.click("button[type=submit]").await;
    site.browser.wait_until("document.getElementById('cw-1-phone-error')", WAIT).await.unwrap();
    let field = site
        .js("const p = document.getElementById('phone'); return [p.value, p.getAttribute('aria-invalid'), p.getAttribute('aria-describedby'), document.getElementById('cw-1-phone-error').textContent]")
        .await;
    assert_eq!(field[0], "06 12 3x", "what the visitor typed is kept");
    assert_eq!(field[1], "true");
    assert!(field[2].as_str().unwrap().contains("cw-1-phone-error"), "the error is tied to the field: {field}");
    assert!(field[3].as_str().unwrap().contains("could not be read"), "{field}");
    assert!(site.stored().await.is_empty(), "nothing was sent with an unreadable number");

    site.browser.client.find(fantoccini::Locator::Css("#phone")).await.unwrap().clear().await.unwrap();
    site.type_into("#phone", "06 12 34 56 78").await;
    site.submit_and_wait_for_result().await;
    assert_eq!(site.js("return document.getElementById('cw-1-phone-error')").await, serde_json::Value::Null);
    let stored = site.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].status, "pending_confirmation");
    assert_eq!(stored[0].granted, ["offers-sms"]);
    assert_eq!(stored[0].claims.contact.phone.as_deref(), Some(MOBILE), "the national number, in E.164");

    let got = smsc.wait_for(1, Duration::from_secs(15)).await.unwrap();
    assert_eq!(got.len(), 1, "one SMS, the confirmation, and nothing else before it: {got:?}");
    let sms = got[0].clone();
    assert_eq!(sms.to, MOBILE.trim_start_matches('+'));
    assert!(sms.text.starts_with("Atelier Lumière") && sms.text.contains("STOP au "), "{}", sms.text);
    sms
}

#[tokio::test]
async fn an_sms_consent_is_confirmed_by_its_link_and_withdrawn_for_good_by_stop() {
    let smsc = Smsc::start().await.unwrap();
    let site = site_with(&smsc).await;
    let key = create_key(&site);
    // Signed before the STOP and sent after it: the suppression must refuse it.
    let session = consent_e2e::Session::fetch(
        &reqwest::Client::new(),
        &site.verifier.base,
        "newsletter",
        "en",
        "http://localhost:8080",
    )
    .await
    .unwrap();
    let mut older = session.claims("unused@example.org");
    older.contact.email = None;
    older.contact.phone = Some(MOBILE.into());
    older.decisions.iter_mut().for_each(|d| d.granted = d.purpose == "offers-sms");

    let sms = sign_up_for_sms(&site, &smsc).await;
    assert_eq!(permission(&site, &key).await["allowed"], false, "nothing before the confirmation");
    let start = sms.text.find(&format!("{}/c/", site.verifier.base)).unwrap_or_else(|| panic!("no link: {}", sms.text));
    let link = sms.text[start..].split_whitespace().next().unwrap().to_string();
    site.visit(&link, "document.querySelector('form button')").await;
    assert_eq!(site.only_status().await, "pending_confirmation", "opening the link changes nothing");
    site.click("form button").await;
    site.browser.wait_until("document.querySelector('h1').textContent.includes('onfirmed')", WAIT).await.unwrap();
    assert_eq!(site.only_status().await, "active", "confirmed: the consent is in force");
    let allowed = permission(&site, &key).await;
    assert_eq!(allowed["allowed"], true, "{allowed}");

    tokio::time::sleep(Duration::from_millis(1100)).await; // the STOP comes after the older receipt
    smsc.deliver(&sms.to, "STOP").await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while site.only_status().await != "withdrawn" && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(site.only_status().await, "withdrawn", "STOP from the phone withdraws");
    assert_eq!(permission(&site, &key).await["allowed"], false);
    let res = reqwest::Client::new()
        .post(format!("{}/v1/leads", site.verifier.base))
        .header("Origin", "http://localhost:8080")
        .json(&serde_json::json!({"receipt": older.sign(&consent_e2e::random_key())}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let problem: serde_json::Value = res.json().await.unwrap();
    assert!(problem["type"].as_str().unwrap().ends_with("/errors/suppressed"), "{problem}");
    site.close().await;
}

#[tokio::test]
async fn the_code_of_the_sms_typed_in_the_widget_confirms() {
    let smsc = Smsc::start().await.unwrap();
    let site = site_with(&smsc).await;
    let sms = sign_up_for_sms(&site, &smsc).await;
    let code =
        sms.text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a 6-digit code").to_string();
    site.browser.wait_until("!document.getElementById('cw-1-code-box').hidden", WAIT).await.unwrap();
    save_screenshot("sms-code.png", &site.browser.client.screenshot().await.unwrap());
    let wrong = if code == "000000" { "111111" } else { "000000" };
    site.type_into("#cw-1-code", wrong).await;
    site.click("#cw-1-code-send").await;
    site.browser
        .wait_until("document.querySelector('.cw-alert').textContent.includes('does not match')", WAIT)
        .await
        .unwrap();
    assert_eq!(site.only_status().await, "pending_confirmation");
    site.browser.client.find(fantoccini::Locator::Css("#cw-1-code")).await.unwrap().clear().await.unwrap();
    site.type_into("#cw-1-code", &code).await;
    site.type_into("#cw-1-code", "\u{E007}").await; // Enter: confirms, and does not submit the form again
    site.browser
        .wait_until("document.querySelector('.cw-status').textContent.includes('confirmed')", WAIT)
        .await
        .unwrap();
    assert_eq!(site.only_status().await, "active", "confirmed: the consent is in force");
    assert_eq!(site.stored().await.len(), 1, "Enter in the code field did not send another lead");
    site.close().await;
}
