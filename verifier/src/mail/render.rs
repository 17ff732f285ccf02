//! The words of each mail, in the notice's language, from the templates in
//! `templates/mail/`: a plain-text part and an HTML part saying the same thing, the
//! sender's identity and the way out in every one.

use askama::Template;
use consent_receipt::Notice;

use crate::i18n::{Messages, fill, messages};

/// A mail's words, before MIME.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

/// Both links of a mail, accept and decline, wear this one style: same size, weight and
/// contrast (rule 5).
const BUTTON_STYLE: &str = "display:inline-block;margin:0 8px 8px 0;padding:10px 18px;background:#1a56db;color:#fff;text-decoration:none;border-radius:6px;font-weight:bold";

/// What both parts of a mail say.
#[derive(Debug)]
struct Words {
    t: &'static Messages,
    lang: String,
    intro: Vec<String>,
    items: Vec<String>,
    middle: Vec<String>,
    button: String,
    link: String,
    /// Declining sits beside accepting and looks the same (CNIL, SAN-2025-001).
    decline: &'static str,
    button_style: &'static str,
    outro: Vec<String>,
    sender: String,
    unsubscribe: String,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct TextPart<'a> {
    w: &'a Words,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlPart<'a> {
    w: &'a Words,
}

impl Words {
    fn new(notice: &Notice, granted: &[String], button: &str, link: &str, unsubscribe: &str) -> Words {
        let c = &notice.controller;
        Words {
            t: messages(&notice.lang),
            lang: notice.lang.clone(),
            intro: Vec::new(),
            items: notice.purposes.iter().filter(|p| granted.contains(&p.id)).map(|p| p.label.clone()).collect(),
            middle: Vec::new(),
            button: button.to_string(),
            link: link.to_string(),
            decline: messages(&notice.lang).confirm_decline_button,
            button_style: BUTTON_STYLE,
            outro: Vec::new(),
            sender: format!("{}, {} ({})", c.name, c.address, c.contact),
            unsubscribe: unsubscribe.to_string(),
        }
    }

