//! Accessibility (axe-core), the strict Content-Security-Policy, small screens and zoom,
//! and the screenshots shown in the README.

use crate::support::*;

#[tokio::test]
async fn axe_core_reports_no_violation_in_the_adult_and_minor_states() {
    let site = Site::start().await;
    for page in ["/", "/en/"] {
        site.open(page).await;
        let violations = axe_violations(&site).await;
        assert!(violations.is_empty(), "{page}: {}", serde_json::to_string_pretty(&violations).unwrap());
        site.click("#cw-1-age-minor").await;
        site.click("details.cw-more summary").await;
        let violations = axe_violations(&site).await;
        assert!(violations.is_empty(), "{page} (minor): {}", serde_json::to_string_pretty(&violations).unwrap());
    }
    site.close().await;
}

#[tokio::test]
async fn the_demo_works_under_a_strict_csp_without_any_violation() {
    let site = Site::start().await;
    let res = reqwest::get(format!("{}/en/", site.verifier.base)).await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'") && csp.contains("style-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");

    site.open("/en/").await;
    site.type_into("#email", "grace@example.org").await;
    site.click("#cw-1-age-adult").await;
    site.click("#cw-1-p0").await;
    site.submit_and_wait_for_result().await;

    assert_eq!(site.js("return window.cspViolations").await, serde_json::json!([]));
    // The widget's styles applied (adopted stylesheet, no inline style needed).
    assert_eq!(site.js("return getComputedStyle(document.querySelector('.cw')).borderTopLeftRadius").await, "8px");
    assert_eq!(site.stored().await.len(), 1);
    site.close().await;
}

#[tokio::test]
async fn the_widget_fits_a_320_pixel_screen_and_200_percent_zoom() {
    let site = Site::start_sized(320, 900).await;
    site.open("/").await;
    let overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    assert_eq!(site.js(overflow).await, 0, "no horizontal scrolling at 320 px");
    site.click("#cw-1-age-minor").await;
    assert_eq!(site.js(overflow).await, 0, "nor with the guardian field shown");
    site.close().await;

    let site = Site::start_sized(640, 900).await;
    site.open("/en/").await;
    site.js("document.documentElement.style.zoom = '2';").await;
    assert_eq!(site.js(overflow).await, 0, "no horizontal scrolling at 200% zoom");
    site.close().await;
}

#[tokio::test]
async fn screenshots_of_the_adult_and_minor_states() {
    let site = Site::start_sized(1280, 1000).await;
    site.open("/").await;
    site.type_into("#first-name", "Camille").await;
    site.type_into("#email", "camille@example.org").await;
    let adult = site.browser.client.screenshot().await.unwrap();
    site.click("#cw-1-age-minor").await;
    site.click("#cw-1-p0").await;
    let minor = site.browser.client.screenshot().await.unwrap();
    // A phone: tall enough for the whole form, no scrollbar (a phone's takes no room).
    site.browser.client.set_window_size(375, 1400).await.unwrap();
    site.open("/").await;
    let phone = site.browser.client.screenshot().await.unwrap();
    site.close().await;

    assert_ne!(adult, minor);
    save_screenshot("demo-adult.png", &adult);
    save_screenshot("demo-minor.png", &minor);
    save_screenshot("demo-phone.png", &phone);
}
