//! One rendered widget: its state, its listeners, and what happens on submit.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use consent_receipt::NoticeRef;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, HtmlFormElement, HtmlInputElement};

use crate::api::{self, ApiError, NoticeAnswer};
use crate::decide::{self, AgeAnswer, BoxState, Inputs, Missing};
use crate::dom::{self, Listener, dispatch, object, window};
use crate::i18n::{Messages, messages, with_age};
use crate::sign;
use crate::view::{self, View};

/// How the widget hands the receipt on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// POST the lead to the verifier, then let the form go on with the receipt in a hidden field.
    Post,
    /// Only put the signed receipt in a hidden field; the site's back end forwards it.
    Field,
}

/// Options, from `data-*` attributes or `ConsentWidget.render(el, options)`.
#[derive(Debug, Clone)]
pub struct Options {
    pub notice: String,
    pub verifier: String,
    pub lang: Option<String>,
    pub mode: Mode,
    pub field_name: String,
    pub callback: Option<String>,
    pub error_callback: Option<String>,
    pub email_field: Option<String>,
    pub phone_field: Option<String>,
    pub fields: Vec<String>,
}

/// A rendered widget.
#[derive(Debug)]
pub struct Widget {
    pub id: String,
    pub container: Element,
    opts: Options,
    answer: RefCell<NoticeAnswer>,
    /// `performance.now()` when the answer arrived, to advance the verifier's clock.
    fetched_at: Cell<f64>,
    view: View,
    msg: &'static Messages,
    form: Option<HtmlFormElement>,
    by_gesture: Vec<Cell<bool>>,
    changed_at: Vec<Cell<Option<i64>>>,
    initially_unchecked: bool,
    passthrough: Cell<bool>,
    busy: Cell<bool>,
    last_receipt: RefCell<Option<String>>,
    listeners: RefCell<Vec<Listener>>,
}

fn perf_now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

