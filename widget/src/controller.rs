//! One rendered widget: its state and its listeners. What happens on submit is in
//! [`crate::submit`], the consents given from this device in [`crate::device`].
//!
//! Ownership: the registry in `lib.rs` holds the only strong `Rc<Widget>`. Listeners and
//! every task spawned with `spawn_local` hold a `Weak`, so `remove()` drops the widget at
//! once, and a task that wakes up after it finds nothing and stops.

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, HtmlFormElement};

use crate::api::{ApiError, NoticeAnswer};
use crate::decide::AgeAnswer;
use crate::dom::{self, Listener, Phase, dispatch, object, perf_now, window};
use crate::i18n::{Messages, messages};
use crate::options::Options;
use crate::prelude::*;
use crate::sign::Signer;
use crate::view::{self, View};

/// What changes while the widget is on the page, behind one `RefCell`. Borrows are short:
/// none is held while an event is dispatched to the page (its handlers may call back).
#[derive(Debug)]
pub struct State {
    /// The verifier's latest answer: notice, nonce, clock.
    pub answer: NoticeAnswer,
    /// `performance.now()` when the answer arrived, to advance the verifier's clock.
    pub fetched_at: f64,
    /// Per box: the last change was a trusted gesture that ticked it.
    pub by_gesture: Vec<bool>,
    /// Per box: when it last changed, on the verifier's clock.
    pub changed_at: Vec<Option<i64>>,
    /// The next submit event is our own resubmission: let it through.
    pub passthrough: bool,
    /// A lead is on its way to the verifier.
    pub busy: bool,
    pub last_receipt: Option<String>,
    /// The lead the verifier accepted last, for the SMS code.
    pub lead_id: Option<String>,
    pub listeners: Vec<Listener>,
}

/// A rendered widget.
#[derive(Debug)]
pub struct Widget {
    pub id: String,
    pub container: Element,
    pub opts: Options,
    pub view: View,
    pub msg: &'static Messages,
    /// Signs receipts and withdrawals with the visitor's key (through the loader).
    pub signer: Signer,
    pub form: Option<HtmlFormElement>,
    /// Every box was unticked once the widget was in the page.
    pub initially_unchecked: bool,
    pub state: RefCell<State>,
}

impl Widget {
    /// Builds the widget into `container` from the verifier's answer and wires it up.
    pub fn mount(id: String, container: Element, opts: Options, answer: NoticeAnswer, signer: Signer) -> Rc<Widget> {
        let msg = messages(&answer.notice.lang);
        // A relative policy URL is the verifier's own notice page.
        let policy = web_sys::Url::new_with_base(&answer.notice.policy_url, &[opts.verifier.as_str(), "/"].concat())
            .map(|u| u.href())
            .unwrap_or_else(|_| answer.notice.policy_url.clone());
        let view = match &opts.guardian {
            Some(g) => view::build_guardian(&id, &answer.notice, msg, &g.child, &g.granted, &policy),
            None => view::build(&id, &answer.notice, msg, &opts.field_name, &policy),
        };
        container.set_inner_html("");
        dom::append(&container, &view.root);
        // Checked after insertion: no page script or stylesheet had a chance to tick a box
        // the visitor did not touch.
        let initially_unchecked = view.purposes.iter().all(|p| !p.checkbox.checked());
        let form = container.closest("form").ok().flatten().and_then(|f| f.dyn_into::<HtmlFormElement>().ok());
        let n = view.purposes.len();
        let widget = Rc::new(Widget {
            id,
            container,
            opts,
            view,
            msg,
            signer,
            form,
            initially_unchecked,
            state: RefCell::new(State {
                answer,
                fetched_at: perf_now(),
                by_gesture: alloc::vec![false; n],
                changed_at: alloc::vec![None; n],
                passthrough: false,
                busy: false,
                last_receipt: None,
                lead_id: None,
                listeners: Vec::new(),
            }),
        });
        let listeners = Widget::listen(&widget);
        widget.state.borrow_mut().listeners = listeners;
        if widget.opts.guardian.is_none() {
            widget.show_device_consents();
        }
        widget
    }

    /// A listener on `target` that calls `f` on the widget while it exists.
    fn on(
        this: &Rc<Widget>,
        target: &web_sys::EventTarget,
        kind: &'static str,
        phase: Phase,
        f: impl Fn(&Rc<Widget>, Event) + 'static,
    ) -> Listener {
        let weak = Rc::downgrade(this);
        Listener::new(target, kind, phase, move |ev| {
            if let Some(w) = weak.upgrade() {
                f(&w, ev);
            }
        })
    }

