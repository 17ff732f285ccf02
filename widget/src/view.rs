//! Building the widget's DOM: a `<fieldset>` with a `<legend>`, the age question, one
//! native unticked checkbox per purpose with its `<label for>` and its text linked by
//! `aria-describedby`, who is responsible and how to withdraw, and status regions.
//!
//! The markup is written as one string, every value escaped, and parsed by the browser
//! in one call: hundreds of single DOM calls would each cost code in the wasm and a shim
//! in the JavaScript glue.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement};

use crate::api::Notice;
use crate::dom::{el, set, show};
use crate::i18n::{Messages, fill, with_age};
use crate::prelude::*;

/// One purpose's elements.
#[derive(Debug)]
pub struct PurposeView {
    pub id: String,
    pub checkbox: HtmlInputElement,
    pub text: Element,
    /// An objection box ("I do not want to receive …"): ticked means no.
    pub objection: bool,
}

impl PurposeView {
    /// The purpose may go ahead: a consent box ticked, or an objection box left unticked.
    pub fn granted(&self) -> bool {
        self.checkbox.checked() != self.objection
    }
}

/// The age question and what it reveals (absent in guardian mode).
#[derive(Debug)]
pub struct AgeView {
    pub adult: HtmlInputElement,
    pub minor: HtmlInputElement,
    pub child_note: Element,
    pub guardian_box: Element,
    pub guardian: HtmlInputElement,
}

/// Handles on everything the controller reads or changes.
#[derive(Debug)]
pub struct View {
    pub root: Element,
    pub purposes: Vec<PurposeView>,
    pub age: Option<AgeView>,
    pub manage: Element,
    pub status: Element,
    pub alert: Element,
    pub hidden: HtmlInputElement,
    /// The SMS code entry, shown once a lead with an SMS grant awaits its confirmation.
    pub code_box: Element,
    pub code: HtmlInputElement,
    pub code_send: Element,
}

/// Escapes text for HTML content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_esc(&mut out, s);
    out
}

