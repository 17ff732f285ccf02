//! The widget's stylesheet, adopted through the CSSOM (`document.adoptedStyleSheets`):
//! no `<style>` element and no `style` attribute, so a strict `style-src` needs nothing
//! added for it. Sites restyle with their own CSS on the `cw-` classes.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::dom::document;

const CSS: &str = r#"
.cw{border:1px solid #8a8f98;border-radius:8px;padding:1rem 1.1rem;margin:1rem 0;max-width:42rem;font:inherit;color:inherit;background:transparent;box-sizing:border-box;min-width:0}
.cw *{box-sizing:border-box}
.cw-legend{font-weight:700;font-size:1.1em;padding:0 .3rem}
.cw p{margin:.4rem 0;line-height:1.45;overflow-wrap:anywhere}
.cw-intro,.cw-withdraw,.cw-note{font-size:.95em}
.cw-age{border:0;padding:0;margin:.8rem 0;min-width:0}
.cw-age legend{font-weight:600;padding:0;margin-bottom:.3rem}
.cw-choice{display:flex;align-items:flex-start;gap:.6rem;margin:.35rem 0}
.cw-choice input{width:1.25rem;height:1.25rem;margin:.15rem 0 0;flex:none;accent-color:#1a56db}
.cw-purpose{margin:.9rem 0;padding:.6rem 0 0;border-top:1px solid #d5d8dd}
.cw-purpose label{font-weight:600}
.cw-text{margin:.25rem 0 0 1.85rem;font-size:.95em}
.cw-meta{display:block;margin-top:.2rem;font-size:.9em;color:#4b5059}
.cw-guardian{margin:.6rem 0 .8rem}
.cw-guardian label{display:block;font-weight:600;margin-bottom:.25rem}
.cw-guardian input{width:100%;max-width:24rem;padding:.45rem .5rem;border:1px solid #6b7280;border-radius:4px;font:inherit}
.cw-note{border-left:4px solid #1a56db;padding:.4rem .7rem;background:#eef3fd;color:#1f2430}
.cw-more summary{cursor:pointer;font-weight:600;margin:.4rem 0}
.cw-more dl{margin:.3rem 0 0;font-size:.92em}
.cw-more dt{font-weight:600;margin-top:.4rem}
.cw-more dd{margin:0}
.cw a{color:#1a4fbf;text-decoration:underline}
.cw-status{min-height:1.2em;font-size:.95em}
.cw-alert{font-weight:600;color:#9b1c1c;border-left:4px solid #9b1c1c;padding:.3rem .6rem;background:#fdf2f2}
.cw-alert:empty{display:none}
.cw-channel{font-weight:400;white-space:nowrap}
.cw-code{margin:.8rem 0;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.cw-code label{font-weight:600}
.cw-code input{width:7.5em;padding:.45rem .5rem;border:1px solid #6b7280;border-radius:4px;font:inherit;letter-spacing:.15em}
.cw-code button{padding:.45rem .9rem;font:inherit}
.cw-field-error{font-weight:600;color:#9b1c1c;margin:.25rem 0 .6rem;font-size:.95em}
.cw input:focus-visible,.cw button:focus-visible,.cw a:focus-visible,.cw summary:focus-visible{outline:3px solid #1a56db;outline-offset:2px}
.cw [hidden]{display:none!important}
@media (prefers-color-scheme:dark){.cw-meta{color:#b8bcc4}.cw-note{background:#1d2533;color:#e6e9ef}.cw-alert{background:#2a1515;color:#f8b4b4;border-color:#f8b4b4}.cw-field-error{color:#f8b4b4}.cw a{color:#8ab4f8}}
"#;

/// Adds the stylesheet to the document once.
pub fn adopt() {
    let doc = document();
    let marker = JsValue::from_str("__consentWidgetStyled");
    if js_sys::Reflect::get(&doc, &marker).ok().is_some_and(|v| v.is_truthy()) {
        return;
    }
    let Ok(sheet) = web_sys::CssStyleSheet::new() else { return };
    if sheet.replace_sync(CSS).is_err() {
        return;
    }
    let sheets = doc.adopted_style_sheets();
    sheets.push(sheet.unchecked_ref());
    doc.set_adopted_style_sheets(&sheets);
    let _ = js_sys::Reflect::set(&doc, &marker, &JsValue::TRUE);
}
