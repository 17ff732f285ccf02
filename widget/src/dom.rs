//! Small DOM helpers, and event listeners owned by a value that removes them when dropped
//! (as gloo's `EventListener` does).

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, EventTarget, HtmlInputElement, Window};

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

/// An event listener that is removed when this value is dropped.
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    capture: bool,
    closure: Closure<dyn FnMut(Event)>,
}

impl Listener {
    pub fn new(target: &EventTarget, kind: &'static str, capture: bool, f: impl FnMut(Event) + 'static) -> Listener {
        let closure = Closure::<dyn FnMut(Event)>::new(f);
        let _ = target.add_event_listener_with_callback_and_bool(kind, closure.as_ref().unchecked_ref(), capture);
        Listener { target: target.clone(), kind, capture, closure }
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listener({})", self.kind)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            self.kind,
            self.closure.as_ref().unchecked_ref(),
            self.capture,
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
