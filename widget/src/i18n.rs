//! The widget's own words, in French and English. Everything else it shows comes from the
//! notice, in the notice's language.

use crate::prelude::*;

/// Messages of one language. `{n}` stands for the age of digital consent. The age question
/// is answered "yes" or "no": short enough to share one line with the question.
#[derive(Debug)]
pub struct Messages {
    pub age_question: &'static str,
    pub age_adult: &'static str,
    pub age_minor: &'static str,
    pub guardian_label: &'static str,
    pub guardian_help: &'static str,
    pub controller: &'static str,
    pub data_used: &'static str,
    pub recipients: &'static str,
    pub full_notice: &'static str,
    pub more: &'static str,
    /// The first layer's line on withdrawal (the notice's own words are under "more").
    pub withdraw_short: &'static str,
    /// The same when every purpose offers an objection box instead of asking consent.
    pub object_short: &'static str,
    /// The term of the notice's withdrawal text under "more".
    pub withdrawal: &'static str,
    pub dpo: &'static str,
    pub retention: &'static str,
    pub rights: &'static str,
    pub complaint: &'static str,
    pub transfers: &'static str,
    pub provision: &'static str,
    pub automated: &'static str,
    pub legitimate_interests: &'static str,
    pub loading: &'static str,
    pub sending: &'static str,
    pub accepted: &'static str,
    pub accepted_guardian: &'static str,
    pub refused: &'static str,
    pub need_email: &'static str,
    pub need_age: &'static str,
    pub need_guardian: &'static str,
    pub guardian_is_self: &'static str,
    pub network: &'static str,
    pub unavailable: &'static str,
    pub rejected: &'static str,
    pub guardian_agree: &'static str,
    pub guardian_agree_text: &'static str,
    pub guardian_approved: &'static str,
    pub guardian_refused: &'static str,
    pub manage: &'static str,
    pub manage_item: &'static str,
    pub manage_withdraw: &'static str,
    pub manage_done: &'static str,
    pub load_failed: &'static str,
    pub channel_email: &'static str,
    pub channel_sms: &'static str,
    pub need_phone: &'static str,
    pub bad_phone: &'static str,
    pub accepted_sms: &'static str,
    pub code_label: &'static str,
    pub code_button: &'static str,
    pub code_bad: &'static str,
    pub code_done: &'static str,
    /// Before the label of the objection box of a soft opt-in, B2B or non-commercial purpose.
    pub object: &'static str,
    pub need_order: &'static str,
    pub need_job: &'static str,
}

pub const FR: Messages = Messages {
    age_question: "Avez-vous moins de {n} ans ?",
    age_adult: "Non",
    age_minor: "Oui",
    guardian_label: "Adresse e-mail d'un parent ou de la personne qui a l'autorité parentale",
    guardian_help: "Nous lui écrirons pour lui demander son accord. Rien ne te sera envoyé avant.",
    controller: "Responsable",
    data_used: "Données utilisées",
    recipients: "Destinataires",
    full_notice: "Information complète",
    more: "En savoir plus",
    withdraw_short: "Vous pouvez retirer votre consentement à tout moment.",
    object_short: "Vous pouvez vous y opposer à tout moment.",
    withdrawal: "Retrait",
    dpo: "Délégué à la protection des données",
    retention: "Durée de conservation",
    rights: "Vos droits",
    complaint: "Réclamation",
    transfers: "Transferts",
    provision: "Caractère facultatif",
    automated: "Décision automatisée",
    legitimate_interests: "Intérêts légitimes",
    loading: "Chargement des choix de consentement…",
    sending: "Enregistrement de vos choix…",
    accepted: "Vos choix sont enregistrés.",
    accepted_guardian: "Tes choix sont enregistrés. Nous avons écrit à ton parent pour lui demander son accord.",
    refused: "C'est noté : vous ne recevrez rien de notre part.",
    need_email: "Indiquez votre adresse e-mail pour enregistrer votre choix.",
    need_age: "Indiquez si vous avez moins de {n} ans avant de cocher une case.",
    need_guardian: "Indique l'adresse e-mail d'un parent pour qu'il puisse donner son accord.",
    guardian_is_self: "L'adresse du parent doit être différente de la tienne.",
    network: "Impossible de joindre le service de consentement. Vos réponses sont conservées : réessayez.",
    unavailable: "Le service de consentement est momentanément indisponible. Vos réponses sont conservées : réessayez dans un instant.",
    rejected: "Votre choix n'a pas pu être enregistré",
    guardian_agree: "Je suis titulaire de l'autorité parentale de {c} et je donne mon accord",
    guardian_agree_text: "Cochez pour consentir avec votre enfant à ce qu'il a demandé ci-dessus ; laissez vide pour refuser. Dans les deux cas, envoyez votre réponse.",
    guardian_approved: "Merci : votre accord est enregistré.",
    guardian_refused: "Votre refus est enregistré : rien ne sera envoyé à votre enfant.",
    manage: "Gérer mes consentements donnés depuis cet appareil",
    manage_item: "Donné le {d}",
    manage_withdraw: "Retirer ce consentement",
    manage_done: "Consentement retiré.",
    load_failed: "Les choix de consentement n'ont pas pu être chargés. Rechargez la page pour réessayer.",
    channel_email: "par e-mail",
    channel_sms: "par SMS",
    need_phone: "Indiquez votre numéro de mobile pour recevoir des SMS.",
    bad_phone: "Ce numéro de mobile n'a pas pu être lu. Exemple : 06 12 34 56 78 ou +33 6 12 34 56 78.",
    accepted_sms: "Vos choix sont enregistrés. Pour recevoir nos SMS, confirmez avec le code à 6 chiffres que nous venons de vous envoyer par SMS, ou avec son lien.",
    code_label: "Code reçu par SMS",
    code_button: "Confirmer",
    code_bad: "Ce code ne correspond pas. Vérifiez le SMS et réessayez.",
    code_done: "Merci : votre inscription aux SMS est confirmée.",
    object: "Je ne veux pas recevoir ",
    need_order: "Référence de commande absente : cochez « Je ne veux pas recevoir ».",
    need_job: "Indiquez votre fonction, ou cochez « Je ne veux pas recevoir ».",
};

