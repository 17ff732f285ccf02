//! The widget's stylesheet, adopted through the CSSOM (`document.adoptedStyleSheets`):
//! no `<style>` element and no `style` attribute, so a strict `style-src` needs nothing
//! added for it. Sites restyle with their own CSS on the `cw-` classes.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::dom::document;

/// `widget/widget.css`, in the wasm (`cargo xtask dist` prints its size as a part).
const CSS: &str = include_str!("../widget.css");

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
