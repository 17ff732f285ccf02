//! The words of each mail, in the notice's language: a plain-text part and an HTML part
//! saying the same thing, the sender's identity, and the way out in every one.

use consent_receipt::Notice;

use crate::routes::esc;

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

fn fr(notice: &Notice) -> bool {
    notice.lang.starts_with("fr")
}

fn labels(notice: &Notice, granted: &[String]) -> Vec<String> {
    notice.purposes.iter().filter(|p| granted.contains(&p.id)).map(|p| p.label.clone()).collect()
}

fn footer(notice: &Notice, unsubscribe: &str) -> (String, String) {
    let c = &notice.controller;
    let (who, out, why) = if fr(notice) {
        (
            "Expéditeur",
            "Se désinscrire en un clic",
            "Vous recevez ce message parce que cette adresse a été saisie sur notre formulaire.",
        )
    } else {
        (
            "Sender",
            "Unsubscribe with one click",
            "You receive this message because this address was entered in our form.",
        )
    };
    let text = format!("--\n{who}: {}, {} ({})\n{why}\n{out}: {unsubscribe}\n", c.name, c.address, c.contact);
    let html = format!(
        "<hr><p style=\"font-size:13px;color:#555\">{who}: {}, {} ({})<br>{}<br><a href=\"{u}\">{out}</a></p>",
        esc(&c.name),
        esc(&c.address),
        esc(&c.contact),
        esc(why),
        u = esc(unsubscribe),
    );
    (text, html)
}

fn html_doc(lang: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1f2430;max-width:36rem\">{body}</body></html>",
        esc(lang)
    )
}

fn list(items: &[String]) -> (String, String) {
    let text = items.iter().map(|i| format!("  - {i}\n")).collect::<String>();
    let html = format!("<ul>{}</ul>", items.iter().map(|i| format!("<li>{}</li>", esc(i))).collect::<String>());
    (text, html)
}

/// Double opt-in: "confirm that you want this", with the single-use link.
pub fn confirmation(notice: &Notice, granted: &[String], confirm: &str, unsubscribe: &str, days: i64) -> Rendered {
    let c = &notice.controller.name;
    let (items_text, items_html) = list(&labels(notice, granted));
    let (foot_text, foot_html) = footer(notice, unsubscribe);
    let (subject, hello, ask, button, ignore) = if fr(notice) {
        (
            format!("Confirmez votre inscription — {c}"),
            "Bonjour,".to_string(),
            format!("Vous avez demandé à recevoir de la part de {c} :"),
            "Je confirme".to_string(),
            format!(
                "Ce lien est valable {days} jours et ne sert qu'une fois. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne vous sera envoyé."
            ),
        )
    } else {
        (
            format!("Please confirm your subscription — {c}"),
            "Hello,".to_string(),
            format!("You asked {c} for:"),
            "I confirm".to_string(),
            format!(
                "This link is valid for {days} days and works once. If this was not you, ignore this message: nothing will be sent to you."
            ),
        )
    };
    Rendered {
        text: format!("{hello}\n\n{ask}\n{items_text}\n{button}: {confirm}\n\n{ignore}\n\n{foot_text}"),
        html: html_doc(
            &notice.lang,
            &format!(
                "<p>{}</p><p>{}</p>{items_html}<p><a href=\"{}\" style=\"display:inline-block;padding:10px 18px;background:#1a56db;color:#fff;text-decoration:none;border-radius:6px;font-weight:bold\">{}</a></p><p>{}</p>{foot_html}",
                esc(&hello),
                esc(&ask),
                esc(confirm),
                esc(&button),
                esc(&ignore)
            ),
        ),
        subject,
    }
}

/// Joint consent: the parent is asked, in adult words, about what the child asked for.
pub fn guardian_request(
    notice: &Notice,
    granted: &[String],
    child: &str,
    link: &str,
    unsubscribe: &str,
    days: i64,
) -> Rendered {
    let c = &notice.controller.name;
    let age = notice.age_of_consent;
    let (items_text, items_html) = list(&labels(notice, granted));
    let (foot_text, foot_html) = footer(notice, unsubscribe);
    let (subject, intro, law, button, nothing) = if fr(notice) {
        (
            format!("Votre accord est demandé pour une inscription de votre enfant — {c}"),
            format!(
                "Une personne de moins de {age} ans, avec l'adresse {child}, a demandé à recevoir de la part de {c} :"
            ),
            format!(
                "La loi française (art. 45 de la loi Informatique et Libertés) demande que le mineur de moins de {age} ans et un titulaire de l'autorité parentale consentent ensemble. Si vous êtes ce parent, vous pouvez lire l'information complète et donner ou refuser votre accord :"
            ),
            "Donner ou refuser mon accord".to_string(),
            format!(
                "Rien ne sera envoyé à votre enfant sans votre accord. Ce lien est valable {days} jours et ne sert qu'une fois."
            ),
        )
    } else {
        (
            format!("Your agreement is asked for your child's sign-up — {c}"),
            format!("Someone under {age}, with the address {child}, asked {c} for:"),
            format!(
                "The law of this service's country requires a holder of parental responsibility to consent together with a child under {age}. If you are that parent, you can read the full information and agree or refuse:"
            ),
            "Agree or refuse".to_string(),
            format!(
                "Nothing will be sent to your child without your agreement. This link is valid for {days} days and works once."
            ),
        )
    };
    Rendered {
        text: format!("{intro}\n{items_text}\n{law}\n{button}: {link}\n\n{nothing}\n\n{foot_text}"),
        html: html_doc(
            &notice.lang,
            &format!(
                "<p>{}</p>{items_html}<p>{}</p><p><a href=\"{}\" style=\"display:inline-block;padding:10px 18px;background:#1a56db;color:#fff;text-decoration:none;border-radius:6px;font-weight:bold\">{}</a></p><p>{}</p>{foot_html}",
                esc(&intro),
                esc(&law),
                esc(link),
                esc(&button),
                esc(&nothing)
            ),
        ),
        subject,
    }
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

    #[test]
    fn a_child_address_is_masked_but_recognisable() {
        assert_eq!(mask_email("camille.d@example.org"), "c***@example.org");
    }
}
