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
//! Signing goes through the loader ([`sign::Signer`]): the browser's WebCrypto Ed25519
//! where it has it, else a second small wasm module (`widget/sign`) fetched only there.
//! As shipped (feature `dist`) the crate is `no_std` on wasm32: no `core::fmt`, no panic
//! messages (`cargo xtask dist` fails if their symbols appear).
//!
//! Modules by role: [`options`] reads what the page asks for, [`view`] builds the DOM,
//! [`controller`] holds a widget's state and listeners, [`submit`] signs and sends on
//! submit, [`device`] lists and withdraws the consents given from this device,
//! [`decide`] turns what the visitor did into receipt claims, [`sign`] holds the key,
//! [`api`] talks to the verifier, [`i18n`] has the widget's own words.

#![cfg_attr(all(target_arch = "wasm32", feature = "dist"), no_std)]

extern crate alloc;

/// What `std`'s prelude gives and `no_std` does not: one `use crate::prelude::*` a file.
pub mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
}

/// As shipped, a panic (none is reachable: no `unwrap`, no indexing that can fail) stops
/// the module without a message, so no formatting code is linked in.
#[cfg(all(target_arch = "wasm32", feature = "dist"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

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

use alloc::rc::Rc;
use core::cell::RefCell;

use prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::Element;

use controller::Widget;
use dom::{dispatch, object, page_origin};
use options::Options;
use sign::Signer;

#[derive(Debug)]
enum Slot {
    /// The notice is on its way (the controller aborts its request); the container shows
    /// the loading line.
    Loading(Element, Option<web_sys::AbortController>),
    Ready(Rc<Widget>),
}

/// The widgets on the page, by id, and what they share. Held by [`Api`] (the loader's
/// handle) and by the tasks that load notices; no global state.
#[derive(Debug)]
struct Registry {
    widgets: RefCell<Vec<(String, Slot)>>,
    /// The origin the script came from: the default verifier.
    verifier: String,
    signer: Signer,
}

/// What `window.ConsentWidget`'s methods call: returned by [`boot`] to the loader.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Api(Rc<Registry>);

/// Starts the widget: called by the loader once the module is instantiated, with the
/// URL the script was loaded from (its origin is the default verifier) and the loader's
/// `ed25519(seed, message?)` ([`Signer`]). The loader finds the containers (those in the
/// page, and those added later) and gives each its id.
#[wasm_bindgen]
pub fn boot(script_src: &str, ed25519: js_sys::Function) -> Api {
    let verifier = web_sys::Url::new(script_src).map(|u| u.origin()).unwrap_or_else(|_| page_origin());
    style::adopt();
    Api(Rc::new(Registry { widgets: RefCell::default(), verifier, signer: Signer::new(ed25519) }))
}

fn start(reg: &Rc<Registry>, id: String, container: Element, opts: Options) {
    let msg = i18n::messages(opts.lang.as_deref().unwrap_or("en"));
    container.set_inner_html(&view::loading(msg));
    let abort = web_sys::AbortController::new().ok();
    let signal = abort.as_ref().map(|a| a.signal());
    reg.widgets.borrow_mut().push((id.clone(), Slot::Loading(container.clone(), abort)));
    let task_id = id;
    let reg = reg.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let origin = page_origin();
        let answer = api::notice(&opts.verifier, &opts.notice, opts.lang.as_deref(), &origin, signal.as_ref()).await;
        // remove() may have been called while the notice was on its way: nothing to do.
        if !reg.widgets.borrow().iter().any(|(k, _)| *k == task_id) {
            return;
        }
        match answer {
            Ok(answer) => {
                let widget = Widget::mount(task_id.clone(), container, opts, answer, reg.signer.clone());
                let detail = widget.ready_detail();
                for (k, slot) in reg.widgets.borrow_mut().iter_mut() {
                    if *k == task_id {
                        *slot = Slot::Ready(widget.clone());
                    }
                }
                dom::mark("consent:ready");
                dispatch(&widget.container, "ready", &detail);
            }
            Err(e) => {
                // The visitor reads a neutral message; the page's developer, in the console,
                // what to change.
                container.set_inner_html(&view::load_failed(msg));
                controller::explain(&e, &opts.notice);
                let detail = object(&[
                    ("id", task_id.as_str().into()),
                    ("code", e.code.as_str().into()),
                    ("message", msg.load_failed.into()),
                ]);
                dispatch(&container, "error", &detail);
            }
        }
    });
}

impl Registry {
    fn ready(&self, id: &str) -> Option<Rc<Widget>> {
        self.widgets.borrow().iter().find_map(|(k, slot)| match slot {
            Slot::Ready(widget) if k == id => Some(widget.clone()),
            _ => None,
        })
    }
}

#[wasm_bindgen]
impl Api {
    /// `render(element, options, id)`: the loader's `ConsentWidget.render`, which found
    /// the element and chose the id.
    pub fn render(&self, el: Element, options: JsValue, id: String) -> Result<(), JsValue> {
        let opts = Options::read(&el, &options, &self.0.verifier)?;
        start(&self.0, id, el, opts);
        Ok(())
    }

    /// `ConsentWidget.getReceipt(id) -> string | null`: the last receipt signed.
    #[wasm_bindgen(js_name = getReceipt)]
    pub fn get_receipt(&self, id: &str) -> Option<String> {
        self.0.ready(id).and_then(|w| w.receipt())
    }

    /// `ConsentWidget.reset(id)`: unticks everything and fetches a fresh nonce.
    pub fn reset(&self, id: &str) {
        if let Some(w) = self.0.ready(id) {
            w.reset();
        }
    }

    /// `ConsentWidget.remove(id)`: removes the widget and its listeners; while its notice
    /// loads, aborts the request and clears the loading line.
    pub fn remove(&self, id: &str) {
        let removed = {
            let mut w = self.0.widgets.borrow_mut();
            w.iter().position(|(k, _)| k == id).map(|at| w.remove(at).1)
        };
        match removed {
            Some(Slot::Ready(w)) => w.unmount(),
            Some(Slot::Loading(container, abort)) => {
                if let Some(a) = abort {
                    a.abort();
                }
                container.set_inner_html("");
            }
            None => {}
        }
    }
}
