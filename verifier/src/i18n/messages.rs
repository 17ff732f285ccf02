//! The messages of one language, and the list every language file fills.

/// Declares [`Messages`] with one `&'static str` per field, and `all()` to walk them.
macro_rules! messages {
    ($($(#[doc = $doc:literal])* $field:ident,)*) => {
        /// Every word of the verifier's pages and mails in one language. A language file
        /// that leaves one out does not compile.
        #[derive(Debug)]
        pub struct Messages {
            $($(#[doc = $doc])* pub $field: &'static str,)*
        }

        impl Messages {
            /// Every message, in declaration order (for the checks of the language files).
            pub fn all(&self) -> Vec<&'static str> {
                vec![$(self.$field,)*]
            }
        }
    };
}

messages! {
    /// This file's language tag.
    lang,
    /// A link whose token is unknown.
    unknown_link_title,
    unknown_link_text,
    link_expired_title,
    already_confirmed_title,
    /// Opening a used confirmation link.
    already_confirmed_text,
    /// Using a used link again.
    link_used_text,
    /// The double opt-in page.
    confirm_title,
    confirm_you_asked,
    confirm_button,
    confirm_nothing_yet,
    confirm_decline_button,
    sender_label,
    confirmed_title,
    confirmed_text,
    confirmed_withdraw_any_time,
    confirmed_unsubscribe_link,
    confirm_expired_text,
    confirm_resend_button,
    nothing_to_do_title,
    nothing_to_do_active,
    nothing_to_do_withdrawn,
    nothing_to_do_other,
    resent_title,
    resent_text,
    declined_title,
    declined_text,
    /// The parent's page.
    guardian_title,
    guardian_intro,
    guardian_read,
    guardian_read_here,
    guardian_your_address,
    guardian_send,
    guardian_answered_title,
    guardian_answered_text,
    guardian_expired_text,
    /// The withdrawal page.
    unsubscribe_title,
    unsubscribe_one_click,
    unsubscribe_all,
    unsubscribe_or_only,
    unsubscribe_one,
    unsubscribed_title,
    unsubscribed_text,
    withdrawn_title,
    withdrawn_all,
    withdrawn_some,
    /// The full notice page.
    notice_label,
    notice_digest,
    notice_controller,
    notice_contact,
    notice_dpo,
    notice_data,
    notice_purposes,
    notice_recipients,
    notice_channel,
    notice_legal_basis,
    notice_category,
    notice_legitimate_interests,
    notice_retention,
    notice_rights,
    notice_withdrawal,
    notice_complaint,
    notice_transfers,
    notice_provision,
    notice_automated,
    notice_under_age,
    channel_email,
    channel_sms,
    /// Legal bases, as the notice page names them.
    basis_consent,
    basis_soft_opt_in,
    basis_b2b,
    basis_non_commercial,
    basis_legitimate_interest,
    /// What a purpose on a basis other than consent means for the person (notice page).
    basis_soft_opt_in_note,
    basis_b2b_note,
    basis_non_commercial_note,
    notice_topics,
    /// Every mail's footer.
    mail_sender,
    mail_why,
    mail_unsubscribe,
    /// The double opt-in mail.
    confirm_mail_subject,
    confirm_mail_hello,
    confirm_mail_asked,
    confirm_mail_button,
    confirm_mail_ignore,
    /// The mail to a holder of parental responsibility.
    guardian_mail_subject,
    guardian_mail_intro,
    guardian_mail_law,
    guardian_mail_button,
    guardian_mail_nothing,
    /// The double opt-in SMS (`{sender}`, `{link}`, `{code}`), and the STOP mention that
    /// ends every SMS (`{stop}`).
    sms_confirm,
    sms_stop,
    /// A date (`{day}`, `{month}`, `{year}`, all digits).
    date,
    /// The page a renewal link opens, and its answers.
    renew_title,
    renew_intro,
    renew_button,
    renew_nothing_yet,
    renew_decline_button,
    renew_deadline,
    renewed_title,
    renewed_text,
    renew_used_text,
    renew_expired_text,
    /// The message asking to renew, before retention ends (`{controller}`, `{date}`).
    renew_mail_subject,
    renew_mail_intro,
    renew_mail_why,
    renew_mail_button,
    renew_mail_decline,
    renew_mail_outro,
    /// The SMS asking to renew (`{sender}`, `{date}`, `{link}`).
    sms_renew,
    /// The pages at /errors.
    errors_title,
    errors_intro,
    errors_code,
    errors_status,
    errors_rule,
    errors_meaning,
    errors_all,
    errors_rule_of,
}
