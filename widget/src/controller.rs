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
    /// A parent's joint consent, on the verifier's guardian page.
    Guardian,
}

/// What guardian mode needs, from the guardian page.
#[derive(Debug, Clone)]
pub struct GuardianOptions {
    /// The single-use token from the parent's mail.
    pub token: String,
    /// The child's receipt id.
    pub for_jti: String,
    /// The child's address, masked.
    pub child: String,
    /// What the child asked for.
    pub granted: Vec<String>,
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
    pub guardian: Option<GuardianOptions>,
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
        if widget.opts.guardian.is_none() {
            widget.show_device_consents();
        }
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
        if let Some(age) = &this.view.age {
            for radio in [&age.adult, &age.minor] {
                let weak = Rc::downgrade(this);
                listeners.push(Listener::new(radio.unchecked_ref(), "change", false, move |_| {
                    if let Some(w) = weak.upgrade() {
                        w.on_age_change();
                    }
                }));
            }
        }
        let weak = Rc::downgrade(this);
        listeners.push(Listener::new(this.view.manage.unchecked_ref(), "click", false, move |ev: Event| {
            if let Some(w) = weak.upgrade() {
                w.on_manage_click(&ev);
            }
        }));
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
        let any_grant = self.view.purposes.iter().any(|p| p.checkbox.checked());
        if let Some(age) = &self.view.age {
            age.guardian.set_required(self.age() == AgeAnswer::Minor && any_grant);
        }
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
            guardian: &self.view.age.as_ref().map(|a| a.guardian.value()).unwrap_or_default(),
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
        let focus = |e: Option<&HtmlInputElement>| e.map(|e| e.clone().unchecked_into::<HtmlElement>());
        let adult = self.view.age.as_ref().map(|a| &a.adult);
        let guardian = self.view.age.as_ref().map(|a| &a.guardian);
        let made = match &self.opts.guardian {
            Some(g) => decide::guardian_claims(ctx, &inputs, &g.granted, &g.for_jti, &notice.purposes),
            None => decide::claims(ctx, &inputs),
        };
        match made {
            Ok(Some(claims)) => {
                dom::mark("consent:sign-start");
                let receipt = claims.sign(&sign::visitor_key());
                dom::mark("consent:sign-end");
                Ok(Some(receipt))
            }
            Ok(None) => Ok(None),
            Err(Missing::Email) => Err(("need-email", self.msg.need_email.into(), focus(email_input.as_ref()))),
            Err(Missing::Age) => Err(("need-age", with_age(self.msg.need_age, notice.age_of_consent), focus(adult))),
            Err(Missing::Guardian) => Err(("need-guardian", self.msg.need_guardian.into(), focus(guardian))),
            Err(Missing::GuardianIsSelf) => {
                Err(("guardian-is-self", self.msg.guardian_is_self.into(), focus(guardian)))
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
            Mode::Post | Mode::Guardian => {
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
            let sent = match &self.opts.guardian {
                Some(g) => {
                    let body = object(&[("receipt", receipt.as_str().into()), ("token", g.token.as_str().into())]);
                    let body = js_sys::JSON::stringify(&body).map(String::from).unwrap_or_default();
                    api::post_json(&self.opts.verifier, "/v1/guardian-approvals", &body).await
                }
                None => api::post_json(&self.opts.verifier, "/v1/leads", &self.lead_body(&receipt)).await,
            };
            match sent {
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
                let text = match (accepted.status.as_str(), self.opts.mode) {
                    ("refused_by_guardian", _) => self.msg.guardian_refused,
                    (_, Mode::Guardian) => self.msg.guardian_approved,
                    ("awaiting_guardian", _) => self.msg.accepted_guardian,
                    ("refused", _) => self.msg.refused,
                    _ => self.msg.accepted,
                };
                if self.opts.mode == Mode::Post && accepted.status != "refused" {
                    let granted: Vec<String> =
                        self.view.purposes.iter().filter(|p| p.checkbox.checked()).map(|p| p.id.clone()).collect();
                    sign::remember(&receipt_jti(&receipt), &self.opts.notice, &granted, self.now());
                }
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
                if self.opts.mode == Mode::Guardian {
                    // The parent's page has nothing more to submit.
                    self.view.purposes.iter().for_each(|p| p.checkbox.set_disabled(true));
                } else {
                    self.resubmit(submitter);
                }
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
        if let Some(age) = &self.view.age {
            age.adult.set_checked(false);
            age.minor.set_checked(false);
            age.guardian.set_value("");
        }
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

impl Widget {
    /// Lists the consents this browser gave for this notice, each with a withdraw button.
    fn show_device_consents(&self) {
        let kept = sign::remembered(&self.opts.notice);
        let list = self.view.manage.query_selector("ul").ok().flatten();
        let (Some(list), false) = (list, kept.is_empty()) else { return };
        let mut html = String::new();
        for k in &kept {
            let date = js_sys::Date::new(&JsValue::from_f64(k.at as f64 * 1000.0));
            let day = String::from(date.to_locale_date_string(&self.answer.borrow().notice.lang, &JsValue::UNDEFINED));
            let labels: Vec<String> = self
                .answer
                .borrow()
                .notice
                .purposes
                .iter()
                .filter(|p| k.granted.contains(&p.id))
                .map(|p| p.label.clone())
                .collect();
            html.push_str("<li><span>");
            html.push_str(&view::esc(&crate::i18n::fill(self.msg.manage_item, &day)));
            html.push_str(" — ");
            html.push_str(&view::esc(&labels.join(" ; ")));
            html.push_str("</span> <button type=\"button\" data-jti=\"");
            html.push_str(&view::esc(&k.jti));
            html.push_str("\">");
            html.push_str(&view::esc(self.msg.manage_withdraw));
            html.push_str("</button></li>");
        }
        list.set_inner_html(&html);
        dom::show(&self.view.manage, true);
    }

    fn on_manage_click(self: Rc<Self>, ev: &Event) {
        let Some(button) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        let Some(jti) = button.get_attribute("data-jti") else { return };
        let _ = button.set_attribute("disabled", "");
        let claims = consent_receipt::WithdrawalClaims {
            jti: sign::new_jti(),
            iat: self.now(),
            aud: self.answer.borrow().audience.clone(),
            receipt_jti: jti.clone(),
            purposes: None,
        };
        let body = object(&[("withdrawal", claims.sign(&sign::visitor_key()).into())]);
        let body = js_sys::JSON::stringify(&body).map(String::from).unwrap_or_default();
        wasm_bindgen_futures::spawn_local(async move {
            match api::post_json(&self.opts.verifier, "/v1/withdrawals", &body).await {
                Ok(_) => {
                    sign::forget(&jti);
                    if let Some(item) = button.parent_element() {
                        item.set_text_content(Some(self.msg.manage_done));
                    }
                    dispatch(
                        &self.container,
                        "change",
                        &object(&[("id", self.id.as_str().into()), ("withdrawn", jti.as_str().into())]),
                    );
                }
                Err(e) => {
                    let _ = button.remove_attribute("disabled");
                    self.report(&e);
                }
            }
        });
    }
}

/// The `jti` of a compact receipt this widget signed.
fn receipt_jti(receipt: &str) -> String {
    receipt
        .split('.')
        .nth(1)
        .and_then(|p| consent_receipt::b64::decode(p).ok())
        .and_then(|p| js_sys::JSON::parse(&String::from_utf8_lossy(&p)).ok())
        .and_then(|v| js_sys::Reflect::get(&v, &"jti".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
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
