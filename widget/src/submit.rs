//! What happens when the form is submitted: the receipt is signed for the form as it
//! stands (asynchronously: WebCrypto, or the fallback module), then posted to the verifier (post and guardian modes) or left in the hidden
//! field (field mode), and the form goes on.

use alloc::rc::{Rc, Weak};

use consent_receipt::{Claims, LegalBasis, NoticeRef};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, HtmlInputElement};

use crate::api;
use crate::controller::{Widget, call_global, refresh};
use crate::decide::{self, BoxState, Inputs, Missing, PhoneField};
use crate::dom::{self, dispatch, object, window};
use crate::i18n::with_age;
use crate::options::Mode;
use crate::prelude::*;
use crate::sign;

/// Why no receipt could be made: an error code, the words for the visitor, what to focus.
type Refusal = (&'static str, String, Option<HtmlElement>);

impl Widget {
    pub(crate) fn form_control(&self, name: Option<&str>, kind: &str) -> Option<HtmlInputElement> {
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

    /// The receipt's claims for the form as it stands, or what is missing.
    pub fn make_claims(&self) -> Result<Option<Claims>, Refusal> {
        let email_input = self.form_control(self.opts.email_field.as_deref(), "email");
        let email = email_input.as_ref().map(|e| e.value()).unwrap_or_default();
        let phone_input = self.phone_input();
        let typed = phone_input.as_ref().map(|p| p.value()).unwrap_or_default();
        let now = self.now();
        let s = self.state.borrow();
        let phone = crate::phone::e164(&typed, &s.answer.notice.jurisdiction);
        let boxes: Vec<BoxState> = self
            .view
            .purposes
            .iter()
            .enumerate()
            .map(|(i, p)| BoxState {
                purpose: p.id.clone(),
                checked: p.checkbox.checked(),
                ticked_by_gesture: s.by_gesture[i],
                changed_at: s.changed_at[i],
                sms: s.answer.notice.purposes.get(i).is_some_and(|n| n.channel == "sms"),
                basis: s.answer.notice.purposes.get(i).map_or(LegalBasis::Consent, |n| n.basis),
            })
            .collect();
        let answer = &s.answer;
        let notice = &answer.notice;
        // The form field a basis names (order reference, job function), as typed.
        let named = |basis| {
            let name = notice.purposes.iter().find(|p| p.basis == basis).and_then(|p| p.field.as_deref());
            name.and_then(|n| self.form_control(Some(n), "text"))
        };
        let job_input = named(LegalBasis::B2b);
        let order = match &self.opts.order_ref {
            Some(o) => o.clone(),
            None => named(LegalBasis::SoftOptIn).map(|i| i.value()).unwrap_or_default(),
        };
        let page = dom::page();
        let inputs = Inputs {
            boxes: &boxes,
            initially_unchecked: self.initially_unchecked,
            age: self.age(),
            email: &email,
            phone: match (&phone, typed.trim().is_empty()) {
                (Some(n), _) => PhoneField::Number(n),
                (None, true) => PhoneField::Empty,
                (None, false) => PhoneField::Unreadable,
            },
            guardian: &self.view.age.as_ref().map(|a| a.guardian.value()).unwrap_or_default(),
            order_ref: &order,
            job: &job_input.as_ref().map(|j| j.value()).unwrap_or_default(),
            now,
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
            Ok(claims) => Ok(claims),
            Err(Missing::Email) => Err(("need-email", self.msg.need_email.into(), focus(email_input.as_ref()))),
            Err(Missing::Phone) => Err(("need-phone", self.msg.need_phone.into(), focus(phone_input.as_ref()))),
            Err(Missing::BadPhone) => Err(("bad-phone", self.msg.bad_phone.into(), focus(phone_input.as_ref()))),
            Err(Missing::Age) => Err(("need-age", with_age(self.msg.need_age, notice.age_of_consent), focus(adult))),
            Err(Missing::Guardian) => Err(("need-guardian", self.msg.need_guardian.into(), focus(guardian))),
            Err(Missing::GuardianIsSelf) => {
                Err(("guardian-is-self", self.msg.guardian_is_self.into(), focus(guardian)))
            }
            Err(Missing::OrderRef) => Err(("need-order-ref", self.msg.need_order.into(), None)),
            Err(Missing::Job) => Err(("need-job", self.msg.need_job.into(), focus(job_input.as_ref()))),
        }
    }

    /// Keeps a freshly signed receipt: in the hidden field and for `getReceipt`.
    fn keep(&self, receipt: &str) {
        self.view.hidden.set_value(receipt);
        self.state.borrow_mut().last_receipt = Some(receipt.to_string());
    }

    pub fn on_submit(self: &Rc<Self>, ev: Event) {
        if core::mem::take(&mut self.state.borrow_mut().passthrough) {
            // Our own resubmission, receipt in place: let the form and the site's handlers go on.
            return;
        }
        ev.prevent_default();
        ev.stop_immediate_propagation();
        if self.state.borrow().busy {
            return;
        }
        self.clear_alert();
        let submitter = ev.dyn_ref::<web_sys::SubmitEvent>().and_then(|s| s.submitter());
        let claims = match self.make_claims() {
            Ok(r) => r,
            Err((code, text, focus)) => {
                if code.ends_with("-phone") {
                    self.mark_phone(Some(&text));
                }
                return self.fail(code, &text, focus.as_ref());
            }
        };
        let Some(claims) = claims else {
            // Nothing granted and no contact: nothing to record, the form goes on.
            return self.resubmit(submitter);
        };
        // Signing takes a promise: one submission at a time meanwhile.
        self.state.borrow_mut().busy = true;
        wasm_bindgen_futures::spawn_local(sign_and_send(Rc::downgrade(self), claims, submitter));
    }

    /// Where the receipt goes, and the JSON body that carries it.
    fn request(&self, receipt: &str) -> (String, &'static str, String) {
        // The browser's JSON.stringify: no serialiser for arbitrary values in the wasm.
        let body = match &self.opts.guardian {
            Some(g) => object(&[("receipt", receipt.into()), ("token", g.token.as_str().into())]),
            None => {
                let fields = js_sys::Object::new();
                for name in &self.opts.fields {
                    if let Some(input) = self.form_control(Some(name), "text") {
                        let _ = js_sys::Reflect::set(&fields, &name.into(), &input.value().into());
                    }
                }
                object(&[("receipt", receipt.into()), ("fields", fields.into())])
            }
        };
        let path = if self.opts.guardian.is_some() { "/v1/guardian-approvals" } else { "/v1/leads" };
        (self.opts.verifier.clone(), path, dom::json(&body))
    }

    fn accepted(self: &Rc<Self>, accepted: &api::Accepted, receipt: &str, submitter: Option<HtmlElement>) {
        let sms_pending = self.opts.mode == Mode::Post
            && accepted.status == "pending_confirmation"
            && self
                .view
                .purposes
                .iter()
                .zip(&self.state.borrow().answer.notice.purposes)
                .any(|(v, p)| v.granted() && p.channel == "sms");
        let text = match (accepted.status.as_str(), self.opts.mode) {
            _ if sms_pending => self.msg.accepted_sms,
            ("refused_by_guardian", _) => self.msg.guardian_refused,
            (_, Mode::Guardian) => self.msg.guardian_approved,
            ("awaiting_guardian", _) => self.msg.accepted_guardian,
            ("refused", _) => self.msg.refused,
            _ => self.msg.accepted,
        };
        if self.opts.mode == Mode::Post && accepted.status != "refused" {
            let granted: Vec<String> =
                self.view.purposes.iter().filter(|p| p.granted()).map(|p| p.id.clone()).collect();
            sign::remember(&crate::device::receipt_jti(receipt), &self.opts.notice, &granted, self.now());
        }
        self.status(text);
        if sms_pending {
            self.offer_code(&accepted.lead_id);
        }
        let detail = object(&[
            ("id", self.id.as_str().into()),
            ("lead_id", accepted.lead_id.as_str().into()),
            ("status", accepted.status.as_str().into()),
            ("seal", accepted.seal.as_str().into()),
            ("receipt", receipt.into()),
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

    fn resubmit(self: &Rc<Self>, submitter: Option<HtmlElement>) {
        // Not from inside the submit event: while it is being dispatched the browser
        // ignores requestSubmit (HTML's "firing submission events" flag). Next task.
        let weak = Rc::downgrade(self);
        let later = Closure::once_into_js(move || {
            let Some(w) = weak.upgrade() else { return };
            let Some(form) = &w.form else { return };
            w.state.borrow_mut().passthrough = true;
            let sent = match &submitter {
                Some(s) => form.request_submit_with_submitter(Some(s)),
                None => form.request_submit(),
            };
            if sent.is_err() {
                // requestSubmit refuses a submitter that left the form; submit() still works.
                w.state.borrow_mut().passthrough = false;
                let _ = form.submit();
            }
        });
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 0);
    }
}

/// Signs the receipt, then hands it on as the mode says.
async fn sign_and_send(weak: Weak<Widget>, claims: Claims, submitter: Option<HtmlElement>) {
    let Some(receipt) = sign_claims(&weak, &claims).await else { return };
    let Some(w) = weak.upgrade() else { return };
    w.keep(&receipt);
    let detail = object(&[("id", w.id.as_str().into()), ("receipt", receipt.as_str().into())]);
    dispatch(&w.container, "signed", &detail);
    match w.opts.mode {
        Mode::Field => {
            w.state.borrow_mut().busy = false;
            call_global(w.opts.callback.as_deref(), &detail);
            w.resubmit(submitter);
        }
        Mode::Post | Mode::Guardian => {
            w.status(w.msg.sending);
            drop(w);
            post(weak, receipt, submitter).await;
        }
    }
}

/// The receipt for `claims`, signed with the visitor's key. `None` when the widget was
/// removed, or when the browser could not sign: then the visitor is told, and the form
/// can be sent again.
async fn sign_claims(weak: &Weak<Widget>, claims: &Claims) -> Option<String> {
    let signer = weak.upgrade()?.signer.clone();
    dom::mark("consent:sign-start");
    let receipt = signer.sign(|key| claims.signing_input(key)).await;
    dom::mark("consent:sign-end");
    if receipt.is_none() {
        if let Some(w) = weak.upgrade() {
            w.state.borrow_mut().busy = false;
            w.fail("sign-failed", w.msg.unavailable, None);
        }
    }
    receipt
}

/// Posts the receipt; signs again once with a fresh nonce when the page stayed open past
/// the nonce's life. Holds the widget only between awaits: once it was removed, stops.
async fn post(weak: Weak<Widget>, mut receipt: String, submitter: Option<HtmlElement>) {
    let mut retried = false;
    let result = loop {
        let Some((verifier, path, body)) = weak.upgrade().map(|w| w.request(&receipt)) else { return };
        match api::post_json(&verifier, path, &body).await {
            // Fetch a fresh nonce and sign again, once, provided the notice text is the same.
            Err(e) if !retried && (e.code == "expired-nonce" || e.code == "clock-skew") => {
                retried = true;
                if let Err(e) = refresh(&weak).await {
                    break Err(e);
                }
                let Some(claims) = weak.upgrade().map(|w| w.make_claims()) else { return };
                let Ok(Some(claims)) = claims else { break Err(e) };
                let Some(r) = sign_claims(&weak, &claims).await else { return };
                if let Some(w) = weak.upgrade() {
                    w.keep(&r);
                }
                receipt = r;
            }
            other => break other,
        }
    };
    let Some(w) = weak.upgrade() else { return };
    w.state.borrow_mut().busy = false;
    match result {
        Ok(accepted) => w.accepted(&accepted, &receipt, submitter),
        Err(e) => w.report(&e),
    }
}