fn push_esc(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Markup under construction: `raw` for our own tags, `text` for values (escaped).
struct Html(String);

impl Html {
    fn raw(&mut self, s: &str) -> &mut Self {
        self.0.push_str(s);
        self
    }
    fn text(&mut self, s: &str) -> &mut Self {
        push_esc(&mut self.0, s);
        self
    }
    /// ` id="<widget>-<suffix>"`, the only way ids are written.
    fn id(&mut self, attr: &str, widget: &str, suffix: &str) -> &mut Self {
        self.raw(" ").raw(attr).raw("=\"").raw(widget).raw(suffix).raw("\"")
    }
    fn row(&mut self, term: &str, value: &str) {
        if !value.trim().is_empty() {
            self.raw("<dt>").text(term).raw("</dt><dd>").text(value).raw("</dd>");
        }
    }
}

/// One consent given from this device, as the widget lists it.
#[derive(Debug, Clone)]
pub struct DeviceConsent {
    pub jti: String,
    /// The day it was given, in the notice's language.
    pub day: String,
    /// The labels of what it granted.
    pub labels: Vec<String>,
}

/// The items of the "consents given from this device" list, each with its withdraw button.
pub fn device_consents(items: &[DeviceConsent], msg: &Messages) -> String {
    let mut h = Html(String::new());
    for k in items {
        h.raw("<li><span>").text(&fill(msg.manage_item, &k.day)).raw(" — ").text(&k.labels.join(" ; "));
        h.raw("</span> <button type=\"button\" data-jti=\"").text(&k.jti).raw("\">");
        h.text(msg.manage_withdraw).raw("</button></li>");
    }
    h.0
}

/// What replaces the widget when its notice could not be loaded.
pub fn load_failed(msg: &Messages) -> String {
    let mut h = Html(String::new());
    h.raw("<p class=\"cw-alert\" role=\"alert\">").text(msg.load_failed).raw("</p>");
    h.0
}

/// A loading placeholder, replaced once the notice arrives.
pub fn loading(msg: &Messages) -> String {
    let mut h = Html(String::new());
    h.raw("<p class=\"cw-status\" role=\"status\">").text(msg.loading).raw("</p>");
    h.0
}

/// The legend and the first layer every mode shows (rule 6): who is responsible, what
/// data, that consent can be withdrawn, and the link to the full notice.
fn head(h: &mut Html, id: &str, notice: &Notice, msg: &Messages, policy_url: &str) {
    // French typography puts a space before the colon.
    let colon = if notice.lang.starts_with("fr") { " : " } else { ": " };
    h.raw("<legend class=\"cw-legend\">").text(&notice.title).raw("</legend><p class=\"cw-intro\"");
    h.id("id", id, "-intro").raw(">").text(msg.controller).raw(colon).text(&notice.controller_name).raw(". ");
    h.text(msg.data_used).raw(colon).text(&notice.data).raw(" ");
    // The notice's own words on withdrawal are one click away, under "more".
    let objection_only = notice.purposes.iter().all(|p| p.basis.offers_objection());
    h.text(if objection_only { msg.object_short } else { msg.withdraw_short });
    h.raw(" <a target=\"_blank\" rel=\"noopener\" href=\"").text(policy_url).raw("\">").text(msg.full_notice);
    h.raw("</a></p>");
}

/// The widget's markup for `notice` in its language. Nothing is ticked or answered.
///
/// Compact by design (the EDPB's layered approach): the age question comes first, on one
/// line where there is room, then one box per purpose with its label; each purpose's
/// longer text is under "more" (and shown under its box, in the child's wording, to a
/// visitor under the age of consent).
pub fn markup(id: &str, notice: &Notice, msg: &Messages, field_name: &str, policy_url: &str) -> String {
    let age = notice.age_of_consent;
    let mut h = Html(String::with_capacity(4096));
    head(&mut h, id, notice, msg, policy_url);
    h.raw("<fieldset class=\"cw-age\"><legend>").text(&with_age(msg.age_question, age)).raw("</legend>");
    for (value, label) in [("minor", msg.age_minor), ("adult", msg.age_adult)] {
        let suffix = ["-age-", value].concat();
        h.raw("<span class=\"cw-choice\"><input type=\"radio\" value=\"").raw(value).raw("\"");
        h.id("id", id, &suffix).id("name", id, "-age").raw("><label");
        h.id("for", id, &suffix).raw(">").text(label).raw("</label></span>");
    }
    h.raw("</fieldset><p class=\"cw-note\" hidden").id("id", id, "-child-note").raw(">");
    h.text(&notice.child_guardian_text).raw("</p>");
    h.raw("<div class=\"cw-guardian\" hidden").id("id", id, "-guardian-box").raw("><label");
    h.id("for", id, "-guardian").raw(">").text(msg.guardian_label).raw("</label>");
    h.raw("<input type=\"email\" autocomplete=\"off\"").id("id", id, "-guardian");
    h.raw(" aria-describedby=\"").raw(id).raw("-guardian-help ").raw(id).raw("-child-note\">");
    h.raw("<p class=\"cw-meta\"").id("id", id, "-guardian-help").raw(">").text(msg.guardian_help).raw("</p></div>");
    for (i, p) in notice.purposes.iter().enumerate() {
        let n = i.to_string();
        let box_id = ["-p", &n].concat();
        let text_id = ["-p", &n, "-text"].concat();
        // No `checked` attribute, ever: a pre-ticked box is not consent.
        h.raw("<div class=\"cw-purpose\"><div class=\"cw-choice\"><input type=\"checkbox\" value=\"");
        h.text(&p.id).raw("\"").id("id", id, &box_id).id("aria-describedby", id, &text_id).raw("><label");
        h.id("for", id, &box_id).raw(">");
        // Soft opt-in, B2B, non-commercial: no consent is asked, an objection is offered.
        if p.basis.offers_objection() {
            h.text(msg.object);
        }
        h.text(&p.label);
        // Each box says its channel, unless its label already does.
        let (channel, word) = if p.channel == "sms" { (msg.channel_sms, "sms") } else { (msg.channel_email, "mail") };
        // A byte window, not `str::contains`: the substring searcher costs 2 KB of wasm.
        if !p.label.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word.as_bytes())) {
            h.raw(" <span class=\"cw-channel\">(").text(channel).raw(")</span>");
        }
        // Hidden until the visitor says they are a minor; it still describes the box.
        h.raw("</label></div><p class=\"cw-text\" hidden");
        h.id("id", id, &text_id).raw(">").text(&p.text).raw("</p></div>");
    }
    tail(&mut h, id, notice, msg, field_name);
    h.0
}

