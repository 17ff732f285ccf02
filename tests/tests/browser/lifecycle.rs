//! The life cycle in a browser: a parent opens the real mail's link and agrees; a visitor
//! unsubscribes from the page; a visitor withdraws from the device that consented.

use std::time::Duration;

use consent_e2e::smtp::{ReceivedMail, SmtpSink};

use crate::support::*;

fn link(mail: &ReceivedMail, base: &str, path: &str) -> String {
    let text = mail.text_part("text/plain").unwrap();
    let start = text.find(&format!("{base}/{path}/")).unwrap_or_else(|| panic!("no {path} link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

async fn site_with(sink: &SmtpSink) -> Site {
    let args = sink.verifier_args();
    Site::start_with(1000, 1400, &args.iter().map(String::as_str).collect::<Vec<_>>()).await
}

#[tokio::test]
async fn a_minors_sign_up_waits_for_the_parent_who_agrees_from_the_mail_link() {
    let sink = SmtpSink::start().await.unwrap();
    let site = site_with(&sink).await;
    site.open("/en/").await;
    site.type_into("#email", "kid@example.org").await;
    site.click("#cw-1-age-minor").await;
    site.click("#cw-1-p0").await;
    site.type_into("#cw-1-guardian", "parent@example.org").await;
    site.submit_and_wait_for_result().await;
    assert_eq!(site.only_status().await, "awaiting_guardian");

    let mail = &sink.wait_for(1, Duration::from_secs(15)).await.unwrap()[0];
    assert_eq!(mail.to, ["parent@example.org"]);
    let guardian_page = link(mail, &site.verifier.base, "guardian");
    site.visit(&guardian_page, "document.querySelector('.cw input[type=checkbox]')").await;
    assert!(site.text(".cw label").await.contains("k***@example.org"), "the box names the child");
    save_screenshot("guardian-page.png", &site.browser.client.screenshot().await.unwrap());
    assert_eq!(site.js("return document.querySelector('.cw input[type=checkbox]').checked").await, false);
    site.click("#cw-1-p0").await;
    site.click("button[type=submit]").await;
    site.browser
        .wait_until("document.querySelector('.cw-status').textContent.includes('agreement is recorded')", WAIT)
        .await
        .unwrap();

    assert_eq!(site.only_status().await, "pending_confirmation", "the lead moved on");
    let mails = sink.wait_for(2, Duration::from_secs(15)).await.unwrap();
    assert_eq!(mails[1].to, ["kid@example.org"], "now the child is asked to confirm");
    site.close().await;
}

#[tokio::test]
async fn unsubscribing_takes_one_click_and_declining_looks_like_confirming() {
    let sink = SmtpSink::start().await.unwrap();
    let site = site_with(&sink).await;
    site.open("/en/").await;
    site.type_into("#email", "leo@example.org").await;
    site.click("#cw-1-age-adult").await;
    site.click("#cw-1-p0").await;
    site.submit_and_wait_for_result().await;
    let mail = &sink.wait_for(1, Duration::from_secs(15)).await.unwrap()[0];
    site.visit(&link(mail, &site.verifier.base, "confirm"), "document.querySelector('form button')").await;
    save_screenshot("confirm-page.png", &site.browser.client.screenshot().await.unwrap());
    assert_eq!(site.only_status().await, "pending_confirmation", "opening the confirmation page changes nothing");
    let looks = "const s = e => { const c = getComputedStyle(e), r = e.getBoundingClientRect(); \
        return [Math.round(r.width), Math.round(r.height), c.fontSize, c.fontWeight, c.color, c.backgroundColor, c.borderTopColor]; }; \
        return [...document.querySelectorAll('form button')].map(s)";
    let looks = site.js(looks).await;
    assert_eq!(looks.as_array().map(Vec::len), Some(2), "{looks}");
    assert_eq!(looks[0], looks[1], "confirm and decline: same size, weight and contrast");

    site.visit(&link(mail, &site.verifier.base, "unsubscribe"), "document.querySelector('form button')").await;
    assert_eq!(site.only_status().await, "pending_confirmation", "opening the page changes nothing");
    site.click("form button").await;
    site.browser.wait_until("document.querySelector('h1').textContent.includes('withdrawn')", WAIT).await.unwrap();

    assert_eq!(site.only_status().await, "withdrawn");
    site.close().await;
}

#[tokio::test]
async fn the_device_that_consented_can_withdraw_from_the_widget() {
    let site = Site::start().await;
    site.open("/en/").await;
    site.type_into("#email", "mia@example.org").await;
    site.click("#cw-1-age-adult").await;
    site.click("#cw-1-p0").await;
    site.submit_and_wait_for_result().await;

    site.open("/en/").await;
    site.browser.wait_until("!document.querySelector('.cw-manage').hidden", WAIT).await.unwrap();
    site.click(".cw-manage summary").await;
    site.click(".cw-manage button").await;
    site.browser
        .wait_until("document.querySelector('.cw-manage li').textContent.includes('withdrawn')", WAIT)
        .await
        .unwrap();

    assert_eq!(site.only_status().await, "withdrawn");
    site.open("/en/").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        site.js("return document.querySelector('.cw-manage').hidden").await,
        true,
        "nothing left to withdraw here"
    );
    site.close().await;
}