    fn render(self, subject: String) -> Result<Rendered, askama::Error> {
        Ok(Rendered { subject, text: TextPart { w: &self }.render()?, html: HtmlPart { w: &self }.render()? })
    }
}

/// Double opt-in: "confirm that you want this", with the single-use link.
pub fn confirmation(
    notice: &Notice,
    granted: &[String],
    confirm: &str,
    unsubscribe: &str,
    days: i64,
) -> Result<Rendered, askama::Error> {
    let t = messages(&notice.lang);
    let controller = [("controller", notice.controller.name.as_str())];
    let mut w = Words::new(notice, granted, t.confirm_mail_button, confirm, unsubscribe);
    w.intro = vec![t.confirm_mail_hello.to_string(), fill(t.confirm_mail_asked, &controller)];
    w.outro = vec![fill(t.confirm_mail_ignore, &[("days", &days.to_string())])];
    w.render(fill(t.confirm_mail_subject, &controller))
}

/// Joint consent: the parent is asked, in adult words, about what the child asked for.
pub fn guardian_request(
    notice: &Notice,
    granted: &[String],
    child: &str,
    link: &str,
    unsubscribe: &str,
    days: i64,
) -> Result<Rendered, askama::Error> {
    let t = messages(&notice.lang);
    let age = notice.age_of_consent.to_string();
    let controller = notice.controller.name.as_str();
    let mut w = Words::new(notice, granted, t.guardian_mail_button, link, unsubscribe);
    w.intro = vec![fill(t.guardian_mail_intro, &[("age", &age), ("child", child), ("controller", controller)])];
    w.middle = vec![fill(t.guardian_mail_law, &[("age", &age)])];
    w.outro = vec![fill(t.guardian_mail_nothing, &[("days", &days.to_string())])];
    w.render(fill(t.guardian_mail_subject, &[("controller", controller)]))
}

/// Before retention ends: "do you still want this?", with the renewal link beside an
/// unsubscribe link of the same look, and the date after which the address is deleted.
pub fn renewal(
    notice: &Notice,
    granted: &[String],
    renew: &str,
    unsubscribe: &str,
    until: &str,
) -> Result<Rendered, askama::Error> {
    let t = messages(&notice.lang);
    let controller = [("controller", notice.controller.name.as_str())];
    let date = [("date", until)];
    let mut w = Words::new(notice, granted, t.renew_mail_button, renew, unsubscribe);
    w.decline = t.renew_mail_decline;
    w.intro = vec![t.confirm_mail_hello.to_string(), fill(t.renew_mail_intro, &controller)];
    w.middle = vec![fill(t.renew_mail_why, &date)];
    w.outro = vec![fill(t.renew_mail_outro, &date)];
    w.render(fill(t.renew_mail_subject, &controller))
}

/// `a***@example.org`: enough for a parent to recognise their child's address in a mail
/// that might reach the wrong person.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(lang: &str) -> Notice {
        let file: crate::notices::NoticeFile =
            toml::from_str(include_str!("../../../notices/newsletter.toml")).unwrap();
        let entry = file.compile().unwrap();
        (*entry.langs[lang].0).clone()
    }

    /// Every mail the verifier composes, in every language of the demo notice.
    fn every_mail() -> Vec<(String, Rendered)> {
        let mut out = Vec::new();
        for lang in ["fr", "en"] {
            let n = notice(lang);
            let granted = vec![n.purposes[0].id.clone()];
            let (link, unsub) = ("https://v.example/confirm/T", "https://v.example/unsubscribe/U");
            out.push((format!("{lang} confirmation"), confirmation(&n, &granted, link, unsub, 7).unwrap()));
            out.push((
                format!("{lang} guardian"),
                guardian_request(&n, &granted, "c***@x.org", link, unsub, 7).unwrap(),
            ));
            out.push((format!("{lang} renewal"), renewal(&n, &granted, link, unsub, "2029-05-01").unwrap()));
        }
        out
    }

    #[test]
    fn every_mail_in_every_language_names_the_sender_and_offers_a_free_way_out() {
        for (name, m) in every_mail() {
            for part in [&m.text, &m.html] {
                assert!(
                    part.contains("Atelier Lumière SAS") && part.contains("privacy@atelier-lumiere.example"),
                    "{name}"
                );
                assert!(part.contains("https://v.example/unsubscribe/U"), "{name}: the one-click way out");
            }
        }
    }

    #[test]
    fn in_every_mail_declining_looks_exactly_like_accepting() {
        for (name, m) in every_mail() {
            let style_of = |href: &str| {
                let at =
                    m.html.find(&format!("<a href=\"{href}\" style=\"")).unwrap_or_else(|| panic!("{name}: {href}"));
                let rest = &m.html[at..];
                rest[rest.find("style=\"").unwrap() + 7..].split('"').next().unwrap().to_string()
            };
            assert_eq!(style_of("https://v.example/confirm/T"), style_of("https://v.example/unsubscribe/U"), "{name}");
            assert!(m.text.contains(": https://v.example/unsubscribe/U\n"), "{name}: {}", m.text);
        }
    }

    #[test]
    fn a_child_address_is_masked_but_recognisable() {
        assert_eq!(mask_email("camille.d@example.org"), "c***@example.org");
    }

    #[test]
    fn the_confirmation_mail_names_the_sender_the_purposes_and_the_way_out() {
        let n = notice("en");
        let granted = vec![n.purposes[0].id.clone()];
        let m =
            confirmation(&n, &granted, "https://v.example/confirm/T", "https://v.example/unsubscribe/U", 7).unwrap();
        assert!(m.subject.starts_with("Please confirm your subscription — "), "{}", m.subject);
        for part in [&m.text, &m.html] {
            assert!(part.contains(&n.controller.name) && part.contains(&n.controller.address), "{part}");
            assert!(part.contains(&n.purposes[0].label) && !part.contains(&n.purposes[1].label), "{part}");
            assert!(part.contains("https://v.example/confirm/T") && part.contains("https://v.example/unsubscribe/U"));
            assert!(part.contains("7 days"), "{part}");
        }
        assert!(m.text.contains("I confirm: https://v.example/confirm/T\n"), "{}", m.text);
        assert!(m.text.contains("\n--\nSender: "), "{}", m.text);
    }

    #[test]
    fn the_renewal_mail_names_what_is_kept_the_deadline_and_the_way_out() {
        let n = notice("fr");
        let granted = vec![n.purposes[0].id.clone()];
        let m = renewal(&n, &granted, "https://v.example/renew/T", "https://v.example/unsubscribe/U", "01/05/2029")
            .unwrap();
        assert!(m.subject.contains("Atelier Lumière SAS"), "{}", m.subject);
        assert!(m.text.contains(&n.purposes[0].label), "{}", m.text);
        for part in [&m.text, &m.html] {
            assert!(part.contains("01/05/2029"), "{part}");
            assert!(part.contains("https://v.example/renew/T") && part.contains("Non merci, me désinscrire"), "{part}");
        }
        assert!(m.text.contains("Oui, je garde mon inscription: https://v.example/renew/T\n"), "{}", m.text);
    }

    #[test]
    fn the_guardian_mail_is_in_the_notice_language_and_escapes_html() {
        let mut n = notice("fr");
        n.controller.name = "Atelier <b>".into();
        let granted = vec![n.purposes[0].id.clone()];
        let m = guardian_request(&n, &granted, "c***@example.org", "https://v/g/T", "https://v/u/U", 7).unwrap();
        assert!(m.subject.contains("Votre accord"));
        assert!(m.text.contains("c***@example.org") && m.text.contains("autorité parentale"));
        assert!(m.html.contains("Atelier &#60;b&#62;") || m.html.contains("Atelier &lt;b&gt;"), "{}", m.html);
        assert!(!m.html.contains("Atelier <b>"));
    }
}