pub const EN: Messages = Messages {
    age_question: "Are you under {n}?",
    age_adult: "No",
    age_minor: "Yes",
    guardian_label: "E-mail address of a parent or the person with parental responsibility",
    guardian_help: "We will write to them to ask if they agree. Nothing will be sent to you before that.",
    controller: "Controller",
    data_used: "Data used",
    recipients: "Recipients",
    full_notice: "Full notice",
    more: "More details",
    withdraw_short: "You may withdraw your consent at any time.",
    object_short: "You may object at any time.",
    withdrawal: "Withdrawal",
    dpo: "Data protection officer",
    retention: "Retention",
    rights: "Your rights",
    complaint: "Complaints",
    transfers: "Transfers",
    provision: "Optional",
    automated: "Automated decisions",
    legitimate_interests: "Legitimate interests",
    loading: "Loading the consent choices…",
    sending: "Saving your choices…",
    accepted: "Your choices are saved.",
    accepted_guardian: "Your choices are saved. We have written to your parent to ask if they agree.",
    refused: "Noted: you will receive nothing from us.",
    need_email: "Enter your e-mail address so that your choice can be recorded.",
    need_age: "Tell us whether you are under {n} before ticking a box.",
    need_guardian: "Enter a parent's e-mail address so that they can agree.",
    guardian_is_self: "The parent's address must be different from yours.",
    network: "The consent service could not be reached. Your answers are kept: please try again.",
    unavailable: "The consent service is briefly unavailable. Your answers are kept: try again in a moment.",
    rejected: "Your choice could not be recorded",
    guardian_agree: "I hold parental responsibility for {c} and I agree",
    guardian_agree_text: "Tick to consent together with your child to what they asked for above; leave it empty to refuse. Either way, send your answer.",
    guardian_approved: "Thank you: your agreement is recorded.",
    guardian_refused: "Your refusal is recorded: nothing will be sent to your child.",
    manage: "Manage the consents given from this device",
    manage_item: "Given on {d}",
    manage_withdraw: "Withdraw this consent",
    manage_done: "Consent withdrawn.",
    load_failed: "The consent choices could not be loaded. Reload the page to try again.",
    channel_email: "by e-mail",
    channel_sms: "by SMS",
    need_phone: "Enter your mobile number to receive text messages.",
    bad_phone: "This mobile number could not be read. For example: +44 7400 123456.",
    accepted_sms: "Your choices are saved. To receive our text messages, confirm with the 6-digit code we have just sent you by SMS, or with its link.",
    code_label: "Code received by SMS",
    code_button: "Confirm",
    code_bad: "This code does not match. Check the text message and try again.",
    code_done: "Thank you: your text message subscription is confirmed.",
    object: "I do not want to receive ",
    need_order: "No order reference: tick \"I do not want to receive\".",
    need_job: "Enter your job title, or tick \"I do not want to receive\".",
};

/// The messages for a language tag (`fr`, `fr-CA`, `en-GB`, …); English otherwise.
pub fn messages(lang: &str) -> &'static Messages {
    if lang.as_bytes().get(..2).is_some_and(|l| l.eq_ignore_ascii_case(b"fr")) { &FR } else { &EN }
}

/// Replaces `{n}` with the age (every template has at most one placeholder).
pub fn with_age(template: &str, age: u8) -> String {
    fill(template, &age.to_string())
}

/// Replaces the template's one three-character placeholder (`{n}`, `{c}`, `{d}`).
pub fn fill(template: &str, value: &str) -> String {
    match template.find('{') {
        Some(at) => [&template[..at], value, template.get(at + 3..).unwrap_or("")].concat(),
        None => template.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_is_chosen_for_every_french_tag() {
        assert_eq!(messages("fr-CA").age_question, FR.age_question);
        assert_eq!(messages("de").age_question, EN.age_question);
    }

    #[test]
    fn the_age_is_filled_in() {
        assert_eq!(with_age(FR.age_question, 15), "Avez-vous moins de 15 ans ?");
    }

    #[test]
    fn the_objection_box_names_what_is_not_wanted() {
        assert_eq!([EN.object, "our news by e-mail"].concat(), "I do not want to receive our news by e-mail");
        assert_eq!([FR.object, "nos offres par e-mail"].concat(), "Je ne veux pas recevoir nos offres par e-mail");
    }
}
