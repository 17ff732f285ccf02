//! Every word the verifier shows a person, per language: one file per language in this
//! folder (`en.rs`, `fr.rs`, …), each a [`Messages`] value, shaped like the widget's own
//! `i18n.rs`. The build script finds the files, so adding a language is adding one file
//! (copy `en.rs`, translate every string; the compiler refuses a missing one) and giving
//! the notices a text in it.
//!
//! `{name}` in a message stands for a value filled in with [`fill`] (`{controller}`,
//! `{days}`, `{age}`, `{child}`).

mod messages;

pub use messages::Messages;

include!(concat!(env!("OUT_DIR"), "/languages.rs"));

/// The language used when nothing better matches.
pub const DEFAULT: &str = "en";

/// The messages closest to the language tag `tag` (exact, then primary subtag, then
/// [`DEFAULT`]).
pub fn messages(tag: &str) -> &'static Messages {
    let tag = tag.to_ascii_lowercase();
    let primary = tag.split(['-', '_']).next().unwrap_or("");
    let find = |t: &str| LANGUAGES.iter().find(|(code, _)| *code == t).map(|(_, m)| *m);
    find(&tag).or_else(|| find(primary)).or_else(|| find(DEFAULT)).unwrap_or(&en::MESSAGES)
}

/// Every language there are messages for.
pub fn languages() -> impl Iterator<Item = &'static str> {
    LANGUAGES.iter().map(|(code, _)| *code)
}

/// `text` with each `{name}` replaced by its value.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The day `secs` (Unix seconds) falls on, in UTC, written as `t` writes dates.
pub fn date(t: &Messages, secs: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(secs) else { return secs.to_string() };
    let (day, month, year) =
        (format!("{:02}", at.day()), format!("{:02}", u8::from(at.month())), at.year().to_string());
    fill(t.date, &[("day", &day), ("month", &month), ("year", &year)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_the_way_each_language_writes_them() {
        assert_eq!(date(messages("fr"), 1_795_821_741), "27/11/2026");
        assert_eq!(date(messages("en"), 1_795_821_741), "2026-11-27");
    }

    #[test]
    fn languages_are_found_by_tag_and_fall_back_to_english() {
        assert_eq!(messages("fr").lang, "fr");
        assert_eq!(messages("fr-CA").lang, "fr");
        assert_eq!(messages("EN").lang, "en");
        assert_eq!(messages("de").lang, DEFAULT);
        assert!(languages().any(|l| l == "fr") && languages().any(|l| l == "en"));
    }

    #[test]
    fn each_file_names_its_own_language() {
        for (code, m) in LANGUAGES {
            assert_eq!(*code, m.lang, "{code}.rs says lang = {}", m.lang);
        }
    }

    #[test]
    fn placeholders_are_filled_and_every_language_uses_the_same_ones() {
        assert_eq!(fill("valid {days} days, {days}!", &[("days", "7")]), "valid 7 days, 7!");
        let names = |m: &Messages| {
            let mut all: Vec<String> = m
                .all()
                .iter()
                .flat_map(|t| t.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(n, _)| n.to_string()))
                .collect();
            all.sort();
            all
        };
        let en = names(messages("en"));
        for (code, m) in LANGUAGES {
            assert_eq!(names(m), en, "{code} uses other placeholders than en");
        }
    }
}
