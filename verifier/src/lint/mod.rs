//! Lints of a notice that compiles but may still fail the law's spirit: texts too hard to
//! read (GDPR Art. 12(1), Recital 58), an item that says nothing ("N/A"), and a purpose
//! that bundles the controller's own marketing with a transfer to a partner (EDPB 05/2020
//! §42–45: one consent per purpose and per recipient). `consent-verifier notices check`
//! prints them (and fails on them with `--strict`); `serve` logs them as warnings. Texts
//! shorter than [`readability::MIN_WORDS`] words are not scored.

pub mod readability;

use std::fmt;

use consent_receipt::Notice;

use crate::notices::NoticeEntry;

/// The lowest reading ease accepted for a text adults read. On Flesch's scale under 30 is
/// "very difficult", the register of contracts and academic papers; French words carry
/// more syllables, so Kandel–Moles scores of plain French run lower than English ones.
pub const ADULT_MIN_EASE: f64 = 30.0;
/// The lowest reading ease accepted for a text addressed to a child: 50 is where Flesch's
/// "fairly difficult" (secondary school, 15 and over) begins.
pub const CHILD_MIN_EASE: f64 = 50.0;

/// One finding: where it is and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The notice file.
    pub file: String,
    /// The language of the text.
    pub lang: String,
    /// The field, as written in the file (`purposes.newsletter-email.child_text`).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [text.{}] {}: {}", self.file, self.lang, self.field, self.message)
    }
}

/// What a text says when it says nothing.
fn is_placeholder(text: &str) -> bool {
    let t = text.trim().trim_end_matches(['.', '!']).trim().to_lowercase();
    const EMPTY: &[&str] = &[
        "n/a",
        "na",
        "n.a",
        "n.a.",
        "-",
        "--",
        "—",
        "–",
        "none",
        "nothing",
        "nil",
        "tbd",
        "todo",
        "néant",
        "neant",
        "sans objet",
        "aucun",
        "aucune",
        "rien",
        "non applicable",
        "not applicable",
        "à compléter",
        "?",
        "...",
    ];
    EMPTY.contains(&t.as_str()) || t.chars().filter(|c| c.is_alphabetic()).count() < 2
}

/// The Article 13 items of one language, by the name the file gives them.
fn items(n: &Notice) -> Vec<(&'static str, &str)> {
    let mut items = vec![
        ("data", n.data.as_str()),
        ("transfers", n.transfers.as_str()),
        ("retention", n.retention.as_str()),
        ("rights", n.rights.as_str()),
        ("withdrawal", n.withdrawal.as_str()),
        ("complaint", n.complaint.as_str()),
        ("provision", n.provision.as_str()),
        ("automated_decisions", n.automated_decisions.as_str()),
    ];
    if let Some(li) = &n.legitimate_interests {
        items.push(("legitimate_interests", li.as_str()));
    }
    items
}

/// Every finding for one notice, read from `file`.
pub fn notice(entry: &NoticeEntry, file: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (lang, (n, _)) in &entry.langs {
        let mut push = |field: String, message: String| {
            out.push(Finding { file: file.into(), lang: lang.clone(), field, message })
        };
        for (field, text) in items(n) {
            if is_placeholder(text) {
                push(
                    field.into(),
                    format!(
                        "\"{}\" says nothing: state the fact itself (for transfers, say that there are none and where the data stays)",
                        text.trim()
                    ),
                );
            }
        }
        let mut texts: Vec<(String, &str, bool)> =
            items(n).into_iter().map(|(f, t)| (f.to_string(), t, false)).collect();
        texts.push(("child_guardian_text".into(), &n.child_guardian_text, true));
        for p in &n.purposes {
            texts.push((format!("purposes.{}.label", p.id), &p.label, false));
            texts.push((format!("purposes.{}.text", p.id), &p.text, false));
            texts.push((format!("purposes.{}.child_text", p.id), &p.child_text, true));
        }
        for (field, text, child) in texts {
            let (min, reader) = if child { (CHILD_MIN_EASE, "a child") } else { (ADULT_MIN_EASE, "an adult") };
            match readability::ease(text, lang) {
                Some(score) if score < min => push(
                    field,
                    format!(
                        "reading ease {score:.0}, under the {min:.0} that {reader} reads without help: use shorter sentences and shorter, everyday words"
                    ),
                ),
                _ => {}
            }
        }
        let own = n.controller.name.trim().to_lowercase();
        for p in &n.purposes {
            let is_own = |r: &String| r.trim().to_lowercase().starts_with(&own);
            if p.recipients.len() > 1 {
                let what = if p.recipients.iter().any(is_own) {
                    "bundles the controller's own use with a transfer to another recipient"
                } else {
                    "passes the data to several recipients at once"
                };
                push(
                    format!("purposes.{}.recipients", p.id),
                    format!("{what}: each recipient needs its own consent, so declare one purpose per recipient"),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> NoticeEntry {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../notices");
        crate::notices::load_dir(&dir).unwrap().remove(0)
    }

    fn with(edit: impl Fn(&mut Notice)) -> NoticeEntry {
        let mut entry = demo();
        for (n, _) in entry.langs.values_mut() {
            edit(std::sync::Arc::make_mut(n));
        }
        entry
    }

    #[test]
    fn the_demo_notice_is_plain_enough_for_adults_and_children() {
        let findings = notice(&demo(), "notices/newsletter.toml");
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn the_soft_opt_in_demo_notice_is_plain_enough_too() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../notices");
        let orders = crate::notices::load_dir(&dir).unwrap().into_iter().find(|e| e.id == "orders").unwrap();
        let findings = notice(&orders, "notices/orders.toml");
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn an_item_that_only_says_n_a_is_named_with_its_file_language_and_field() {
        let findings = notice(&with(|n| n.transfers = "N/A".into()), "notices/newsletter.toml");
        let f = findings.iter().find(|f| f.field == "transfers" && f.lang == "fr").unwrap();
        assert_eq!(f.file, "notices/newsletter.toml");
        assert!(f.to_string().contains("[text.fr] transfers: \"N/A\" says nothing"), "{f}");
        assert_eq!(findings.iter().filter(|f| f.field == "transfers").count(), 2, "one per language");
    }

    #[test]
    fn a_child_text_in_legal_prose_is_too_hard_to_read() {
        let legal = "Conformément aux dispositions législatives et réglementaires applicables, vos données à caractère personnel font l'objet d'un traitement automatisé destiné à l'exécution de communications commerciales personnalisées.";
        let findings = notice(&with(|n| n.purposes[0].child_text = legal.into()), "f.toml");
        assert!(findings.iter().any(|f| f.lang == "fr" && f.field == "purposes.newsletter-email.child_text"));
    }

    #[test]
    fn a_purpose_that_bundles_own_marketing_with_a_partner_transfer_is_flagged() {
        let findings = notice(&with(|n| n.purposes[0].recipients.push("Éditions Papillon SARL".into())), "f.toml");
        let f = findings.iter().find(|f| f.field == "purposes.newsletter-email.recipients").unwrap();
        assert!(f.message.contains("bundles the controller's own use"), "{f}");
    }
}