impl Widget {
    /// Builds the widget into `container` from the verifier's answer and wires it up.
    pub fn mount(id: String, container: Element, opts: Options, answer: NoticeAnswer) -> Rc<Widget> {
        let msg = messages(&answer.notice.lang);
        // A relative policy URL is the verifier's own notice page.
        let policy = web_sys::Url::new_with_base(&answer.notice.policy_url, &[opts.verifier.as_str(), "/"].concat())
            .map(|u| u.href())
            .unwrap_or_else(|_| answer.notice.policy_url.clone());
        let view = view::build(&id, &answer.notice, msg, &opts.field_name, &policy);
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
            answer: RefCell::new(answer),
            fetched_at: Cell::new(perf_now()),
            view,
            msg,
            form,
            by_gesture: (0..n).map(|_| Cell::new(false)).collect(),
            changed_at: (0..n).map(|_| Cell::new(None)).collect(),
            initially_unchecked,
            passthrough: Cell::new(false),
            busy: Cell::new(false),
            last_receipt: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
        });
        Widget::listen(&widget);
        widget
    }

    fn listen(this: &Rc<Widget>) {
        let mut listeners = Vec::new();
        for (i, p) in this.view.purposes.iter().enumerate() {
            let weak = Rc::downgrade(this);
            listeners.push(Listener::new(p.checkbox.unchecked_ref(), "change", false, move |ev: Event| {
                if let Some(w) = weak.upgrade() {
                    w.on_box_change(i, &ev);
                }
            }));
        }
        for radio in [&this.view.adult, &this.view.minor] {
            let weak = Rc::downgrade(this);
            listeners.push(Listener::new(radio.unchecked_ref(), "change", false, move |_| {
                if let Some(w) = weak.upgrade() {
                    w.on_age_change();
                }
            }));
        }
        if let Some(form) = &this.form {
            // Capture phase: the receipt is made before the site's own submit handlers run.
            let weak: Weak<Widget> = Rc::downgrade(this);
            listeners.push(Listener::new(form.unchecked_ref(), "submit", true, move |ev: Event| {
                if let Some(w) = weak.upgrade() {
                    w.on_submit(ev);
                }
            }));
        }
        *this.listeners.borrow_mut() = listeners;
    }

    /// Now on the verifier's clock.
    fn now(&self) -> i64 {
        self.answer.borrow().now + ((perf_now() - self.fetched_at.get()) / 1000.0).floor() as i64
    }

    fn on_box_change(&self, i: usize, ev: &Event) {
        let checkbox = &self.view.purposes[i].checkbox;
        let checked = checkbox.checked();
        // Only a real click, tap or key press counts as the visitor's act (GDPR Art. 4(11)).
        self.by_gesture[i].set(checked && ev.is_trusted());
        self.changed_at[i].set(Some(self.now()));
        self.clear_alert();
        self.update_guardian_required();
        dispatch(
            &self.container,
            "change",
            &object(&[
                ("id", self.id.as_str().into()),
                ("purpose", self.view.purposes[i].id.as_str().into()),
                ("granted", checked.into()),
                ("trusted", ev.is_trusted().into()),
            ]),
        );
    }

    fn age(&self) -> AgeAnswer {
        if self.view.minor.checked() {
            AgeAnswer::Minor
        } else if self.view.adult.checked() {
            AgeAnswer::Adult
        } else {
            AgeAnswer::Unanswered
        }
    }

    /// The guardian's address is required only for a minor who grants something: a
    /// refusal needs nobody's approval, and the form must go through without it.
    fn update_guardian_required(&self) {
        let any_grant = self.view.purposes.iter().any(|p| p.checkbox.checked());
        self.view.guardian.set_required(self.age() == AgeAnswer::Minor && any_grant);
    }

    fn on_age_change(&self) {
        let minor = self.age() == AgeAnswer::Minor;
        view::set_minor(&self.view, &self.answer.borrow().notice, minor);
        self.update_guardian_required();
        self.clear_alert();
        dispatch(&self.container, "change", &object(&[("id", self.id.as_str().into()), ("minor", minor.into())]));
    }

    fn clear_alert(&self) {
        self.view.alert.set_text_content(None);
    }

    fn status(&self, text: &str) {
        self.view.status.set_text_content(Some(text));
    }

    /// Shows an error next to the widget, tells the page, and keeps every answer in place.
    fn fail(&self, code: &str, text: &str, focus: Option<&HtmlElement>) {
        self.status("");
        self.view.alert.set_text_content(Some(text));
        if let Some(f) = focus {
            let _ = f.focus();
        }
        let detail = object(&[("id", self.id.as_str().into()), ("code", code.into()), ("message", text.into())]);
        dispatch(&self.container, "error", &detail);
        call_global(self.opts.error_callback.as_deref(), &detail);
    }

    fn form_control(&self, name: Option<&str>, kind: &str) -> Option<HtmlInputElement> {
        let scope: Element = match &self.form {
            Some(f) => f.clone().unchecked_into(),
            None => dom::document().document_element()?,
        };
        if let Some(name) = name {
            let found = if name.starts_with(['#', '.', '[']) {
                dom::document().query_selector(name).ok().flatten()
            } else {
                scope.query_selector(&["[name=\"", &name.replace('"', ""), "\"]"].concat()).ok().flatten()
            };
            return found.and_then(|e| e.dyn_into().ok());
        }
        let all = scope.query_selector_all(&["input[type=", kind, "]"].concat()).ok()?;
        (0..all.length())
            .filter_map(|i| all.item(i))
            .filter_map(|n| n.dyn_into::<HtmlInputElement>().ok())
            .find(|e| !self.view.root.contains(Some(e)))
    }

    fn page(&self) -> String {
        // Origin and path only: a query string may carry personal data.
        let loc = window().location();
        loc.origin().unwrap_or_default() + &loc.pathname().unwrap_or_default()
    }

    /// Signs the receipt for the form as it stands, or says what is missing.
    fn make_receipt(&self) -> Result<Option<String>, (&'static str, String, Option<HtmlElement>)> {
        let email_input = self.form_control(self.opts.email_field.as_deref(), "email");
        let email = email_input.as_ref().map(|e| e.value()).unwrap_or_default();
        let phone = self.form_control(self.opts.phone_field.as_deref(), "tel").and_then(|p| decide::e164(&p.value()));
        let boxes: Vec<BoxState> = self
            .view
            .purposes
            .iter()
            .enumerate()
            .map(|(i, p)| BoxState {
                purpose: p.id.clone(),
                checked: p.checkbox.checked(),
                ticked_by_gesture: self.by_gesture[i].get(),
                changed_at: self.changed_at[i].get(),
            })
            .collect();
        let answer = self.answer.borrow();
        let notice = &answer.notice;
        let page = self.page();
        let inputs = Inputs {
            boxes: &boxes,
            initially_unchecked: self.initially_unchecked,
            age: self.age(),
            email: &email,
            phone: phone.as_deref(),
            guardian: &self.view.guardian.value(),
            now: self.now(),
            page: &page,
        };
        let ctx = decide::Context {
            jti: sign::new_jti(),
            audience: &answer.audience,
            origin: &answer.origin,
            nonce: &answer.nonce,
            notice: NoticeRef {
                id: notice.id.clone(),
                version: notice.version,
                lang: notice.lang.clone(),
                digest: answer.digest.clone(),
            },
            threshold: notice.age_of_consent,
            jurisdiction: &notice.jurisdiction,
        };
        let focus = |e: &HtmlInputElement| Some(e.clone().unchecked_into::<HtmlElement>());
        match decide::claims(ctx, &inputs) {
            Ok(Some(claims)) => {
                dom::mark("consent:sign-start");
                let receipt = claims.sign(&sign::visitor_key());
                dom::mark("consent:sign-end");
                Ok(Some(receipt))
            }
            Ok(None) => Ok(None),
            Err(Missing::Email) => {
                Err(("need-email", self.msg.need_email.into(), email_input.as_ref().and_then(focus)))
            }
            Err(Missing::Age) => {
                Err(("need-age", with_age(self.msg.need_age, notice.age_of_consent), focus(&self.view.adult)))
            }
            Err(Missing::Guardian) => Err(("need-guardian", self.msg.need_guardian.into(), focus(&self.view.guardian))),
            Err(Missing::GuardianIsSelf) => {
                Err(("guardian-is-self", self.msg.guardian_is_self.into(), focus(&self.view.guardian)))
            }
        }
    }

    fn on_submit(self: Rc<Self>, ev: Event) {
        if self.passthrough.replace(false) {
            // Our own resubmission, receipt in place: let the form and the site's handlers go on.
            return;
        }
        ev.prevent_default();
        ev.stop_immediate_propagation();
        if self.busy.get() {
            return;
        }
        self.clear_alert();
        let submitter = ev.dyn_ref::<web_sys::SubmitEvent>().and_then(|s| s.submitter());
        let receipt = match self.make_receipt() {
            Ok(r) => r,
            Err((code, text, focus)) => return self.fail(code, &text, focus.as_ref()),
        };
        let Some(receipt) = receipt else {
            // Nothing granted and no contact: nothing to record, the form goes on.
            return self.resubmit(submitter);
        };
        self.view.hidden.set_value(&receipt);
        *self.last_receipt.borrow_mut() = Some(receipt.clone());
        let detail = object(&[("id", self.id.as_str().into()), ("receipt", receipt.as_str().into())]);
        dispatch(&self.container, "signed", &detail);
        match self.opts.mode {
            Mode::Field => {
                call_global(self.opts.callback.as_deref(), &detail);
                self.resubmit(submitter);
            }
            Mode::Post => {
                self.busy.set(true);
                self.status(self.msg.sending);
                wasm_bindgen_futures::spawn_local(self.post(receipt, submitter));
            }
        }
    }

    fn lead_body(&self, receipt: &str) -> String {
        // The browser's JSON.stringify: no serialiser for arbitrary values in the wasm.
        let fields = js_sys::Object::new();
        for name in &self.opts.fields {
            if let Some(input) = self.form_control(Some(name), "text") {
                let _ = js_sys::Reflect::set(&fields, &name.into(), &input.value().into());
            }
        }
        let body = object(&[("receipt", receipt.into()), ("fields", fields.into())]);
        js_sys::JSON::stringify(&body).map(String::from).unwrap_or_default()
    }

    async fn post(self: Rc<Self>, mut receipt: String, submitter: Option<HtmlElement>) {
        let mut retried = false;
        let result = loop {
            match api::post_lead(&self.opts.verifier, &self.lead_body(&receipt)).await {
                // The page stayed open past the nonce's life: fetch a fresh one and sign again,
                // once, provided the notice text is still the same.
                Err(e) if !retried && (e.code == "expired-nonce" || e.code == "clock-skew") => {
                    retried = true;
                    if let Err(e) = self.refresh().await {
                        break Err(e);
                    }
                    match self.make_receipt() {
                        Ok(Some(r)) => {
                            self.view.hidden.set_value(&r);
                            *self.last_receipt.borrow_mut() = Some(r.clone());
                            receipt = r;
                        }
                        _ => break Err(e),
                    }
                }
                other => break other,
            }
        };
        self.busy.set(false);
        match result {
            Ok(accepted) => {
                let text = match accepted.status.as_str() {
                    "awaiting_guardian" => self.msg.accepted_guardian,
                    "refused" => self.msg.refused,
                    _ => self.msg.accepted,
                };
                self.status(text);
                let detail = object(&[
                    ("id", self.id.as_str().into()),
                    ("lead_id", accepted.lead_id.as_str().into()),
                    ("status", accepted.status.as_str().into()),
                    ("seal", accepted.seal.as_str().into()),
                    ("receipt", receipt.as_str().into()),
                ]);
                dispatch(&self.container, "accepted", &detail);
                call_global(self.opts.callback.as_deref(), &detail);
                self.resubmit(submitter);
            }
            Err(e) => self.report(&e),
        }
    }

    fn report(&self, e: &ApiError) {
        let text = match e.code.as_str() {
            "network" => self.msg.network.to_string(),
            "unavailable" | "internal" | "timeout" => self.msg.unavailable.to_string(),
            code => [self.msg.rejected, " (", code, ")."].concat(),
        };
        if !e.detail.is_empty() {
            web_sys::console::warn_3(&"consent-widget:".into(), &e.code.as_str().into(), &e.detail.as_str().into());
        }
        self.fail(&e.code, &text, None);
    }

    /// A fresh nonce (and clock) for the same notice, in the same language.
    async fn refresh(&self) -> Result<(), ApiError> {
        let lang = self.answer.borrow().notice.lang.clone();
        let fresh = api::notice(&self.opts.verifier, &self.opts.notice, Some(&lang), &page_origin()).await?;
        if fresh.digest != self.answer.borrow().digest {
            return Err(ApiError { code: "notice-changed".into(), status: 0, detail: "the notice changed".into() });
        }
        self.fetched_at.set(perf_now());
        *self.answer.borrow_mut() = fresh;
        Ok(())
    }

    fn resubmit(self: &Rc<Self>, submitter: Option<HtmlElement>) {
        // Not from inside the submit event: while it is being dispatched the browser
        // ignores requestSubmit (HTML's "firing submission events" flag). Next task.
        let weak = Rc::downgrade(self);
        let later = Closure::once_into_js(move || {
            let Some(w) = weak.upgrade() else { return };
            let Some(form) = &w.form else { return };
            w.passthrough.set(true);
            let sent = match &submitter {
                Some(s) => form.request_submit_with_submitter(Some(s)),
                None => form.request_submit(),
            };
            if sent.is_err() {
                // requestSubmit refuses a submitter that left the form; submit() still works.
                w.passthrough.set(false);
                let _ = form.submit();
            }
        });
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 0);
    }

    /// The last receipt signed (and, in post mode, sent).
    pub fn receipt(&self) -> Option<String> {
        self.last_receipt.borrow().clone()
    }

    /// Unticks every box, forgets the answers and fetches a fresh nonce.
    pub fn reset(self: Rc<Self>) {
        for (i, p) in self.view.purposes.iter().enumerate() {
            p.checkbox.set_checked(false);
            self.by_gesture[i].set(false);
            self.changed_at[i].set(None);
        }
        self.view.adult.set_checked(false);
        self.view.minor.set_checked(false);
        self.view.guardian.set_value("");
        self.view.hidden.set_value("");
        view::set_minor(&self.view, &self.answer.borrow().notice, false);
        *self.last_receipt.borrow_mut() = None;
        self.clear_alert();
        self.status("");
        wasm_bindgen_futures::spawn_local(async move {
            let _ = self.refresh().await;
        });
    }

    /// Takes the widget out of the page and removes its listeners.
    pub fn unmount(&self) {
        self.listeners.borrow_mut().clear();
        self.view.root.remove();
        let _ = self.container.remove_attribute("data-cw-id");
    }

    /// What `consent:ready` carries.
    pub fn ready_detail(&self) -> JsValue {
        let a = self.answer.borrow();
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

/// The origin of the page the widget is on.
pub fn page_origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// Calls `window[name](detail)` when the page named a callback.
fn call_global(name: Option<&str>, detail: &JsValue) {
    let Some(name) = name else { return };
    let f = js_sys::Reflect::get(&window(), &JsValue::from_str(name)).ok();
    match f.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
        Some(f) => {
            let _ = f.call1(&JsValue::NULL, detail);
        }
        None => web_sys::console::warn_2(&"consent-widget: no global function".into(), &name.into()),
    }
}
