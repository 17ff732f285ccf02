//! The widget's stylesheet, adopted through the CSSOM (`document.adoptedStyleSheets`):
//! no `<style>` element and no `style` attribute, so a strict `style-src` needs nothing
//! added for it. Sites restyle with their own CSS on the `cw-` classes, or with the
//! documented custom properties (`--cw-accent`, `--cw-space`, …, listed in the guide).
//!
//! How `widget.css` is built (it has no comments: they would ship in the wasm):
//! - `.cw *{all:revert}` first: the page's element rules (`label{display:block}`,
//!   `input{width:100%}`) lose to it on specificity, so the layout is the widget's own.
//!   No shadow root: the hidden field must stay in the page's form.
//! - Colours derive from the inherited text colour (`color-mix` with `currentColor`), so
//!   they suit any page; the accent and error colours use `light-dark()`, which follows the
//!   page's `color-scheme`, and `[data-theme]` on an ancestor sets it.
//! - Where `light-dark()` is unknown (Safari before 17.5) a colour set from it becomes
//!   invalid: outlines and bars set their width and style apart, so only the colour falls
//!   back (to the text colour).

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
