//! The one-to-one check: a partner about to use a lead asks whether the consent names it.
//! Passing data to a partner needs its own consent (LAW.md rule 3), given for a partner the
//! notice named; a purpose granted for another recipient, refused, or withdrawn since, is
//! no consent for this one.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::VerifyError;
use crate::notice::Notice;
use crate::proof::ProofReport;
use crate::receipt::VerifiedReceipt;

/// The words of a name, lower case, single-spaced.
fn words(s: &str) -> String {
    s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// Whether the recipient entry `entry` of a notice names `name`. An entry is a legal name,
/// often followed by its address after a comma ("Éditions Papillon SARL, 5 place du
/// Partenaire, 69002 Lyon"): `name` must be that whole name or the whole entry, ignoring
/// case and spacing. A part of a name is not the name ("Papillon" is not "Éditions
/// Papillon SARL"): another company with a similar name is another recipient.
pub fn names(entry: &str, name: &str) -> bool {
    let name = words(name);
    !name.is_empty() && (words(entry) == name || entry.split(',').next().is_some_and(|legal| words(legal) == name))
}

/// The purposes of `notice` among `granted` whose recipients name `recipient`.
fn naming<'a>(notice: &Notice, granted: impl Iterator<Item = &'a str>, recipient: &str) -> Vec<String> {
    granted
        .filter(|id| notice.purpose(id).is_some_and(|p| p.recipients.iter().any(|r| names(r, recipient))))
        .map(str::to_string)
        .collect()
}

impl VerifiedReceipt {
    /// The purposes this receipt grants whose recipients, in `notice`, name `recipient`
    /// (empty: this consent gives that recipient nothing). `notice` must be the text the
    /// receipt names (its digest is checked). A receipt alone says nothing of a later
    /// withdrawal: a proof bundle does ([`ProofReport::granted_to`]).
    pub fn granted_to(&self, notice: &Notice, recipient: &str) -> Result<Vec<String>, VerifyError> {
        self.check_notice(notice)?;
        Ok(naming(notice, self.claims().granted(), recipient))
    }
}

impl ProofReport {
    /// The purposes in force at the export ([`ProofReport::in_force`]: granted, confirmed,
    /// not withdrawn) whose recipients in the notice name `recipient` (empty: the consent
    /// gives that recipient nothing now).
    pub fn granted_to(&self, recipient: &str) -> Vec<String> {
        self.recipients
            .iter()
            .filter(|(id, recipients)| self.in_force.contains(id) && recipients.iter().any(|r| names(r, recipient)))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn a_partner_is_named_by_its_legal_name_or_its_whole_entry() {
        let entry = "Éditions Papillon SARL, 5 place du Partenaire, 69002 Lyon, France";
        assert!(names(entry, "Éditions Papillon SARL"));
        assert!(names(entry, "  éditions   papillon sarl "));
        assert!(names(entry, entry));
        assert!(names("Atelier Lumière SAS", "ATELIER LUMIÈRE SAS"));
    }

    #[test]
    fn a_part_of_a_name_or_another_company_is_not_the_recipient() {
        let entry = "Éditions Papillon SARL, 5 place du Partenaire, 69002 Lyon, France";
        assert!(!names(entry, "Papillon"));
        assert!(!names(entry, "Éditions Papillon"));
        assert!(!names(entry, "Éditions Papillon SARL Lyon"));
        assert!(!names(entry, ""));
        assert!(!names(entry, "5 place du Partenaire"));
    }
}