    fn listen(this: &Rc<Widget>) -> Vec<Listener> {
        let mut listeners = Vec::new();
        for (i, p) in this.view.purposes.iter().enumerate() {
            let checkbox = p.checkbox.unchecked_ref();
            listeners.push(Widget::on(this, checkbox, "change", Phase::Bubble, move |w, ev| w.on_box_change(i, &ev)));
        }
        if let Some(age) = &this.view.age {
            for radio in [&age.adult, &age.minor] {
                listeners
                    .push(Widget::on(this, radio.unchecked_ref(), "change", Phase::Bubble, |w, _| w.on_age_change()));
            }
        }
        for kind in ["click", "keydown"] {
            let target = if kind == "click" { &this.view.code_send } else { this.view.code.unchecked_ref() };
            listeners.push(Widget::on(this, target.unchecked_ref(), kind, Phase::Bubble, |w, ev| w.on_code(&ev)));
        }
        let manage = this.view.manage.unchecked_ref();
        listeners.push(Widget::on(this, manage, "click", Phase::Bubble, |w, ev| w.on_manage_click(&ev)));
        if let Some(form) = &this.form {
            // Capture phase: the receipt is made before the site's own submit handlers run.
            listeners.push(Widget::on(this, form.unchecked_ref(), "submit", Phase::Capture, |w, ev| w.on_submit(ev)));
        }
        listeners
    }

    /// Now on the verifier's clock.
    pub fn now(&self) -> i64 {
        let s = self.state.borrow();
        s.answer.now + js_sys::Math::floor((perf_now() - s.fetched_at) / 1000.0) as i64
    }

    fn on_box_change(&self, i: usize, ev: &Event) {
        let checked = self.view.purposes[i].checkbox.checked();
        let now = self.now();
        {
            let mut s = self.state.borrow_mut();
            // Only a real click, tap or key press counts as the visitor's act (GDPR Art. 4(11)).
            s.by_gesture[i] = checked && ev.is_trusted();
            s.changed_at[i] = Some(now);
        }
        self.clear_alert();
        self.update_guardian_required();
        dispatch(
            &self.container,
            "change",
            &object(&[
                ("id", self.id.as_str().into()),
                ("purpose", self.view.purposes[i].id.as_str().into()),
                ("granted", self.view.purposes[i].granted().into()),
                ("trusted", ev.is_trusted().into()),
            ]),
        );
    }

    pub fn age(&self) -> AgeAnswer {
        match &self.view.age {
            Some(a) if a.minor.checked() => AgeAnswer::Minor,
            Some(a) if a.adult.checked() => AgeAnswer::Adult,
            Some(_) => AgeAnswer::Unanswered,
            // A parent answering for their child is the adult here.
            None => AgeAnswer::Adult,
        }
    }

    /// The guardian's address is required only for a minor who grants something: a
    /// refusal needs nobody's approval, and the form must go through without it.
    fn update_guardian_required(&self) {
        // An objection box offered instead of consent needs nobody's approval.
        let any_grant = self.view.purposes.iter().any(|p| p.checkbox.checked() && !p.objection);
        if let Some(age) = &self.view.age {
            age.guardian.set_required(self.age() == AgeAnswer::Minor && any_grant);
        }
    }

    fn on_age_change(&self) {
        let minor = self.age() == AgeAnswer::Minor;
        view::set_minor(&self.view, &self.state.borrow().answer.notice, minor);
        self.update_guardian_required();
        self.clear_alert();
        dispatch(&self.container, "change", &object(&[("id", self.id.as_str().into()), ("minor", minor.into())]));
    }

    pub fn clear_alert(&self) {
        self.view.alert.set_text_content(None);
        self.mark_phone(None);
    }

    pub fn status(&self, text: &str) {
        self.view.status.set_text_content(Some(text));
    }

    /// Shows an error next to the widget, tells the page, and keeps every answer in place.
    pub fn fail(&self, code: &str, text: &str, focus: Option<&HtmlElement>) {
        self.status("");
        self.view.alert.set_text_content(Some(text));
        if let Some(f) = focus {
            let _ = f.focus();
        }
        let detail = object(&[("id", self.id.as_str().into()), ("code", code.into()), ("message", text.into())]);
        dispatch(&self.container, "error", &detail);
        call_global(self.opts.error_callback.as_deref(), &detail);
    }

