//! The consents given from this device: listed in the widget, each with a button that
//! withdraws it by a request signed with the same browser key (`POST /v1/withdrawals`).

use alloc::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event};

use crate::api;
use crate::controller::Widget;
use crate::dom::{self, dispatch, object};
use crate::prelude::*;
use crate::sign;
use crate::view::{self, DeviceConsent};

impl Widget {
    /// Lists the consents this browser gave for this notice, each with a withdraw button.
    pub fn show_device_consents(&self) {
        let kept = sign::remembered(&self.opts.notice);
        let list = self.view.manage.query_selector("ul").ok().flatten();
        let (Some(list), false) = (list, kept.is_empty()) else { return };
        let s = self.state.borrow();
        let notice = &s.answer.notice;
        let items: Vec<DeviceConsent> = kept
            .iter()
            .map(|k| {
                let date = js_sys::Date::new(&JsValue::from_f64(k.at as f64 * 1000.0));
                DeviceConsent {
                    jti: k.jti.clone(),
                    day: date.to_locale_date_string(&notice.lang, &JsValue::UNDEFINED).into(),
                    labels: notice
                        .purposes
                        .iter()
                        .filter(|p| k.granted.contains(&p.id))
                        .map(|p| p.label.clone())
                        .collect(),
                }
            })
            .collect();
        list.set_inner_html(&view::device_consents(&items, self.msg));
        dom::show(&self.view.manage, true);
    }

    pub fn on_manage_click(self: &Rc<Self>, ev: &Event) {
        let Some(button) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        let Some(jti) = button.get_attribute("data-jti") else { return };
        let _ = button.set_attribute("disabled", "");
        let claims = consent_receipt::WithdrawalClaims {
            jti: sign::new_jti(),
            iat: self.now(),
            aud: self.state.borrow().answer.audience.clone(),
            receipt_jti: jti.clone(),
            purposes: None,
        };
        let signer = self.signer.clone();
        wasm_bindgen_futures::spawn_local(withdraw(Rc::downgrade(self), signer, claims, button, jti));
    }
}

async fn withdraw(
    weak: Weak<Widget>,
    signer: sign::Signer,
    claims: consent_receipt::WithdrawalClaims,
    button: Element,
    jti: String,
) {
    let signed = signer.sign(|key| claims.signing_input(key)).await;
    let Some(verifier) = weak.upgrade().map(|w| w.opts.verifier.clone()) else { return };
    let sent = match signed {
        Some(withdrawal) => {
            let body = dom::json(&object(&[("withdrawal", withdrawal.into())]));
            api::post_json(&verifier, "/v1/withdrawals", &body).await
        }
        None => Err(api::ApiError { code: "sign-failed".into(), status: 0, detail: String::new() }),
    };
    if sent.is_ok() {
        // Withdrawn at the verifier: this device forgets it even if the widget is gone.
        sign::forget(&jti);
    }
    let Some(w) = weak.upgrade() else { return };
    match sent {
        Ok(_) => {
            if let Some(item) = button.parent_element() {
                item.set_text_content(Some(w.msg.manage_done));
            }
            let detail = object(&[("id", w.id.as_str().into()), ("withdrawn", jti.as_str().into())]);
            dispatch(&w.container, "change", &detail);
        }
        Err(e) => {
            let _ = button.remove_attribute("disabled");
            w.report(&e);
        }
    }
}

/// The `jti` of a compact receipt this widget signed.
pub fn receipt_jti(receipt: &str) -> String {
    receipt
        .split('.')
        .nth(1)
        .and_then(|p| consent_receipt::b64::decode(p).ok())
        .and_then(|p| js_sys::JSON::parse(&String::from_utf8_lossy(&p)).ok())
        .and_then(|v| js_sys::Reflect::get(&v, &"jti".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}