/// What every mode ends with: the second layer (each purpose in full, its recipients,
/// withdrawal, the rest of Art. 13), the device's own consents, status regions and the
/// hidden field.
fn tail(h: &mut Html, id: &str, notice: &Notice, msg: &Messages, field_name: &str) {
    h.raw("<details class=\"cw-more\"><summary>").text(msg.more).raw("</summary><dl>");
    for p in &notice.purposes {
        h.row(&p.label, &p.text);
        h.row(msg.recipients, &p.recipients.join(", "));
    }
    h.row(msg.withdrawal, &notice.withdrawal);
    let controller =
        [notice.controller_name.as_str(), ", ", &notice.controller_address, " — ", &notice.controller_contact].concat();
    h.row(msg.controller, &controller);
    h.row(msg.dpo, &notice.dpo);
    if let Some(li) = &notice.legitimate_interests {
        h.row(msg.legitimate_interests, li);
    }
    h.row(msg.retention, &notice.retention);
    h.row(msg.rights, &notice.rights);
    h.row(msg.complaint, &notice.complaint);
    h.row(msg.transfers, &notice.transfers);
    h.row(msg.provision, &notice.provision);
    h.row(msg.automated, &notice.automated_decisions);
    h.raw("</dl></details><p class=\"cw-status\" role=\"status\"").id("id", id, "-status").raw("></p>");
    if notice.purposes.iter().any(|p| p.channel == "sms") {
        // The 6-digit code of the confirmation SMS, typed here; its link works as well.
        h.raw("<div class=\"cw-code\" hidden").id("id", id, "-code-box").raw("><label").id("for", id, "-code");
        h.raw(">").text(msg.code_label).raw("</label> <input inputmode=\"numeric\" autocomplete=\"one-time-code\"");
        h.raw(" maxlength=\"6\" size=\"7\"").id("id", id, "-code").raw("> <button type=\"button\"");
        h.id("id", id, "-code-send").raw(">").text(msg.code_button).raw("</button></div>");
    }

    h.raw("<p class=\"cw-alert\" role=\"alert\"").id("id", id, "-alert").raw("></p>");
    h.raw("<input type=\"hidden\"").id("id", id, "-receipt").raw(" name=\"").text(field_name).raw("\">");
    h.raw("<details class=\"cw-manage\" hidden").id("id", id, "-manage").raw("><summary>").text(msg.manage);
    h.raw("</summary><ul></ul></details>");
}

