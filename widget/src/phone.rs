//! Phone numbers as visitors type them, put in the international E.164 form.

use crate::prelude::*;

/// Country calling code and national trunk prefix of each jurisdiction a notice may name
/// (EU/EEA, the United Kingdom and Switzerland), from ITU-T E.164 and the national
/// numbering plans as libphonenumber records them (checked against it in the tests). An
/// empty trunk prefix: the national number is dialled whole after the country code.
#[rustfmt::skip]
const PLANS: &[(&str, &str, &str)] = &[
    ("AT", "43", "0"), ("BE", "32", "0"), ("BG", "359", "0"), ("CH", "41", "0"), ("CY", "357", ""),
    ("CZ", "420", ""), ("DE", "49", "0"), ("DK", "45", ""), ("EE", "372", ""), ("ES", "34", ""),
    ("FI", "358", "0"), ("FR", "33", "0"), ("GB", "44", "0"), ("GR", "30", ""), ("HR", "385", "0"),
    ("HU", "36", "06"), ("IE", "353", "0"), ("IS", "354", ""), ("IT", "39", ""), ("LI", "423", ""),
    ("LT", "370", "8"), ("LU", "352", ""), ("LV", "371", ""), ("MT", "356", ""), ("NL", "31", "0"),
    ("NO", "47", ""), ("PL", "48", ""), ("PT", "351", ""), ("RO", "40", "0"), ("SE", "46", "0"),
    ("SI", "386", "0"), ("SK", "421", "0"),
];

/// An E.164 number from what a visitor typed, reading a national number by the notice's
/// jurisdiction: `06 12 34 56 78` in FR, `+33 6 12 34 56 78` and `0033 6 12 34 56 78`
/// all give `+33612345678`. `None` for what is not a number. The verifier checks the
/// number against the full numbering plan (libphonenumber's metadata); this only puts it
/// in the international form, without shipping that metadata to every visitor.
pub fn e164(typed: &str, jurisdiction: &str) -> Option<String> {
    let mut compact = String::with_capacity(typed.len());
    for c in typed.chars() {
        match c {
            // `+33 (0)6…`: the trunk prefix in brackets is not dialled from abroad.
            ')' if compact.ends_with("(0") => compact.truncate(compact.len() - 2),
            ' ' | '.' | '-' | ')' | '/' | '\u{a0}' | '\u{202f}' => {}
            c => compact.push(c),
        }
    }
    let compact = compact.replace('(', "");
    let international = if let Some(rest) = compact.strip_prefix("00") {
        ["+", rest].concat()
    } else if compact.starts_with('+') {
        compact
    } else {
        let &(_, code, trunk) = PLANS.iter().find(|(j, _, _)| *j == jurisdiction)?;
        let national = compact.strip_prefix(trunk).filter(|_| !trunk.is_empty()).unwrap_or(&compact);
        ["+", code, national].concat()
    };
    consent_receipt::PhoneE164::parse(&international).ok().map(|p| p.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_to_e164_by_the_notice_jurisdiction() {
        for typed in [
            "06 12 34 56 78",
            "+33 6 12 34 56 78",
            "0033 6 12 34 56 78",
            "06.12.34.56.78",
            "(0)6-12-34-56-78",
            "+33 (0)6 12 34 56 78",
        ] {
            assert_eq!(e164(typed, "FR").as_deref(), Some("+33612345678"), "{typed}");
        }
        assert_eq!(e164("0151 23456789", "DE").as_deref(), Some("+4915123456789"));
        assert_eq!(e164("312 345 6789", "IT").as_deref(), Some("+393123456789"));
        assert_eq!(e164("06 12 34 56 78", "ZZ"), None, "a national number of an unknown plan");
        assert_eq!(e164("not a number", "FR"), None);
        assert_eq!(e164("", "FR"), None);
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn national_numbers_are_read_as_libphonenumber_reads_them() {
        // An independent implementation of the numbering plans: our short table must give
        // the same E.164 number for a mobile number written the national way.
        #[rustfmt::skip]
        let samples = [
            ("AT", "0664 1234567"), ("BE", "0470 12 34 56"), ("BG", "087 123 4567"), ("CH", "078 123 45 67"),
            ("CY", "96 123456"), ("CZ", "601 123 456"), ("DE", "01512 3456789"), ("DK", "32 12 34 56"),
            ("EE", "5123 4567"), ("ES", "612 34 56 78"), ("FI", "041 2345678"), ("FR", "06 12 34 56 78"),
            ("GB", "07400 123456"), ("GR", "691 234 5678"), ("HR", "092 123 4567"), ("HU", "06 20 123 4567"),
            ("IE", "085 012 3456"), ("IS", "611 1234"), ("IT", "312 345 6789"), ("LI", "660 234 567"),
            ("LT", "8 612 34567"), ("LU", "628 123 456"), ("LV", "21 234 567"), ("MT", "9696 1234"),
            ("NL", "06 12345678"), ("NO", "406 12 345"), ("PL", "512 345 678"), ("PT", "912 345 678"),
            ("RO", "0712 034 567"), ("SE", "070 123 45 67"), ("SI", "031 234 567"), ("SK", "0912 123 456"),
        ];
        assert_eq!(samples.len(), PLANS.len(), "one sample per plan");
        let mut wrong = Vec::new();
        for (country, typed) in samples {
            let id: phonenumber::country::Id = country.parse().unwrap();
            let theirs = phonenumber::parse(Some(id), typed).unwrap();
            let theirs = theirs.format().mode(phonenumber::Mode::E164).to_string();
            let valid = phonenumber::is_valid(&phonenumber::parse(Some(id), typed).unwrap());
            if !valid || e164(typed, country).as_deref() != Some(theirs.as_str()) {
                wrong.push(format!(
                    "{country} {typed}: valid {valid}, ours {:?}, theirs {theirs}",
                    e164(typed, country)
                ));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
