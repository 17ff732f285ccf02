//! The widget on a host page: compact at 375 and 800 px with what rule 6 of LAW.md needs
//! next to the boxes in view; accessible on a light and a dark page and under a host
//! stylesheet with aggressive element rules, whose layout does not reach it.

use crate::support::*;

/// The widget's height, and what of its first layer the visitor can see.
const MEASURE: &str = r#"
const cw = document.querySelector('.cw');
const seen = e => !!e && e.checkVisibility() && e.getBoundingClientRect().height > 0;
const intro = cw.querySelector('.cw-intro');
const age = cw.querySelector('.cw-age');
const q = age.querySelector('legend').getBoundingClientRect();
const last = [...age.querySelectorAll('label')].pop().getBoundingClientRect();
return {
  width: innerWidth,
  height: Math.round(cw.getBoundingClientRect().height),
  intro: seen(intro) ? intro.textContent : null,
  labels: [...cw.querySelectorAll('.cw-purpose label')].map(l => seen(l) ? l.textContent : null),
  more: seen(cw.querySelector('.cw-more summary')),
  full_notice: seen(intro.querySelector('a')),
  age_on_one_line: Math.abs(q.top - last.top) < q.height / 2,
  box: Math.round(cw.querySelector('input[type=checkbox]').getBoundingClientRect().width),
  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
};"#;

async fn served_notice(site: &Site, lang: &str) -> serde_json::Value {
    let url = format!("{}/v1/notices/newsletter?lang={lang}", site.verifier.base);
    reqwest::get(url).await.unwrap().json::<serde_json::Value>().await.unwrap()["notice"].clone()
}

#[tokio::test]
async fn the_widget_is_at_most_420_px_tall_at_375_px_and_300_px_at_800_px_with_rule_6_in_view() {
    let site = Site::start_sized(375, 2000).await;
    // A phone's scrollbars take no room: at 375 px the window is tall enough for none.
    for (width, height, limit) in [(375, 2000, 420), (800, 1000, 300)] {
        site.browser.client.set_window_size(width, height).await.unwrap();
        for (page, lang, withdraw) in [
            ("/", "fr", "retirer votre consentement à tout moment"),
            ("/en/", "en", "withdraw your consent at any time"),
        ] {
            site.open(page).await;
            let notice = served_notice(&site, lang).await;
            let got = site.js(MEASURE).await;
            println!("{page} at {width} px: the widget is {} px tall ({got})", got["height"]);
            assert_eq!(got["width"], width, "the viewport is {width} px wide");
            assert!(got["height"].as_u64().unwrap() <= limit, "{page} at {width} px: {got}");
            assert_eq!(got["overflow"], 0, "no horizontal scrolling: {got}");
            let intro = got["intro"].as_str().unwrap_or_else(|| panic!("the first layer is in view: {got}"));
            for part in [notice["controller"]["name"].as_str().unwrap(), notice["data"].as_str().unwrap(), withdraw] {
                assert!(intro.contains(part), "{page}: the first layer says {part:?}: {intro}");
            }
            let purposes = notice["purposes"].as_array().unwrap();
            assert_eq!(got["labels"].as_array().unwrap().len(), purposes.len());
            for (label, p) in got["labels"].as_array().unwrap().iter().zip(purposes) {
                let label = label.as_str().unwrap_or_else(|| panic!("every purpose's box is in view: {got}"));
                assert!(label.contains(p["label"].as_str().unwrap()), "{label}");
            }
            assert_eq!((&got["more"], &got["full_notice"]), (&true.into(), &true.into()), "the rest is one click away");
            if width >= 800 {
                assert_eq!(got["age_on_one_line"], true, "the age question fits one line on a desktop: {got}");
            }
        }
    }
    site.close().await;
}

/// A host page's own element rules, as aggressive as they come, none aimed at the widget.
const AGGRESSIVE: &str = "label{display:block;margin:2em;font-size:20px;text-transform:uppercase} \
    input{width:100%;height:3em;margin:1em 0;display:block} p,dl,dt,dd,div{margin:2em 0;padding:1em;line-height:3} \
    fieldset{padding:3em;margin:3em 0;border:4px solid;float:none} legend{font-size:2em;padding:1em;float:none} \
    details,summary{display:block;padding:1em} span{display:block;padding:1em} a{display:block;padding:1em}";

/// A page that is dark by its own `data-theme`, not by the system's setting.
const DATA_THEME_DARK: &str = "html[data-theme=dark]{--ink:#e6e9ef;--muted:#b8bcc4;\
    --line:#3a3f48;--accent:#8ab4f8;--bg:#16181d;--card:#1e2128;--on-accent:#10131a}";

/// Adds a stylesheet to the page after the widget's (CSSOM, as the page's CSP allows).
async fn add_host_sheet(site: &Site, css: &str) {
    let script = "const s = new CSSStyleSheet(); s.replaceSync(arguments[0]); \
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, s];";
    site.browser.js(script, vec![css.into()]).await.unwrap();
}

async fn assert_no_violation(site: &Site, case: &str) {
    let violations = axe_violations(site).await;
    assert!(violations.is_empty(), "{case}: {}", serde_json::to_string_pretty(&violations).unwrap());
}

const LINK_COLOUR: &str = "return getComputedStyle(document.querySelector('.cw a')).color";
const DARK_ACCENT: &str = "rgb(138, 180, 248)";

#[tokio::test]
async fn axe_core_reports_no_violation_on_a_dark_page_and_under_a_host_stylesheet_with_aggressive_element_rules() {
    let site = Site::start().await;
    site.open("/en/").await;
    assert_eq!(site.js(LINK_COLOUR).await, "rgb(26, 86, 219)", "light by default");

    // The visitor's system is dark; the demo page declares color-scheme: light dark.
    site.browser.emulate_media("prefers-color-scheme", "dark").await.unwrap();
    site.open("/en/").await;
    assert_eq!(site.js(LINK_COLOUR).await, DARK_ACCENT, "the widget follows the page into the dark");
    assert_no_violation(&site, "dark system").await;
    site.click("#cw-1-age-minor").await;
    site.click("details.cw-more summary").await;
    assert_no_violation(&site, "dark system, minor, details open").await;

    // The system is light, the page is dark by its data-theme.
    site.browser.emulate_media("prefers-color-scheme", "light").await.unwrap();
    site.open("/en/").await;
    add_host_sheet(&site, DATA_THEME_DARK).await;
    site.js("document.documentElement.dataset.theme = 'dark'").await;
    assert_eq!(site.js(LINK_COLOUR).await, DARK_ACCENT, "data-theme=dark on the page");
    assert_no_violation(&site, "data-theme=dark").await;

    // The page's own element rules do not reach the widget's layout.
    site.js("document.documentElement.removeAttribute('data-theme')").await;
    let before = site.js(MEASURE).await;
    add_host_sheet(&site, AGGRESSIVE).await;
    let after = site.js(MEASURE).await;
    let host_label = "return getComputedStyle(document.querySelector('label.field')).textTransform";
    assert_eq!(site.js(host_label).await, "uppercase", "the host's rules apply to the host's own elements");
    assert_eq!((&after["height"], &after["box"]), (&before["height"], &before["box"]), "{before} then {after}");
    assert_no_violation(&site, "aggressive host styles").await;
    site.click("#cw-1-age-minor").await;
    site.click("details.cw-more summary").await;
    assert_no_violation(&site, "aggressive host styles, minor, details open").await;
    site.close().await;
}