    /// Says why the verifier refused, or could not be reached.
    pub fn report(&self, e: &ApiError) {
        let text = match e.code.as_str() {
            "network" => self.msg.network.to_string(),
            // "sign-failed": the fallback signer could not be fetched.
            "unavailable" | "internal" | "timeout" | "sign-failed" => self.msg.unavailable.to_string(),
            code => [self.msg.rejected, " (", code, ")."].concat(),
        };
        explain(e, &self.opts.notice);
        self.fail(&e.code, &text, None);
    }

    /// The last receipt signed (and, in post mode, sent).
    pub fn receipt(&self) -> Option<String> {
        self.state.borrow().last_receipt.clone()
    }

    /// Unticks every box, forgets the answers and fetches a fresh nonce.
    pub fn reset(self: &Rc<Self>) {
        for p in &self.view.purposes {
            p.checkbox.set_checked(false);
        }
        if let Some(age) = &self.view.age {
            age.adult.set_checked(false);
            age.minor.set_checked(false);
            age.guardian.set_value("");
        }
        self.view.hidden.set_value("");
        {
            let mut s = self.state.borrow_mut();
            s.by_gesture.iter_mut().for_each(|g| *g = false);
            s.changed_at.iter_mut().for_each(|c| *c = None);
            s.last_receipt = None;
            view::set_minor(&self.view, &s.answer.notice, false);
        }
        self.clear_alert();
        self.status("");
        let weak = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = refresh(&weak).await;
        });
    }

    /// Takes the widget out of the page and removes its listeners.
    pub fn unmount(&self) {
        // Dropped outside the borrow: removing a listener must not meet a borrowed state.
        let listeners = core::mem::take(&mut self.state.borrow_mut().listeners);
        drop(listeners);
        // The container's `data-cw-id` is the loader's: it may already name a new widget.
        self.view.root.remove();
    }

    /// What `consent:ready` carries.
    pub fn ready_detail(&self) -> JsValue {
        let s = self.state.borrow();
        let a = &s.answer;
        object(&[
            ("id", self.id.as_str().into()),
            ("notice", a.notice.id.as_str().into()),
            ("version", a.notice.version.into()),
            ("lang", a.notice.lang.as_str().into()),
            ("digest", a.digest.as_str().into()),
            ("purposes", a.notice.purposes.iter().map(|p| JsValue::from_str(&p.id)).collect::<js_sys::Array>().into()),
        ])
    }
}

/// A fresh nonce (and clock) for the same notice, in the same language. `Ok` without
/// doing anything when the widget was removed meanwhile.
pub async fn refresh(weak: &Weak<Widget>) -> Result<(), ApiError> {
    let Some((verifier, notice, lang, digest)) = weak.upgrade().map(|w| {
        let s = w.state.borrow();
        (w.opts.verifier.clone(), w.opts.notice.clone(), s.answer.notice.lang.clone(), s.answer.digest.clone())
    }) else {
        return Ok(());
    };
    let fresh = crate::api::notice(&verifier, &notice, Some(&lang), &dom::page_origin(), None).await?;
    if fresh.digest != digest {
        return Err(ApiError { code: "notice-changed".into(), status: 0, detail: "the notice changed".into() });
    }
    if let Some(w) = weak.upgrade() {
        let mut s = w.state.borrow_mut();
        s.fetched_at = perf_now();
        s.answer = fresh;
    }
    Ok(())
}

/// Tells the page's developer, in the console, why the verifier refused; for an origin the
/// notice does not list, what to change. The verifier's problems are readable from any
/// origin (CORS on every error of the browser API), so this is known, not guessed.
pub fn explain(e: &ApiError, notice: &str) {
    if e.code == "origin-not-allowed" {
        let hint = [
            "consent-widget: this page's origin (",
            &dom::page_origin(),
            ") is not allowed for notice ",
            notice,
            ": add it to `origins` in the notice on the verifier",
        ]
        .concat();
        web_sys::console::error_1(&hint.into());
    } else {
        web_sys::console::warn_3(&"consent-widget:".into(), &e.code.as_str().into(), &e.detail.as_str().into());
    }
}

/// Calls `window[name](detail)` when the page named a callback.
pub fn call_global(name: Option<&str>, detail: &JsValue) {
    let Some(name) = name else { return };
    let f = js_sys::Reflect::get(&window(), &JsValue::from_str(name)).ok();
    match f.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
        Some(f) => {
            let _ = f.call1(&JsValue::NULL, detail);
        }
        None => web_sys::console::warn_2(&"consent-widget: no global function".into(), &name.into()),
    }
}
