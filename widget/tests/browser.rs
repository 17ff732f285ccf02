//! The widget's units in a real browser (headless Chromium through wasm-bindgen-test):
//! the DOM it builds, the wording switch, the key it keeps, the receipt it assembles.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use consent_receipt::{NoticeRef, VerifiedReceipt};
use consent_widget::api::{Notice, Purpose};
use consent_widget::decide::{self, AgeAnswer, BoxState, Inputs};
use consent_widget::{dom, i18n, sign, view};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn notice(title: &str) -> Notice {
    let purpose = |id: &str| Purpose {
        id: id.into(),
        label: format!("Label {id}"),
        text: format!("Adult text {id}"),
        child_text: format!("Child text {id}"),
        recipients: vec!["Shop SAS".into()],
        channel: "email".into(),
        basis: consent_receipt::LegalBasis::Consent,
        field: None,
    };
    Notice {
        id: "newsletter".into(),
        version: 1,
        lang: "en".into(),
        title: title.into(),
        jurisdiction: "FR".into(),
        age_of_consent: 15,
        controller_name: "Shop SAS".into(),
        controller_address: "Paris".into(),
        controller_contact: "privacy@shop.example".into(),
        dpo: "dpo@shop.example".into(),
        data: "Your e-mail".into(),
        purposes: vec![purpose("a"), purpose("b")],
        legitimate_interests: None,
        transfers: "None".into(),
        retention: "3 years".into(),
        rights: "All".into(),
        withdrawal: "Any time".into(),
        complaint: "CNIL".into(),
        provision: "Optional".into(),
        automated_decisions: "None".into(),
        child_guardian_text: "A parent will be asked.".into(),
        policy_url: "/notices/newsletter".into(),
    }
}

fn mounted(n: &Notice) -> view::View {
    let v = view::build("t1", n, &i18n::EN, "consent_receipt", "https://v.example/notices/newsletter");
    dom::document().body().unwrap().append_child(&v.root).unwrap();
    v
}

#[wasm_bindgen_test]
fn every_box_is_a_native_unticked_checkbox_with_its_label_and_description() {
    let v = mounted(&notice("Stay in touch"));
    assert_eq!(v.purposes.len(), 2);
    for p in &v.purposes {
        assert_eq!(p.checkbox.type_(), "checkbox");
        assert!(!p.checkbox.checked() && !p.checkbox.default_checked());
        let label = dom::document().query_selector(&format!("label[for='{}']", p.checkbox.id())).unwrap();
        assert!(label.is_some(), "a <label for> per box");
        let described = p.checkbox.get_attribute("aria-describedby").unwrap();
        assert_eq!(dom::document().get_element_by_id(&described).unwrap(), p.text);
    }
    assert_eq!(v.root.tag_name(), "FIELDSET");
    assert_eq!(v.root.query_selector("legend").unwrap().unwrap().text_content().unwrap(), "Stay in touch");
    v.root.remove();
}

#[wasm_bindgen_test]
fn guardian_mode_shows_one_unticked_box_naming_the_child_and_no_age_question() {
    let n = notice("Stay in touch");
    let v = view::build_guardian("g1", &n, &i18n::EN, "k***@example.org", &["a".to_string()], "/notices/newsletter");
    dom::document().body().unwrap().append_child(&v.root).unwrap();
    assert!(v.age.is_none());
    assert_eq!(v.purposes.len(), 1);
    assert!(!v.purposes[0].checkbox.checked());
    let label = v.root.query_selector("label[for='g1-p0']").unwrap().unwrap().text_content().unwrap();
    assert!(label.contains("k***@example.org"), "{label}");
    let shown: Vec<String> = {
        let nodes = v.root.query_selector_all(".cw-purpose strong").unwrap();
        (0..nodes.length()).map(|i| nodes.item(i).unwrap().text_content().unwrap()).collect()
    };
    assert_eq!(shown, ["Label a"], "only what the child asked for is listed above the box");
    v.root.remove();
}

#[wasm_bindgen_test]
fn notice_text_is_escaped_not_interpreted() {
    let v = mounted(&notice("<img src=x onerror=\"window.pwned=1\"><script>window.pwned=1</script>"));
    assert!(v.root.query_selector("img, script").unwrap().is_none());
    assert!(v.root.query_selector("legend").unwrap().unwrap().text_content().unwrap().contains("<script>"));
    v.root.remove();
}

