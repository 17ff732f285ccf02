//! # consent-widget
//!
//! The browser half of consent-widget, compiled to WebAssembly. A page adds
//!
//! ```html
//! <div class="consent-widget" data-notice="newsletter"></div>   <!-- inside the <form> -->
//! <script src="https://consent.example.com/widget/widget.js" async></script>
//! ```
//!
//! and every such `<div>` gets one unticked checkbox per purpose of the notice. On submit
//! the widget signs a consent receipt with the visitor's Ed25519 key and either posts the
//! lead to the verifier (`data-mode="post"`, the default) or puts the receipt in a hidden
//! field for the site's back end (`data-mode="field"`).
//!
//! Modules by role: [`options`] reads what the page asks for, [`view`] builds the DOM,
//! [`controller`] holds a widget's state and listeners, [`submit`] signs and sends on
//! submit, [`device`] lists and withdraws the consents given from this device,
//! [`decide`] turns what the visitor did into receipt claims, [`sign`] holds the key,
//! [`api`] talks to the verifier, [`i18n`] has the widget's own words.

// The widget is single-threaded and allocates little: a small free-list allocator
// instead of dlmalloc saves several KB of wasm.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

pub mod api;
pub mod controller;
pub mod decide;
pub mod device;
pub mod dom;
pub mod i18n;
pub mod options;
pub mod phone;
pub mod sign;
pub mod sms;
pub mod style;
pub mod submit;
pub mod view;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Element;

use controller::Widget;
use dom::{dispatch, document, object, page_origin};
use options::Options;

enum Slot {
    Loading,
    Ready(Rc<Widget>),
}

thread_local! {
    static WIDGETS: RefCell<Vec<(String, Slot)>> = const { RefCell::new(Vec::new()) };
    static NEXT: Cell<u32> = const { Cell::new(1) };
    static DEFAULT_VERIFIER: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Starts the widget: called by the loader once the module is instantiated, with the
/// URL the script was loaded from (its origin is the default verifier). Renders every
/// `.consent-widget[data-notice]` on the page, now or when the document has loaded.
#[wasm_bindgen]
pub fn boot(script_src: &str) {
    let origin = web_sys::Url::new(script_src).map(|u| u.origin()).unwrap_or_else(|_| page_origin());
    DEFAULT_VERIFIER.with(|v| *v.borrow_mut() = origin);
    style::adopt();
    let doc = document();
    if doc.ready_state() == "loading" {
        let once = Closure::once_into_js(render_all);
        let opts = web_sys::AddEventListenerOptions::new();
        opts.set_once(true);
        let _ = doc.add_event_listener_with_callback_and_add_event_listener_options(
            "DOMContentLoaded",
            once.unchecked_ref(),
            &opts,
        );
    } else {
        render_all();
    }
}

fn render_all() {
    let Ok(found) = document().query_selector_all(".consent-widget[data-notice]:not([data-cw-id])") else { return };
    for i in 0..found.length() {
        if let Some(el) = found.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            if let Err(e) = read_options(&el, &JsValue::UNDEFINED).map(|o| start(el.clone(), o)) {
                web_sys::console::error_1(&e);
            }
        }
    }
}

fn default_verifier() -> String {
    DEFAULT_VERIFIER.with(|v| v.borrow().clone())
}

fn read_options(el: &Element, obj: &JsValue) -> Result<Options, JsValue> {
    Options::read(el, obj, &default_verifier())
}

fn start(container: Element, opts: Options) -> String {
    let id = NEXT.with(|n| {
        let v = n.get();
        n.set(v + 1);
        ["cw-", &v.to_string()].concat()
    });
    let _ = container.set_attribute("data-cw-id", &id);
    let msg = i18n::messages(opts.lang.as_deref().unwrap_or("en"));
    container.set_inner_html(&view::loading(msg));
    WIDGETS.with(|w| w.borrow_mut().push((id.clone(), Slot::Loading)));
    let task_id = id.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let answer = api::notice(&opts.verifier, &opts.notice, opts.lang.as_deref(), &page_origin()).await;
        // remove() may have been called while the notice was on its way.
        if !WIDGETS.with(|w| w.borrow().iter().any(|(k, _)| *k == task_id)) {
            return;
        }
        match answer {
            Ok(answer) => {
                let widget = Widget::mount(task_id.clone(), container, opts, answer);
                let detail = widget.ready_detail();
                WIDGETS.with(|w| {
                    for (k, slot) in w.borrow_mut().iter_mut() {
                        if *k == task_id {
                            *slot = Slot::Ready(widget.clone());
                        }
                    }
                });
                dom::mark("consent:ready");
                dispatch(&widget.container, "ready", &detail);
            }
            Err(e) => {
                container.set_inner_html(&view::load_failed(msg));
                web_sys::console::error_3(
                    &"consent-widget:".into(),
                    &e.code.as_str().into(),
                    &e.detail.as_str().into(),
                );
                let detail = object(&[
                    ("id", task_id.as_str().into()),
                    ("code", e.code.as_str().into()),
                    ("message", msg.load_failed.into()),
                ]);
                dispatch(&container, "error", &detail);
            }
        }
    });
    id
}

fn element(target: &JsValue) -> Result<Element, JsValue> {
    if let Some(selector) = target.as_string() {
        return document()
            .query_selector(&selector)?
            .ok_or_else(|| JsValue::from_str("consent-widget: nothing matches"));
    }
    target
        .clone()
        .dyn_into::<Element>()
        .map_err(|_| JsValue::from_str("consent-widget: render needs an element or a selector"))
}

/// `ConsentWidget.render(element | selector, options?) -> id`.
#[wasm_bindgen]
pub fn render(target: JsValue, options: JsValue) -> Result<String, JsValue> {
    let el = element(&target)?;
    if let Some(id) = el.get_attribute("data-cw-id") {
        return Ok(id);
    }
    Ok(start(el.clone(), read_options(&el, &options)?))
}

fn ready(id: &str) -> Option<Rc<Widget>> {
    WIDGETS.with(|w| {
        w.borrow().iter().find_map(|(k, slot)| match slot {
            Slot::Ready(widget) if k == id => Some(widget.clone()),
            _ => None,
        })
    })
}

/// `ConsentWidget.getReceipt(id) -> string | null`: the last receipt signed.
#[wasm_bindgen(js_name = getReceipt)]
pub fn get_receipt(id: &str) -> Option<String> {
    ready(id).and_then(|w| w.receipt())
}

/// `ConsentWidget.reset(id)`: unticks everything and fetches a fresh nonce.
#[wasm_bindgen]
pub fn reset(id: &str) {
    if let Some(w) = ready(id) {
        w.reset();
    }
}

/// `ConsentWidget.remove(id)`: removes the widget and its listeners.
#[wasm_bindgen]
pub fn remove(id: &str) {
    let removed = WIDGETS.with(|w| {
        let mut w = w.borrow_mut();
        let at = w.iter().position(|(k, _)| k == id)?;
        Some(w.remove(at).1)
    });
    if let Some(Slot::Ready(w)) = removed {
        w.unmount();
    }
}
