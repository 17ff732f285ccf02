//! The CSV shape of the export.

use crate::clock::rfc3339;
use crate::store::LeadSummary;

/// The header line.
pub(super) const HEADER: &str =
    "lead_id,status,notice,version,lang,email,phone,granted,minor,created_at,last_contact_at,receipt_jti\r\n";

/// One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (an e-mail
/// address may begin with `=`, `+`, `-` or `@`) gets a leading apostrophe, as OWASP advises;
/// phone numbers (`+` and digits) are left alone.
fn field(s: &str) -> String {
    let phone = s.strip_prefix('+').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !phone { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// One lead as a CSV line.
pub(super) fn line(l: &LeadSummary) -> String {
    [
        l.id.clone(),
        l.status.as_str().to_string(),
        l.notice.0.clone(),
        l.notice.1.to_string(),
        l.notice.2.clone(),
        l.email.clone().unwrap_or_default(),
        l.phone.clone().unwrap_or_default(),
        l.granted.join(";"),
        l.minor.to_string(),
        rfc3339(l.created_at),
        rfc3339(l.last_contact_at),
        l.jti.clone(),
    ]
    .iter()
    .map(|f| field(f))
    .collect::<Vec<_>>()
    .join(",")
        + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_as_formulas_are_defused() {
        assert_eq!(field("=HYPERLINK(\"http://x\")@example.org"), "\"'=HYPERLINK(\"\"http://x\"\")@example.org\"");
        assert_eq!(field("+cmd@example.org"), "'+cmd@example.org");
        assert_eq!(field("-2+3@example.org"), "'-2+3@example.org");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("+33612345678"), "+33612345678");
        assert_eq!(field("ada@example.org"), "ada@example.org");
    }
}
