//! What an SMS costs and what a reply asks for: GSM 03.38 segments, and the keywords of
//! inbound messages.
//!
//! Hand-written: the GSM 7-bit alphabet is one fixed table of 3GPP TS 23.038, and the
//! crates that hold it also pull in a whole PDU codec.

/// The GSM 03.38 basic character set (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table (an escape septet, then one more).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// How an SMS is encoded and how many parts it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// Whether it fits the GSM 7-bit alphabet (else UCS-2).
    pub gsm7: bool,
    /// Parts a phone receives.
    pub count: usize,
}

/// The encoding and the number of parts of `text` (3GPP TS 23.038 and 23.040: 160
/// septets in one part, 153 per part once concatenated; 70 and 67 UCS-2 characters).
pub fn segments(text: &str) -> Segments {
    let mut septets = 0usize;
    let mut gsm7 = true;
    for c in text.chars() {
        if GSM_BASIC.contains(c) {
            septets += 1;
        } else if GSM_EXTENDED.contains(c) {
            septets += 2;
        } else {
            gsm7 = false;
            break;
        }
    }
    let (units, single, part) = if gsm7 {
        (septets, 160, 153)
    } else {
        // UTF-16 code units: a character outside the BMP takes two.
        (text.encode_utf16().count(), 70, 67)
    };
    let count = if units <= single { 1 } else { units.div_ceil(part) };
    Segments { gsm7, count }
}

/// What an inbound SMS asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOP SMS, ARRET, ARRÊT, UNSUBSCRIBE, DESABONNER: withdraw every SMS purpose.
    Stop,
    /// OUI or YES: confirm a pending double opt-in.
    Yes,
    /// Anything else: recorded and ignored.
    Other,
}

/// The keyword of an inbound text, in any case, with or without accents, surrounding
/// spaces and punctuation ignored.
pub fn keyword(text: &str) -> Keyword {
    let folded: String = text
        .chars()
        .map(|c| match c {
            'À' | 'Â' | 'Ä' | 'à' | 'â' | 'ä' => 'a',
            'É' | 'È' | 'Ê' | 'Ë' | 'é' | 'è' | 'ê' | 'ë' => 'e',
            'Î' | 'Ï' | 'î' | 'ï' => 'i',
            'Ô' | 'Ö' | 'ô' | 'ö' => 'o',
            'Ù' | 'Û' | 'Ü' | 'ù' | 'û' | 'ü' => 'u',
            'Ç' | 'ç' => 'c',
            c if c.is_alphanumeric() => c.to_ascii_lowercase(),
            _ => ' ',
        })
        .collect();
    let words: Vec<&str> = folded.split_whitespace().collect();
    match words.as_slice() {
        ["stop"] | ["stop", "sms"] | ["arret"] | ["arret", "sms"] | ["unsubscribe"] | ["desabonner"] => Keyword::Stop,
        ["oui"] | ["yes"] => Keyword::Yes,
        _ => Keyword::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_is_understood_in_any_case_with_or_without_accents() {
        for t in [
            "STOP",
            "stop",
            " Stop. ",
            "STOP SMS",
            "ARRET",
            "ARRÊT",
            "arrêt",
            "Unsubscribe",
            "DESABONNER",
            "désabonner",
        ] {
            assert_eq!(keyword(t), Keyword::Stop, "{t}");
        }
        for t in ["OUI", "oui!", "Yes"] {
            assert_eq!(keyword(t), Keyword::Yes, "{t}");
        }
        for t in ["", "stop please", "bonjour", "non", "STOPP"] {
            assert_eq!(keyword(t), Keyword::Other, "{t}");
        }
    }

    #[test]
    fn segments_follow_the_gsm_and_ucs2_limits() {
        assert_eq!(segments(&"a".repeat(160)), Segments { gsm7: true, count: 1 });
        assert_eq!(segments(&"a".repeat(161)), Segments { gsm7: true, count: 2 });
        assert_eq!(segments(&"€".repeat(80)), Segments { gsm7: true, count: 1 });
        assert_eq!(segments("Atelier Lumière : é è à Ç"), Segments { gsm7: true, count: 1 });
        assert!(!segments("reçu").gsm7, "a lower-case ç is not in the GSM alphabet");
        assert_eq!(segments(&"ê".repeat(70)), Segments { gsm7: false, count: 1 });
        assert_eq!(segments(&"ê".repeat(71)), Segments { gsm7: false, count: 2 });
    }
}
