//! Readability scores of a text: Flesch reading ease for English, and its French
//! adaptation by Kandel and Moles (1958) for French. Both read 0 (very hard) to 100 (very
//! easy); 60–70 is plain language for adults.
//!
//! Written here rather than taken from a crate: the Rust readability crates are English
//! only (`textstat`, which the tests use as an independent check of the English score) and
//! none counts French syllables. Syllables are counted as groups of vowels, a heuristic:
//! the score is a hint to rewrite a text, not a verdict.

/// The counts a score is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub sentences: usize,
    pub words: usize,
    pub syllables: usize,
}

fn is_vowel(c: char, french: bool) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
        || (french
            && matches!(
                c,
                'à' | 'â'
                    | 'ä'
                    | 'é'
                    | 'è'
                    | 'ê'
                    | 'ë'
                    | 'î'
                    | 'ï'
                    | 'ô'
                    | 'ö'
                    | 'ù'
                    | 'û'
                    | 'ü'
                    | 'ÿ'
                    | 'œ'
                    | 'æ'
            ))
}

/// Syllables of one lower-case word or elided part (`l` of `l'accord` has none): groups
/// of vowels, less a final silent `e`.
fn syllables(word: &str, french: bool) -> usize {
    let mut groups = 0;
    let mut in_vowel = false;
    for c in word.chars() {
        let v = is_vowel(c, french);
        if v && !in_vowel {
            groups += 1;
        }
        in_vowel = v;
    }
    let silent_e =
        if french { word.ends_with('e') || word.ends_with("es") } else { word.ends_with('e') && !word.ends_with("le") };
    if silent_e && groups > 1 {
        groups -= 1;
    }
    groups
}

/// Counts sentences, words and syllables; `lang` is a BCP 47 tag.
pub fn counts(text: &str, lang: &str) -> Counts {
    let french = lang.starts_with("fr");
    let mut words = 0;
    let mut syl = 0;
    // Elisions (l'envoi, qu'elles) join what French readers read as one word.
    // Addresses and links are read as one token, not as words to understand.
    let text: String = text
        .split_whitespace()
        .filter(|w| !(w.contains('@') || w.contains("://") || w.starts_with("www.") || w.starts_with("(www.")))
        .collect::<Vec<_>>()
        .join(" ");
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\'' || c == '’')) {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        if !word.chars().any(char::is_alphabetic) {
            continue;
        }
        words += 1;
        syl +=
            word.split(['-', '\'', '’']).filter(|p| !p.is_empty()).map(|p| syllables(p, french)).sum::<usize>().max(1);
    }
    let sentences = text.split(['.', '!', '?']).filter(|s| s.chars().any(char::is_alphabetic)).count().max(1);
    Counts { sentences, words, syllables: syl }
}

/// Below this many words a score says more about one long word than about the text.
pub const MIN_WORDS: usize = 12;

/// The reading-ease score of `text` in `lang`; None for a text too short to score.
pub fn ease(text: &str, lang: &str) -> Option<f64> {
    let c = counts(text, lang);
    if c.words < MIN_WORDS {
        return None;
    }
    let words_per_sentence = c.words as f64 / c.sentences as f64;
    let syllables_per_word = c.syllables as f64 / c.words as f64;
    Some(if lang.starts_with("fr") {
        207.0 - 1.015 * words_per_sentence - 73.6 * syllables_per_word
    } else {
        206.835 - 1.015 * words_per_sentence - 84.6 * syllables_per_word
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_ease_agrees_with_the_textstat_crate() {
        for text in [
            "The cat sat on the mat. The dog ran fast. The bird flew off.",
            "About once a month: new products, workshops and offers from Atelier Lumière SAS.",
            "You can withdraw your consent at any time, without affecting the lawfulness of processing based on consent before its withdrawal.",
        ] {
            let ours = ease(text, "en").unwrap();
            let theirs = textstat::flesch_reading_ease(text);
            assert!((ours - theirs).abs() < 12.0, "{text}: ours {ours:.1}, textstat {theirs:.1}");
        }
    }

    #[test]
    fn french_syllables_and_elisions_are_counted_as_a_reader_says_them() {
        let c = counts("Nous demanderons l'accord d'un parent.", "fr");
        assert_eq!((c.sentences, c.words), (1, 5));
        // nous(1) de-man-de-rons(4) l'ac-cord(2) d'un(1) pa-rent(2)
        assert_eq!(c.syllables, 10);
    }

    #[test]
    fn a_long_legal_sentence_scores_lower_than_a_plain_one() {
        let plain =
            ease("Nous vous écrivons une fois par mois. Vous pouvez dire non quand vous le voulez.", "fr").unwrap();
        let legal = ease(
            "Conformément à la réglementation applicable en matière de protection des données à caractère personnel, vous disposez d'un droit d'accès, de rectification, d'effacement, de limitation, d'opposition et de portabilité.",
            "fr",
        )
        .unwrap();
        assert!(plain > 70.0 && legal < 40.0, "plain {plain:.1}, legal {legal:.1}");
    }
}