/// Guardian mode: what the child asked for, and one unticked box for the parent.
pub fn markup_guardian(
    id: &str,
    notice: &Notice,
    msg: &Messages,
    child: &str,
    granted: &[String],
    policy_url: &str,
) -> String {
    let mut h = Html(String::with_capacity(4096));
    head(&mut h, id, notice, msg, policy_url);
    for p in notice.purposes.iter().filter(|p| granted.contains(&p.id)) {
        h.raw("<div class=\"cw-purpose\"><p><strong>").text(&p.label).raw("</strong></p><p class=\"cw-meta\">");
        h.text(&p.text).raw("</p></div>");
    }
    // No `checked` attribute: the parent's agreement is an act too.
    h.raw("<div class=\"cw-purpose\"><div class=\"cw-choice\"><input type=\"checkbox\" value=\"guardian-agree\"");
    h.id("id", id, "-p0").id("aria-describedby", id, "-p0-text").raw("><label").id("for", id, "-p0").raw(">");
    h.text(&fill(msg.guardian_agree, child)).raw("</label></div><p class=\"cw-text\"").id("id", id, "-p0-text");
    h.raw(">").text(msg.guardian_agree_text).raw("</p></div>");
    tail(&mut h, id, notice, msg, "consent_receipt");
    h.0
}

fn find(root: &Element, widget: &str, suffix: &str) -> Element {
    root.query_selector(&["[id=\"", widget, suffix, "\"]"].concat()).ok().flatten().unwrap_or_else(|| el("span", ""))
}

fn find_input(root: &Element, widget: &str, suffix: &str) -> HtmlInputElement {
    find(root, widget, suffix).unchecked_into()
}

/// Builds the widget for `notice` in its language.
pub fn build(id: &str, notice: &Notice, msg: &Messages, field_name: &str, policy_url: &str) -> View {
    from_markup(
        id,
        notice,
        &markup(id, notice, msg, field_name, policy_url),
        notice.purposes.iter().map(|p| (p.id.clone(), p.basis.offers_objection())).collect(),
        true,
    )
}

/// Builds the guardian-mode widget.
pub fn build_guardian(
    id: &str,
    notice: &Notice,
    msg: &Messages,
    child: &str,
    granted: &[String],
    policy_url: &str,
) -> View {
    from_markup(
        id,
        notice,
        &markup_guardian(id, notice, msg, child, granted, policy_url),
        alloc::vec![("guardian-agree".into(), false)],
        false,
    )
}

fn from_markup(id: &str, notice: &Notice, html: &str, boxes: Vec<(String, bool)>, with_age: bool) -> View {
    let root = el("fieldset", "cw");
    set(&root, "lang", &notice.lang);
    set(&root, "aria-describedby", &[id, "-intro"].concat());
    root.set_inner_html(html);
    let purposes = boxes
        .into_iter()
        .enumerate()
        .map(|(i, (p, objection))| {
            let n = i.to_string();
            PurposeView {
                id: p,
                checkbox: find_input(&root, id, &["-p", &n].concat()),
                text: find(&root, id, &["-p", &n, "-text"].concat()),
                objection,
            }
        })
        .collect();
    let age = with_age.then(|| AgeView {
        adult: find_input(&root, id, "-age-adult"),
        minor: find_input(&root, id, "-age-minor"),
        child_note: find(&root, id, "-child-note"),
        guardian_box: find(&root, id, "-guardian-box"),
        guardian: find_input(&root, id, "-guardian"),
    });
    View {
        purposes,
        age,
        manage: find(&root, id, "-manage"),
        status: find(&root, id, "-status"),
        alert: find(&root, id, "-alert"),
        hidden: find_input(&root, id, "-receipt"),
        code_box: find(&root, id, "-code-box"),
        code: find_input(&root, id, "-code"),
        code_send: find(&root, id, "-code-send"),
        root,
    }
}

/// Switches the purpose texts between the adult wording (under "more") and the
/// child-directed one, shown under each box. Nothing to switch in guardian mode.
pub fn set_minor(view: &View, notice: &Notice, minor: bool) {
    let Some(age) = &view.age else { return };
    for (pv, p) in view.purposes.iter().zip(&notice.purposes) {
        pv.text.set_text_content(Some(if minor { &p.child_text } else { &p.text }));
        show(&pv.text, minor);
    }
    show(&age.child_note, minor);
    show(&age.guardian_box, minor);
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_values_are_escaped() {
        assert_eq!(
            esc(r#"<img src=x onerror="alert('x')">&"#),
            "&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;"
        );
    }
}