#[wasm_bindgen_test]
fn the_minor_state_shows_the_child_wording_and_the_guardian_field() {
    let n = notice("Stay in touch");
    let v = mounted(&n);
    let age = v.age.as_ref().expect("the age question");
    assert!(age.guardian_box.has_attribute("hidden"));
    assert!(v.purposes[0].text.has_attribute("hidden"), "an adult reads the purpose in full under 'more'");
    view::set_minor(&v, &n, true);
    assert_eq!(v.purposes[0].text.text_content().unwrap(), "Child text a");
    assert!(!v.purposes[0].text.has_attribute("hidden"), "a child reads it under the box");
    assert!(!age.guardian_box.has_attribute("hidden"));
    assert!(!age.child_note.has_attribute("hidden"));
    view::set_minor(&v, &n, false);
    assert_eq!(v.purposes[0].text.text_content().unwrap(), "Adult text a");
    v.root.remove();
}

#[wasm_bindgen_test]
fn the_visitor_seed_is_kept_per_origin_and_receipts_assembled_from_it_verify() {
    let seed = sign::visitor_seed();
    assert_eq!(seed, sign::visitor_seed(), "the same browser keeps its key");
    let first = consent_receipt::SigningKey::from_bytes(&seed);

    let boxes = [
        BoxState {
            purpose: "a".into(),
            checked: true,
            ticked_by_gesture: true,
            changed_at: Some(1_763_800_000),
            sms: false,
            basis: consent_receipt::LegalBasis::Consent,
        },
        BoxState {
            purpose: "b".into(),
            checked: false,
            ticked_by_gesture: false,
            changed_at: None,
            sms: false,
            basis: consent_receipt::LegalBasis::Consent,
        },
    ];
    let inputs = Inputs {
        boxes: &boxes,
        initially_unchecked: true,
        age: AgeAnswer::Adult,
        email: "alice@example.org",
        phone: decide::PhoneField::Empty,
        guardian: "",
        order_ref: "",
        job: "",
        now: 1_763_800_010,
        page: "https://shop.example/signup",
    };
    let ctx = decide::Context {
        jti: sign::new_jti(),
        audience: "https://v.example",
        origin: "https://shop.example",
        nonce: "n",
        notice: NoticeRef {
            id: "newsletter".into(),
            version: 1,
            lang: "en".into(),
            digest: consent_receipt::b64::encode(&[7; 32]),
        },
        threshold: 15,
        jurisdiction: "FR",
    };
    let claims = decide::claims(ctx, &inputs).unwrap().unwrap();
    // As the widget assembles it: signing input from the public key, then the signature
    // (from the loader; here dalek's, which WebCrypto's equals).
    let input = claims.signing_input(first.verifying_key().as_bytes());
    let signature = ed25519_dalek::Signer::sign(&first, input.as_bytes()).to_bytes();
    let receipt = consent_receipt::jws::with_signature(input, &signature);
    assert_eq!(receipt, claims.sign(&first), "byte for byte what the receipt crate signs");
    let verified = VerifiedReceipt::verify(&receipt).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verified.key(), &first.verifying_key());
    assert_eq!(verified.claims().granted().collect::<Vec<_>>(), ["a"]);
}

#[wasm_bindgen_test]
fn receipt_ids_are_random() {
    assert_ne!(sign::new_jti(), sign::new_jti());
    assert_eq!(sign::new_jti().len(), 22);
}

#[wasm_bindgen_test]
fn events_bubble_from_the_container_with_their_detail() {
    let container = dom::el("div", "");
    dom::document().body().unwrap().append_child(&container).unwrap();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(None));
    let seen2 = seen.clone();
    let listener = dom::Listener::new(
        dom::document().body().unwrap().unchecked_ref(),
        "consent:ready",
        dom::Phase::Bubble,
        move |e| {
            let detail = e.unchecked_into::<web_sys::CustomEvent>().detail();
            *seen2.borrow_mut() = js_sys::Reflect::get(&detail, &"id".into()).unwrap().as_string();
        },
    );
    dom::dispatch(&container, "ready", &dom::object(&[("id", "cw-9".into())]));
    assert_eq!(seen.borrow().as_deref(), Some("cw-9"));
    drop(listener);
    *seen.borrow_mut() = None;
    dom::dispatch(&container, "ready", &dom::object(&[("id", "cw-9".into())]));
    assert_eq!(*seen.borrow(), None, "a dropped listener is removed");
    container.remove();
}
