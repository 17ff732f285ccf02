//! Small DOM helpers, and event listeners owned by a value that removes them when dropped
//! (as gloo's `EventListener` does).

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, EventTarget, HtmlInputElement, Window};

use crate::prelude::*;

pub fn window() -> Window {
    web_sys::window().expect_throw("no window")
}

pub fn document() -> Document {
    window().document().expect_throw("no document")
}

/// A new element with a class (none if empty).
pub fn el(tag: &str, class: &str) -> Element {
    let e = document().create_element(tag).expect_throw("createElement");
    if !class.is_empty() {
        e.set_class_name(class);
    }
    e
}

/// A new element holding text.
pub fn text_el(tag: &str, class: &str, text: &str) -> Element {
    let e = el(tag, class);
    e.set_text_content(Some(text));
    e
}

pub fn set(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

pub fn input(kind: &str, id: &str) -> HtmlInputElement {
    let e = el("input", "");
    set(&e, "type", kind);
    if !id.is_empty() {
        e.set_id(id);
    }
    e.unchecked_into()
}

pub fn append(parent: &Element, child: &Element) {
    let _ = parent.append_child(child);
}

/// Shows or hides with the `hidden` attribute (no inline style: strict CSP holds).
pub fn show(e: &Element, visible: bool) {
    if visible {
        let _ = e.remove_attribute("hidden");
    } else {
        set(e, "hidden", "");
    }
}

/// When a listener runs: while the event goes down to its target, or on its way back up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// On the way down: before any handler the page put on the target or below.
    Capture,
    /// On the way up (the default of `addEventListener`).
    Bubble,
}

/// An event listener that is removed when this value is dropped: keep it as long as
/// the listener must live.
#[must_use = "the listener is removed as soon as this value is dropped"]
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    phase: Phase,
    closure: Closure<dyn FnMut(Event)>,
}

impl Listener {
    pub fn new(target: &EventTarget, kind: &'static str, phase: Phase, f: impl FnMut(Event) + 'static) -> Listener {
        let closure = Closure::<dyn FnMut(Event)>::new(f);
        let capture = phase == Phase::Capture;
        let _ = target.add_event_listener_with_callback_and_bool(kind, closure.as_ref().unchecked_ref(), capture);
        Listener { target: target.clone(), kind, phase, closure }
    }
}

impl core::fmt::Debug for Listener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Listener").field(&self.kind).finish()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            self.kind,
            self.closure.as_ref().unchecked_ref(),
            self.phase == Phase::Capture,
        );
    }
}

/// Dispatches `consent:<name>` on `target` with `detail`; it bubbles, so a page can
/// listen on the form or the document.
pub fn dispatch(target: &EventTarget, name: &str, detail: &JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    init.set_bubbles(true);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(&["consent:", name].concat(), &init) {
        let _ = target.dispatch_event(&ev);
    }
}

/// A plain JS object from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// A `performance.mark`, so that sites (and the benchmark) can time the widget.
pub fn mark(name: &str) {
    if let Some(p) = window().performance() {
        let _ = p.mark(name);
    }
}

/// `JSON.stringify`, the browser's own serialiser (none for arbitrary values in the wasm).
pub fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value).map(String::from).unwrap_or_default()
}

/// `performance.now()`, or 0 where there is none.
pub fn perf_now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// The origin of the page the widget is on.
pub fn page_origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// The page, for the receipt's evidence: origin and path only, since a query string may
/// carry personal data.
pub fn page() -> String {
    let loc = window().location();
    loc.origin().unwrap_or_default() + &loc.pathname().unwrap_or_default()
}
