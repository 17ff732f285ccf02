//! The widget's SMS parts: the error shown beside the site's phone field, and the 6-digit
//! code of the confirmation SMS, typed in the widget once the lead is accepted.

use alloc::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlElement, HtmlInputElement};

use crate::api;
use crate::controller::Widget;
use crate::dom::{self, dispatch, el, object, set, show};
use crate::prelude::*;

impl Widget {
    /// The site's phone field: `data-phone-field`, or the form's `type=tel` input.
    pub fn phone_input(&self) -> Option<HtmlInputElement> {
        self.form_control(self.opts.phone_field.as_deref(), "tel")
    }

    /// Shows `text` beside the phone field (linked to it by `aria-describedby`, the field
    /// marked `aria-invalid`), or clears it. What the visitor typed stays as it was.
    pub fn mark_phone(&self, text: Option<&str>) {
        let Some(input) = self.phone_input() else { return };
        let err_id = [self.id.as_str(), "-phone-error"].concat();
        let existing = dom::document().get_element_by_id(&err_id);
        let described = input.get_attribute("aria-describedby").unwrap_or_default();
        let others: Vec<&str> = described.split(' ').filter(|d| !d.is_empty() && *d != err_id).collect();
        match text {
            Some(text) => {
                let p = existing.unwrap_or_else(|| {
                    let p = el("p", "cw-field-error");
                    set(&p, "id", &err_id);
                    let _ = input.after_with_node_1(&p);
                    p
                });
                p.set_text_content(Some(text));
                set(&input, "aria-invalid", "true");
                set(&input, "aria-describedby", [others.join(" ").as_str(), " ", &err_id].concat().trim_start());
            }
            None => {
                if let Some(p) = existing {
                    p.remove();
                    let _ = input.remove_attribute("aria-invalid");
                    let _ = input.set_attribute("aria-describedby", &others.join(" "));
                }
            }
        }
    }

    /// A lead with an SMS grant awaits its confirmation: offer the code entry.
    pub fn offer_code(&self, lead_id: &str) {
        self.state.borrow_mut().lead_id = Some(lead_id.to_string());
        show(&self.view.code_box, true);
    }

    /// The code button was pressed, or Enter typed in the code field.
    pub fn on_code(self: &Rc<Self>, ev: &Event) {
        if ev.type_() == "keydown" {
            let key = js_sys::Reflect::get(ev, &"key".into()).ok().and_then(|k| k.as_string());
            if key.as_deref() != Some("Enter") {
                return;
            }
            // Enter in a form field would submit the site's form.
            ev.prevent_default();
        }
        let code: String = self.view.code.value().chars().filter(char::is_ascii_digit).collect();
        let lead_id = self.state.borrow().lead_id.clone();
        let Some(lead_id) = lead_id else { return };
        if self.state.borrow().busy {
            // The code is on its way: a second press waits for its answer.
            return;
        }
        if code.len() != 6 {
            let focus: HtmlElement = self.view.code.clone().unchecked_into();
            return self.fail("bad-code", self.msg.code_bad, Some(&focus));
        }
        self.clear_alert();
        self.state.borrow_mut().busy = true;
        self.status(self.msg.sending);
        let body = object(&[("lead_id", lead_id.as_str().into()), ("code", code.as_str().into())]);
        wasm_bindgen_futures::spawn_local(send_code(Rc::downgrade(self), dom::json(&body)));
    }
}

async fn send_code(weak: Weak<Widget>, body: String) {
    let Some(verifier) = weak.upgrade().map(|w| w.opts.verifier.clone()) else { return };
    let result = api::post_json(&verifier, "/v1/sms/confirmations", &body).await;
    let Some(w) = weak.upgrade() else { return };
    w.state.borrow_mut().busy = false;
    match result {
        Ok(done) => {
            w.clear_alert();
            w.status(w.msg.code_done);
            // The field that had focus goes away: focus moves to what replaced it.
            set(&w.view.status, "tabindex", "-1");
            if let Some(s) = w.view.status.dyn_ref::<HtmlElement>() {
                let _ = s.focus();
            }
            show(&w.view.code_box, false);
            let detail = object(&[
                ("id", w.id.as_str().into()),
                ("lead_id", done.lead_id.as_str().into()),
                ("status", done.status.as_str().into()),
            ]);
            dispatch(&w.container, "confirmed", &detail);
        }
        Err(e) if e.code == "bad-code" => {
            let focus: HtmlElement = w.view.code.clone().unchecked_into();
            w.fail("bad-code", w.msg.code_bad, Some(&focus));
        }
        Err(e) => w.report(&e),
    }
}
