//! Notice files: what compiles, what is refused and why.

use super::*;

fn demo() -> NoticeFile {
    let text = include_str!("../../../notices/newsletter.toml");
    toml::from_str(text).unwrap()
}

#[test]
fn the_demo_notice_compiles_in_french_and_english() {
    let entry = demo().compile().unwrap();
    assert_eq!(entry.langs.keys().collect::<Vec<_>>(), ["en", "fr"]);
    let (fr, _) = &entry.langs["fr"];
    assert_eq!(fr.age_of_consent, 15);
    assert!(fr.purposes.len() >= 2);
}

#[test]
fn a_notice_without_a_dpo_contact_is_refused_naming_the_item() {
    let mut file = demo();
    file.controller.dpo = String::new();
    let err = format!("{:#}", file.compile().unwrap_err());
    assert!(err.contains("controller.dpo"), "{err}");
}

#[test]
fn a_notice_without_a_complaint_statement_is_refused() {
    let mut file = demo();
    file.text.get_mut("en").unwrap().complaint = " ".into();
    let err = format!("{:#}", file.compile().unwrap_err());
    assert!(err.contains("complaint"), "{err}");
}

#[test]
fn a_purpose_with_two_channels_is_refused_naming_it() {
    let mut file = demo();
    file.purposes[0].channels = vec![Channel::Email, Channel::Sms];
    let err = format!("{:#}", file.compile().unwrap_err());
    assert!(err.contains("exactly one channel"), "{err}");
}

#[test]
fn an_sms_purpose_needs_the_sms_section() {
    let mut file = demo();
    file.sms = None;
    let err = format!("{:#}", file.compile().unwrap_err());
    assert!(err.contains("[sms]"), "{err}");
}

#[test]
fn a_purpose_missing_a_language_is_refused() {
    let mut file = demo();
    file.purposes[0].text.remove("en");
    assert!(file.compile().is_err());
}

#[test]
fn language_negotiation_falls_back_sensibly() {
    let entry = demo().compile().unwrap();
    assert_eq!(entry.negotiate(Some("en-GB")).0.lang, "en");
    assert_eq!(entry.negotiate(Some("de")).0.lang, entry.default_lang);
    assert_eq!(entry.negotiate(None).0.lang, entry.default_lang);
}
