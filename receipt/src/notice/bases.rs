//! The conditions of the legal bases other than consent, as a notice must declare them
//! (LAW.md rules 20–22): soft opt-in only for the controller's own products and after a
//! sale, B2B only on declared topics and with the person's job function.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Controller, LegalBasis, Notice, Purpose, is_identifier};

/// Longest name of a form field a notice may point to.
const MAX_FIELD_NAME: usize = 64;
/// Most topics a B2B purpose may declare.
const MAX_TOPICS: usize = 32;

impl Purpose {
    /// Whether the controller is this purpose's one recipient: its name alone, or followed
    /// by its address (`"Shop SAS"`, `"Shop SAS, 1 rue …"`), compared without case.
    pub fn only_controller(&self, controller: &Controller) -> bool {
        let name = controller.name.trim().to_lowercase();
        match self.recipients.as_slice() {
            [one] => {
                let r = one.trim().to_lowercase();
                !name.is_empty()
                    && r.strip_prefix(name.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with([',', '(']))
            }
            _ => false,
        }
    }
}

fn is_field_name(name: &str) -> bool {
    let n = name.trim();
    !n.is_empty() && n.len() <= MAX_FIELD_NAME && n.chars().all(|c| !c.is_control() && c != '"' && c != '\\')
}

impl Notice {
    /// The conditions of `soft_opt_in`, `b2b` and `non_commercial` that this notice does not
    /// meet, each as `purposes[<id>].<field>: <what is wrong and how to fix it>`. The
    /// verifier refuses to serve a notice for which this is not empty.
    pub fn basis_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.purposes {
            let mut push = |field: &str, why: &str| out.push(format!("purposes[{}].{field}: {why}", p.id));
            let basis = p.legal_basis;
            if basis == LegalBasis::SoftOptIn {
                if !p.only_controller(&self.controller) {
                    push(
                        "recipients",
                        &format!(
                            "soft_opt_in covers only the controller's own products, sent by the controller itself: list only \"{}\". Passing the data to a partner needs the person's consent: declare a separate purpose with legal_basis = \"consent\"",
                            self.controller.name.trim()
                        ),
                    );
                }
                match p.order_field.as_deref() {
                    Some(f) if is_field_name(f) => {}
                    _ => push(
                        "order_field",
                        "soft_opt_in needs a sale: name the form field that holds the order reference, e.g. order_field = \"order_id\" (a page may give it with data-order-ref instead). Creating an account is not a sale (CNIL): a sign-up form without an order needs legal_basis = \"consent\"",
                    ),
                }
            } else if p.order_field.is_some() {
                push("order_field", "only a soft_opt_in purpose takes an order reference: remove it");
            }
            if basis == LegalBasis::B2b {
                let tags = p.topics.iter().enumerate().all(|(i, t)| is_identifier(t) && !p.topics[..i].contains(t));
                if p.topics.is_empty() || p.topics.len() > MAX_TOPICS || !tags {
                    push(
                        "topics",
                        "b2b needs the topics its messages are about, 1 to 32 distinct tags of letters, digits, - and _, e.g. topics = [\"office-lighting\"]: a message must relate to the person's job, and the permissions answer allows only a declared topic",
                    );
                }
                match p.job_field.as_deref() {
                    Some(f) if is_field_name(f) => {}
                    _ => push(
                        "job_field",
                        "b2b needs the person's job function: name the form field that holds it, e.g. job_field = \"job_title\"",
                    ),
                }
            } else if !p.topics.is_empty() || p.job_field.is_some() {
                push("topics", "only a b2b purpose declares topics and a job_field: remove them");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::tests::sample;

    fn soft_opt_in() -> Notice {
        let mut n = sample();
        n.purposes[0].legal_basis = LegalBasis::SoftOptIn;
        n.purposes[0].order_field = Some("order_id".into());
        n
    }

    #[test]
    fn a_consent_notice_has_no_basis_problem() {
        assert!(sample().basis_problems().is_empty());
        assert!(soft_opt_in().basis_problems().is_empty(), "{:?}", soft_opt_in().basis_problems());
    }

    #[test]
    fn soft_opt_in_for_a_partner_is_refused_and_the_message_says_how_to_fix_it() {
        let mut n = soft_opt_in();
        n.purposes[0].recipients = alloc::vec!["Partner Co".into()];
        let problems = n.basis_problems();
        let p = problems.iter().find(|p| p.starts_with("purposes[newsletter-email].recipients")).unwrap();
        assert!(p.contains("list only \"Shop SAS\"") && p.contains("legal_basis = \"consent\""), "{p}");
        n.purposes[0].recipients = alloc::vec!["Shop SAS".into(), "Partner Co".into()];
        assert_eq!(n.basis_problems().len(), 1, "the controller bundled with a partner is refused too");
        n.purposes[0].recipients = alloc::vec!["shop sas, 1 rue de l'Exemple".into()];
        assert!(n.basis_problems().is_empty(), "the controller with its address is the controller");
        n.purposes[0].recipients = alloc::vec!["Shop SAS Partners Ltd".into()];
        assert_eq!(n.basis_problems().len(), 1, "a name that only begins like the controller's is another company");
    }

    #[test]
    fn soft_opt_in_without_an_order_source_explains_that_an_account_is_not_a_sale() {
        let mut n = soft_opt_in();
        n.purposes[0].order_field = None;
        let problems = n.basis_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("purposes[newsletter-email].order_field: soft_opt_in needs a sale"));
        assert!(problems[0].contains("Creating an account is not a sale"), "{}", problems[0]);
    }

    #[test]
    fn b2b_needs_declared_topics_and_a_job_field() {
        let mut n = sample();
        n.purposes[0].legal_basis = LegalBasis::B2b;
        let problems = n.basis_problems();
        assert!(problems.iter().any(|p| p.starts_with("purposes[newsletter-email].topics: b2b needs")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("purposes[newsletter-email].job_field: b2b needs")));
        n.purposes[0].topics = alloc::vec!["office-lighting".into(), "office-lighting".into()];
        n.purposes[0].job_field = Some("job_title".into());
        assert_eq!(n.basis_problems().len(), 1, "a topic twice is refused");
        n.purposes[0].topics = alloc::vec!["office-lighting".into(), "trade fairs".into()];
        assert_eq!(n.basis_problems().len(), 1, "a topic is a tag");
        n.purposes[0].topics.pop();
        assert!(n.basis_problems().is_empty());
    }

    #[test]
    fn conditions_of_one_basis_on_a_purpose_of_another_are_refused() {
        let mut n = sample();
        n.purposes[1].order_field = Some("order_id".into());
        n.purposes[1].topics = alloc::vec!["books".into()];
        let problems = n.basis_problems();
        assert!(problems.iter().any(|p| p.starts_with("purposes[partner-sharing].order_field: only a soft_opt_in")));
        assert!(problems.iter().any(|p| p.starts_with("purposes[partner-sharing].topics: only a b2b")));
    }

    #[test]
    fn non_commercial_needs_no_sale_and_no_topics() {
        let mut n = sample();
        n.purposes[1].legal_basis = LegalBasis::NonCommercial;
        assert!(n.basis_problems().is_empty());
        assert!(LegalBasis::NonCommercial.offers_objection() && !LegalBasis::Consent.offers_objection());
    }
}
