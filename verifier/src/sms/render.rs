//! The words of each SMS, in the notice's language, from `templates/sms/`: every SMS
//! starts with the sender's name and ends with the STOP mention (L34-5 CPCE).

use askama::Template;

use crate::i18n::{fill, messages};
use crate::notices::SmsIdentity;

#[derive(Template)]
#[template(path = "sms/message.txt")]
struct Message<'a> {
    text: &'a str,
    stop: &'a str,
}

/// The double opt-in SMS: the sender, the short link, the reply word and the code.
pub fn confirmation(lang: &str, who: &SmsIdentity, link: &str, code: &str) -> Result<String, askama::Error> {
    let t = messages(lang);
    let text = fill(t.sms_confirm, &[("sender", &who.sender), ("link", link), ("code", code)]);
    let stop = fill(t.sms_stop, &[("stop", &who.stop_number)]);
    Ok(Message { text: &text, stop: &stop }.render()?.trim_end().to_string())
}

/// Before retention ends: the sender, the renewal link and its deadline, and what silence
/// means.
pub fn renewal(lang: &str, who: &SmsIdentity, link: &str, until: &str) -> Result<String, askama::Error> {
    let t = messages(lang);
    let text = fill(t.sms_renew, &[("sender", &who.sender), ("date", until), ("link", link)]);
    let stop = fill(t.sms_stop, &[("stop", &who.stop_number)]);
    Ok(Message { text: &text, stop: &stop }.render()?.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::text::segments;

    #[test]
    fn every_sms_in_every_language_names_the_sender_ends_with_stop_and_fits_two_parts() {
        let who = SmsIdentity {
            sender: "Atelier Lumière".into(),
            sender_id: "ATLUMIERE".into(),
            stop_number: "36111".into(),
        };
        // The longest link a deployment is likely to have.
        let link = "https://consent.atelier-lumiere.example/c/AAAAAAAAAAAAAAAAAAAAAA";
        for lang in crate::i18n::languages() {
            let sms = confirmation(lang, &who, link, "123456").unwrap();
            assert!(sms.starts_with("Atelier Lumière"), "{lang}: {sms}");
            assert!(sms.ends_with("STOP au 36111"), "{lang}: {sms}");
            assert!(sms.contains(link) && sms.contains("123456"), "{lang}: {sms}");
            let parts = segments(&sms);
            assert!(parts.gsm7 && parts.count <= 2, "{lang}: {parts:?} for {sms}");
            let renew = renewal(lang, &who, &link.replace("/c/", "/r/"), "01/05/2029").unwrap();
            assert!(renew.starts_with("Atelier Lumière") && renew.ends_with("STOP au 36111"), "{lang}: {renew}");
            assert!(renew.contains("/r/AAAA") && renew.contains("01/05/2029"), "{lang}: {renew}");
            let parts = segments(&renew);
            assert!(parts.gsm7 && parts.count <= 2, "{lang}: {parts:?} for {renew}");
        }
    }
}
